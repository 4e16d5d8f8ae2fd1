"""Benchmark: one conv1d epoch on MR through `embedkit.downstream.runner.evaluate` vs the same hand-written Keras model.

Both sides train Embedding(GloVe 6B 50d, frozen) → Conv1D(128, 5, relu) → GlobalMaxPooling1D → Dropout(0.5) →
Dense(1, sigmoid) with Adam(1e-3), batch 50, the same number of epochs (no early stopping), on the same
stratified 90/10 split of MR with 10 % of train held out for validation. The hand-written side is the course
recipe: keras TextVectorization adapted on the training texts, a Python loop filling the matrix from GloVe,
`Embedding` + `build` + `assign`, `model.fit`. Runs alternate (hand, embedkit, hand, embedkit, ...) so that
load from other processes hits both; the ratio uses the median epoch time (the first epoch includes tracing).

    nice python3 scripts/bench_downstream.py --repeats 2 --epochs 4
    nice python3 scripts/bench_downstream.py --evidence --repeats 0   # only the static-vs-random evidence
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

MR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data", "classification", "mr")


def hand_written(texts_tr, y_tr, texts_va, y_va, wv, maxlen: int, epochs: int, batch: int) -> dict:
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
    model = keras.Sequential([
        keras.Input(shape=(maxlen,), dtype="int32"), emb, layers.Conv1D(128, 5, activation="relu"),
        layers.GlobalMaxPooling1D(), layers.Dropout(0.5), layers.Dense(1, activation="sigmoid"),
    ])
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
            "val_acc": hist.history["val_accuracy"][-1]}


def embedkit_side(ds, wv, maxlen: int, epochs: int, batch: int) -> dict:
    from embedkit.downstream.runner import evaluate

    t0 = time.perf_counter()
    rep = evaluate(ds, models=["conv1d"], embeddings=["static"], vectors=wv, seeds=1, folds=None, epochs=epochs,
                   patience=None, maxlen=maxlen, batch_size=batch)
    run = rep.summaries[0].runs[0]
    return {"median_epoch": run.seconds_per_epoch, "total": time.perf_counter() - t0,
            "val_acc": run.history["val_accuracy"][-1], "test_acc": run.accuracy}


def evidence(ds, wv) -> None:
    """Why frozen 50d GloVe is weak on MR: a linear model on mean vectors vs on a bag of words; antonym cosines."""
    import numpy as np
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    from embedkit.downstream.preparation import TOKENIZER
    from embedkit.text.tokenizer import Tokenizer

    tokenize = Tokenizer.preset(TOKENIZER)  # the tokens evaluate() trains on
    k2i, vecs = wv.key_to_index, np.asarray(wv.vectors, dtype=np.float32)
    toks = [tokenize(t) for t in ds.texts]
    mean = np.stack([vecs[[k2i[w] for w in t if w in k2i]].mean(0) if any(w in k2i for w in t)
                     else np.zeros(wv.dim, np.float32) for t in toks])
    bow = CountVectorizer(analyzer=lambda t: t, binary=True).fit_transform(toks)
    cv = StratifiedKFold(10, shuffle=True, random_state=0)
    for name, x in (("mean GloVe vector", mean), ("binary bag of words", bow)):
        acc = cross_val_score(LogisticRegression(max_iter=2000), x, ds.labels, cv=cv).mean()
        print(f"logistic regression on {name}: {100 * acc:.1f} % (10-fold)")
    unit = lambda w: vecs[k2i[w]] / np.linalg.norm(vecs[k2i[w]])  # noqa: E731
    pairs = [("good", "bad"), ("great", "terrible"), ("best", "worst"), ("love", "hate"), ("funny", "boring")]
    print("cosines: " + ", ".join(f"{a}/{b} {float(unit(a) @ unit(b)):.2f}" for a, b in pairs))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default=MR)
    ap.add_argument("--vectors", default="glove-6b-50d")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--maxlen", type=int, default=56)
    ap.add_argument("--batch-size", type=int, default=50)
    ap.add_argument("--evidence", action="store_true", help="Also print the static-vs-random evidence.")
    args = ap.parse_args()

    from embedkit.downstream.datasets import load_dataset, make_splits
    from embedkit.vectors.loading import load_vectors

    ds = load_dataset(args.dataset)
    wv = load_vectors(args.vectors)
    if args.evidence:
        evidence(ds, wv)
    sp = make_splits(ds, seed=0)[0]  # the split evaluate() makes for folds=None
    tr = [ds.texts[i] for i in sp.train]
    va = [ds.texts[i] for i in sp.val]
    print(f"MR: {len(ds)} sentences, train {len(sp.train)}, val {len(sp.val)}; maxlen {args.maxlen}; "
          f"{args.epochs} epochs x {args.repeats} repeats; vectors {args.vectors}")
    hand, ek = [], []
    for r in range(args.repeats):
        h = hand_written(tr, ds.labels[sp.train], va, ds.labels[sp.val], wv, args.maxlen, args.epochs, args.batch_size)
        e = embedkit_side(ds, wv, args.maxlen, args.epochs, args.batch_size)
        hand.append(h)
        ek.append(e)
        print(f"repeat {r + 1}: hand-written {h['median_epoch']:.2f} s/epoch (total {h['total']:.1f} s, "
              f"val acc {h['val_acc']:.3f}) | embedkit {e['median_epoch']:.2f} s/epoch (total {e['total']:.1f} s, "
              f"val acc {e['val_acc']:.3f}, test acc {e['test_acc']:.3f})")
    if not hand:
        return
    he = min(h["median_epoch"] for h in hand)
    ee = min(e["median_epoch"] for e in ek)
    ht = min(h["total"] for h in hand)
    et = min(e["total"] for e in ek)
    print(f"best median epoch: hand-written {he:.2f} s, embedkit {ee:.2f} s -> ratio {ee / he:.2f}x (bar: <= 1.2x)")
    print(f"best total (prep + {args.epochs} epochs): hand-written {ht:.1f} s, embedkit {et:.1f} s "
          f"-> ratio {et / ht:.2f}x")


if __name__ == "__main__":
    main()
