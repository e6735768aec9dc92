"""Tests of `keras_recipes.split_brain_ae`: the paper's method, its targets and its features.

The full AlexNet at 180x180 is built once for the module; every other test
uses the small architecture at a fraction of its width.
"""

import math

import helpers  # tests/helpers.py, on `sys.path` through tests/conftest.py
import keras
import numpy as np
import pytest

from keras_recipes._recipes.split_brain import spec as _split_brain_spec
from keras_recipes import (
    color,
    data,
    param_count,
    split_brain_ae,
    split_brain_features,
    split_brain_targets,
)
from keras_recipes.layers import SplitBrainAutoencoder

SMALL = {"architecture": "small", "width_multiplier": 0.25, "seed": 0}


@pytest.fixture(scope="module")
def alexnet():
    """The paper's network: split_brain_ae((180, 180, 3)), built once."""
    return split_brain_ae((180, 180, 3))


@pytest.fixture(scope="module")
def small():
    """A small split-brain autoencoder on 32x32 Lab images (towers 24/64/96/96/64/256/256)."""
    return split_brain_ae((32, 32, 3), **SMALL)


def _lab_shapes(n, size=32, seed=0):
    """`n` coloured-shape images in Lab."""
    rgb, _ = data.colored_shapes(n, size=size, seed=seed)
    return keras.ops.convert_to_numpy(color.rgb_to_lab(rgb))


def _predict(model, inputs):
    """The model's outputs in inference mode, as numpy, by an eager call.

    Cheaper than `predict`, which traces a new function for every model.
    """
    outputs = model(inputs, training=False)
    if isinstance(outputs, (list, tuple)):
        return [keras.ops.convert_to_numpy(output) for output in outputs]
    return keras.ops.convert_to_numpy(outputs)


def _tower_layers(model, tower):
    """The layers of tower `tower` (1 or 2), its head included."""
    head = "x2_from_x1" if tower == 1 else "x1_from_x2"
    return [
        layer
        for layer in model.layers
        if layer.name.startswith(f"{model.name}_tower_{tower}_")
        or layer.name == f"{model.name}_{head}"
    ]


def _kernels(model):
    """Total kernel size of the towers' convolutions (conv1-5, fc6, fc7), heads aside."""
    return sum(
        math.prod(layer.kernel.shape)
        for layer in model.layers
        if isinstance(layer, keras.layers.Conv2D) and "_tower_" in layer.name
    )


# === The paper's architecture ===


def test_alexnet_at_180_gives_12x12_heads_with_the_papers_resolutions_and_widths(alexnet):
    """180x180 gives conv1 45, pool1 23, pool2 12, 12x12 heads; tower widths 48/128/192/192/128/2048/2048."""
    assert [tuple(output.shape) for output in alexnet.outputs] == [
        (None, 12, 12, 261),
        (None, 12, 12, 50),
    ]
    expected = {
        "conv1": (45, 48),
        "pool1": (23, 48),
        "conv2": (23, 128),
        "pool2": (12, 128),
        "conv3": (12, 192),
        "conv4": (12, 192),
        "conv5": (12, 128),
        "pool5": (12, 128),
        "fc6": (12, 2048),
        "fc7": (12, 2048),
    }
    for tower in (1, 2):
        for layer, (side, width) in expected.items():
            shape = alexnet.get_layer(f"split_brain_ae_tower_{tower}_{layer}").output.shape
            assert tuple(shape) == (None, side, side, width), (tower, layer)
    fc6 = alexnet.get_layer("split_brain_ae_tower_1_fc6")
    assert fc6.kernel_size == (6, 6) and fc6.dilation_rate == (2, 2)
    assert alexnet.count_params() == param_count.split_brain_ae((180, 180, 3)).total
    predictions = _predict(alexnet, np.zeros((1, 180, 180, 3), "float32"))
    assert [p.shape for p in predictions] == [(1, 12, 12, 261), (1, 12, 12, 50)]


def test_alexnet_towers_hold_half_the_unsplit_networks_kernels(alexnet):
    """Conv and fc kernels of both towers total exactly half those of the unsplit 96/256/384/384/256/4096/4096 AlexNet."""
    unsplit, channels = 0, 3
    for _, kernel, _, _, filters in _split_brain_spec.unsplit_layers("alexnet"):
        if filters is not None:
            unsplit += param_count.conv(channels, filters, kernel, use_bias=False).total
            channels = filters
    assert 2 * _kernels(alexnet) == unsplit


def test_small_towers_hold_half_an_unsplit_keras_networks_kernels():
    """At width_multiplier=1 the small towers' kernels are half those of the same network built unsplit in Keras."""
    model = split_brain_ae((32, 32, 3), architecture="small")
    inputs = keras.Input((32, 32, 3))
    tensor = inputs
    for _, kernel, stride, dilation, filters in _split_brain_spec.unsplit_layers("small"):
        if filters is None:
            tensor = keras.layers.MaxPooling2D(kernel, stride, padding="same")(tensor)
        else:
            tensor = keras.layers.Conv2D(
                filters, kernel, dilation_rate=dilation, padding="same", use_bias=False
            )(tensor)
    unsplit = keras.Model(inputs, tensor)
    assert 2 * _kernels(model) == unsplit.count_params()


@pytest.mark.parametrize(("side", "head"), [(32, 8), (64, 16), (30, 8)])
def test_small_heads_are_a_quarter_of_the_input(side, head):
    """The small variant has total stride 4: 32 -> 8x8, 64 -> 16x16, 30 -> 8x8 (rounded up)."""
    model = split_brain_ae((side, side, 3), architecture="small", width_multiplier=0.0625)
    assert [tuple(o.shape) for o in model.outputs] == [
        (None, head, head, 261),
        (None, head, head, 50),
    ]
    assert _split_brain_spec.head_size(side, "small") == head


# === Disjoint towers ===


@pytest.mark.parametrize(
    ("changed", "tower", "other_output"),
    [((1, 2), 1, 1), ((0,), 2, 0)],
    ids=["ab-changed", "L-changed"],
)
def test_changing_one_group_leaves_the_other_tower_bit_identical(small, changed, tower, other_output):
    """Changing only ab leaves tower 1 (L -> ab) bit-identical, and changing only L leaves tower 2."""
    probe = keras.Model(
        small.inputs[0],
        [layer.output for layer in _tower_layers(small, tower) if layer.weights]
        + [small.outputs[1 - other_output]],
    )
    lab = _lab_shapes(4)
    perturbed = lab.copy()
    perturbed[..., list(changed)] += helpers.inputs(4, 32, 32, len(changed), seed=2) * 20
    for before, after in zip(_predict(probe, lab), _predict(probe, perturbed)):
        np.testing.assert_array_equal(after, before)
    # The tower that reads the changed channels does see the change.
    changed_output = _predict(small, lab)[other_output]
    assert not np.array_equal(_predict(small, perturbed)[other_output], changed_output)


def test_no_variable_belongs_to_both_towers(small):
    """Every variable belongs to exactly one tower (head included); none is shared."""
    towers = [
        {id(variable) for layer in _tower_layers(small, tower) for variable in layer.weights}
        for tower in (1, 2)
    ]
    assert towers[0] and towers[1]
    assert not towers[0] & towers[1]
    assert towers[0] | towers[1] == {id(variable) for variable in small.weights}


def test_each_directions_loss_has_zero_gradient_on_the_other_tower(small):
    """d loss(x2 from x1) / d tower-2 variables is zero, and the other way round; the own tower's is not."""
    lab = _lab_shapes(4)
    targets = split_brain_targets(lab, small)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    for direction in (0, 1):
        own, other = _tower_layers(small, 1 + direction), _tower_layers(small, 2 - direction)
        own_variables = [v for layer in own for v in layer.trainable_weights]
        other_variables = [v for layer in other for v in layer.trainable_weights]
        _, gradients = helpers.gradients(
            lambda: loss(targets[direction], small(lab, training=True)[direction]),
            own_variables + other_variables,
        )
        own_gradients = gradients[: len(own_variables)]
        other_gradients = gradients[len(own_variables) :]
        assert all(not np.any(g) for g in other_gradients)
        assert all(np.any(g) for g in own_gradients)


# === Training from images alone ===


def test_fifty_steps_on_one_batch_drive_both_losses_well_below_log_bins():
    """50 Adam steps on one fixed batch bring each head's loss under 0.3 log(Q), from about log(Q)."""
    model = split_brain_ae((16, 16, 3), **SMALL)
    lab = _lab_shapes(8, size=16, seed=1)
    # train_on_batch with no y: the model derives its targets, as in fit(x).
    steps = [model.train_on_batch(lab, return_dict=True) for _ in range(50)]
    for output, num_bins in (("x2_from_x1", 261), ("x1_from_x2", 50)):
        losses = [step[f"split_brain_ae_{output}_loss"] for step in steps]
        assert losses[0] > 0.5 * math.log(num_bins)
        assert losses[-1] < 0.3 * math.log(num_bins)


def test_without_y_the_loss_uses_the_derived_targets(small):
    """compute_loss with y=None (what fit(x) passes) equals the loss on split_brain_targets(x, model)."""
    lab = _lab_shapes(4, seed=2)
    predictions = small(lab, training=True)
    def loss(y):
        return float(keras.ops.convert_to_numpy(small.compute_loss(x=lab, y=y, y_pred=predictions)))

    derived = loss(None)
    assert derived == pytest.approx(loss(split_brain_targets(lab, small)), rel=1e-6)
    # And the targets matter: other targets give another loss.
    zeros = [np.zeros_like(t) for t in split_brain_targets(lab, small)]
    assert loss(zeros) != pytest.approx(derived, rel=1e-3)


def test_targets_are_the_quantised_block_means():
    """Each target is the quantised mean of its 4x4 block: noise that averages out changes nothing."""
    model = split_brain_ae((32, 32, 3), architecture="small", width_multiplier=0.0625)
    rng = np.random.default_rng(0)
    centres = color.ab_bin_centers()
    l_blocks = rng.uniform(0.5, 99.5, (2, 8, 8))
    ab_bins = rng.integers(0, len(centres), (2, 8, 8))
    lab = np.concatenate(
        [l_blocks[..., None], centres[ab_bins]], axis=-1
    ).repeat(4, axis=1).repeat(4, axis=2)
    # A +-d checkerboard inside every block has mean zero.
    checker = np.where((np.arange(32)[:, None] + np.arange(32)[None, :]) % 2, 1.0, -1.0)
    lab = lab + checker[None, :, :, None] * np.array([0.4, 3.0, 3.0])
    ab_targets, l_targets = split_brain_targets(lab.astype("float32"), model)
    assert ab_targets.dtype == l_targets.dtype == np.int32
    np.testing.assert_array_equal(l_targets, np.floor(l_blocks / 2).astype("int32"))
    np.testing.assert_array_equal(ab_targets, ab_bins)


def test_targets_never_wrap_past_255():
    """With 300 custom ab bins, an image of bin 299's colour has target 299 everywhere, in int32."""
    centres = np.stack([np.arange(300.0) - 150.0, np.zeros(300)], axis=-1)
    model = split_brain_ae(
        (16, 16, 3), architecture="small", width_multiplier=0.0625, ab_bin_centers=centres
    )
    assert model.outputs[0].shape[-1] == 300
    lab = np.zeros((1, 16, 16, 3), "float32")
    lab[..., 1] = centres[299, 0]
    ab_targets, _ = split_brain_targets(lab, model)
    assert ab_targets.dtype == np.int32
    assert np.all(ab_targets == 299)


def test_rgbd_split_regresses_the_block_means_of_each_group():
    """RGB | depth with regression: heads of 1 and 3 channels; targets are 4x4 block means; the loss needs no y."""
    model = split_brain_ae(
        (16, 16, 4),
        channel_groups=((0, 1, 2), (3,)),
        loss="regression",
        architecture="small",
        width_multiplier=0.0625,
    )
    assert [tuple(o.shape) for o in model.outputs] == [(None, 4, 4, 1), (None, 4, 4, 3)]
    images = helpers.inputs(2, 16, 16, 4, seed=3)
    depth, rgb = split_brain_targets(images, model)
    block_means = images.reshape(2, 4, 4, 4, 4, 4).mean(axis=(2, 4))
    np.testing.assert_allclose(depth, block_means[..., 3:], atol=1e-5)
    np.testing.assert_allclose(rgb, block_means[..., :3], atol=1e-5)
    loss = model.compute_loss(x=images, y=None, y_pred=model(images, training=True))
    assert math.isfinite(float(keras.ops.convert_to_numpy(loss)))


def test_a_loss_pair_sets_each_direction():
    """loss=("classification", "regression") classifies ab into 261 bins and regresses L with MSE."""
    model = split_brain_ae(
        (16, 16, 3),
        loss=("classification", "regression"),
        architecture="small",
        width_multiplier=0.0625,
    )
    assert [o.shape[-1] for o in model.outputs] == [261, 1]
    assert isinstance(model.loss["split_brain_ae_x2_from_x1"], keras.losses.SparseCategoricalCrossentropy)
    assert isinstance(model.loss["split_brain_ae_x1_from_x2"], keras.losses.MeanSquaredError)
    lab = _lab_shapes(2, size=16)
    ab_targets, l_targets = split_brain_targets(lab, model)
    assert ab_targets.dtype == np.int32
    np.testing.assert_allclose(
        l_targets, lab[..., :1].reshape(2, 4, 4, 4, 4, 1).mean(axis=(2, 4)), atol=1e-4
    )


def test_split_brain_targets_refuses_other_models_and_shapes(small):
    """A model not built by split_brain_ae is a TypeError; images of another shape a ValueError."""
    with pytest.raises(TypeError, match=r"`model`.*Received: model="):
        split_brain_targets(np.zeros((1, 32, 32, 3)), keras.Sequential([keras.Input((3,))]))
    with pytest.raises(ValueError, match=r"`lab_images`.*Received: lab_images="):
        split_brain_targets(np.zeros((1, 16, 16, 3)), small)


# === Features ===


@pytest.mark.parametrize("layer", _split_brain_spec.FEATURE_LAYERS)
def test_features_concatenate_both_towers_at_each_layer(small, layer):
    """split_brain_features(model, layer) outputs concat(tower 1, tower 2) at that layer."""
    features = split_brain_features(small, layer)
    tapped = layer if layer.startswith("pool") else f"relu{layer[-1]}"
    towers = keras.Model(
        small.inputs[0],
        [small.get_layer(f"split_brain_ae_tower_{t}_{tapped}").output for t in (1, 2)],
    )
    lab = _lab_shapes(2)
    first, second = _predict(towers, lab)
    np.testing.assert_array_equal(
        _predict(features, lab), np.concatenate([first, second], axis=-1)
    )
    assert features.output.shape[-1] == first.shape[-1] + second.shape[-1]


def test_features_share_the_trained_weights():
    """The feature model holds the autoencoder's own variables: changing a weight of the autoencoder changes it."""
    model = split_brain_ae((16, 16, 3), **SMALL)
    features = split_brain_features(model, "conv5")
    assert {id(v) for v in features.weights} <= {id(v) for v in model.weights}
    lab = _lab_shapes(2, size=16)
    before = _predict(features, lab)
    kernel = model.get_layer("split_brain_ae_tower_2_conv3").kernel
    kernel.assign(kernel * 2.0)
    after = _predict(features, lab)
    width = before.shape[-1] // 2
    # Tower 2's half changes; tower 1's, which the kernel does not reach, does not.
    np.testing.assert_array_equal(after[..., :width], before[..., :width])
    assert not np.allclose(after[..., width:], before[..., width:])


def test_split_brain_features_refuses_bad_arguments(small):
    """An unknown layer is a ValueError listing the choices; another model a TypeError."""
    with pytest.raises(ValueError, match=r"`layer`.*conv1.*fc7.*Received: layer='fc8'"):
        split_brain_features(small, "fc8")
    with pytest.raises(TypeError, match=r"`model`.*Received: model="):
        split_brain_features(keras.Sequential([keras.Input((3,))]), "conv1")


# === Custom classes ===
# SelectChannels has its own file, test_select_channels.py.


def test_model_config_survives_a_save_with_custom_bins(tmp_path):
    """Custom bins, L bins and losses come back from a .keras file, and so do the targets."""
    centres = [[0.0, 0.0], [20.0, 20.0], [-30.0, 10.0]]
    model = split_brain_ae(
        (16, 16, 3),
        loss=("classification", "regression"),
        num_l_bins=10,
        ab_bin_centers=centres,
        architecture="small",
        width_multiplier=0.0625,
        name="custom",
    )
    path = tmp_path / "custom.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, SplitBrainAutoencoder)
    config = loaded.get_config()
    assert config["ab_bin_centers"] == centres
    assert config["losses"] == ["classification", "regression"]
    assert config["num_l_bins"] == 10
    assert config["channel_groups"] == [[0], [1, 2]]
    lab = _lab_shapes(2, size=16)
    for before, after in zip(split_brain_targets(lab, model), split_brain_targets(lab, loaded)):
        np.testing.assert_array_equal(after, before)


# === Bad input ===

_BASE = {"input_shape": (16, 16, 3), "architecture": "small", "width_multiplier": 0.0625}

_VALID = [
    ("input_shape", {"input_shape": [8, 12, 3]}),
    ("channel_groups", {"channel_groups": ((1, 2), (0,))}),
    ("loss", {"loss": ["regression", "classification"]}),
    ("num_l_bins", {"num_l_bins": 2}),
    ("ab_bin_centers", {"ab_bin_centers": np.array([[0, 0], [10, 10]])}),
    ("width_multiplier", {"width_multiplier": 1}),
    ("width_multiplier", {"width_multiplier": np.float32(0.0625)}),
    ("optimizer", {"optimizer": "sgd", "seed": 0, "name": "sb"}),
]

_INVALID = [
    ("input_shape", {"input_shape": 16}, TypeError),
    ("input_shape", {"input_shape": (16, 16)}, ValueError),
    ("input_shape", {"input_shape": (16, 0, 3)}, ValueError),
    ("input_shape", {"input_shape": (16, 16, 1)}, ValueError),
    ("input_shape", {"input_shape": (16, 16.0, 3)}, TypeError),
    ("channel_groups", {"channel_groups": ((0,), (0, 1))}, ValueError),
    ("channel_groups", {"channel_groups": ((0,), ())}, ValueError),
    ("channel_groups", {"channel_groups": ((0,), (3,))}, ValueError),
    ("channel_groups", {"channel_groups": ((0,),)}, ValueError),
    ("channel_groups", {"channel_groups": (0, 1)}, TypeError),
    ("channel_groups", {"channel_groups": ((0,), ("1",))}, TypeError),
    ("loss", {"loss": "l2"}, ValueError),
    ("loss", {"loss": ("classification",)}, ValueError),
    ("loss", {"loss": 3}, TypeError),
    ("loss", {"channel_groups": ((0,), (1,))}, ValueError),
    ("num_l_bins", {"num_l_bins": 1}, ValueError),
    ("num_l_bins", {"num_l_bins": 2.5}, TypeError),
    ("ab_bin_centers", {"ab_bin_centers": [[0, 0]]}, ValueError),
    ("ab_bin_centers", {"ab_bin_centers": [[0, 0], [0, 0]]}, ValueError),
    ("ab_bin_centers", {"ab_bin_centers": [[0, 0, 0], [1, 1, 1]]}, ValueError),
    ("ab_bin_centers", {"ab_bin_centers": [[math.nan, 0], [1, 1]]}, ValueError),
    ("ab_bin_centers", {"ab_bin_centers": "ab"}, TypeError),
    ("architecture", {"architecture": "vgg"}, ValueError),
    ("architecture", {"architecture": 1}, TypeError),
    ("width_multiplier", {"width_multiplier": 0}, ValueError),
    ("width_multiplier", {"width_multiplier": math.inf}, ValueError),
    ("width_multiplier", {"width_multiplier": "1"}, TypeError),
    ("width_multiplier", {"width_multiplier": True}, TypeError),
    ("optimizer", {"optimizer": "nope"}, ValueError),
    ("seed", {"seed": -1}, ValueError),
    ("name", {"name": "a/b"}, ValueError),
]


@pytest.mark.parametrize(("argument", "kwargs"), _VALID, ids=helpers.case_ids(_VALID))
def test_valid_arguments_build(argument, kwargs):
    """Each valid case builds a compiled model, and param_count agrees on its size."""
    model = helpers.assert_builds(split_brain_ae, {**_BASE, **kwargs})
    assert model.count_params() == param_count.split_brain_ae(**{**_BASE, **kwargs}).total


@pytest.mark.parametrize(
    ("argument", "kwargs", "error"), _INVALID, ids=helpers.case_ids(_INVALID)
)
def test_invalid_arguments_raise_before_building(argument, kwargs, error, no_building):
    """Each invalid case raises, naming the argument, before any Keras object is built; param_count too."""
    helpers.assert_invalid(split_brain_ae, {**_BASE, **kwargs}, argument, error)
    # param_count checks the size and loss arguments; the others do not change a count.
    if argument not in ("optimizer", "seed", "name"):
        helpers.assert_invalid(param_count.split_brain_ae, {**_BASE, **kwargs}, argument, error)


def test_valid_arguments_reach_the_building(no_building):
    """Control: with valid arguments the builder does get to building (so the invalid cases prove something)."""
    with pytest.raises(no_building):
        split_brain_ae(**_BASE)
