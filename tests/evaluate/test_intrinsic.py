"""Analogy and word-pair evaluation: equal to gensim on real GloVe subsets and a small trained model."""

from __future__ import annotations

import numpy as np
import pytest
from gensim.test.utils import datapath

from embedkit.errors import EmbedkitError
from embedkit.evaluate.analogies import evaluate_analogies
from embedkit.evaluate.word_pairs import evaluate_word_pairs
from embedkit.vectors.word_vectors import WordVectors

QW = datapath("questions-words.txt")


def _head(wv: WordVectors, n: int) -> WordVectors:
    return WordVectors(wv.keys[:n], np.array(wv.vectors[:n]))


def _gensim_sections(kv, path, restrict, case_insensitive=True):
    _, secs = kv.evaluate_word_analogies(path, restrict_vocab=restrict, case_insensitive=case_insensitive)
    return [(s["section"], len(s["correct"]), len(s["correct"]) + len(s["incorrect"])) for s in secs]


def _assert_same(r, gsecs):
    ours = [(s.name, s.correct, s.total) for s in r.sections]
    assert ours == gsecs[:-1]
    assert (r.correct, r.total) == gsecs[-1][1:]


def _small_questions(tmp_path, n_per_section=150):
    """A slice of questions-words.txt (every section, first questions) so gensim's slow loop stays quick."""
    out, count = [], 0
    for line in open(QW, encoding="utf-8"):
        if line.startswith(": "):
            out.append(line)
            count = 0
        elif count < n_per_section:
            out.append(line)
            count += 1
    p = tmp_path / "qw-small.txt"
    p.write_text("".join(out), encoding="utf-8")
    return p


@pytest.mark.slow
@pytest.mark.parametrize("n,restrict", [(20000, 20000), (40000, 10000)])
def test_analogies_equal_gensim_on_glove(glove50, tmp_path, n, restrict):
    wv = _head(glove50, n)
    q = _small_questions(tmp_path, 80)
    r = evaluate_analogies(wv, q, restrict_vocab=restrict)
    _assert_same(r, _gensim_sections(wv.to_gensim(), str(q), restrict))
    assert r.oov > 0 and r.total + r.oov == sum(1 for l in open(q) if not l.startswith(":"))
    assert 0 < r.accuracy < 1


@pytest.mark.slow
def test_analogies_head_and_tail_paths(glove50, tmp_path, monkeypatch):
    """Force the pruned block scan over most of the vocabulary (small head) and compare to gensim."""
    import embedkit.evaluate.analogy_search as ev

    monkeypatch.setattr(ev, "_HEAD", 512)
    wv = _head(glove50, 30000)
    q = _small_questions(tmp_path, 60)
    r = evaluate_analogies(wv, q, restrict_vocab=30000)
    _assert_same(r, _gensim_sections(wv.to_gensim(), str(q), 30000))


def test_analogies_case_variants_equal_gensim(tmp_path):
    """Mixed-case vocabulary: variants collapse to the first (most frequent) one, as gensim does."""
    rng = np.random.default_rng(3)
    base = ["man", "woman", "king", "queen", "boy", "girl", "prince", "princess", "Paris", "France", "Rome", "Italy"]
    words = base + ["KING", "Queen", "girl_", "PARIS"] + [f"x{i}" for i in range(300)]
    vecs = rng.standard_normal((len(words), 12)).astype(np.float32)
    for a, b in [("man", "woman"), ("king", "queen"), ("boy", "girl"), ("prince", "princess")]:
        vecs[words.index(b)] = vecs[words.index(a)] + vecs[0] * 0.3 + vecs[1] * 0.9
    vecs[words.index("KING")] = vecs[words.index("queen")] * 1.01  # a case variant sits on an answer
    wv = WordVectors(words, vecs)
    q = tmp_path / "q.txt"
    q.write_text(
        ": gender\nman woman king queen\nking queen man woman\nboy girl prince princess\nprince princess boy girl\n"
        "man woman boy girl\nKing Queen boy girl\n: capital\nParis France Rome Italy\nRome Italy Paris France\n"
        "bad line here\nParis France Rome Atlantis\n",
        encoding="utf-8",
    )
    kv = wv.to_gensim()
    for ci in (True, False):
        r = evaluate_analogies(wv, q, restrict_vocab=len(words), case_insensitive=ci)
        _assert_same(r, _gensim_sections(kv, str(q), len(words), ci))
    r = evaluate_analogies(wv, q, restrict_vocab=len(words))
    assert r.oov == 1 and r.sections[1].oov == 1


def test_analogies_trained_model_equal_gensim(tmp_path):
    """A small word2vec model trained on gensim's Lee corpus."""
    from gensim.models import Word2Vec
    from gensim.test.utils import datapath as dp
    from gensim.utils import simple_preprocess

    sents = [simple_preprocess(line) for line in open(dp("lee_background.cor"), encoding="utf-8")]
    model = Word2Vec(sents, vector_size=32, min_count=2, epochs=3, seed=1, workers=1)
    wv = WordVectors.from_gensim(model)
    for restrict in (len(wv), 2000):
        r = evaluate_analogies(wv, restrict_vocab=restrict)
        _assert_same(r, _gensim_sections(model.wv, QW, restrict))
        assert r.total > 0 and r.oov > 10000


def test_3cosmul_equals_gensim_cosmul(glove50, tmp_path):
    """3CosMul answers equal gensim's most_similar_cosmul (all rows are candidates when restrict = size)."""
    wv = _head(glove50, 8000)
    q = _small_questions(tmp_path, 8)
    r = evaluate_analogies(wv, q, method="3cosmul", restrict_vocab=len(wv))
    kv = wv.to_gensim()
    ok = {k.upper(): i for i, k in reversed(list(enumerate(wv.keys)))}
    correct = total = 0
    for line in open(q, encoding="utf-8"):
        if line.startswith(":"):
            continue
        w = [x.upper() for x in line.split()]
        if not all(x in ok for x in w):
            continue
        a, b, c, d = (wv.keys[ok[x]] for x in w)
        top = kv.most_similar_cosmul(positive=[b, c], negative=[a], topn=5)
        pred = next((k.upper() for k, _ in top if k.upper() not in w[:3]), top[-1][0].upper())
        correct += pred == w[3]
        total += 1
    assert (r.correct, r.total) == (correct, total)
    add = evaluate_analogies(wv, q, method="3cosadd", restrict_vocab=len(wv))
    assert add.total == r.total


def test_result_fields_and_dict(glove50, tmp_path):
    r = evaluate_analogies(_head(glove50, 20000), _small_questions(tmp_path, 20), restrict_vocab=20000)
    d = r.to_dict()
    assert d["correct"] == r.correct and len(d["sections"]) == 14
    sem = [s for s in r.sections if s.semantic]
    assert len(sem) == 5 and r.semantic_accuracy == sum(s.correct for s in sem) / sum(s.total for s in sem)
    assert r.syntactic_accuracy != r.semantic_accuracy
    assert abs(r.oov_ratio - r.oov / (r.total + r.oov)) < 1e-12 and 0 <= r.oov_ratio <= 1  # a fraction
    assert d["oov_ratio"] == r.oov_ratio and d["skipped_lines"] == 0


@pytest.mark.parametrize("name,file", [("ws353", "wordsim353.tsv"), ("simlex999", "simlex999.txt")])
@pytest.mark.parametrize("restrict", [300000, 5000])
def test_pairs_equal_gensim(glove50, name, file, restrict):
    wv = _head(glove50, 100000)
    r = evaluate_word_pairs(wv, name, restrict_vocab=restrict)
    pearson, spearman, oov = wv.to_gensim().evaluate_word_pairs(datapath(file), restrict_vocab=restrict)
    assert r.spearman == pytest.approx(spearman[0], abs=1e-6)
    assert r.pearson == pytest.approx(pearson[0], abs=1e-6)
    assert r.oov_ratio == pytest.approx(oov / 100, abs=1e-11)  # gensim: percent; embedkit: a fraction
    assert r.pairs_used + r.oov == r.pairs_total


def test_pairs_space_separated_file(glove50, tmp_path):
    wv = _head(glove50, 20000)
    f = tmp_path / "p.txt"
    f.write_text("# comment\ncar truck 8.5\ncar banana 1.0\nking queen 8.0\nzzzqqq car 3\nking car 2.5\n")
    r = evaluate_word_pairs(wv, f)
    assert (r.pairs_total, r.pairs_used) == (5, 4) and r.oov_ratio == 0.2
    tab = tmp_path / "p.tsv"
    tab.write_text(f.read_text().replace(" ", "\t"))
    t = evaluate_word_pairs(wv, tab)
    pe, sp, oov = wv.to_gensim().evaluate_word_pairs(str(tab))
    assert t.spearman == pytest.approx(sp[0], abs=1e-6) and t.spearman == pytest.approx(r.spearman, abs=1e-12)


def test_bad_inputs(glove50, tmp_path):
    wv = _head(glove50, 1000)
    with pytest.raises(EmbedkitError, match="restrict_vocab.*Received: restrict_vocab=0"):
        evaluate_analogies(wv, restrict_vocab=0)
    with pytest.raises(EmbedkitError, match="restrict_vocab"):
        evaluate_word_pairs(wv, restrict_vocab=-5)
    with pytest.raises(EmbedkitError, match="method"):
        evaluate_analogies(wv, method="3cosfoo")
    with pytest.raises(EmbedkitError, match="does not exist"):
        evaluate_analogies(wv, tmp_path / "missing.txt")
    bad = tmp_path / "bad.txt"
    bad.write_text("this is not\na pairs file at all\n")
    with pytest.raises(EmbedkitError, match="word1 word2 score.*2 unparsable"):
        evaluate_word_pairs(wv, bad)
    noheader = tmp_path / "nh.txt"
    noheader.write_text("a b c d\n")
    with pytest.raises(EmbedkitError, match="section"):
        evaluate_analogies(wv, noheader)
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b": s\n\xff\xfe a b c\n")
    with pytest.raises(EmbedkitError, match="UTF-8"):
        evaluate_analogies(wv, binary)


def test_malformed_analogy_file_is_an_error_not_zero_answered(glove50, tmp_path):
    wv = _head(glove50, 20000)
    bad = tmp_path / "bad.txt"
    bad.write_text(": capitals\nparis france\nberlin germany rome\n: more\nnot a question at all here\n")
    with pytest.raises(EmbedkitError, match=r"Received: 0 questions and 3 malformed lines"):
        evaluate_analogies(wv, bad)
    headers = tmp_path / "headers.txt"
    headers.write_text(": a\n: b\n")
    with pytest.raises(EmbedkitError, match="Received: 0 questions in"):
        evaluate_analogies(wv, headers)
    # some malformed lines among real questions: answered, and the malformed ones counted
    mixed = tmp_path / "mixed.txt"
    mixed.write_text(": royal\nman woman king queen\nbroken line\n")
    r = evaluate_analogies(wv, mixed)
    assert (r.total, r.skipped_lines) == (1, 1)
