"""CLI: ``index shard`` (sharded or on-disk IVF index of a vector set) and ``index query-shards``.

FAISS is imported only inside the commands.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from embedkit.cli.base import handle_errors
from embedkit.cli.commands.search import index_app


def _vectors_array(spec: str | None) -> tuple[Any, Path]:
    from embedkit.vectors.formats.native import read_native
    from embedkit.vectors.home import resolve_vectors_path
    from embedkit.vectors.loading import load_vectors

    path = resolve_vectors_path(spec)
    wv = read_native(path) if path.is_dir() else load_vectors(path)
    return wv, path


@index_app.command("shard")
@handle_errors
def index_shard(
    output: Annotated[Path, typer.Option("-o", "--output", help="Directory to write the index into.")],
    vectors: Annotated[Optional[str], typer.Option("--vectors", "-v", help="Vector set name or path.")] = None,
    shards: Annotated[int, typer.Option("--shards", help="Flat shards searched together (merged top-k).")] = 2,
    on_disk: Annotated[bool, typer.Option("--on-disk", help="IVF with on-disk inverted lists instead of shards.")] = False,
    nlist: Annotated[Optional[int], typer.Option("--nlist", help="IVF lists (--on-disk; default 4·sqrt(n)).")] = None,
    nprobe: Annotated[int, typer.Option("--nprobe", help="IVF lists probed per query (--on-disk).")] = 16,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Build a sharded exact index, or an on-disk IVF index, of a vector set (for sets beyond memory)."""
    if shards <= 0:
        raise typer.BadParameter(f"must be a positive integer. Received: {shards}", param_hint="--shards")
    if nprobe <= 0:
        raise typer.BadParameter(f"must be a positive integer. Received: {nprobe}", param_hint="--nprobe")
    if nlist is not None and nlist <= 0:
        raise typer.BadParameter(f"must be a positive integer. Received: {nlist}", param_hint="--nlist")
    from embedkit.search.sharded import OnDiskIVF, ShardedIndex, gpu_count

    wv, path = _vectors_array(vectors)
    t = time.perf_counter()
    if on_disk:
        idx: Any = OnDiskIVF.build(wv.vectors, output, nlist=nlist, nprobe=nprobe, vectors_name=str(path))
        info = {"kind": "ondisk-ivf", **idx.info.params}
    else:
        idx = ShardedIndex.build(wv.vectors, shards=shards)
        idx.save(output, vectors=str(path))
        info = {"kind": "sharded-flat", "shards": shards}
    info.update(size=idx.ntotal, dim=idx.dim, path=str(output), gpus=gpu_count(),
                build_s=round(time.perf_counter() - t, 3))
    if as_json:
        typer.echo(json.dumps(info))
        return
    typer.echo(f"Built {info['kind']} index of {idx.ntotal} vectors (dim {idx.dim}) in {info['build_s']} s: {output}",
               err=True)


@index_app.command("query-shards")
@handle_errors
def index_query_shards(
    index_dir: Annotated[Path, typer.Argument(help="Directory written by `embedkit index shard`.")],
    words: Annotated[list[str], typer.Argument(help="Query words.")],
    k: Annotated[int, typer.Option("-k", "--k", help="How many results.")] = 10,
    nprobe: Annotated[Optional[int], typer.Option("--nprobe", help="IVF lists probed (on-disk index).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="NDJSON: one object per result.")] = False,
) -> None:
    """Nearest neighbours of words in a sharded or on-disk index (the query word itself excluded)."""
    if k <= 0:
        raise typer.BadParameter(f"must be a positive integer. Received: k={k}", param_hint="-k")
    from embedkit.errors import EmbedkitError
    from embedkit.search.sharded import OnDiskIVF, open_index, read_info

    info = read_info(index_dir)
    if not info.vectors:
        raise EmbedkitError(f"The index does not record its vector set. Received: {str(index_dir)!r}")
    wv, _ = _vectors_array(info.vectors)
    if len(wv) != info.ntotal:
        raise EmbedkitError(f"The vector set changed since the index was built. Received: {len(wv)} words, "
                            f"index of {info.ntotal}")
    ids = []
    for w in words:
        if w not in wv.key_to_index:
            from embedkit.errors import UnknownWordError

            raise UnknownWordError(w)
        ids.append(wv.key_to_index[w])
    idx = open_index(index_dir)
    q = wv.vectors[ids]
    kw = {"nprobe": nprobe} if isinstance(idx, OnDiskIVF) else {}
    scores, found = idx.search(q, k + 1, **kw)
    for w, wid, srow, irow in zip(words, ids, scores, found):
        rows = [(wv.keys[int(i)], float(s)) for s, i in zip(srow, irow) if i >= 0 and int(i) != wid][:k]
        for rank, (nb, s) in enumerate(rows, 1):
            if as_json:
                typer.echo(json.dumps({"query": w, "rank": rank, "word": nb, "score": round(s, 6)}))
            else:
                typer.echo(f"{w}\t{rank}\t{nb}\t{s:.4f}")
