"""Benchmarks of `embedkit eval` against hand-written peers, in the same run.

epoch: one kim-cnn epoch through `embedkit.downstream.runner.evaluate` vs the same hand-written Keras model.
    Both sides train Embedding(GloVe 6B 50d, frozen) → Conv1D(100, w, relu) for w in 3, 4, 5 → max-over-time
    pooling → concatenate → Dropout(0.5) → Dense(1, sigmoid, max-norm 3) with Adam(1e-3), batch 50, the same
    number of epochs (no early stopping), on the same stratified 90/10 split of MR with 10 % of train held out
    for validation. The hand-written side is the course recipe: keras TextVectorization adapted on the
    training texts, a Python loop filling the matrix from GloVe, `Embedding` + `build` + `assign`,
    `model.fit`. Runs alternate (hand, embedkit, hand, embedkit, ...); the ratio uses the median epoch time
    (the first epoch includes tracing).

suite: `embedkit eval --suite senteval --datasets MR,CR,SUBJ,MPQA -m logreg` as a user runs it (a fresh
    process: start-up, imports, loading, 10-fold CV with static and its frozen-random control) vs a
    hand-written SentEval-style loop in this process (regex tokens, GloVe dict lookups, mean vectors,
    scikit-learn LogisticRegression with C chosen on a validation split, the same folds and modes).

    python3 scripts/bench_downstream.py epoch --repeats 2 --epochs 3
    python3 scripts/bench_downstream.py suite --data-dir ../shared/data/classification
    python3 scripts/bench_downstream.py evidence        # why static 50d GloVe trails 300d word2vec on MR
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)
CLS = os.path.join(ROOT, "..", "shared", "data", "classification")


# ------------------------------------------------------------------------------------------------ epoch
def hand_written_kim(texts_tr, y_tr, texts_va, y_va, wv, maxlen: int, epochs: int, batch: int) -> dict:
    import keras
    import numpy as np
    from keras import layers

    keras.utils.set_random_seed(0)
    t0 = time.perf_counter()
    tv = layers.TextVectorization(output_sequence_length=maxlen)
    tv.adapt(texts_tr)
    vocab = tv.get_vocabulary()
    matrix = np.zeros((len(vocab), wv.dim), dtype=np.float32)
    k2i = wv.key_to_index
    for i, w in enumerate(vocab):
        j = k2i.get(w)
        if j is not None and i > 1:
            matrix[i] = wv.vectors[j]
    x_tr = tv(np.array(texts_tr, dtype=object)).numpy()
    x_va = tv(np.array(texts_va, dtype=object)).numpy()
    emb = layers.Embedding(len(vocab), wv.dim, trainable=False)
    emb.build((None,))
    emb.embeddings.assign(matrix)
    inputs = keras.Input(shape=(maxlen,), dtype="int32")
    x = emb(inputs)
    pooled = [layers.GlobalMaxPooling1D()(layers.Conv1D(100, w, activation="relu")(x)) for w in (3, 4, 5)]
    x = layers.Dropout(0.5)(layers.Concatenate()(pooled))
    out = layers.Dense(1, activation="sigmoid", kernel_constraint=keras.constraints.MaxNorm(3))(x)
    model = keras.Model(inputs, out)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy", metrics=["accuracy"])
    times: list[float] = []

    class T(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.t)

    hist = model.fit(x_tr, y_tr.astype("float32"), validation_data=(x_va, y_va.astype("float32")), epochs=epochs,
                     batch_size=batch, callbacks=[T()], verbose=0)
    return {"median_epoch": statistics.median(times), "total": time.perf_counter() - t0,
            "val_acc": hist.history["val_accuracy"][-1], "params": model.count_params()}


def embedkit_kim(ds, wv, maxlen: int, epochs: int, batch: int) -> dict:
    from embedkit.downstream.runner import evaluate

    t0 = time.perf_counter()
    rep = evaluate(ds, models=["kim-cnn"], embeddings=["static"], vectors={"glove": wv}, seeds=1, folds=0,
                   epochs=epochs, patience=None, maxlen=maxlen, batch_size=batch, vocab="train")
    run = rep.summaries[0].runs[0]
    return {"median_epoch": run.seconds_per_epoch, "total": time.perf_counter() - t0,
            "val_acc": run.history["val_accuracy"][-1], "test_acc": run.accuracy, "params": run.params}


def bench_epoch(args: argparse.Namespace) -> None:
    from embedkit.downstream.datasets import load_dataset, make_splits
    from embedkit.vectors.loading import load_vectors

    ds = load_dataset(args.dataset)
    wv = load_vectors(args.vectors)
    sp = make_splits(ds, seed=0)[0]  # the split evaluate() makes with folds=0
    tr = [ds.texts[i] for i in sp.train]
    va = [ds.texts[i] for i in sp.val]
    print(f"{ds.name}: {len(ds)} texts, train {len(sp.train)}, val {len(sp.val)}; maxlen {args.maxlen}; "
          f"{args.epochs} epochs x {args.repeats} repeats; kim-cnn static, vectors {args.vectors}", flush=True)
    hand, ek = [], []
    for r in range(args.repeats):
        h = hand_written_kim(tr, ds.labels[sp.train], va, ds.labels[sp.val], wv, args.maxlen, args.epochs, args.batch_size)
        e = embedkit_kim(ds, wv, args.maxlen, args.epochs, args.batch_size)
        hand.append(h)
        ek.append(e)
        print(f"repeat {r + 1}: hand-written {h['median_epoch']:.2f} s/epoch (total {h['total']:.1f} s, "
              f"val acc {h['val_acc']:.3f}, {h['params']:,} params) | embedkit {e['median_epoch']:.2f} s/epoch "
              f"(total {e['total']:.1f} s, val acc {e['val_acc']:.3f}, test acc {e['test_acc']:.3f}, "
              f"{e['params']:,} params)", flush=True)
    he = min(h["median_epoch"] for h in hand)
    ee = min(e["median_epoch"] for e in ek)
    print(f"best median epoch: hand-written {he:.2f} s, embedkit {ee:.2f} s -> ratio {ee / he:.2f}x (bar: <= 1.2x)")


# ------------------------------------------------------------------------------------------------ suite
def hand_written_suite(data_dir: str, names: list[str], wv) -> dict:
    """SentEval's bag-of-words protocol written out: mean GloVe vectors, logistic regression, 10-fold CV."""
    import re

    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, train_test_split
    from threadpoolctl import threadpool_limits

    token = re.compile(r"[^\W_]+(?=n't\b)|n't\b|'(?:s|re|ve|d|ll|m)\b|[^\W_]+(?:-[^\W_]+)*|[^\w\s]")
    k2i = wv.key_to_index
    vecs = np.asarray(wv.vectors, dtype=np.float32)
    mean, std = vecs[:: max(1, len(vecs) // 20000)].mean(0), vecs[:: max(1, len(vecs) // 20000)].std(0)
    out = {}
    for name in names:
        folder = os.path.join(data_dir, name.lower())
        texts, labels = [], []
        for k, f in enumerate(sorted(os.listdir(folder))):
            raw = open(os.path.join(folder, f), "rb").read()
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = raw.decode("latin-1")
            lines = [line.strip() for line in text.split("\n") if line.strip()]
            texts += lines
            labels += [k] * len(lines)
        y = np.array(labels)
        rows = [[k2i[w] for w in token.findall(t.lower()) if w in k2i] for t in texts]
        accs = {}
        for mode in ("static", "frozen-random"):
            table = vecs if mode == "static" else np.random.default_rng(0).normal(mean, std, vecs.shape).astype(np.float32)
            x = np.stack([table[r].mean(0) if r else np.zeros(wv.dim, np.float32) for r in rows])
            scores = []
            for tr, te in StratifiedKFold(10, shuffle=True, random_state=0).split(x, y):
                tr, va = train_test_split(tr, test_size=0.1, random_state=0, stratify=y[tr])
                best = None
                with threadpool_limits(1):
                    for c in [2.0 ** k for k in range(-2, 5)]:
                        clf = LogisticRegression(C=c, solver="newton-cholesky", max_iter=200).fit(x[tr], y[tr])
                        acc = clf.score(x[va], y[va])
                        if best is None or acc > best[0]:
                            best = (acc, clf)
                    scores.append(best[1].score(x[te], y[te]))
            accs[mode] = float(np.mean(scores))
        out[name] = accs
    return out


def bench_suite(args: argparse.Namespace) -> None:
    from embedkit.vectors.loading import load_vectors

    names = args.datasets.split(",")
    cmd = [sys.executable, "-m", "embedkit", "eval", "--suite", "senteval", "--datasets", args.datasets,
           "--data-dir", args.data_dir, "-m", "logreg", "-v", args.vectors]
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    ek = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"embedkit failed: {p.stderr.strip().splitlines()[-1]}")
    print(" ".join(cmd[1:]))
    print("\n".join(line for line in p.stdout.splitlines() if line.strip()))
    t0 = time.perf_counter()
    wv = load_vectors(args.vectors)
    peer = hand_written_suite(args.data_dir, names, wv)
    hw = time.perf_counter() - t0
    for name, accs in peer.items():
        print(f"hand-written {name}: static {100 * accs['static']:.1f}, frozen-random {100 * accs['frozen-random']:.1f}")
    print(f"embedkit eval --suite (fresh process, {len(names)} datasets): {ek:.1f} s (bar: < 60 s); "
          f"hand-written loop (in process, vectors loaded): {hw:.1f} s -> ratio {ek / hw:.2f}x")


# ------------------------------------------------------------------------------------------------ evidence
def evidence(args: argparse.Namespace) -> None:
    """Why frozen 50d GloVe is weak on MR: a linear model on mean vectors vs on a bag of words; antonym cosines."""
    import numpy as np
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    from embedkit.downstream.datasets import load_dataset
    from embedkit.downstream.preparation import TOKENIZER
    from embedkit.text.tokenizer import Tokenizer
    from embedkit.vectors.loading import load_vectors

    ds = load_dataset(args.dataset)
    wv = load_vectors(args.vectors)
    tokenize = Tokenizer.preset(TOKENIZER)  # the tokens evaluate() trains on
    k2i, vecs = wv.key_to_index, np.asarray(wv.vectors, dtype=np.float32)
    toks = [tokenize(t) for t in ds.texts]
    mean = np.stack([vecs[[k2i[w] for w in t if w in k2i]].mean(0) if any(w in k2i for w in t)
                     else np.zeros(wv.dim, np.float32) for t in toks])
    bow = CountVectorizer(analyzer=lambda t: t, binary=True).fit_transform(toks)
    cv = StratifiedKFold(10, shuffle=True, random_state=0)
    for name, x in (("mean vector", mean), ("binary bag of words", bow)):
        acc = cross_val_score(LogisticRegression(max_iter=2000), x, ds.labels, cv=cv).mean()
        print(f"logistic regression on {name}: {100 * acc:.1f} % (10-fold)")
    unit = lambda w: vecs[k2i[w]] / np.linalg.norm(vecs[k2i[w]])  # noqa: E731
    pairs = [("good", "bad"), ("great", "terrible"), ("best", "worst"), ("love", "hate"), ("funny", "boring")]
    print("cosines: " + ", ".join(f"{a}/{b} {float(unit(a) @ unit(b)):.2f}" for a, b in pairs if a in k2i and b in k2i))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    e = sub.add_parser("epoch", help="kim-cnn per-epoch cost vs the hand-written Keras model")
    e.add_argument("--dataset", default=os.path.join(CLS, "mr"))
    e.add_argument("--vectors", default="glove-6b-50d")
    e.add_argument("--epochs", type=int, default=3)
    e.add_argument("--repeats", type=int, default=2)
    e.add_argument("--maxlen", type=int, default=56)
    e.add_argument("--batch-size", type=int, default=50)
    s = sub.add_parser("suite", help="eval --suite with logreg vs a hand-written SentEval loop")
    s.add_argument("--data-dir", default=CLS)
    s.add_argument("--datasets", default="MR,CR,SUBJ,MPQA")
    s.add_argument("--vectors", default="glove-6b-50d")
    v = sub.add_parser("evidence", help="mean-vector vs bag-of-words logistic regression, antonym cosines")
    v.add_argument("--dataset", default=os.path.join(CLS, "mr"))
    v.add_argument("--vectors", default="glove-6b-50d")
    args = ap.parse_args()
    {"epoch": bench_epoch, "suite": bench_suite, "evidence": evidence}[args.what](args)


if __name__ == "__main__":
    from embedkit.errors import run_script

    run_script(main)
