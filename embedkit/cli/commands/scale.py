"""CLI: ``index shard`` (sharded or on-disk IVF index of a vector set) and ``index query-shards``.

FAISS is imported only inside the commands.
"""


import time
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from embedkit.cli.base import handle_errors
from embedkit.cli.commands.search import index_app
from embedkit.cli.options import JsonOpt, KOpt, OverwriteOpt, VectorsOpt, check_positive
from embedkit.cli.output import emit_json_lines, note


@index_app.command("shard")
@handle_errors
def index_shard(
    output: Annotated[Path, typer.Option("-o", "--output", help="Directory to write the index into.")],
    vectors: VectorsOpt = None,
    shards: Annotated[int, typer.Option("--shards", help="Flat shards searched together (merged top-k).")] = 2,
    on_disk: Annotated[bool, typer.Option("--on-disk", help="IVF with on-disk inverted lists instead of shards.")] = False,
    nlist: Annotated[Optional[int], typer.Option("--nlist", help="IVF lists (--on-disk; default 4·sqrt(n)).")] = None,
    nprobe: Annotated[int, typer.Option("--nprobe", help="IVF lists probed per query (--on-disk).")] = 16,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    overwrite: OverwriteOpt = False,
) -> None:
    """Build a sharded exact index, or an on-disk IVF index, of a vector set (for sets beyond memory)."""
    check_positive(shards, "--shards")
    check_positive(nprobe, "--nprobe")
    check_positive(nlist, "--nlist")
    from embedkit.search.sharded import OnDiskIVF, ShardedIndex, claim_index_dir, gpu_count
    from embedkit.vectors.vector_set import open_vectors

    claim_index_dir(output, overwrite=overwrite)  # before any work
    vs = open_vectors(vectors)
    t = time.perf_counter()
    if on_disk:
        idx: Any = OnDiskIVF.build(vs.matrix, output, nlist=nlist, nprobe=nprobe, vectors_name=str(vs.path),
                                   overwrite=overwrite)
    else:
        idx = ShardedIndex.build(vs.matrix, shards=shards)
        idx.save(output, vectors=str(vs.path), overwrite=overwrite)
    info = {"kind": idx.kind, **idx.params}
    info.update(size=idx.ntotal, dim=idx.dim, path=str(output), gpus=gpu_count(),
                build_s=round(time.perf_counter() - t, 3))
    if as_json:
        emit_json_lines([info], ensure_ascii=True)
        return
    note(f"Built {info['kind']} index of {idx.ntotal} vectors (dim {idx.dim}) in {info['build_s']} s: {output}")


@index_app.command("query-shards")
@handle_errors
def index_query_shards(
    index_dir: Annotated[Path, typer.Argument(help="Directory written by `embedkit index shard`.")],
    words: Annotated[list[str], typer.Argument(help="Query words.")],
    k: KOpt = 10,
    nprobe: Annotated[Optional[int], typer.Option("--nprobe", help="IVF lists probed (on-disk index).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Nearest neighbours of words in a sharded or on-disk index (the query word itself excluded)."""
    check_positive(k, "-k", "k")
    from embedkit.search.sharded import query_index

    for res in query_index(index_dir, words, k, nprobe=nprobe):
        if as_json:
            emit_json_lines([{"query": res.query, "rank": n.rank, "word": n.word, "score": round(n.score, 6)}
                             for n in res.neighbours], ensure_ascii=True)
        else:
            for n in res.neighbours:
                typer.echo(f"{res.query}\t{n.rank}\t{n.word}\t{n.score:.4f}")
