"""Tests of `keras_recipes.batching.PaddedBatches`: batches of one size that train as `fit(x)` does."""

import helpers  # tests/helpers.py, on `sys.path` through tests/conftest.py
import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import keras_recipes
from keras_recipes.batching import PaddedBatches


def _epoch(batches):
    return [batches[index] for index in range(len(batches))]


@settings(max_examples=40, deadline=None)
@given(
    count=st.integers(1, 70),
    batch_size=st.integers(1, 40),
    shuffle=st.booleans(),
    seed=st.integers(0, 2**32),
)
def test_each_epoch_holds_every_sample_once_with_its_full_weight(count, batch_size, shuffle, seed):
    """Every batch has batch_size rows; over an epoch each sample's weights sum to its share, pads weigh 0."""
    x = np.arange(count, dtype="float32").reshape(count, 1)
    batches = PaddedBatches(x, x * 2, batch_size=batch_size, shuffle=shuffle, seed=seed)
    for _ in range(2):
        epoch = _epoch(batches)
        assert len(epoch) == -(-count // batch_size)
        seen = np.zeros(count)
        for inputs, targets, weights in epoch:
            assert inputs.shape == (batch_size, 1) and weights.shape == (batch_size,)
            np.testing.assert_array_equal(targets, inputs * 2)
            real = weights > 0
            # The batch's mean loss over its real rows: weights sum to batch_size.
            assert weights.sum() == pytest.approx(batch_size)
            assert np.all(weights[real] == weights[real][0])
            np.add.at(seen, inputs[real, 0].astype(int), 1)
        np.testing.assert_array_equal(seen, np.ones(count))
        batches.on_epoch_end()


def test_orders_are_seeded_new_each_epoch_and_kept_without_shuffle():
    """The same seed gives the same orders; epochs differ; shuffle=False keeps the samples' order."""
    x = np.arange(50, dtype="float32")[:, None]
    first, again = PaddedBatches(x, seed=3), PaddedBatches(x, seed=3)
    order = np.concatenate([batch[0][:, 0] for batch in _epoch(first)])
    np.testing.assert_array_equal(order, np.concatenate([batch[0][:, 0] for batch in _epoch(again)]))
    first.on_epoch_end()
    assert not np.array_equal(order, np.concatenate([batch[0][:, 0] for batch in _epoch(first)]))
    kept = PaddedBatches(x, batch_size=20, shuffle=False)
    np.testing.assert_array_equal(kept[0][0][:, 0], np.arange(20))
    np.testing.assert_array_equal(kept[2][0][:10, 0], np.arange(40, 50))


def test_indexing_past_the_epoch_raises_index_error():
    """Batches are a sequence of len() items: an index outside it raises IndexError, as a list's would."""
    batches = PaddedBatches(np.zeros((5, 1), "float32"), batch_size=2)
    assert [len(batch[0]) for batch in batches] == [2, 2, 2]
    for index in (3, -1):
        with pytest.raises(IndexError, match="out of range"):
            batches[index]


def test_training_on_it_equals_training_on_the_array():
    """One epoch of fit on PaddedBatches leaves the weights fit(x, y) leaves, short last batch included."""
    x, y = helpers.inputs(45, 6, seed=0), helpers.inputs(45, 2, seed=1)
    models = [keras_recipes.mlp(6, [8, 2], optimizer="sgd", seed=0) for _ in range(2)]
    models[0].fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    # shuffle=False: fit would otherwise shuffle the order of the batches too.
    models[1].fit(PaddedBatches(x, y, batch_size=16, shuffle=False), epochs=1, shuffle=False, verbose=0)
    for trained, padded in zip(models[0].get_weights(), models[1].get_weights()):
        np.testing.assert_allclose(padded, trained, rtol=1e-5, atol=1e-6)
    # And the weights moved: the comparison is not of two untrained models.
    assert not np.allclose(models[0].get_weights()[0], keras_recipes.mlp(6, [8, 2], seed=0).get_weights()[0])


def test_models_that_reconstruct_fit_on_it_without_targets():
    """Without y each batch's inputs are its targets: vae() trains on every backend, autoencoder()'s loss falls."""
    x = (helpers.inputs(40, 6, seed=3) > 0.5).astype("float32")
    batches = PaddedBatches(x, batch_size=16, seed=0)
    np.testing.assert_array_equal(batches[0][1], batches[0][0])
    history = keras_recipes.vae((6,), 2, hidden_units=(8,), seed=0).fit(batches, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    model = keras_recipes.autoencoder((6,), 2, hidden_units=(8,), optimizer=keras.optimizers.Adam(0.01), seed=0)
    losses = model.fit(batches, epochs=20, verbose=0).history["loss"]
    assert losses[-1] < 0.9 * losses[0]


@pytest.mark.parametrize("free_bits", [0.0, 0.5])
def test_a_padded_batch_gives_the_vae_loss_of_the_short_batch(free_bits):
    """vae()'s loss of a padded batch, from the same outputs, equals the short batch's: ELBO and free bits."""
    model = keras_recipes.vae((6,), 3, hidden_units=(5,), free_bits=free_bits, seed=0)
    x = (helpers.inputs(13, 6, seed=2) > 0.5).astype("float32")
    padded_x, _, weights = PaddedBatches(x, batch_size=16, shuffle=False)[0]
    outputs = [keras.ops.convert_to_numpy(tensor) for tensor in model(padded_x)]
    short = model.compute_loss(x, None, [output[:13] for output in outputs])
    padded = model.compute_loss(padded_x, None, outputs, sample_weight=weights)
    assert float(padded) == pytest.approx(float(short), rel=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "argument", "error"),
    [
        ({"x": [[0.0]]}, "x", TypeError),
        ({"x": np.zeros((0, 3))}, "x", ValueError),
        ({"x": np.zeros(())}, "x", ValueError),
        ({"x": np.float32(1.0)}, "x", TypeError),
        ({"y": np.zeros((4, 1))}, "y", ValueError),
        ({"y": [1, 2, 3]}, "y", TypeError),
        ({"batch_size": 0}, "batch_size", ValueError),
        ({"batch_size": 2.0}, "batch_size", TypeError),
        ({"batch_size": True}, "batch_size", TypeError),
        ({"shuffle": "yes"}, "shuffle", TypeError),
        ({"seed": -1}, "seed", ValueError),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_bad_arguments_are_refused_naming_them(kwargs, argument, error):
    """Each bad argument raises `error` naming it, before any batch is made."""
    arguments = {"x": np.zeros((3, 2), "float32"), **kwargs}
    with pytest.raises(error, match=argument):
        PaddedBatches(**arguments)
