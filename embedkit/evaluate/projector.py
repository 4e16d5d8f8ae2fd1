"""Export vectors for TensorBoard's embedding projector: ``vectors.tsv``, ``metadata.tsv``, ``projector_config.pbtxt``.

Open the result with ``tensorboard --logdir DIR`` (Projector tab), or load the two TSV files at
https://projector.tensorflow.org. Every file is written atomically.

>>> import numpy as np, tempfile, os
>>> from embedkit.vectors.word_vectors import WordVectors
>>> d = os.path.join(tempfile.mkdtemp(), "proj")
>>> r = export_projector(WordVectors(["a", "b"], np.eye(2, dtype=np.float32)), d)
>>> sorted(os.listdir(d)), r.rows
(['metadata.tsv', 'projector_config.pbtxt', 'vectors.tsv'], 2)
"""

from __future__ import annotations

import io
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from embedkit.files.atomic import atomic_write_text
from embedkit.errors import EmbedkitError, check_positive_int
from embedkit.vectors.word_vectors import WordVectors

VECTORS_TSV = "vectors.tsv"
METADATA_TSV = "metadata.tsv"
CONFIG_PBTXT = "projector_config.pbtxt"


@dataclass
class ProjectorResult:
    """Where the projector files went and how many rows they hold."""

    directory: str
    rows: int
    dim: int
    files: list[str]
    renamed_words: int  # words whose tabs/newlines were replaced by spaces in metadata.tsv

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def is_projector_dir(path: Path) -> bool:
    """True for a directory whose ``projector_config.pbtxt`` embedkit wrote (an earlier export)."""
    from embedkit.files.outputs import written_by_embedkit

    return (Path(path) / CONFIG_PBTXT).is_file() and written_by_embedkit(Path(path) / CONFIG_PBTXT)


def claim_projector_dir(directory: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Check that ``directory`` may receive projector files: new, empty, an earlier export, or anything else
    with ``overwrite`` (see :func:`embedkit.files.outputs.claim_output`); files, FIFOs and devices never."""
    from embedkit.files.outputs import claim_output

    p = Path(os.fspath(directory))
    if p.is_file():
        raise EmbedkitError(f"Expected a directory for the projector files. Received: file {str(p)!r}")
    return claim_output(p, "dir", overwrite=overwrite, owned=is_projector_dir)


def export_projector(
    wv: WordVectors,
    directory: str | os.PathLike[str],
    *,
    top: int | None = 10000,
    tensor_name: str = "embedkit",
    overwrite: bool = False,
) -> ProjectorResult:
    """Write the first ``top`` vectors (all if None) as TensorBoard projector files into ``directory``.

    ``vectors.tsv`` has one tab-separated row of floats per word (9 significant digits: float32 round-trips);
    ``metadata.tsv`` one word per line (single column, so no header, as the projector expects). The directory
    is claimed first (:func:`claim_projector_dir`: a non-empty folder embedkit did not write needs
    ``overwrite``); only the three files are written into it, each atomically.

    Example:
        from embedkit.vectors.loading import load_vectors
        export_projector(load_vectors("glove-6b-50d"), "logs/glove", top=5000).rows
        5000
    """
    n = len(wv) if top is None else min(check_positive_int("top", top), len(wv))
    if n == 0:
        raise EmbedkitError("Expected a non-empty vector set. Received: 0 vectors")
    out = claim_projector_dir(directory, overwrite=overwrite)
    vecs = np.asarray(wv.vectors[:n], dtype=np.float32)
    if not np.isfinite(vecs).all():
        raise EmbedkitError("Expected finite vectors. Received: NaN or infinite values in the first rows")
    buf = io.StringIO()
    np.savetxt(buf, vecs, fmt="%.9g", delimiter="\t")
    words, renamed = [], 0
    for w in wv.keys[:n]:
        clean = w.replace("\t", " ").replace("\r", " ").replace("\n", " ")
        renamed += clean != w
        words.append(clean if clean.strip() else "<blank>")
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / VECTORS_TSV, buf.getvalue())
    atomic_write_text(out / METADATA_TSV, "\n".join(words) + "\n")
    config = (
        "embeddings {\n"
        f'  tensor_name: "{_pb_escape(tensor_name)}"\n'
        f'  tensor_path: "{VECTORS_TSV}"\n'
        f'  metadata_path: "{METADATA_TSV}"\n'
        "}\n"
    )
    atomic_write_text(out / CONFIG_PBTXT, config)  # last: the config only appears once the data is complete
    from embedkit.files.outputs import record_output

    for name in (VECTORS_TSV, METADATA_TSV, CONFIG_PBTXT):
        record_output(out / name)
    return ProjectorResult(directory=str(out), rows=n, dim=int(vecs.shape[1]),
                           files=[VECTORS_TSV, METADATA_TSV, CONFIG_PBTXT], renamed_words=renamed)


def read_projector(directory: str | os.PathLike[str]) -> WordVectors:
    """Read ``vectors.tsv`` + ``metadata.tsv`` back (e.g. to check an export).

    >>> import numpy as np, tempfile, os
    >>> d = os.path.join(tempfile.mkdtemp(), "p")
    >>> _ = export_projector(WordVectors(["x", "y"], np.eye(2, dtype=np.float32)), d)
    >>> read_projector(d).keys
    ['x', 'y']
    """
    d = Path(os.fspath(directory))
    missing = [n for n in (VECTORS_TSV, METADATA_TSV) if not (d / n).is_file()]
    if missing:
        raise EmbedkitError(f"Expected projector files in {d}. Received: missing {', '.join(missing)}")
    vecs = np.loadtxt(d / VECTORS_TSV, dtype=np.float32, delimiter="\t", ndmin=2)
    words = (d / METADATA_TSV).read_text(encoding="utf-8").splitlines()
    return WordVectors(words, vecs, source=str(d))


def _pb_escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"', '\\"')
