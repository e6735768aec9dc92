"""Tests of `keras_recipes.vae`: the variational autoencoder of the lecture's assignment.

Expected values come from the keras.io example's published parameter
counts, from numpy recomputations of the loss out of the model's own
outputs, or from Keras itself. Models are tiny so that every test runs in
well under a second.
"""

import math
import random

import helpers  # tests/helpers.py, on `sys.path` through tests/conftest.py
import keras
import numpy as np
import pytest
from hypothesis import given
from recipes.autoencoders import strategies  # tests/recipes/autoencoders/strategies.py

import keras_recipes
from keras_recipes import param_count, vae
from keras_recipes._recipes.autoencoders.vae import VariationalAutoencoder
from keras_recipes.layers import Sampling

# A small conv configuration and a small dense one, used throughout.
_CONV = {"input_shape": (8, 8, 1), "latent_dim": 2, "architecture": "conv", "filters": (2, 3), "intermediate_dim": 4}
_DENSE = {"input_shape": (6,), "latent_dim": 2, "hidden_units": (5,)}


# === Helpers ===


def _binary_images(count, shape=(8, 8, 1), seed=0):
    """Images whose pixels are exactly 0 or 1."""
    return (np.random.default_rng(seed).uniform(size=(count, *shape)) > 0.5).astype("float32")


def _numpy_loss(x, reconstruction, z_mean, z_log_var, beta=1.0, kind="binary_crossentropy", weight=None):
    """The negative ELBO of `losses.vae_loss`, recomputed in float64 numpy."""
    x, reconstruction = x.astype("float64"), reconstruction.astype("float64")
    if kind == "binary_crossentropy":
        p = np.clip(reconstruction, 1e-7, 1 - 1e-7)
        errors = -(x * np.log(p) + (1 - x) * np.log(1 - p))
    else:
        errors = (x - reconstruction) ** 2
    per_sample = errors.reshape(len(x), -1).sum(axis=1)
    kl = 0.5 * (np.exp(z_log_var) + z_mean**2 - 1 - z_log_var).sum(axis=1)
    total = per_sample + beta * kl
    if weight is not None:
        total = total * weight
    return total.mean(), per_sample, kl


class _Unrecreatable(keras.initializers.Initializer):
    """An initializer whose config does not re-create it (a required argument left out)."""

    def __init__(self, scale=None):
        if scale is None:
            raise TypeError("scale is required")
        self.scale = scale

    def __call__(self, shape, dtype=None):
        return keras.ops.ones(shape, dtype) * self.scale


def _all_layers(model):
    """Every layer of `model`, inside its sub-models too."""
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)
        else:
            yield layer


def _weights_equal(model_a, model_b):
    return all(
        np.array_equal(a, b) for a, b in zip(model_a.get_weights(), model_b.get_weights())
    )


# === The keras.io configuration ===


def test_keras_io_configuration_has_the_published_counts():
    """The keras.io arguments give an encoder of 69,076 and a decoder of 65,089 parameters."""
    model = vae(
        (28, 28, 1),
        latent_dim=2,
        architecture="conv",
        filters=(32, 64),
        intermediate_dim=16,
        reconstruction_loss="binary_crossentropy",
    )
    encoder, decoder = model.get_layer("encoder"), model.get_layer("decoder")
    assert encoder.count_params() == 69_076
    assert decoder.count_params() == 65_089
    assert [layer.count_params() for layer in encoder.layers if layer.weights] == [320, 18_496, 50_192, 34, 34]
    assert [layer.count_params() for layer in decoder.layers if layer.weights] == [9_408, 36_928, 18_464, 289]
    assert param_count.vae((28, 28, 1), 2, architecture="conv").total == 69_076 + 65_089


def test_sampling_state_is_not_counted_as_parameters():
    """The Sampling layer holds a SeedGenerator state variable, which count_params() leaves out."""
    model = vae(**_DENSE)
    sampling = model.get_layer("encoder").get_layer("vae_sampling")
    assert isinstance(sampling, Sampling)
    assert sampling.weights == [] and sampling.count_params() == 0
    assert len(sampling.variables) == 1
    assert model.count_params() == sum(math.prod(w.shape) for w in model.weights)
    assert sampling.variables[0].path not in {w.path for w in model.weights}


# === Structure ===


def test_encoder_and_decoder_are_sub_models_usable_on_their_own():
    """`encoder` maps samples to [z_mean, z_log_var, z]; `decoder` maps latent points to samples in [0, 1]."""
    model = vae(**_CONV, seed=1)
    encoder, decoder = model.get_layer("encoder"), model.get_layer("decoder")
    assert isinstance(encoder, keras.Model) and isinstance(decoder, keras.Model)
    x = _binary_images(5)
    z_mean, z_log_var, z = encoder.predict(x, verbose=0)
    assert z_mean.shape == z_log_var.shape == z.shape == (5, 2)
    generated = decoder.predict(np.random.default_rng(0).normal(size=(7, 2)), verbose=0)
    assert generated.shape == (7, 8, 8, 1)
    assert ((generated >= 0) & (generated <= 1)).all()
    reconstruction, model_z_mean, model_z_log_var = model.predict(x, verbose=0)
    assert reconstruction.shape == x.shape
    np.testing.assert_allclose(model_z_mean, z_mean, rtol=1e-6)
    np.testing.assert_allclose(model_z_log_var, z_log_var, rtol=1e-6)


def test_model_outputs_are_the_decoder_of_the_sampled_z():
    """With sigma ~ 0 (z_log_var = -100) z is z_mean, and the reconstruction is decoder(z_mean)."""
    model = vae(**_DENSE, seed=2)
    log_var_layer = model.get_layer("encoder").get_layer("vae_z_log_var")
    kernel, bias = log_var_layer.get_weights()
    log_var_layer.set_weights([np.zeros_like(kernel), np.full_like(bias, -100.0)])
    x = helpers.inputs(4, 6, seed=3)
    reconstruction, z_mean, _ = model.predict(x, verbose=0)
    expected = model.get_layer("decoder").predict(z_mean, verbose=0)
    np.testing.assert_allclose(reconstruction, expected, rtol=1e-5, atol=1e-6)


def test_dense_architecture_flattens_images_and_reshapes_the_reconstruction():
    """A dense VAE on (4, 4, 2) inputs reads 32 features and returns (4, 4, 2) reconstructions."""
    model = vae((4, 4, 2), 3, hidden_units=(5,))
    assert model.get_layer("encoder").get_layer("vae_encoder_dense_0").kernel.shape == (32, 5)
    assert tuple(model.outputs[0].shape) == (None, 4, 4, 2)
    assert model.count_params() == param_count.vae((4, 4, 2), 3, hidden_units=(5,)).total


def test_an_empty_hidden_units_gives_linear_heads_on_the_input():
    """hidden_units=() builds z_mean and z_log_var straight on the input, and a one-layer decoder."""
    model = vae((6,), 2, hidden_units=())
    encoder = model.get_layer("encoder")
    assert encoder.get_layer("vae_z_mean").kernel.shape == (6, 2)
    assert [layer.name for layer in model.get_layer("decoder").layers if layer.weights] == ["vae_decoder_output"]


@pytest.mark.parametrize(
    ("architecture", "reconstruction_loss", "activation"),
    [("dense", "binary_crossentropy", "sigmoid"), ("conv", "squared_error", "linear"), ("dense", "squared_error", "linear")],
)
def test_output_activation_follows_the_reconstruction_loss(reconstruction_loss, activation, architecture):
    """The decoder outputs probabilities for the binary cross-entropy and real numbers for the squared error."""
    config = _CONV if architecture == "conv" else _DENSE
    model = vae(**config, reconstruction_loss=reconstruction_loss)
    output_layer = model.get_layer("decoder").get_layer("vae_decoder_output")
    assert output_layer.activation.__name__ == activation


def test_inner_layer_names_derive_from_name():
    """Every layer inside the encoder and decoder starts with `name`; the sub-models keep their fixed names."""
    model = vae(**_CONV, name="digits")
    assert model.name == "digits"
    assert [layer.name for layer in model.layers] == ["digits_input", "encoder", "decoder"]
    for part in ("encoder", "decoder"):
        assert all(layer.name.startswith("digits_") for layer in model.get_layer(part).layers)


# === Training and the loss ===


def test_fit_without_targets_logs_the_loss_and_its_two_terms_for_training_and_validation():
    """fit(x) logs loss, reconstruction_loss, kl_loss and val_ versions; loss = reconstruction_loss + beta * kl_loss."""
    beta = 2.5
    model = vae(**_DENSE, beta=beta, seed=4)
    x = np.random.default_rng(1).uniform(size=(21, 6)).astype("float32")
    # 21 samples in batches of 8: the last batch is smaller, which a plain
    # average of the batch losses would weigh wrongly.
    history = model.fit(x, epochs=2, batch_size=8, validation_data=(x[:5],), verbose=0).history
    names = {"loss", "reconstruction_loss", "kl_loss"}
    assert set(history) == names | {f"val_{name}" for name in names}
    assert all(math.isfinite(value) for values in history.values() for value in values)
    for prefix in ("", "val_"):
        expected = np.add(history[f"{prefix}reconstruction_loss"], beta * np.array(history[f"{prefix}kl_loss"]))
        np.testing.assert_allclose(history[f"{prefix}loss"], expected, rtol=1e-5)


def test_fit_with_the_inputs_as_targets_trains_exactly_like_fit_without():
    """fit(x, x) and fit(x) give the same history and weights for two models of one seed."""
    x = np.random.default_rng(2).uniform(size=(16, 6)).astype("float32")
    without, with_targets = vae(**_DENSE, seed=5), vae(**_DENSE, seed=5)
    history_a = without.fit(x, epochs=1, batch_size=4, shuffle=False, verbose=0).history
    history_b = with_targets.fit(x, x, epochs=1, batch_size=4, shuffle=False, verbose=0).history
    assert history_a == history_b
    assert _weights_equal(without, with_targets)


@pytest.mark.parametrize(
    ("config", "reconstruction_loss", "beta"),
    [(_CONV, "binary_crossentropy", 1.0), (_DENSE, "squared_error", 0.5), (_DENSE, "binary_crossentropy", 0.0)],
)
def test_compute_loss_is_the_negative_elbo_of_the_outputs(config, reconstruction_loss, beta):
    """compute_loss equals mean(summed reconstruction error + beta * summed KL), recomputed in numpy."""
    model = vae(**config, reconstruction_loss=reconstruction_loss, beta=beta, seed=6)
    helpers.randomize(model.get_layer("encoder"), seed=1)
    x = np.random.default_rng(3).uniform(size=(5, *config["input_shape"])).astype("float32")
    y_pred = model(x)
    actual = float(model.compute_loss(x=x, y_pred=y_pred))
    reconstruction, z_mean, z_log_var = (keras.ops.convert_to_numpy(t).astype("float64") for t in y_pred)
    expected, _, _ = _numpy_loss(x, reconstruction, z_mean, z_log_var, beta, reconstruction_loss)
    np.testing.assert_allclose(actual, expected, rtol=1e-5)


def test_targets_replace_the_inputs_in_the_reconstruction_term():
    """With y given, compute_loss reconstructs y, not x (fit(noisy, clean) trains a denoising VAE)."""
    model = vae(**_DENSE, reconstruction_loss="squared_error", seed=7)
    rng = np.random.default_rng(4)
    x, y = rng.uniform(size=(4, 6)).astype("float32"), rng.uniform(size=(4, 6)).astype("float32")
    y_pred = model(x)
    arrays = [keras.ops.convert_to_numpy(t) for t in y_pred]
    expected, _, _ = _numpy_loss(y, arrays[0], arrays[1], arrays[2], kind="squared_error")
    np.testing.assert_allclose(float(model.compute_loss(x=x, y=y, y_pred=y_pred)), expected, rtol=1e-5)


def test_sample_weights_weigh_each_samples_loss():
    """With sample_weight w the loss is mean(w * (reconstruction + beta * kl)): zero weights drop samples."""
    model = vae(**_DENSE, beta=2.0, seed=8)
    x = np.random.default_rng(5).uniform(size=(4, 6)).astype("float32")
    weight = np.array([1.0, 0.0, 2.0, 0.0], dtype="float32")
    y_pred = model(x)
    arrays = [keras.ops.convert_to_numpy(t) for t in y_pred]
    expected, _, _ = _numpy_loss(x, *arrays, beta=2.0, weight=weight)
    actual = float(model.compute_loss(x=x, y_pred=y_pred, sample_weight=weight))
    np.testing.assert_allclose(actual, expected, rtol=1e-5)


@pytest.mark.parametrize("log_variance", [-100.0, 100.0])
def test_training_stays_finite_for_extreme_log_variances_and_binary_inputs(log_variance):
    """With z_log_var forced to -100 or 100 and inputs exactly 0 or 1, the loss and the updated weights stay finite."""
    model = vae(**_DENSE, seed=9, steps_per_execution=1)
    layer = model.get_layer("encoder").get_layer("vae_z_log_var")
    kernel, bias = layer.get_weights()
    layer.set_weights([np.zeros_like(kernel), np.full_like(bias, log_variance)])
    x = _binary_images(4, shape=(6,), seed=1)
    x[0] = 0.0
    x[1] = 1.0
    loss = model.train_on_batch(x, return_dict=True)["loss"]
    assert math.isfinite(loss)
    assert all(np.isfinite(weight).all() for weight in model.get_weights())


def test_training_lowers_the_loss():
    """A few epochs on a small dataset lower the training loss: the loss's gradients train the model."""
    model = vae(**_DENSE, reconstruction_loss="squared_error", optimizer=keras.optimizers.Adam(0.01), seed=10)
    x = np.random.default_rng(6).uniform(size=(64, 6)).astype("float32") ** 3
    history = model.fit(x, epochs=6, batch_size=16, verbose=0).history
    assert history["loss"][-1] < 0.8 * history["loss"][0]


# === Seeds ===


def test_same_seed_gives_the_same_weights_and_the_same_samples():
    """Two models built with one seed have identical weights and their encoders draw identical z."""
    model_a, model_b = vae(**_CONV, seed=11), vae(**_CONV, seed=11)
    assert _weights_equal(model_a, model_b)
    x = _binary_images(3)
    z_a = model_a.get_layer("encoder").predict(x, verbose=0)[2]
    z_b = model_b.get_layer("encoder").predict(x, verbose=0)[2]
    np.testing.assert_array_equal(z_a, z_b)


def test_different_or_no_seeds_give_different_models():
    """Different seeds, or none, give different weights; with equal weights, different seeds draw different z."""
    models = [vae(**_DENSE, seed=12), vae(**_DENSE, seed=13), vae(**_DENSE), vae(**_DENSE)]
    for index, model_a in enumerate(models):
        for model_b in models[index + 1 :]:
            assert not _weights_equal(model_a, model_b)
    model, twin = models[0], models[1]
    twin.set_weights(model.get_weights())
    x = helpers.inputs(3, 6, seed=0)
    z_a = model.get_layer("encoder").predict(x, verbose=0)[2]
    z_b = twin.get_layer("encoder").predict(x, verbose=0)[2]
    assert not np.array_equal(z_a, z_b)


# === Kernel initializer ===


def _kernels(model):
    return [weight for weight in model.weights if weight.path.endswith("/kernel")]


def test_kernel_initializer_sets_every_kernel_and_the_default_is_glorot():
    """Every kernel follows `kernel_initializer`; the default builds as before, with Glorot uniform."""
    for config in (_CONV, _DENSE):
        default, glorot = vae(**config, seed=3), vae(**config, seed=3, kernel_initializer="glorot_uniform")
        assert _weights_equal(default, glorot)
        he = vae(**config, seed=3, kernel_initializer="he_uniform")
        layers = [layer for layer in _all_layers(he) if hasattr(layer, "kernel")]
        assert len(layers) == len(_kernels(he)) >= 4
        for layer in layers:
            assert isinstance(layer.kernel_initializer, keras.initializers.HeUniform), layer.name
    # The values: He uniform draws from U(-b, b) with b = sqrt(6 / fan_in),
    # whose standard deviation b / sqrt(3) is at least 1.2 times Glorot's on
    # each of these kernels (512 to 2,048 values: the sample's is within 2%).
    model = vae((64,), 16, hidden_units=(32,), seed=4, kernel_initializer="he_uniform")
    for kernel in _kernels(model):
        values = keras.ops.convert_to_numpy(kernel)
        bound = math.sqrt(6 / values.shape[0])
        assert np.abs(values).max() <= bound, kernel.path
        assert values.std() == pytest.approx(bound / math.sqrt(3), rel=0.1), kernel.path


def test_seeded_kernel_initializers_are_reproducible_and_differ_per_layer():
    """With a seed, a name or an instance gives the same weights twice, and no two same-shaped kernels are equal."""
    config = {"input_shape": (6,), "latent_dim": 6, "hidden_units": (6, 6)}
    by_name = vae(**config, seed=5, kernel_initializer="lecun_normal")
    by_instance = vae(**config, seed=5, kernel_initializer=keras.initializers.LecunNormal(seed=99))
    assert _weights_equal(by_name, by_instance)
    # Unseeded model, seeded instance: each layer derives its own stream from the instance's seed.
    unseeded = [vae(**config, kernel_initializer=keras.initializers.HeNormal(seed=7)) for _ in range(2)]
    assert _weights_equal(*unseeded)
    kernels = [keras.ops.convert_to_numpy(kernel) for kernel in _kernels(unseeded[0])]
    square = [kernel for kernel in kernels if kernel.shape == (6, 6)]
    assert len(square) >= 4
    for index, kernel in enumerate(square):
        for other in square[index + 1 :]:
            assert not np.array_equal(kernel, other)


def test_checking_a_kernel_initializer_leaves_python_random_alone():
    """Keras seeds an unseeded initializer from Python's random: the check must not draw from it."""
    from keras_recipes import _building

    for value in ("glorot_uniform", "he_normal", keras.initializers.HeUniform()):
        random.seed(0)
        _building.initializer("kernel_initializer", value)
        assert random.random() == random.Random(0).random(), value


def test_a_seeded_build_leaves_python_random_alone():
    """Built with a seed, with the default or another initializer name, vae() draws nothing from Python's random."""
    for kwargs in (
        {},
        {"kernel_initializer": "he_uniform"},
        {"kernel_initializer": "fan_in_uniform", "bias_initializer": "fan_in_uniform"},
    ):
        random.seed(0)
        vae(**_DENSE, seed=2, **kwargs)
        assert random.random() == random.Random(0).random(), kwargs


def _expected_fan_ins(model):
    """PyTorch's fan-in of each weighted layer, from the layer's kind and its input and output widths."""
    fan_ins = {}
    for layer in _all_layers(model):
        if isinstance(layer, keras.layers.Conv2DTranspose):
            fan_ins[layer.name] = 9 * layer.filters
        elif isinstance(layer, keras.layers.Conv2D):
            fan_ins[layer.name] = 9 * layer.input.shape[-1]
        elif isinstance(layer, keras.layers.Dense):
            fan_ins[layer.name] = layer.input.shape[-1]
    return fan_ins


@pytest.mark.parametrize("config", [_CONV, {"input_shape": (64,), "latent_dim": 8, "hidden_units": (128, 96)}], ids=["conv", "dense"])
def test_fan_in_uniform_initialises_as_pytorch_does(config):
    """Every kernel and bias lies within 1/sqrt(fan_in) of its layer, as PyTorch's Linear and Conv layers start."""
    model = vae(**config, seed=6, kernel_initializer="fan_in_uniform", bias_initializer="fan_in_uniform")
    fan_ins = _expected_fan_ins(model)
    assert len(fan_ins) >= 5
    for layer in _all_layers(model):
        if layer.name not in fan_ins:
            continue
        bound = 1 / math.sqrt(fan_ins[layer.name])
        assert layer.bias_initializer.fan_in == fan_ins[layer.name], layer.name
        for weight in (layer.kernel, layer.bias):
            values = keras.ops.convert_to_numpy(weight)
            assert np.abs(values).max() <= bound, weight.path
            if values.size >= 96:
                # A uniform sample of 96 or more: its spread within 25% of b / sqrt(3).
                assert values.std() == pytest.approx(bound / math.sqrt(3), rel=0.25), weight.path


def test_the_default_biases_are_zeros_and_fan_in_biases_are_seeded_per_layer():
    """Zeros by default (the model as before); fan_in_uniform biases repeat with the seed and differ between layers."""
    config = {"input_shape": (6,), "latent_dim": 6, "hidden_units": (6, 6)}
    assert _weights_equal(vae(**config, seed=2), vae(**config, seed=2, bias_initializer="zeros"))
    biases = [weight for weight in vae(**config, seed=2).weights if weight.path.endswith("/bias")]
    assert biases and all(not keras.ops.convert_to_numpy(bias).any() for bias in biases)
    seeded = [vae(**config, seed=2, bias_initializer="fan_in_uniform") for _ in range(2)]
    assert _weights_equal(*seeded)
    values = [
        keras.ops.convert_to_numpy(weight)
        for weight in seeded[0].weights
        if weight.path.endswith("/bias") and tuple(weight.shape) == (6,)
    ]
    assert len(values) >= 4
    for index, bias in enumerate(values):
        assert bias.any()
        for other in values[index + 1 :]:
            assert not np.array_equal(bias, other)
    # The kernels are the seeded default's: the biases draw from their own streams.
    default_kernels = [keras.ops.convert_to_numpy(kernel) for kernel in _kernels(vae(**config, seed=2))]
    for kernel, default in zip(_kernels(seeded[0]), default_kernels):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(kernel), default)


def test_a_kernel_initializer_saves_and_loads_safely(tmp_path):
    """A model built with another initializer round-trips through .keras under safe_mode with its initializer."""
    model = vae(**_DENSE, seed=1, kernel_initializer="he_uniform", bias_initializer="fan_in_uniform")
    path = tmp_path / "he.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert _weights_equal(loaded, model)
    dense = loaded.get_layer("encoder").layers[1]
    assert isinstance(dense.kernel_initializer, keras.initializers.HeUniform)
    assert isinstance(dense.bias_initializer, keras_recipes.initializers.FanInUniform)
    assert dense.bias_initializer.fan_in == _DENSE["input_shape"][0]


@pytest.fixture
def global_policy():
    """Set Keras's global dtype policy for one test, and restore it after."""
    previous = keras.config.dtype_policy()
    yield keras.mixed_precision.set_global_policy
    keras.mixed_precision.set_global_policy(previous)


@pytest.mark.parametrize("config", [_CONV, _DENSE])
def test_mixed_bfloat16_runs_hidden_layers_in_bfloat16_and_the_loss_in_float32(config, global_policy):
    """Under mixed_bfloat16 the hidden layers compute in bfloat16, the outputs and the loss are float32 and exact."""
    global_policy("mixed_bfloat16")
    model = vae(**config, seed=8)
    hidden = [layer for layer in model.get_layer("encoder").layers if layer.weights][0]
    assert hidden.compute_dtype == "bfloat16"
    x = np.random.default_rng(8).uniform(size=(5, *config["input_shape"])).astype("float32")
    y_pred = model(x)
    assert [keras.backend.standardize_dtype(t.dtype) for t in y_pred] == ["float32"] * 3
    loss = model.compute_loss(x=x, y_pred=y_pred)
    assert keras.backend.standardize_dtype(loss.dtype) == "float32"
    arrays = [keras.ops.convert_to_numpy(t) for t in y_pred]
    expected, _, _ = _numpy_loss(x, *arrays)
    np.testing.assert_allclose(float(loss), expected, rtol=1e-5)
    history = model.fit(x, epochs=1, batch_size=5, verbose=0).history
    assert math.isfinite(history["loss"][0])


@pytest.mark.backend(
    "tensorflow", "torch", reason="JAX computes float64 in float32 without jax_enable_x64"
)
def test_a_float64_policy_is_kept_everywhere(global_policy):
    """Under a float64 global policy every layer, the outputs and the loss stay float64."""
    global_policy("float64")
    model = vae(**_DENSE, seed=9)
    layers = model.get_layer("encoder").layers + model.get_layer("decoder").layers
    assert {layer.compute_dtype for layer in layers} == {"float64"}
    x = np.random.default_rng(9).uniform(size=(3, 6))
    y_pred = model(x)
    assert keras.backend.standardize_dtype(model.compute_loss(x=x, y_pred=y_pred).dtype) == "float64"


def test_mixed_bfloat16_model_loads_back_with_its_float32_heads(tmp_path, global_policy):
    """A model built under mixed_bfloat16 reloads (safe_mode) with the same per-layer policies, under a float32 global policy."""
    global_policy("mixed_bfloat16")
    model = vae(**_CONV, seed=10)
    model.save(tmp_path / "vae.keras")
    global_policy("float32")
    loaded = keras.saving.load_model(tmp_path / "vae.keras")
    for part in ("encoder", "decoder"):
        # layers[0] is the InputLayer, whose policy Keras does not save.
        policies = [layer.dtype_policy.name for layer in loaded.get_layer(part).layers[1:]]
        assert policies == [layer.dtype_policy.name for layer in model.get_layer(part).layers[1:]]
    assert loaded.get_layer("decoder").layers[-1].compute_dtype == "float32"
    assert loaded.get_layer("decoder").layers[1].compute_dtype == "bfloat16"


# === Saving ===


def test_saved_model_loads_safely_and_keeps_training_identically(tmp_path):
    """After a save and a safe_mode load the sub-models are reachable, the loss settings kept, and the next epoch is the original's."""
    # Unseeded: the sampling stream starts at a random seed, which only the
    # saved stream position (not the config) can restore.
    model = vae(**_DENSE, reconstruction_loss="squared_error", beta=0.5)
    x = np.random.default_rng(7).uniform(size=(12, 6)).astype("float32")
    model.fit(x, epochs=1, batch_size=4, verbose=0)
    path = tmp_path / "vae.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, VariationalAutoencoder)
    assert (loaded.reconstruction_loss, loaded.beta) == ("squared_error", 0.5)
    assert loaded.get_layer("encoder").count_params() == model.get_layer("encoder").count_params()
    assert loaded.get_layer("decoder").count_params() == model.get_layer("decoder").count_params()
    history = model.fit(x, epochs=1, batch_size=4, shuffle=False, verbose=0).history
    loaded_history = loaded.fit(x, epochs=1, batch_size=4, shuffle=False, verbose=0).history
    assert loaded_history == history
    assert _weights_equal(loaded, model)


def test_model_class_is_registered():
    """The model class is registered as "keras_recipes>VariationalAutoencoder"."""
    assert (
        keras.saving.get_registered_object("keras_recipes>VariationalAutoencoder")
        is VariationalAutoencoder
    )


# === Compilation ===


@pytest.mark.backend("tensorflow", "jax", reason="PyTorch's trainer runs one batch per call")
def test_steps_per_execution_defaults_to_32_and_is_passed_to_compile():
    """The model runs 32 batches per execution by default, and the argument sets it."""
    assert vae(**_DENSE).steps_per_execution == 32
    assert vae(**_DENSE, steps_per_execution=1).steps_per_execution == 1


@pytest.mark.backend("torch", reason="only PyTorch's trainer refuses steps_per_execution > 1")
def test_steps_per_execution_is_1_on_torch_whatever_is_asked():
    """On PyTorch the model is compiled with 1 batch per execution, and fits."""
    model = vae(**_DENSE, steps_per_execution=32)
    assert model.steps_per_execution == 1
    model.fit(np.zeros((4, 6), "float32"), epochs=1, batch_size=2, verbose=0)


def test_a_file_saved_with_32_steps_per_execution_loads_and_predicts(tmp_path):
    """A file compiled with 32 steps per execution loads with what this backend runs, and predicts."""
    model = vae(**_DENSE, seed=2)
    # As a file saved on TensorFlow or JAX holds it, whatever this backend is.
    model.compile(optimizer="adam", steps_per_execution=32)
    model.optimizer.build(model.trainable_variables)
    model.save(tmp_path / "vae.keras")
    loaded = keras.saving.load_model(tmp_path / "vae.keras")
    expected = 1 if keras.backend.backend() == "torch" else 32
    assert loaded.steps_per_execution == expected
    assert loaded.predict(np.zeros((3, 6), "float32"), verbose=0)[1].shape == (3, 2)


def test_optimizer_instance_is_used_and_built():
    """An optimizer instance passed in is the model's, with its slots built."""
    optimizer = keras.optimizers.SGD(learning_rate=0.1)
    model = vae(**_DENSE, optimizer=optimizer)
    assert model.optimizer is optimizer and optimizer.built


# === param_count ===


@given(strategies.vae_arguments())
def test_param_count_equals_keras_for_every_valid_call(call):
    """param_count.vae equals count_params() of vae(), all trainable, for every valid call."""
    args, kwargs = call
    model = vae(*args, **kwargs)
    expected = param_count.vae(*args, **kwargs)
    assert model.count_params() == expected.total == expected.trainable


# === Bad input ===

_BASE = {"input_shape": (8, 8, 1), "latent_dim": 2, "architecture": "conv", "filters": (2,)}

_VALID = [
    ("input_shape", {"input_shape": 5, "architecture": "dense"}),
    ("input_shape", {"input_shape": (12, 4, 3)}),
    ("latent_dim", {"latent_dim": 1}),
    ("architecture", {"input_shape": (3, 2), "architecture": "dense"}),
    ("hidden_units", {"architecture": "dense", "hidden_units": []}),
    ("filters", {"filters": [1, 1, 1]}),
    ("intermediate_dim", {"intermediate_dim": 1}),
    ("reconstruction_loss", {"reconstruction_loss": "squared_error"}),
    ("beta", {"beta": 0}),
    ("beta", {"beta": 250.0}),
    ("kernel_initializer", {"kernel_initializer": "he_normal"}),
    ("kernel_initializer", {"kernel_initializer": keras.initializers.Orthogonal()}),
    ("kernel_initializer", {"kernel_initializer": "fan_in_uniform"}),
    ("bias_initializer", {"bias_initializer": "fan_in_uniform"}),
    ("bias_initializer", {"bias_initializer": keras.initializers.RandomNormal(stddev=0.01)}),
    ("optimizer", {"optimizer": "sgd"}),
    ("steps_per_execution", {"steps_per_execution": 1}),
    ("seed", {"seed": 0}),
    ("name", {"name": "my_vae"}),
]

_INVALID = [
    ("input_shape", {"input_shape": ()}, ValueError),
    ("input_shape", {"input_shape": (8, 0, 1)}, ValueError),
    ("input_shape", {"input_shape": "28x28"}, TypeError),
    ("input_shape", {"input_shape": (8.0, 8, 1)}, TypeError),
    ("input_shape", {"input_shape": (8, 8)}, ValueError),
    ("input_shape", {"input_shape": (10, 8, 1), "filters": (2, 2)}, ValueError),
    ("input_shape", {"input_shape": (8, 6, 1), "filters": (2, 2)}, ValueError),
    ("latent_dim", {"latent_dim": 0}, ValueError),
    ("latent_dim", {"latent_dim": 2.0}, TypeError),
    ("architecture", {"architecture": "cnn"}, ValueError),
    ("architecture", {"architecture": None}, TypeError),
    ("hidden_units", {"hidden_units": [4, 0]}, ValueError),
    ("hidden_units", {"hidden_units": 4}, TypeError),
    ("filters", {"filters": []}, ValueError),
    ("filters", {"filters": [2, -1]}, ValueError),
    ("intermediate_dim", {"intermediate_dim": 0}, ValueError),
    ("intermediate_dim", {"intermediate_dim": None}, TypeError),
    ("reconstruction_loss", {"reconstruction_loss": "mse"}, ValueError),
    ("reconstruction_loss", {"reconstruction_loss": keras.losses.MeanSquaredError()}, TypeError),
    ("beta", {"beta": -0.1}, ValueError),
    ("beta", {"beta": math.nan}, ValueError),
    ("beta", {"beta": "1"}, TypeError),
    ("kernel_initializer", {"kernel_initializer": "kaiming_uniform"}, ValueError),
    ("kernel_initializer", {"kernel_initializer": keras.initializers.HeUniform}, TypeError),
    ("kernel_initializer", {"kernel_initializer": _Unrecreatable(2.0)}, ValueError),
    ("bias_initializer", {"bias_initializer": "fan_in"}, ValueError),
    ("bias_initializer", {"bias_initializer": None}, TypeError),
    ("optimizer", {"optimizer": "adamm"}, ValueError),
    ("steps_per_execution", {"steps_per_execution": 0}, ValueError),
    ("steps_per_execution", {"steps_per_execution": 1.5}, TypeError),
    ("seed", {"seed": -1}, ValueError),
    ("seed", {"seed": "1"}, TypeError),
    ("name", {"name": "a/b"}, ValueError),
    ("name", {"name": 3}, TypeError),
]


@pytest.mark.parametrize(("argument", "kwargs"), _VALID, ids=helpers.case_ids(_VALID))
def test_valid_arguments_build(argument, kwargs):
    """Each valid value of each validated argument builds a compiled model."""
    helpers.assert_builds(vae, {**_BASE, **kwargs})


@pytest.mark.parametrize(("argument", "kwargs", "error"), _INVALID, ids=helpers.case_ids(_INVALID))
def test_invalid_arguments_are_refused_before_building(argument, kwargs, error, no_building):
    """Each invalid value raises `error` naming the argument and the value, before any layer is built."""
    helpers.assert_invalid(vae, {**_BASE, **kwargs}, argument, error)


# param_count checks the arguments that change the count, and the loss
# settings; it accepts the others as they come.
_INVALID_COUNTED = [
    case
    for case in _INVALID
    if case[0]
    not in ("kernel_initializer", "bias_initializer", "optimizer", "steps_per_execution", "seed", "name")
]


@pytest.mark.parametrize(
    ("argument", "kwargs", "error"), _INVALID_COUNTED, ids=helpers.case_ids(_INVALID_COUNTED)
)
def test_param_count_refuses_what_the_builder_refuses(argument, kwargs, error):
    """param_count.vae raises the same error as vae() for every invalid size or loss setting."""
    with pytest.raises(error) as raised:
        vae(**{**_BASE, **kwargs})
    with pytest.raises(error) as counted:
        param_count.vae(**{**_BASE, **kwargs})
    assert str(counted.value) == str(raised.value)


def test_indivisible_image_size_names_the_divisor_and_the_fix():
    """A 10x8 image with two stride-2 convolutions is refused: the message says divisible by 4 and how to fix it."""
    with pytest.raises(ValueError, match=r"divisible by 4 for filters=\[2, 2\].*Received: input_shape=\(10, 8, 1\).*fewer filters"):
        vae((10, 8, 1), architecture="conv", filters=(2, 2))


def test_control_no_building_catches_a_build(no_building):
    """Control: with valid arguments the fixture does stop the build, so the tests above can fail."""
    with pytest.raises(no_building):
        vae(**_BASE)


def test_package_exports_vae_lazily():
    """keras_recipes.vae is the builder function of keras_recipes._recipes.autoencoders.vae."""
    from keras_recipes._recipes.autoencoders import vae as _vae

    assert keras_recipes.vae is _vae.vae


def test_compute_loss_of_no_rows_is_zero_not_nan():
    """A batch of no rows (a replica's share of a short last batch) has loss 0 and leaves the
    loss trackers finite, where a plain mean would give NaN."""
    model = vae(**_DENSE, seed=0)
    x = np.zeros((0, 6), dtype="float32")
    y_pred = model(x)
    assert float(model.compute_loss(x=x, y_pred=y_pred)) == 0.0
    assert math.isfinite(float(model.reconstruction_loss_tracker.result()))
    assert math.isfinite(float(model.kl_loss_tracker.result()))
