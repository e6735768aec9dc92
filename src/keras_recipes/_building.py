"""Keras-side helpers shared by the builders: checks that need Keras, and compiling.

The pure-Python checks are in `_validation.py`; these need Keras to know
which strings name an activation, a loss, an optimizer or a metric. They are
still run before any layer is built.
"""

import random
from typing import NamedTuple

import keras
import numpy as np

from keras_recipes import _validation, initializers

IMAGE_FORMAT = "channels_last"
"""The image layout of every recipe: `(batch, height, width, channels)`.

Given to every layer and op that takes `data_format`, because their default
is Keras's global setting (`keras.config.image_data_format()`, from
keras.json), and a user's `"channels_first"` there would otherwise build a
different model from the channels-last shapes the builders are given.
"""

# Metric names that `Model.compile` resolves itself, by the loss it is given,
# and that `keras.metrics.get` does not know.
_COMPILE_METRIC_NAMES = ("accuracy", "acc", "crossentropy", "ce")


def _known_name(argument, value, lookup, expected):
    """Check that Keras's `lookup` knows the name `value`; return it."""
    try:
        lookup(value)
    except ValueError:
        raise _validation.invalid(argument, expected, value) from None
    return value


def activation(argument, value):
    """Check an activation: `None`, a Keras activation name, or a callable."""
    if value is None or callable(value):
        return value
    if not isinstance(value, str):
        raise _validation.wrong_type(
            argument, "None, an activation name or a callable", value
        )
    return _known_name(
        argument,
        value,
        keras.activations.get,
        "None, a callable, or the name of a Keras activation such as "
        "'relu', 'sigmoid', 'tanh' or 'softmax'",
    )


def is_softmax(value):
    """Whether an activation argument means softmax."""
    return value == "softmax" or value is keras.activations.softmax


def output_width(argument, output_activation, width):
    """Refuse a softmax over one unit: it outputs 1.0 whatever its input."""
    if width == 1 and is_softmax(output_activation):
        raise _validation.invalid(
            "output_activation",
            f"an activation that is not constant on a 1-wide output ({argument} "
            "ends with 1 unit)",
            output_activation,
            "A softmax over one unit always outputs 1.0; use 'sigmoid' for a "
            "single probability, or two units with 'softmax'",
        )


def hidden_widths(where, activation, widths):
    """Refuse a hidden softmax over one unit, which passes on a constant 1.0.

    `where` names the layers `widths` come from, for the message.
    """
    if is_softmax(activation) and 1 in widths:
        raise _validation.invalid(
            "activation",
            f"an activation that is not constant on 1-wide layers ({where} "
            "has 1 unit)",
            activation,
            "A softmax over one unit always outputs 1.0; use 'sigmoid' or "
            "'relu', or widen the layer",
        )


def loss(value):
    """Check a loss: a Keras loss name, a `keras.losses.Loss`, or a callable `(y_true, y_pred)`."""
    if isinstance(value, keras.losses.Loss) or callable(value):
        return value
    if not isinstance(value, str):
        raise _validation.wrong_type(
            "loss", "a loss name, a keras.losses.Loss or a callable", value
        )
    return _known_name(
        "loss",
        value,
        keras.losses.get,
        "the name of a Keras loss such as 'mse', 'mae' or "
        "'binary_crossentropy', a keras.losses.Loss, or a callable "
        "(y_true, y_pred)",
    )


def optimizer(value):
    """Check an optimizer: a Keras optimizer name or an unused `keras.optimizers.Optimizer`.

    Builders build the optimizer for their model, so an instance already
    built for another model is refused here, rather than failing at `fit`
    with an unknown-variable error.
    """
    if isinstance(value, keras.optimizers.Optimizer):
        if value.built:
            raise _validation.invalid(
                "optimizer",
                "an optimizer name or a new optimizer instance",
                value,
                "This instance is already built for another model's weights; "
                "pass a fresh instance or a name such as 'adam'",
            )
        return value
    if not isinstance(value, str):
        raise _validation.wrong_type(
            "optimizer", "an optimizer name or a keras.optimizers.Optimizer", value
        )
    return _known_name(
        "optimizer",
        value,
        keras.optimizers.get,
        "the name of a Keras optimizer such as 'adam', 'sgd' or 'rmsprop', "
        "or a keras.optimizers.Optimizer",
    )


def metrics(value):
    """Check metrics: `None` or a list of metric names, `keras.metrics.Metric`s or callables."""
    if value is None:
        return []
    expected = "None or a list of metric names, keras.metrics.Metric objects or callables"
    if not _validation.is_sequence(value):
        raise _validation.wrong_type("metrics", expected, value)
    for metric in value:
        if isinstance(metric, keras.metrics.Metric) or callable(metric):
            continue
        if not isinstance(metric, str):
            raise _validation.wrong_type("metrics", expected, value)
        if metric in _COMPILE_METRIC_NAMES:
            continue
        try:
            keras.metrics.get(metric)
        except ValueError:
            raise _validation.invalid(
                "metrics",
                "a list of Keras metric names such as 'mae' or 'accuracy', "
                "keras.metrics.Metric objects or callables",
                value,
            ) from None
    return list(value)


def common(*, loss_value, optimizer_value, metrics_value, seed_value, name_value):
    """Check the keyword arguments every builder shares; return them normalised."""
    return (
        loss(loss_value),
        optimizer(optimizer_value),
        metrics(metrics_value),
        _validation.check_seed(seed_value),
        _validation.check_name(name_value),
    )


def _keeping_python_random(make):
    """Call `make()` and put Python's `random` state back as it was.

    Keras gives an initializer made without a seed a default one drawn from
    Python's global `random`; a check that makes one to see that it can
    must not move the stream that `keras.utils.set_random_seed` seeded, or
    every unseeded layer built after it would draw other weights.
    """
    state = random.getstate()
    try:
        return make()
    finally:
        random.setstate(state)


def _named_initializer(name):
    """The initializer called `name`, the library's or Keras's, made without drawing from Python's `random`."""
    return _keeping_python_random(
        lambda: initializers.get(name) or keras.initializers.get(name)
    )


def initializer(argument, value):
    """Check a weight initializer: an initializer name or a `keras.initializers.Initializer`.

    A name is Keras's (`"glorot_uniform"`, `"he_uniform"`, `"zeros"`) or the
    library's (`"fan_in_uniform"`, `keras_recipes.initializers`).

    Args:
        argument: the argument's name, for the message.
        value: an initializer name, or an initializer instance.

    Returns:
        `value`.

    Raises:
        TypeError: `value` is neither a string nor an initializer.
        ValueError: no initializer has that name, or an instance's
            `from_config(get_config())` fails.

    Example:

    >>> initializer("kernel_initializer", "he_uniform")
    'he_uniform'
    """
    if isinstance(value, keras.initializers.Initializer):
        # Each layer gets a copy made from its config (see `_per_layer`),
        # as a saved model's layers do on loading.
        try:
            _keeping_python_random(lambda: type(value).from_config(value.get_config()))
        except Exception as error:
            raise _validation.invalid(
                argument,
                "an initializer that its get_config() re-creates",
                value,
                f"{type(value).__name__}.from_config(get_config()) failed: {error}",
            ) from None
        return value
    if not isinstance(value, str):
        raise _validation.wrong_type(
            argument, "an initializer name or a keras.initializers.Initializer", value
        )
    return _known_name(
        argument,
        value,
        _named_initializer,
        "the name of a Keras initializer such as 'glorot_uniform', "
        "'he_uniform' or 'zeros', 'fan_in_uniform', or a keras.initializers.Initializer",
    )


class Initializers(NamedTuple):
    """The weight initializers of a builder's layers, each checked by `initializer()`.

    Attributes:
        kernel: every kernel's initializer, a name or an instance. Keras's
            default, Glorot uniform, unless a builder is given another.
        bias: every bias's initializer. Keras's default, zeros.
    """

    kernel: object = "glorot_uniform"
    bias: object = "zeros"


KERAS_INITIALIZERS = Initializers()
"""Keras's own defaults, Glorot uniform kernels and zero biases: every builder's but `vae()`'s options."""


# The last entry of a bias's seed key, which a kernel's key (`(seed, index)`)
# does not have, so that a layer's kernel and bias never share a stream.
_BIAS_KEY = 1


def _per_layer(initializer, seed, key, fan_in=None):
    """A copy of `initializer` for one layer: seeded from `(seed, *key)`, and given `fan_in` where it takes one.

    With a `seed`, the layer's seed is drawn from `(seed, *key)` by numpy's
    `SeedSequence`: one seeded initializer would give every layer of the
    same shape the same values, and a plain `seed + index` would give layer
    1 of `seed=1` the kernel of layer 0 of `seed=2`. The derived seed fits
    in 32 bits, whatever `seed` is. Without a `seed`, an initializer
    instance with an integer seed of its own is derived from the same way;
    a Keras name stays a name (an unseeded stream), and so does any name
    when there is nothing to fill in.
    """
    if isinstance(initializer, str):
        if seed is None and initializer not in initializers.NAMES:
            return initializer
        # Only to read its config: the copy below draws nothing when seeded.
        initializer = _named_initializer(initializer)
    config = initializer.get_config()
    base = seed if seed is not None else config.get("seed")
    if "seed" in config and isinstance(base, int):
        config["seed"] = int(np.random.SeedSequence([base, *key]).generate_state(1)[0])
    # An initializer that takes a fan-in (`FanInUniform`) and was given none.
    if fan_in is not None and "fan_in" in config and config["fan_in"] is None:
        config["fan_in"] = fan_in
    # A copy per layer, so that layers share neither a seed nor a state.
    return type(initializer).from_config(config)


def kernel_initializer(seed, index, initializer="glorot_uniform"):
    """The kernel initializer of the `index`-th weighted layer of a model.

    `initializer` (checked by `initializer()`) is copied per layer and
    seeded from `(seed, index)` (`_per_layer`).
    """
    return _per_layer(initializer, seed, (index,))


def weight_initializers(seed, index, chosen, kernel_shape):
    """The `kernel_initializer` and `bias_initializer` arguments of the `index`-th weighted layer.

    Args:
        seed: the builder's seed, or `None`.
        index: the layer's index among the model's weighted layers.
        chosen: an `Initializers` record.
        kernel_shape: the shape of the layer's kernel, whose fan-in
            (`initializers.kernel_fan_in`) a bias initializer that takes one
            (`FanInUniform`) is given.

    Returns:
        A dict of the two keyword arguments, for a Dense or convolution layer.
    """
    fan_in = initializers.kernel_fan_in(kernel_shape)
    return {
        "kernel_initializer": kernel_initializer(seed, index, chosen.kernel),
        "bias_initializer": _per_layer(chosen.bias, seed, (index, _BIAS_KEY), fan_in),
    }


def dense_stack(
    tensor,
    units,
    *,
    activation,
    last_activation,
    name,
    seed,
    first_index,
    initialization=KERAS_INITIALIZERS,
):
    """Apply a stack of Dense layers of widths `units`; return the output tensor.

    Layer `i` is named `f"{name}_dense_{i}"`; every layer uses `activation`
    but the last, which uses `last_activation`. `first_index` numbers the
    layers of the whole model, so that seeded initializers differ;
    `initialization` (an `Initializers` record) gives their kernels' and
    biases' initializers (see `weight_initializers`).
    """
    for index, width in enumerate(units):
        is_last = index == len(units) - 1
        tensor = keras.layers.Dense(
            width,
            activation=last_activation if is_last else activation,
            **weight_initializers(
                seed, first_index + index, initialization, (tensor.shape[-1], width)
            ),
            name=f"{name}_dense_{index}",
        )(tensor)
    return tensor


def _fresh_metric(metric):
    """A new, stateless copy of a `keras.metrics.Metric`; names and functions as they are."""
    if isinstance(metric, keras.metrics.Metric):
        return type(metric).from_config(metric.get_config())
    return metric


def compile_model(model, *, loss, optimizer, metrics):
    """Compile `model`, giving every output the same loss and metrics.

    Keras applies one loss to every output by itself, but wants metrics for
    a several-output model keyed by output name.
    """
    if metrics and len(model.outputs) > 1:
        # A metric object holds state, so each output gets its own copy;
        # shared, it would average every head into one number.
        metrics = {
            name: [_fresh_metric(metric) for metric in metrics]
            for name in model.output_names
        }
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics or None)
    # Build the optimizer's slots now. A model saved before its first `fit`
    # would otherwise store an unbuilt optimizer, and loading it warns that
    # the optimizer's variables do not match.
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    return model
