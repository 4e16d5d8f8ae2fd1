"""2-D word maps and TensorBoard projector export."""

from __future__ import annotations

import numpy as np
import pytest

from embedkit.errors import EmbedkitError
from embedkit.evaluate.plots import plot_words, project_2d, select_words
from embedkit.evaluate.projector import export_projector, read_projector
from embedkit.vectors.word_vectors import WordVectors

WORDS = ["surf", "waves", "beach", "ocean", "car", "jeep", "truck", "bus"]


def _png_shape(path):
    import matplotlib.image as mpimg

    return mpimg.imread(path).shape


def test_plot_png_from_glove(glove50, tmp_path):
    out = tmp_path / "map.png"
    r = plot_words(glove50, WORDS, out, set_name="glove-6b-50d")
    assert out.stat().st_size > 20000
    h, w, _ = _png_shape(out)
    assert (w, h) == (r.width_px, r.height_px) and w >= 1000 and h >= 700
    img = __import__("matplotlib.image").image.imread(out)
    assert img[..., :3].std() > 0.02  # not a blank canvas
    assert "PCA" in r.title and "glove-6b-50d" in r.title and r.words == WORDS
    xy = np.array(r.coords)
    # the sea words and the vehicle words land on different sides of the map
    sea, cars = xy[:4].mean(0), xy[4:].mean(0)
    spread = np.linalg.norm(xy - xy.mean(0), axis=1).mean()
    assert np.linalg.norm(sea - cars) > spread
    assert not list(tmp_path.glob(".*tmp"))


def test_plot_tsne_top_words(glove50, tmp_path):
    out = tmp_path / "top.png"
    r = plot_words(glove50, None, out, top=40, method="tsne")
    assert r.words == glove50.keys[:40] and "t-SNE" in r.title
    assert out.stat().st_size > 20000 and _png_shape(out)[0] == r.height_px


def test_plot_svg(small_vectors, tmp_path):
    out = tmp_path / "m.svg"
    plot_words(small_vectors, ["w1", "w2", "w3"], out)
    assert out.read_text().lstrip().startswith("<?xml")


def test_plot_bad_input(small_vectors, tmp_path):
    with pytest.raises(EmbedkitError, match="unknown words: nope, zilch$"):
        plot_words(small_vectors, ["w1", "nope", "zilch"], tmp_path / "x.png")
    with pytest.raises(EmbedkitError, match="method"):
        plot_words(small_vectors, ["w1", "w2"], tmp_path / "x.png", method="umap")
    with pytest.raises(EmbedkitError, match=r"\.png"):
        plot_words(small_vectors, ["w1", "w2"], tmp_path / "x.gif")
    with pytest.raises(EmbedkitError, match="top"):
        select_words(small_vectors, top=0)
    with pytest.raises(EmbedkitError, match="t-SNE needs at least 4"):
        project_2d(np.ones((3, 4)), "tsne")
    assert not (tmp_path / "x.png").exists()


def test_projector_round_trip(glove50, tmp_path):
    d = tmp_path / "proj"
    r = export_projector(glove50, d, top=500)
    assert r.rows == 500 and r.dim == 50
    back = read_projector(d)
    assert back.keys == glove50.keys[:500]
    np.testing.assert_array_equal(back.vectors, np.asarray(glove50.vectors[:500], np.float32))
    cfg = (d / "projector_config.pbtxt").read_text()
    assert 'tensor_path: "vectors.tsv"' in cfg and 'metadata_path: "metadata.tsv"' in cfg
    lines = (d / "vectors.tsv").read_text().splitlines()
    assert len(lines) == 500 and all(len(l.split("\t")) == 50 for l in lines)


def test_projector_odd_words_and_errors(tmp_path):
    wv = WordVectors(["a\tb", "c", "line\nbreak"], np.arange(6, dtype=np.float32).reshape(3, 2))
    r = export_projector(wv, tmp_path / "p", top=None)
    meta = (tmp_path / "p" / "metadata.tsv").read_text().splitlines()
    assert meta == ["a b", "c", "line break"] and r.renamed_words == 2
    with pytest.raises(EmbedkitError, match="top"):
        export_projector(wv, tmp_path / "q", top=0)
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(EmbedkitError, match="directory"):
        export_projector(wv, f)
    with pytest.raises(EmbedkitError, match="missing"):
        read_projector(tmp_path / "nothing")
