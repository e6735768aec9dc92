"""The split-brain autoencoder (Zhang, Isola and Efros, CVPR 2017), its targets and its features."""

import keras
import numpy as np

from keras_recipes import _building, _validation
from keras_recipes._recipes.split_brain import spec
from keras_recipes._recipes.split_brain.layers import SelectChannels, SplitBrainAutoencoder
from keras_recipes._submodel import submodel


def _tower(tensor, rows, *, prefix, seed, first_index):
    """Apply one tower's layers (`spec.tower_layers` rows) to `tensor`.

    Each convolution is followed by batch normalisation without scale and
    shift (Caffe's BatchNorm layer with no Scale layer, as in the authors'
    prototxt) and a ReLU. The convolutions have no bias: batch
    normalisation subtracts the batch mean right after them, which cancels
    any bias, so it would be a weight that never changes the output.
    """
    index = first_index
    for name, kernel, stride, dilation, filters in rows:
        if filters is None:
            tensor = keras.layers.MaxPooling2D(
                kernel,
                strides=stride,
                padding="same",
                data_format=_building.IMAGE_FORMAT,
                name=f"{prefix}_{name}",
            )(tensor)
            continue
        number = name[-1]
        tensor = keras.layers.Conv2D(
            filters,
            kernel,
            strides=stride,
            dilation_rate=dilation,
            padding="same",
            data_format=_building.IMAGE_FORMAT,
            use_bias=False,
            kernel_initializer=_building.kernel_initializer(seed, index),
            name=f"{prefix}_{name}",
        )(tensor)
        tensor = keras.layers.BatchNormalization(
            center=False, scale=False, name=f"{prefix}_{name}_norm"
        )(tensor)
        tensor = keras.layers.ReLU(name=f"{prefix}_relu{number}")(tensor)
        index += 1
    return tensor


def split_brain_ae(
    input_shape,
    *,
    channel_groups=((0,), (1, 2)),
    loss="classification",
    num_l_bins=50,
    ab_bin_centers=None,
    architecture="alexnet",
    width_multiplier=1.0,
    optimizer="adam",
    seed=None,
    name="split_brain_ae",
):
    """Builds a split-brain autoencoder: two disjoint towers, each predicting the other's channels.

    The paper's method (arXiv:1611.09842, Sec. 3.2). The input, a Lab image,
    is split into two channel groups x1 = L and x2 = ab; tower 1 predicts x2
    from x1 (colorization) and tower 2 predicts x1 from x2:

        x2_from_x1 = head_1(tower_1(x1))     # logits over ab bins
        x1_from_x2 = head_2(tower_2(x2))     # logits over L bins
        loss = CE(quantise(downsample(x2)), x2_from_x1)
             + CE(quantise(downsample(x1)), x1_from_x2)

    The towers share no layer; each is the unsplit network at half width.
    The model derives its targets itself, so `model.fit(lab_images)` trains
    with no `y` (`split_brain_targets` returns them, `split_brain_features`
    gives features for linear probes). docs/recipes/split_brain_ae.md
    describes the architectures and losses.

    Args:
        input_shape: `(height, width, channels)` of the input, channels-last,
            e.g. `(180, 180, 3)` for Lab images.
        channel_groups: the channel indices of x1 and of x2; disjoint.
            Defaults to `((0,), (1, 2))`, L | ab; other splits need
            `loss="regression"`.
        loss: `"classification"` or `"regression"`, or a pair of them for
            (x2 from x1, x1 from x2). Defaults to `"classification"`.
        num_l_bins: number of L bins over [0, 100], at least 2. Defaults to
            `50` (the paper's 50 bins of width 2).
        ab_bin_centers: `None`, or an array `(num_bins, 2)` of distinct ab
            bin centres. Defaults to `None`, for
            `keras_recipes.color.ab_bin_centers()`.
        architecture: `"alexnet"` (the paper's, 180x180 gives 12x12
            predictions) or `"small"` (for 32x32 and 64x64 inputs). Defaults
            to `"alexnet"`.
        width_multiplier: scales every tower width (rounded, at least 1).
            Defaults to `1.0`, the paper's widths.
        optimizer: an optimizer name or instance. Defaults to `"adam"`.
        seed: seed of the kernel initialisers. Defaults to `None`.
        name: model name, and prefix of every layer name (`{name}_tower_1_conv1`,
            outputs `{name}_x2_from_x1` and `{name}_x1_from_x2`). Defaults to
            `"split_brain_ae"`.

    Returns:
        A compiled `keras_recipes.layers.SplitBrainAutoencoder` from
        `(batch, *input_shape)` to two outputs `(batch, h, w, num_outputs)`:
        the x2-from-x1 head, then the x1-from-x2 head.

    Raises:
        ValueError: a size is out of range, the channel groups overlap, a
            string choice is unknown, classification is asked for a split
            other than L | ab, or the model is too big (over 2**31 - 1
            numbers per sample or 2**31 parameters).
        TypeError: an argument has the wrong type.

    Example:

    >>> model = split_brain_ae((32, 32, 3), architecture="small", width_multiplier=0.125)
    >>> [tuple(output.shape) for output in model.outputs]
    [(None, 8, 8, 261), (None, 8, 8, 50)]
    """
    arguments = spec.check_arguments(
        input_shape,
        channel_groups,
        loss,
        num_l_bins,
        ab_bin_centers,
        architecture,
        width_multiplier,
    )
    input_shape, channel_groups, losses, num_l_bins, ab_bin_centers, architecture, _ = arguments
    _validation.check_buildable(
        "split_brain_ae", spec.weights(arguments).total, spec.responsible(arguments)
    )
    optimizer = _building.optimizer(optimizer)
    seed = _validation.check_seed(seed)
    name = _validation.check_name(name)
    rows = spec.tower_layers(architecture, arguments.width_multiplier)
    head_channels = spec.head_channels(
        channel_groups, losses, num_l_bins, ab_bin_centers
    )

    inputs = keras.Input(shape=input_shape, name=f"{name}_input")
    outputs = []
    output_names = (f"{name}_x2_from_x1", f"{name}_x1_from_x2")
    # Seeded initializers are numbered through the whole model: tower 1's
    # convolutions, its head, then tower 2's.
    layer_index = 0
    for tower, (group, channels, output_name) in enumerate(
        zip(channel_groups, head_channels, output_names), start=1
    ):
        # === Tower {tower}: its own channels in, the other group's out ===
        prefix = f"{name}_tower_{tower}"
        tensor = SelectChannels(list(group), name=f"{prefix}_input")(inputs)
        tensor = _tower(tensor, rows, prefix=prefix, seed=seed, first_index=layer_index)
        layer_index += sum(1 for row in rows if row.filters is not None)
        # The paper's fc8: a 1x1 convolution with one logit per bin (or one
        # value per channel for regression), not an average over features.
        outputs.append(
            keras.layers.Conv2D(
                channels,
                1,
                data_format=_building.IMAGE_FORMAT,
                kernel_initializer=_building.kernel_initializer(seed, layer_index),
                name=output_name,
            )(tensor)
        )
        layer_index += 1

    model = SplitBrainAutoencoder(
        inputs,
        outputs,
        channel_groups=channel_groups,
        losses=losses,
        num_l_bins=num_l_bins,
        ab_bin_centers=ab_bin_centers,
        name=name,
    )
    loss_objects = {
        output_name: (
            keras.losses.SparseCategoricalCrossentropy(from_logits=True)
            if direction_loss == "classification"
            else keras.losses.MeanSquaredError()
        )
        for output_name, direction_loss in zip(output_names, losses)
    }
    return _building.compile_model(
        model, loss=loss_objects, optimizer=optimizer, metrics=None
    )


def _check_model(model):
    if not isinstance(model, SplitBrainAutoencoder):
        raise _validation.wrong_type(
            "model", "a model built by keras_recipes.split_brain_ae()", model
        )
    return model


def split_brain_targets(lab_images, model):
    """Returns the targets `model` trains on for `lab_images`, as numpy arrays.

    Each head's target channels (ab for the colorization head, L for the
    other), averaged down to the head's resolution, then quantised for a
    classification head: exactly what `model.fit(lab_images)` trains on.
    Useful to inspect targets, to compute bin histograms, or to pass `y`
    explicitly.

    Args:
        lab_images: array `(batch, height, width, channels)` matching the
            model's input (Lab for the default split).
        model: a model built by `split_brain_ae()`.

    Returns:
        A list of two numpy arrays, one per output (x2 from x1, then x1 from
        x2): `int32` bin indices `(batch, h, w)` for a classification head
        (never wrapping, whatever the number of bins), float32 values
        `(batch, h, w, channels)` for a regression head.

    Raises:
        TypeError: `model` is not a split-brain autoencoder.
        ValueError: the images' shape does not match the model's input.

    Example:

    >>> import numpy as np
    >>> model = split_brain_ae((32, 32, 3), architecture="small", width_multiplier=0.125)
    >>> lab = np.zeros((2, 32, 32, 3), "float32")
    >>> [(t.shape, t.dtype.name) for t in split_brain_targets(lab, model)]
    [((2, 8, 8), 'int32'), ((2, 8, 8), 'int32')]
    """
    model = _check_model(model)
    expected = tuple(model.inputs[0].shape[1:])
    shape = tuple(np.shape(lab_images))
    if len(shape) != 4 or shape[1:] != expected:
        raise _validation.invalid(
            "lab_images",
            f"an array of shape (batch, {', '.join(map(str, expected))}), the model's input",
            f"array of shape {shape}",
        )
    return [keras.ops.convert_to_numpy(target) for target in model.targets(lab_images)]


def split_brain_features(model, layer="conv5"):
    """Returns a model that outputs both towers' features at `layer`, concatenated.

    The paper's representation: `F^l = concatenate(F1^l, F2^l)` on the
    channel axis, for linear probes or fine-tuning. The new model shares the
    trained model's layers and weights (nothing is copied) and takes the
    same input. "convN" and "fcN" are the outputs after normalisation and
    ReLU; "poolN" the max pooling outputs. Call the features with
    `training=False` (the default of `predict`) so batch normalisation uses
    its moving statistics; freeze it with `trainable = False` for a probe.

    Args:
        model: a model built by `split_brain_ae()`.
        layer: one of `"conv1"`, `"pool1"`, `"conv2"`, `"pool2"`, `"conv3"`,
            `"conv4"`, `"conv5"`, `"pool5"`, `"fc6"`, `"fc7"`. Defaults to
            `"conv5"`.

    Returns:
        A `keras.Model` from the model's input to a tensor `(batch, h, w,
        channels_1 + channels_2)`, named `{model.name}_{layer}_features`.

    Raises:
        TypeError: `model` is not a split-brain autoencoder.
        ValueError: `layer` names no tapped layer.

    Example:

    >>> model = split_brain_ae((32, 32, 3), architecture="small", width_multiplier=0.125)
    >>> split_brain_features(model, "conv5").output.shape
    (None, 8, 8, 32)
    """
    model = _check_model(model)
    layer = _validation.check_choice("layer", layer, spec.FEATURE_LAYERS)
    tapped = layer if layer.startswith("pool") else f"relu{layer[-1]}"
    names = [f"{model.name}_tower_{tower}_{tapped}" for tower in (1, 2)]
    towers = submodel(model, names)
    features = keras.layers.Concatenate(name=f"{model.name}_{layer}_concatenate")(
        towers.outputs
    )
    return keras.Model(towers.inputs[0], features, name=f"{model.name}_{layer}_features")
