"""Tests of `keras_recipes.autoencoder`: the plain (optionally denoising) autoencoder with named halves."""

import math

import helpers  # tests/helpers.py, on `sys.path` through tests/conftest.py
import keras
import layer_testing  # tests/layer_testing.py, likewise
import numpy as np
import pytest
from hypothesis import given
from recipes.autoencoders import strategies  # tests/recipes/autoencoders/strategies.py

from keras_recipes import autoencoder, param_count, vae
from keras_recipes.losses import ReconstructionError

_CONV = {"input_shape": (8, 8, 2), "latent_dim": 3, "architecture": "conv", "filters": (2, 3), "intermediate_dim": 4}
_DENSE = {"input_shape": (6,), "latent_dim": 2, "hidden_units": (5,)}


def _structure(model):
    """(layer name, weight shapes) of every layer of a model."""
    return [(layer.name, [tuple(w.shape) for w in layer.weights]) for layer in model.layers]


def _uniform(count, shape, seed=0):
    return np.random.default_rng(seed).uniform(size=(count, *shape)).astype("float32")


# === Shared halves ===


@pytest.mark.parametrize("config", [_CONV, _DENSE], ids=["conv", "dense"])
def test_halves_are_built_as_vae_builds_them(config):
    """Same arguments give the VAE's decoder layer for layer, and its encoder body; only the heads differ."""
    plain = autoencoder(**config, name="model")
    variational = vae(**config, name="model")
    assert _structure(plain.get_layer("decoder")) == _structure(variational.get_layer("decoder"))
    plain_encoder = _structure(plain.get_layer("encoder"))
    variational_encoder = _structure(variational.get_layer("encoder"))
    assert plain_encoder[:-1] == variational_encoder[:-3]
    assert [name for name, _ in plain_encoder[-1:]] == ["model_code"]
    assert [name for name, _ in variational_encoder[-3:]] == ["model_z_mean", "model_z_log_var", "model_sampling"]


def test_code_written_for_the_vae_decoder_runs_on_the_autoencoder():
    """A function that generates with model.get_layer("decoder") works on both recipes."""

    def generate(model, count):
        decoder = model.get_layer("decoder")
        latent_dim = decoder.input.shape[-1]
        points = np.random.default_rng(0).normal(size=(count, latent_dim))
        return decoder.predict(points, verbose=0)

    for builder in (vae, autoencoder):
        samples = generate(builder(**_CONV), 4)
        assert samples.shape == (4, 8, 8, 2)
        assert ((samples >= 0) & (samples <= 1)).all()


def test_conv_defaults_give_the_keras_io_halves_with_a_single_code_head():
    """On (28, 28, 1) the conv autoencoder's decoder has keras.io's 65,089 parameters, its encoder 69,076 - 34."""
    model = autoencoder((28, 28, 1), 2, architecture="conv")
    assert model.get_layer("decoder").count_params() == 65_089
    assert model.get_layer("encoder").count_params() == 69_076 - 34


# === The model ===


def test_model_is_decoder_of_encoder():
    """predict(x) equals decoder(encoder(x)), and the encoder outputs one code of latent_dim numbers."""
    model = autoencoder(**_CONV, seed=1)
    x = _uniform(5, (8, 8, 2))
    code = model.get_layer("encoder").predict(x, verbose=0)
    assert code.shape == (5, 3)
    expected = model.get_layer("decoder").predict(code, verbose=0)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)


def test_loss_is_the_summed_reconstruction_error_averaged_over_the_batch():
    """evaluate(x, x) is the batch mean of the squared error summed over each sample's features."""
    model = autoencoder(**_DENSE, reconstruction_loss="squared_error", seed=2)
    x = _uniform(8, (6,), seed=1)
    reconstruction = model.predict(x, verbose=0)
    expected = ((x - reconstruction) ** 2).sum(axis=1).mean()
    np.testing.assert_allclose(model.evaluate(x, x, batch_size=8, verbose=0), expected, rtol=1e-5)
    assert isinstance(model.loss, ReconstructionError)


def test_fit_with_the_inputs_as_targets_lowers_the_loss():
    """fit(x, x) trains: a few epochs lower the training loss."""
    model = autoencoder(**_DENSE, reconstruction_loss="squared_error", optimizer=keras.optimizers.Adam(0.01), seed=3)
    x = _uniform(64, (6,), seed=2) ** 3
    history = model.fit(x, x, epochs=6, batch_size=16, verbose=0).history
    assert math.isfinite(history["loss"][-1])
    assert history["loss"][-1] < 0.8 * history["loss"][0]


def test_fit_without_targets_trains_exactly_like_fit_on_the_inputs():
    """fit(x) and fit(x, x) give the same history and weights for two models of one seed, as for vae()."""
    x = _uniform(16, (6,), seed=4)
    without, with_targets = autoencoder(**_DENSE, seed=5), autoencoder(**_DENSE, seed=5)
    history_a = without.fit(x, epochs=2, batch_size=4, shuffle=False, verbose=0).history
    history_b = with_targets.fit(x, x, epochs=2, batch_size=4, shuffle=False, verbose=0).history
    assert history_a == history_b
    for a, b in zip(without.weights, with_targets.weights):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))
    assert without.evaluate(x, verbose=0) == with_targets.evaluate(x, x, verbose=0)


def test_targets_replace_the_inputs_when_given():
    """fit(x, y) reconstructs y: its loss is the error against y, not against x."""
    model = autoencoder(**_DENSE, reconstruction_loss="squared_error", seed=6)
    x, y = _uniform(4, (6,), seed=1), _uniform(4, (6,), seed=2)
    predictions = model.predict(x, verbose=0)
    expected = np.mean(np.sum((y - predictions) ** 2, axis=-1))
    np.testing.assert_allclose(model.evaluate(x, y, batch_size=4, verbose=0), expected, rtol=1e-5)


# === Denoising ===


def test_noise_is_applied_in_training_only():
    """With noise_stddev > 0, training calls differ from inference calls, which equal the clean decoder(encoder(x))."""
    model = autoencoder(**_DENSE, noise_stddev=0.5, seed=4)
    x = _uniform(4, (6,), seed=3)
    clean = keras.ops.convert_to_numpy(model(x, training=False))
    noisy = keras.ops.convert_to_numpy(model(x, training=True))
    halves = model.get_layer("decoder")(model.get_layer("encoder")(x))
    np.testing.assert_allclose(clean, keras.ops.convert_to_numpy(halves), rtol=1e-6)
    assert not np.allclose(noisy, clean)
    assert isinstance(model.get_layer("autoencoder_noise"), keras.layers.GaussianNoise)
    assert model.get_layer("autoencoder_noise").stddev == 0.5


def test_no_noise_layer_without_noise():
    """noise_stddev=0 builds no GaussianNoise layer, so training calls equal inference calls."""
    model = autoencoder(**_DENSE)
    assert not any(isinstance(layer, keras.layers.GaussianNoise) for layer in model.layers)
    x = _uniform(3, (6,))
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(model(x, training=True)),
        keras.ops.convert_to_numpy(model(x, training=False)),
        rtol=1e-6,
    )


def test_same_seed_gives_the_same_weights_and_noise():
    """Two models built with one seed have identical weights and identical training-time noise."""
    model_a = autoencoder(**_DENSE, noise_stddev=0.3, seed=5)
    model_b = autoencoder(**_DENSE, noise_stddev=0.3, seed=5)
    assert all(np.array_equal(a, b) for a, b in zip(model_a.get_weights(), model_b.get_weights()))
    x = _uniform(3, (6,), seed=4)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(model_a(x, training=True)),
        keras.ops.convert_to_numpy(model_b(x, training=True)),
    )
    other = autoencoder(**_DENSE, noise_stddev=0.3, seed=6)
    assert not np.array_equal(model_a.get_weights()[0], other.get_weights()[0])


# === The loss class ===


def test_reconstruction_error_loss_round_trips_its_config():
    """ReconstructionError is registered, and from_config(get_config()) computes the same loss."""
    loss = ReconstructionError("squared_error")
    restored = layer_testing.run_serialization_test(loss, "keras_recipes>ReconstructionError")
    assert restored.reconstruction_loss == "squared_error"
    y_true, y_pred = _uniform(3, (2, 2)), _uniform(3, (2, 2), seed=1)
    assert float(restored(y_true, y_pred)) == float(loss(y_true, y_pred))


def test_saved_model_loads_with_its_loss_and_keeps_training(tmp_path):
    """A saved autoencoder loads with safe_mode=True, compiled with its ReconstructionError, and trains on."""
    model = autoencoder(**_DENSE, reconstruction_loss="squared_error", noise_stddev=0.2, seed=7)
    path = tmp_path / "autoencoder.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.loss.reconstruction_loss == "squared_error"
    assert loaded.get_layer("encoder").output.shape == (None, 2)
    x = _uniform(8, (6,), seed=5)
    assert math.isfinite(loaded.fit(x, x, batch_size=4, verbose=0).history["loss"][-1])
    assert math.isfinite(loaded.fit(x, batch_size=4, verbose=0).history["loss"][-1])


# === param_count ===


@given(strategies.autoencoder_arguments())
def test_param_count_equals_keras_for_every_valid_call(call):
    """param_count.autoencoder equals count_params() of autoencoder(), all trainable, for every valid call."""
    args, kwargs = call
    model = autoencoder(*args, **kwargs)
    expected = param_count.autoencoder(*args, **kwargs)
    assert model.count_params() == expected.total == expected.trainable


# === Bad input ===

_BASE = {"input_shape": (4, 4, 1), "latent_dim": 2, "architecture": "conv", "filters": (2,)}

_VALID = [
    ("input_shape", {"input_shape": 7, "architecture": "dense"}),
    ("latent_dim", {"latent_dim": 1}),
    ("architecture", {"architecture": "dense", "input_shape": (2, 3)}),
    ("hidden_units", {"architecture": "dense", "hidden_units": [3, 2]}),
    ("filters", {"filters": [1, 2]}),
    ("intermediate_dim", {"intermediate_dim": 1}),
    ("reconstruction_loss", {"reconstruction_loss": "squared_error"}),
    ("noise_stddev", {"noise_stddev": 1}),
    ("noise_stddev", {"noise_stddev": 0.25}),
    ("optimizer", {"optimizer": keras.optimizers.RMSprop()}),
    ("steps_per_execution", {"steps_per_execution": 5}),
    ("seed", {"seed": 2**40}),
    ("name", {"name": "ae"}),
]

_INVALID = [
    ("input_shape", {"input_shape": (4, -4, 1)}, ValueError),
    ("input_shape", {"input_shape": None}, TypeError),
    ("input_shape", {"input_shape": (6, 4, 1), "filters": (2, 2)}, ValueError),
    ("input_shape", {"input_shape": (4, 4, 1, 1)}, ValueError),
    ("latent_dim", {"latent_dim": -2}, ValueError),
    ("latent_dim", {"latent_dim": "2"}, TypeError),
    ("architecture", {"architecture": "Dense"}, ValueError),
    ("hidden_units", {"hidden_units": [0]}, ValueError),
    ("filters", {"filters": 2}, TypeError),
    ("intermediate_dim", {"intermediate_dim": -1}, ValueError),
    ("reconstruction_loss", {"reconstruction_loss": "binary"}, ValueError),
    ("noise_stddev", {"noise_stddev": -0.1}, ValueError),
    ("noise_stddev", {"noise_stddev": 1.5}, ValueError),
    ("noise_stddev", {"noise_stddev": math.inf}, ValueError),
    ("noise_stddev", {"noise_stddev": None}, TypeError),
    ("optimizer", {"optimizer": 3}, TypeError),
    ("steps_per_execution", {"steps_per_execution": -1}, ValueError),
    ("seed", {"seed": 1.0}, TypeError),
    ("name", {"name": ""}, ValueError),
]


@pytest.mark.parametrize(("argument", "kwargs"), _VALID, ids=helpers.case_ids(_VALID))
def test_valid_arguments_build(argument, kwargs):
    """Each valid value of each validated argument builds a compiled model."""
    helpers.assert_builds(autoencoder, {**_BASE, **kwargs})


@pytest.mark.parametrize(("argument", "kwargs", "error"), _INVALID, ids=helpers.case_ids(_INVALID))
def test_invalid_arguments_are_refused_before_building(argument, kwargs, error, no_building):
    """Each invalid value raises `error` naming the argument and the value, before any layer is built."""
    helpers.assert_invalid(autoencoder, {**_BASE, **kwargs}, argument, error)


_INVALID_COUNTED = [
    case for case in _INVALID if case[0] not in ("optimizer", "steps_per_execution", "seed", "name")
]


@pytest.mark.parametrize(
    ("argument", "kwargs", "error"), _INVALID_COUNTED, ids=helpers.case_ids(_INVALID_COUNTED)
)
def test_param_count_refuses_what_the_builder_refuses(argument, kwargs, error):
    """param_count.autoencoder raises the same error as autoencoder() for every invalid size or setting."""
    with pytest.raises(error) as raised:
        autoencoder(**{**_BASE, **kwargs})
    with pytest.raises(error) as counted:
        param_count.autoencoder(**{**_BASE, **kwargs})
    assert str(counted.value) == str(raised.value)
