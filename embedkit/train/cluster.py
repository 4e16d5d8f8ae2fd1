"""The cluster a distributed run trains on: ``TF_CONFIG`` parsed and checked (:class:`ClusterInfo`), free local
ports for test clusters, and the one-line error for a lost peer.

Used by the ``tf.distribute`` strategies (:mod:`embedkit.train.strategies`) and the parameter-server path
(:mod:`embedkit.train.parameter_server`); imports no TensorFlow.

>>> info = parse_tf_config('{"cluster": {"worker": ["127.0.0.1:2222", "127.0.0.1:2223"]}, '
...                        '"task": {"type": "worker", "index": 1}}')
>>> info.is_chief, info.worker_index, info.num_workers
(False, 1, 2)
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from typing import Any

from embedkit.errors import EmbedkitError


def free_local_ports(n: int) -> list[int]:
    """``n`` distinct free TCP ports on 127.0.0.1, for a local multi-worker ``TF_CONFIG`` (tests, benchmarks).

    >>> len(set(free_local_ports(2)))
    2
    """
    import socket

    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


@dataclass
class ClusterInfo:
    """The cluster described by ``TF_CONFIG`` and this process's place in it."""

    cluster: dict[str, list[str]]
    task_type: str
    task_index: int

    @property
    def num_workers(self) -> int:
        """Training processes (chief + workers)."""
        return len(self.cluster.get("chief", [])) + len(self.cluster.get("worker", []))

    @property
    def worker_index(self) -> int:
        """This process's rank among the training processes (the chief is 0)."""
        if self.task_type == "chief":
            return 0
        return len(self.cluster.get("chief", [])) + self.task_index if self.task_type == "worker" else -1

    @property
    def is_chief(self) -> bool:
        """The process that writes checkpoints and vectors: ``chief``, else worker 0."""
        if "chief" in self.cluster:
            return self.task_type == "chief"
        return self.task_type == "worker" and self.task_index == 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"num_workers": self.num_workers, "is_chief": self.is_chief}


def parse_tf_config(text: str | None = None, *, strategy: str = "multi-worker") -> ClusterInfo:
    """Parse and validate ``TF_CONFIG`` (``text``, else the environment variable) for ``strategy``.

    Raises a one-line :class:`EmbedkitError` naming what is wrong.

    >>> parse_tf_config('{"cluster": {"worker": ["h:1"]}, "task": {"type": "worker", "index": 0}}').num_workers
    1
    """
    if text is None:
        text = os.environ.get("TF_CONFIG")
    if not text:
        raise EmbedkitError(f"--strategy {strategy} needs the TF_CONFIG environment variable. Received: none")
    try:
        cfg = json.loads(text)
    except json.JSONDecodeError as e:
        raise EmbedkitError(f"TF_CONFIG must be JSON. Received: {text[:60]!r} ({e.msg})") from None
    if not isinstance(cfg, dict) or not isinstance(cfg.get("cluster"), dict):
        raise EmbedkitError(f"TF_CONFIG must have a \"cluster\" object. Received: {text[:60]!r}")
    cluster: dict[str, list[str]] = {}
    allowed = {"chief", "worker", "ps", "evaluator"}
    for role, addrs in cfg["cluster"].items():
        if role not in allowed:
            raise EmbedkitError(f"TF_CONFIG cluster roles must be among {sorted(allowed)}. Received: {role!r}")
        if not isinstance(addrs, list) or not addrs or not all(isinstance(a, str) for a in addrs):
            raise EmbedkitError(f"TF_CONFIG cluster[{role!r}] must be a non-empty list of \"host:port\". Received: {addrs!r}")
        for a in addrs:
            host, _, port = a.rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise EmbedkitError(f"TF_CONFIG addresses must be \"host:port\". Received: {a!r} in {role!r}")
        cluster[role] = list(addrs)
    if len(cluster.get("chief", [])) > 1:
        raise EmbedkitError(f"TF_CONFIG may list at most one chief. Received: {len(cluster['chief'])}")
    flat = [a for addrs in cluster.values() for a in addrs]
    dup = sorted({a for a in flat if flat.count(a) > 1})
    if dup:
        raise EmbedkitError(f"TF_CONFIG addresses must be distinct. Received: {dup[0]!r} more than once")
    task = cfg.get("task")
    if not isinstance(task, dict) or "type" not in task or "index" not in task:
        raise EmbedkitError(f"TF_CONFIG must have a \"task\" with \"type\" and \"index\". Received: task={task!r}")
    ttype, tindex = task["type"], task["index"]
    if ttype not in cluster:
        raise EmbedkitError(f"TF_CONFIG task type must be one of the cluster roles {sorted(cluster)}. Received: {ttype!r}")
    if isinstance(tindex, bool) or not isinstance(tindex, int) or not 0 <= tindex < len(cluster[ttype]):
        raise EmbedkitError(
            f"TF_CONFIG task index must be in 0..{len(cluster[ttype]) - 1} for {ttype!r}. Received: index={tindex!r}"
        )
    info = ClusterInfo(cluster, ttype, tindex)
    if strategy == "multi-worker":
        if "ps" in cluster:
            raise EmbedkitError("TF_CONFIG for --strategy multi-worker must not list \"ps\" tasks. Received: "
                                f"{len(cluster['ps'])} ps (use --strategy parameter-server)")
        if "worker" not in cluster:
            raise EmbedkitError(f"TF_CONFIG for --strategy multi-worker needs \"worker\" tasks. Received: {sorted(cluster)}")
    elif strategy == "parameter-server":
        missing = [r for r in ("chief", "worker", "ps") if r not in cluster]
        if missing:
            raise EmbedkitError(f"TF_CONFIG for --strategy parameter-server needs chief, worker and ps tasks. "
                                f"Received: no {', '.join(missing)}")
    return info


def lost_peer(e: Exception) -> EmbedkitError:
    """The one-line error for a peer that died or stopped answering during a collective or a scheduled step."""
    first = (getattr(e, "message", None) or str(e)).strip().splitlines()
    detail = first[0][:160] if first else type(e).__name__
    return EmbedkitError(
        "A worker was lost or stopped answering during distributed training: restart every worker with --resume "
        f"and the same --checkpoint-dir. Received: {type(e).__name__}: {detail}"
    )
