"""The Keras CBOW model as a class (config round trips, as keras-hub tests its layers) and the `Tables`
interface that the Keras model and the parameter-server tables share."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest


@pytest.fixture(scope="module")
def keras():
    import keras

    return keras


def _shapes(model):
    return sorted((v.path, tuple(v.shape)) for v in model.weights)


def test_config_round_trip(keras):
    from embedkit.train.model import CBOWModel

    model = CBOWModel(vocab_size=12, dim=4, window=3, negative=2, cbow_mean=False, seed=5)
    config = model.get_config()
    assert {k: config[k] for k in ("vocab_size", "dim", "window", "negative", "cbow_mean", "seed")} == {
        "vocab_size": 12, "dim": 4, "window": 3, "negative": 2, "cbow_mean": False, "seed": 5}
    again = CBOWModel.from_config(config)
    assert again.get_config() == config
    assert _shapes(again) == _shapes(model)
    assert np.array_equal(again.get_tables().input, model.get_tables().input)  # the seed makes the start


def test_serialization_round_trip(keras):
    from embedkit.train.model import CBOWModel, build_cbow_model

    model = build_cbow_model(9, 3, 2, 2, seed=2, jit_compile=False)
    data = keras.saving.serialize_keras_object(model)
    assert data["class_name"] == "CBOWModel" and data["module"] == "embedkit.train.model"
    again = keras.saving.deserialize_keras_object(data, custom_objects=CBOWModel.custom_objects())
    assert isinstance(again, CBOWModel)
    assert again.get_config() == model.get_config()
    assert _shapes(again) == _shapes(model)


def test_build_cbow_model_compiles_the_class(keras):
    from embedkit.train.model import CBOWModel, build_cbow_model
    from embedkit.train.update import initial_input_vectors

    model = build_cbow_model(20, 5, 2, 3, seed=4, initial_alpha=0.05, jit_compile=False)
    assert isinstance(model, CBOWModel) and model.compiled
    assert float(model.optimizer.learning_rate) == pytest.approx(0.05)
    np.testing.assert_array_equal(model.get_tables().input, initial_input_vectors(20, 5, 4))


def test_final_tables_copy_the_input_and_snapshot_the_output(keras):
    """At the end of a run the word vectors are a writable copy and the output table a read-only snapshot: a later
    write to the variable does not reach the snapshot (TensorFlow copies a shared buffer before writing)."""
    from embedkit.train.model import CBOWModel

    model = CBOWModel(vocab_size=6, dim=3, window=2, negative=2, seed=1)
    model.output_embeddings.embeddings.assign(np.full((6, 3), 2.0, np.float32))
    t = model.final_tables()
    assert t.input.flags.writeable and not t.output.flags.writeable
    np.testing.assert_array_equal(t.input, model.get_tables().input)
    model.output_embeddings.embeddings.assign(np.zeros((6, 3), np.float32))
    model.input_embeddings.embeddings.assign(np.zeros((7, 3), np.float32))
    assert (t.output == 2.0).all() and t.input.any()


def test_keras_model_and_sharded_tables_share_the_tables_interface(keras):
    import tensorflow as tf

    from embedkit.train.model import CBOWModel
    from embedkit.train.parameter_server import ShardedCBOW
    from embedkit.train.tables import CBOWTables, Tables
    from embedkit.train.update import initial_input_vectors

    V, d = 7, 3
    rng = np.random.default_rng(0)
    w_in = rng.standard_normal((V + 1, d)).astype(np.float32)
    w_out = rng.standard_normal((V, d)).astype(np.float32)
    sharded = ShardedCBOW(tf.Variable(initial_input_vectors(V, d, 1)), tf.Variable(tf.zeros((V, d))),
                          tf.Variable(0, dtype=tf.int64), dim=d, window=1, cbow_mean=True)
    for model in (CBOWModel(V, d, 1, 2), sharded):
        assert isinstance(model, Tables)
        before = model.get_tables()
        assert isinstance(before, CBOWTables) and before.input.shape == (V + 1, d) and before.output.shape == (V, d)
        np.testing.assert_array_equal(before.input, initial_input_vectors(V, d, 1))
        model.set_tables(w_in, w_out, 42)
        after = model.get_tables()
        np.testing.assert_array_equal(after.input, w_in)
        np.testing.assert_array_equal(after.output, w_out)
        assert after.step == 42


def test_numpy_parts_import_no_tensorflow():
    mods = ["embedkit.train", "embedkit.train.update", "embedkit.train.batches", "embedkit.train.tables",
            "embedkit.train.checkpoints", "embedkit.train.monitor", "embedkit.train.config", "embedkit.train.corpus",
            "embedkit.train.cluster", "embedkit.train.strategies", "embedkit.train.parameter_server",
            "embedkit.train.trainer"]
    code = (f"import sys, importlib; [importlib.import_module(m) for m in {mods!r}]; "
            "print(' '.join(x for x in ('tensorflow', 'keras') if x in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""
