"""2-D maps of word vectors: PCA or t-SNE projection, drawn as a labelled scatter plot (PNG, SVG, PDF).

matplotlib (Agg backend) and scikit-learn are imported only when a map is drawn.

>>> import numpy as np, tempfile, os
>>> from embedkit.vectors.word_vectors import WordVectors
>>> wv = WordVectors(["surf", "waves", "car", "jeep"], np.random.default_rng(0).normal(size=(4, 8)))
>>> r = plot_words(wv, ["surf", "waves", "car", "jeep"], os.path.join(tempfile.mkdtemp(), "map.png"))
>>> r.method, len(r.words)
('pca', 4)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from embedkit.errors import EmbedkitError, check_positive_int
from embedkit.vectors.word_vectors import WordVectors

PLOT_METHODS = ("pca", "tsne")


@dataclass
class PlotResult:
    """What was drawn: the output file, projection method, words and their 2-D coordinates."""

    path: str
    method: str
    words: list[str]
    coords: list[list[float]]
    width_px: int
    height_px: int
    title: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def select_words(wv: WordVectors, words: Sequence[str] | None = None, top: int | None = None) -> list[str]:
    """The words to show: ``words`` (all must be known; unknown ones are listed in one error) or the ``top`` first.

    >>> import numpy as np
    >>> select_words(WordVectors(["a", "b", "c"], np.eye(3)), top=2)
    ['a', 'b']
    """
    if words is not None and top is not None:
        raise EmbedkitError(f"Pass either `words` or `top`, not both. Received: words={list(words)[:3]}..., top={top}")
    if words is not None:
        words = [w.strip() for w in words if w.strip()]
        if not words:
            raise EmbedkitError("`words` must name at least one word. Received: an empty list")
        unknown = [w for w in dict.fromkeys(words) if w not in wv]
        if unknown:
            raise EmbedkitError(
                f"Every word must be in the vocabulary. Received unknown words: {', '.join(unknown)}"
            )
        return list(dict.fromkeys(words))
    top = check_positive_int("top", 300 if top is None else top)
    return list(wv.keys[: min(top, len(wv))])


def project_2d(x: np.ndarray, method: str = "pca", *, seed: int = 0) -> np.ndarray:
    """Project rows of ``x`` to 2-D with PCA or t-SNE (cosine geometry: rows are normalised first)."""
    if method not in PLOT_METHODS:
        raise EmbedkitError(f"`method` must be one of {', '.join(PLOT_METHODS)}. Received: method={method!r}")
    x = np.asarray(x, dtype=np.float64)
    n = np.linalg.norm(x, axis=1, keepdims=True)
    x = x / np.where(n == 0, 1.0, n)
    if len(x) < 2:
        return np.zeros((len(x), 2))
    if method == "pca":
        from sklearn.decomposition import PCA

        out = PCA(n_components=2, random_state=seed).fit_transform(x) if x.shape[1] >= 2 else np.c_[x, np.zeros(len(x))]
    else:
        if len(x) < 4:
            raise EmbedkitError(f"t-SNE needs at least 4 words. Received: {len(x)} words")
        from sklearn.manifold import TSNE

        perplexity = float(min(30.0, max(1.0, (len(x) - 1) / 3)))
        out = TSNE(n_components=2, perplexity=perplexity, init="pca", metric="cosine", random_state=seed).fit_transform(x)
    return np.asarray(out, dtype=np.float64)


def plot_words(
    wv: WordVectors,
    words: Sequence[str] | None,
    output: str | os.PathLike[str],
    *,
    top: int | None = None,
    method: str = "pca",
    title: str | None = None,
    set_name: str | None = None,
    dpi: int = 150,
    seed: int = 0,
) -> PlotResult:
    """Draw a labelled 2-D map of ``words`` (or the ``top`` most frequent words) and save it atomically.

    Points are coloured by k-means cluster in the original space; labels are placed next to their points,
    avoiding each other where possible. The title names the method and the vector set.

    Example:
        from embedkit.vectors.loading import load_vectors
        plot_words(load_vectors("glove-6b-50d"), ["surf", "waves", "car", "jeep"], "map.png")
    """
    if method not in PLOT_METHODS:
        raise EmbedkitError(f"`method` must be one of {', '.join(PLOT_METHODS)}. Received: method={method!r}")
    from embedkit.files.outputs import claim_output

    out = Path(os.fspath(output))
    fmt = out.suffix.lower().lstrip(".") or "png"
    if fmt not in ("png", "svg", "pdf"):
        raise EmbedkitError(f"Output must end in .png, .svg or .pdf. Received: {str(out)!r}")
    # The caller named this file, so an existing one may be replaced; a folder, FIFO or device never is.
    claim_output(out, "file", overwrite=True)
    chosen = select_words(wv, words, top if words is None else None)
    x = np.asarray(wv[chosen], dtype=np.float32)
    xy = project_2d(x, method, seed=seed)
    labels = _clusters(x, seed)

    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    many = len(chosen) > 60
    size = (13, 10) if many else (10, 7.5)
    fig = Figure(figsize=size, dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    cmap = matplotlib.colormaps["tab10"]
    colors = [cmap(int(c) % 10) for c in labels]
    ax.scatter(xy[:, 0], xy[:, 1], s=14 if many else 36, c=colors, alpha=0.85, edgecolors="white", linewidths=0.5,
               zorder=3)
    name = set_name or (wv.source or "vectors")
    ax.set_title(title or f"{_method_label(method)} of {len(chosen)} words · {name}", fontsize=13)
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    pad = 0.08 * (np.ptp(xy, axis=0) + 1e-9)
    ax.set_xlim(xy[:, 0].min() - pad[0], xy[:, 0].max() + pad[0])
    ax.set_ylim(xy[:, 1].min() - pad[1], xy[:, 1].max() + pad[1])
    _place_labels(fig, ax, xy, chosen, colors, fontsize=7 if many else 11)
    fig.tight_layout()

    from embedkit.files.atomic import atomic_path

    with atomic_path(out) as tmp:
        fig.savefig(tmp, format=fmt)
    w, h = (int(round(v * dpi)) for v in fig.get_size_inches())
    return PlotResult(path=str(out), method=method, words=chosen, coords=xy.round(5).tolist(), width_px=w,
                      height_px=h, title=ax.get_title())


def _method_label(method: str) -> str:
    return {"pca": "PCA", "tsne": "t-SNE"}[method]


def _clusters(x: np.ndarray, seed: int) -> np.ndarray:
    """k-means cluster per word (for colour only); one cluster for tiny sets."""
    k = min(8, max(1, len(x) // 3))
    if k < 2:
        return np.zeros(len(x), dtype=np.int64)
    from sklearn.cluster import KMeans

    u = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    return KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(u)


def _place_labels(fig: Any, ax: Any, xy: np.ndarray, words: list[str], colors: list[Any], fontsize: float) -> None:
    """Put each label at the candidate offset (8 directions, two distances) that overlaps least.

    Overlap is measured in display pixels against labels already placed and against all points.
    """
    renderer = fig.canvas.get_renderer()
    pts = ax.transData.transform(xy)
    r = 6.0
    point_boxes = np.c_[pts[:, 0] - r, pts[:, 1] - r, pts[:, 0] + r, pts[:, 1] + r]
    placed = np.empty((0, 4))
    offsets = [(6, 4), (6, -12), (-6, 4), (-6, -12), (0, 8), (0, -16), (10, -4), (-10, -4),
               (14, 12), (14, -20), (-14, 12), (-14, -20), (0, 20), (0, -28)]
    # Place crowded points first: they have the fewest good spots.
    d = np.linalg.norm(pts[:, None, :] - pts[None, :, :], axis=2) if len(pts) <= 2000 else None
    order = np.argsort(np.sort(d, axis=1)[:, 1]) if d is not None and len(pts) > 1 else np.arange(len(pts))
    bbox_axes = ax.get_window_extent(renderer)
    for i in order:
        t = ax.annotate(words[i], xy[i], xytext=(0, 0), textcoords="offset points", fontsize=fontsize,
                        color=_darker(colors[i]), zorder=4)
        bb = t.get_window_extent(renderer)
        wpx, hpx = bb.width, bb.height
        best, best_cost = None, np.inf
        scale = fig.dpi / 72.0
        for dx, dy in offsets:
            ox, oy = dx * scale, dy * scale
            x0 = pts[i, 0] + ox - (wpx if dx < 0 else (wpx / 2 if dx == 0 else 0))
            y0 = pts[i, 1] + oy
            box = np.array([x0, y0, x0 + wpx, y0 + hpx])
            cost = _overlap(box, placed).sum() * 3 + _overlap(box, np.delete(point_boxes, i, axis=0)).sum()
            outside = max(0, bbox_axes.x0 - box[0]) + max(0, box[2] - bbox_axes.x1)
            outside += max(0, bbox_axes.y0 - box[1]) + max(0, box[3] - bbox_axes.y1)
            cost += outside * hpx * 4 + 0.01 * (abs(dx) + abs(dy))
            if cost < best_cost:
                best, best_cost = (box, dx, dy), cost
        assert best is not None
        box, dx, dy = best
        t.set_position((dx, dy))
        t.set_horizontalalignment("right" if dx < 0 else ("center" if dx == 0 else "left"))
        placed = np.vstack([placed, box])


def _overlap(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    if len(boxes) == 0:
        return np.zeros(0)
    w = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    h = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    return w * h


def _darker(c: Any) -> tuple[float, float, float]:
    return (c[0] * 0.6, c[1] * 0.6, c[2] * 0.6)
