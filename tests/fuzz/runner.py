"""Run one fuzz :class:`~cases.Case` through the real ``embedkit`` command and say what went wrong, if anything."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 120


@dataclass
class Outcome:
    """What one case did, and the rules it broke (empty when clean)."""

    exit_code: int
    stderr: str
    problems: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.problems


def _snapshot(root: Path) -> dict[str, tuple]:
    out: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            st = p.lstat()
            if p.is_file() and not p.is_symlink():
                out[rel] = ("file", hashlib.sha256(p.read_bytes()).hexdigest())
            else:
                out[rel] = ("other", st.st_mode)
    return out


def _processes_mentioning(text: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if text in cmd:
            pids.append(int(entry.name))
    return pids


def run_case(case, folder: Path, home: Path) -> Outcome:  # noqa: ANN001 - a cases.Case
    """Prepare ``folder``, run the case there with ``EMBEDKIT_HOME=home``, check every rule."""
    folder.mkdir(parents=True, exist_ok=True)
    case.setup(folder)
    before = _snapshot(folder)
    env = {**os.environ, "EMBEDKIT_HOME": str(home), "PYTHONPATH": str(REPO), **case.env}
    env.pop("EMBEDKIT_ALLOW_DOWNLOAD", None)
    problems: list[str] = []
    try:
        proc = subprocess.run([sys.executable, "-m", "embedkit", *case.args], cwd=folder, env=env,
                              input=case.stdin, capture_output=True, timeout=TIMEOUT)
        code, err = proc.returncode, proc.stderr.decode("utf-8", "replace")
    except subprocess.TimeoutExpired as e:
        code, err = -1, (e.stderr or b"").decode("utf-8", "replace")
        problems.append(f"timed out after {TIMEOUT} s")
    lines = [line for line in err.splitlines() if line.strip()]
    if "Traceback (most recent call last)" in err:
        problems.append("traceback on stderr")
    if case.valid:
        if code != 0:
            problems.append(f"exit {code} for a valid input: {lines[-1] if lines else ''}")
    else:
        if code not in (1, 2):
            problems.append(f"exit {code}, expected 1 or 2")
        if len(lines) != 1 or not lines[0].startswith("Error: "):
            problems.append(f"stderr is not one 'Error:' line: {lines[:3]}")
    after = _snapshot(folder)
    out = case.output
    for rel in sorted(set(before) | set(after)):
        if out is not None and (rel == out or rel.startswith(out + "/")):
            continue
        name = Path(rel).name
        if rel not in after:
            problems.append(f"deleted {rel}")
        elif rel not in before:
            problems.append(f"left {rel}" if name.endswith(".tmp") or ".old-" in name else f"created {rel}")
        elif before[rel] != after[rel]:
            problems.append(f"changed {rel}")
    if not case.valid and out is not None and (folder / out).exists() and out not in before:
        problems.append(f"wrote {out} for a bad input")
    stray = _processes_mentioning(str(folder))
    if stray:
        problems.append(f"{len(stray)} process(es) left running")
        for pid in stray:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    return Outcome(code, err, problems)
