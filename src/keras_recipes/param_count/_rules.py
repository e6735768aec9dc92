"""One rule per layer class: its parameters, its MACs and its output shape.

This is the one table `count_model`, `count_config`, `layer_count`,
`layer_macs` and `layer_output_shape` all read. A Keras class is one entry
of `_KERAS`: the function that counts its weights (from `_layer_configs`,
`(class_name, config, build_config) -> ParamCount`) and the function that
gives its output shape and MACs (from `_macs`, `(config, input shapes) ->
(output shape, macs)`); a family of classes (all convolutions, all recurrent
layers, all pooling layers) shares its two functions. A registered class,
this library's or a user's, is a `Rule` in the table `register()` fills, by
its Keras registered name (`"my_package>MyLayer"`).

Pure Python: nothing here imports Keras.

Conventions for MACs (docs/macs.md spells them out with every formula):

- A MAC is one multiply and one add of a contraction: a matrix product, a
  convolution, an einsum, the two products inside attention, a `Dot`.
  FLOPs = 2 x MACs. Bias adds are not MACs, and neither is elementwise work
  (activations, gates, normalisation, pooling, merges, softmax, scaling).
- One forward pass for ONE sample: the batch axis is left out.
- Weightless layers and normalisation layers have 0 MACs, except `Dot`,
  which is a contraction. `Embedding` is a lookup: 0 MACs.
- Recurrent layers are counted over every time step of the input sequence,
  whether or not they return the whole sequence.

Registered classes are known by their registered name, never by their bare
class name: a user's class that happens to be called `Sampling` is not
this library's `keras_recipes>Sampling`.

Example:

>>> layer_macs("Dense", {"units": 3}, {"input_shape": [None, 4]})
12
>>> layer_output_shape("Conv2D", {"filters": 8, "kernel_size": [3, 3]},
...                    {"input_shape": [None, 32, 32, 3]})
(None, 30, 30, 8)
"""

from collections.abc import MutableMapping
from dataclasses import dataclass

from keras_recipes import _validation
from keras_recipes._untrusted import shown
from keras_recipes.param_count import _layer_configs as _weights
from keras_recipes._counting import layers as _layers
from keras_recipes.param_count import _macs as _shapes
from keras_recipes.param_count import _readers
from keras_recipes.param_count._readers import MAX_WRAPPER_DEPTH, ConfigError
from keras_recipes._counting.record import ZERO, ParamCount

# === Keras's own classes ===


@dataclass(frozen=True)
class _Keras:
    """The rule of one Keras class.

    Attributes:
        params: `(class_name, config, build_config) -> ParamCount`, or
            `None` when the count is not known.
        shape: `(config, input shapes) -> (output shape, macs)` (wrappers
            take the nesting depth too), or `None` when not known.
        zero_macs: whether the MACs are 0 whatever the shapes, so known
            even without a build shape.
        wrapper: whether the class wraps another layer's config.
    """

    params: object = None
    shape: object = None
    zero_macs: bool = False
    wrapper: bool = False


def _weightless(class_name, config, build_config):
    return ZERO


def _weightless_rule(shape=None, macs_are_zero=True):
    """The rule of a class without weights; its MACs are 0 when it has a shape rule, unless told."""
    return _Keras(_weightless, shape, zero_macs=macs_are_zero and shape is not None)


def _family(names, params, shape=None, zero_macs=False):
    """One rule for several class names (a class and its export alias)."""
    return dict.fromkeys(names, _Keras(params, shape, zero_macs))


def _ranked(template, params, make_shape, ranks=(1, 2, 3)):
    """One entry per rank: `template` is formatted with the rank (`"Conv{}D"`)."""
    return {template.format(rank): _Keras(params, make_shape(rank)) for rank in ranks}


# === Wrappers: their rules recurse into the wrapped layer's ===


def _inner_count(class_name, config, key, outer_build, depth, frozen):
    inner = _readers.layer(config, key)
    build = inner.get("build_config")
    if build is None and outer_build is not None and class_name == "TimeDistributed":
        # Keras builds the wrapped layer on the input shape without time.
        shape = _readers.build_shape(outer_build)
        build = {"input_shape": shape[:1] + shape[2:]}
    return _count(
        inner["class_name"],
        inner.get("config"),
        build,
        inner.get("registered_name"),
        inner.get("module"),
        depth + 1,
        frozen,
    )


def _time_distributed_count(class_name, config, build, depth, frozen):
    return _inner_count(class_name, config, "layer", build, depth, frozen)


# The config key that gives the last axis of each layer's `kernel` (or
# `embeddings`), which sizes SpectralNormalization's `vector_u`.
_KERNEL_OUTPUT = {
    "Dense": "units", "Embedding": "output_dim",
    "Conv1D": "filters", "Conv2D": "filters", "Conv3D": "filters",
}


def _spectral_normalization_count(class_name, config, build, depth, frozen):
    inner = _readers.layer(config, "layer")
    key = _KERNEL_OUTPUT.get(inner["class_name"])
    count = _inner_count(class_name, config, "layer", build, depth, frozen)
    if key is None or count is None:
        return None
    # `vector_u` (1, kernel.shape[-1]) is a non-trainable weight.
    try:
        size = _readers.positive(inner.get("config"), key)
    except ConfigError as error:
        raise error.where(class_name=inner["class_name"]) from None
    return count + ParamCount(0, size)


def _bidirectional_count(class_name, config, build, depth, frozen):
    forward = _inner_count(class_name, config, "layer", build, depth, frozen)
    if _readers.get(config, "backward_layer") is None:
        backward = forward
    else:
        backward = _inner_count(class_name, config, "backward_layer", build, depth, frozen)
    if forward is None or backward is None:
        return None
    return _layers.bidirectional(forward, backward)


def _inner_analysis(config, key, build_inputs, depth):
    """`(output, macs)` of a wrapped layer, built on its own build config or `build_inputs`."""
    class_name, inner_config, inner_build = _shapes.nested(config, key)
    if inner_build is None:
        inner_build = {"input_shape": list(build_inputs)}
    registered_name = config[key].get("registered_name")
    result = _analyze(class_name, inner_config, inner_build, depth + 1, registered_name)
    if result is None:
        return None, _macs_without_shape(class_name, registered_name)
    return result


def _bidirectional(config, inputs, depth):
    shape = _shapes.one_shape(inputs)
    forward_output, forward_macs = _inner_analysis(config, "layer", shape, depth)
    if config.get("backward_layer") is None:
        backward_macs = forward_macs
    else:
        _, backward_macs = _inner_analysis(config, "backward_layer", shape, depth)
    macs = None if None in (forward_macs, backward_macs) else forward_macs + backward_macs
    if forward_output is None:
        return None, macs
    _, inner_config, _ = _shapes.nested(config, "layer")
    return_state = _readers.flag(inner_config, "return_state", False)
    states = ()
    if return_state:
        forward_output, states = forward_output[0], tuple(forward_output[1:])
    merge_mode = config.get("merge_mode", "concat")
    if merge_mode == "concat":
        last = forward_output[-1]
        forward_output = (*forward_output[:-1], None if last is None else 2 * last)
        outputs = (forward_output,)
    elif merge_mode is None:
        outputs = (forward_output, forward_output)
    else:
        _readers.choice(config, "merge_mode", "concat", ("concat", "sum", "mul", "ave", None))
        outputs = (forward_output,)
    if return_state:
        return (*outputs, *states, *states), macs
    return (outputs if merge_mode is None else outputs[0]), macs


def _time_distributed(config, inputs, depth):
    shape = _shapes.one_shape(inputs)
    if len(shape) < 3:
        raise _readers.invalid("input_shape", "a shape of rank 3 or more", shape)
    steps = shape[1]
    inner_output, inner_macs = _inner_analysis(config, "layer", (None, *shape[2:]), depth)
    # A layer with no MACs has none at any number of steps, known or not.
    macs = inner_macs if inner_macs in (None, 0) else _shapes.times(steps, inner_macs)
    if inner_output is None or not all(map(_readers.is_dim, inner_output)):
        return None, macs
    return (None, steps, *inner_output[1:]), macs


def _spectral_normalization(config, inputs, depth):
    # At inference the wrapped layer runs on its normalised kernel; the
    # power iteration that updates it runs in training only.
    return _inner_analysis(config, "layer", _shapes.one_shape(inputs), depth)


# === The table of Keras classes ===

# Weightless layers without a shape rule: their MACs and output shape stay
# unknown. Found, like every weightless entry, by reading the `build()` of
# every class in `keras.layers` (Keras 3.15) for `add_weight`: the
# preprocessing and augmentation layers' lookup tables and statistics are
# constants, not Keras variables. keras.applications' own layers:
# ConvNeXt's StochasticDepth drops residual paths, InceptionResNetV2's
# CustomScaleLayer adds `x + scale * r` with a constant scale.
_WEIGHTLESS_WITHOUT_SHAPES = (
    "Lambda",
    "AdaptiveAveragePooling1D", "AdaptiveAveragePooling2D", "AdaptiveAveragePooling3D",
    "AdaptiveMaxPooling1D", "AdaptiveMaxPooling2D", "AdaptiveMaxPooling3D",
    "AugMix", "AutoContrast", "CategoryEncoding",
    "ContrastLimitedAdaptiveHistogramEqualization", "CutMix", "Discretization",
    "Equalization", "HashedCrossing", "Hashing", "MaxNumBoundingBoxes",
    "MelSpectrogram", "MixUp", "RandAugment", "RandomColorDegeneration",
    "RandomColorJitter", "RandomCrop", "RandomElasticTransform", "RandomErasing",
    "RandomGaussianBlur", "RandomGrayscale", "RandomHue", "RandomInvert",
    "RandomPerspective", "RandomPosterization", "RandomSaturation",
    "RandomSharpness", "RandomShear", "Solarization", "TextVectorization",
    "StochasticDepth", "CustomScaleLayer",
)  # fmt: skip

# Weightless layers whose output is their input's shape: activations,
# dropout and noise (their seed state is not a weight), and the random image
# augmentations that keep the shape.
_WEIGHTLESS_SAME_SHAPE = (
    "Activation", "ReLU", "LeakyReLU", "ELU", "Softmax", "UnitNormalization",
    "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
    "GaussianDropout", "GaussianNoise", "AlphaDropout", "ActivityRegularization",
    "Identity", "Masking", "Rescaling", "RandomFlip", "RandomRotation",
    "RandomTranslation", "RandomZoom", "RandomContrast", "RandomBrightness",
)  # fmt: skip

_SAME = _shapes.same_shape

_KERAS = {
    # The input layer has no weights the walkers count (they skip it) and
    # its shape is read from its own config, by `_analyze`.
    "InputLayer": _Keras(None, None, zero_macs=True),
    "Dense": _Keras(_weights.dense, _shapes.dense),
    "EinsumDense": _Keras(_weights.einsum_dense, _shapes.einsum_dense),
    # A lookup: 0 MACs.
    "Embedding": _Keras(_weights.embedding, _shapes.embedding, zero_macs=True),
    # Its output shape and MACs depend on the call's `reverse` argument,
    # which no config records: both stay unknown.
    "ReversibleEmbedding": _Keras(_weights.reversible_embedding),
    **_ranked("Conv{}D", _weights.conv, _shapes.conv),
    **_ranked("Conv{}DTranspose", _weights.conv_transpose, _shapes.conv_transpose),
    **_ranked("DepthwiseConv{}D", _weights.depthwise_conv,
              lambda rank: _shapes.depthwise(rank, pointwise=False), ranks=(1, 2)),
    **_ranked("SeparableConv{}D", _weights.separable_conv,
              lambda rank: _shapes.depthwise(rank, pointwise=True), ranks=(1, 2)),
    **{name: _Keras(_weights.recurrent, _shapes.recurrent(name))
       for name in ("SimpleRNN", "LSTM", "GRU")},
    **_ranked("ConvLSTM{}D", _weights.conv_lstm, _shapes.conv_lstm),
    # Normalisation: elementwise work, 0 MACs (batch normalisation folds
    # into the layer before it at inference).
    "BatchNormalization": _Keras(_weights.batch_norm, _SAME, zero_macs=True),
    "LayerNormalization": _Keras(_weights.layer_norm, _SAME, zero_macs=True),
    "RMSNormalization": _Keras(_weights.rms_norm, _SAME, zero_macs=True),
    "GroupNormalization": _Keras(_weights.group_norm, _SAME, zero_macs=True),
    "Normalization": _Keras(_weights.normalization, _SAME, zero_macs=True),
    "PReLU": _Keras(_weights.prelu, _SAME, zero_macs=True),
    "LayerScale": _Keras(_weights.layer_scale),
    "MultiHeadAttention": _Keras(_weights.multi_head_attention, _shapes.multi_head_attention),
    # The class is GroupedQueryAttention; configs name it by its export,
    # keras.layers.GroupQueryAttention.
    **_family(("GroupedQueryAttention", "GroupQueryAttention"),
              _weights.grouped_query_attention, _shapes.grouped_query_attention),
    "Attention": _Keras(_weights.attention, _shapes.attention),
    "AdditiveAttention": _Keras(_weights.additive_attention, _shapes.attention),
    "Bidirectional": _Keras(_bidirectional_count, _bidirectional, wrapper=True),
    "TimeDistributed": _Keras(_time_distributed_count, _time_distributed, wrapper=True),
    "SpectralNormalization": _Keras(_spectral_normalization_count, _spectral_normalization,
                                    wrapper=True),
    **dict.fromkeys(_WEIGHTLESS_SAME_SHAPE, _weightless_rule(_SAME)),
    **dict.fromkeys(_WEIGHTLESS_WITHOUT_SHAPES, _weightless_rule()),
    "Flatten": _weightless_rule(_shapes.flatten),
    "Reshape": _weightless_rule(_shapes.reshape),
    "Permute": _weightless_rule(_shapes.permute),
    "RepeatVector": _weightless_rule(_shapes.repeat_vector),
    **{name.format(rank): _weightless_rule(make(rank))
       for name, make in (("Cropping{}D", lambda rank: _shapes.resize(rank, "cropping", -1)),
                          ("ZeroPadding{}D", lambda rank: _shapes.resize(rank, "padding", 1)),
                          ("UpSampling{}D", _shapes.up_sampling),
                          ("MaxPooling{}D", _shapes.pooling),
                          ("AveragePooling{}D", _shapes.pooling),
                          ("GlobalMaxPooling{}D", _shapes.global_pooling),
                          ("GlobalAveragePooling{}D", _shapes.global_pooling))
       for rank in (1, 2, 3)},
    **dict.fromkeys(("Resizing", "CenterCrop"), _weightless_rule(_shapes.image_size)),
    **dict.fromkeys(("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"),
                    _weightless_rule(_shapes.elementwise_merge)),
    "Concatenate": _weightless_rule(_shapes.concatenate),
    # A contraction: its MACs are not 0.
    "Dot": _weightless_rule(_shapes.dot, macs_are_zero=False),
}  # fmt: skip

# MultiHeadAttention creates its EinsumDense sublayers in `build()`, after
# its own `trainable=False` was applied, so their weights stay trainable.
_BUILDS_SUBLAYERS = frozenset(
    {"MultiHeadAttention", "GroupedQueryAttention", "GroupQueryAttention"}
)


# === Registered classes: this library's and users' ===


@dataclass(frozen=True)
class Rule:
    """How `param_count` counts one registered layer class.

    Each part is optional: a part left `None` shows as unknown (`?`) in its
    column of a table, and only there.

    Attributes:
        params: a function `(config, build_config) -> ParamCount`, or
            `None`.
        macs: a function `(config, build_config) -> int` (multiply-
            accumulates for one sample), an `int` for a layer whose MACs do
            not depend on its shapes (0 for elementwise work), or `None`.
        output_shape: a function `(config, build_config) -> tuple` of
            sizes (batch axis `None`), or `None`.
    """

    params: object = None
    macs: object = None
    output_shape: object = None


_REGISTERED = {}


def _check_part(argument, value, constant_type=None, constant_text=""):
    if value is None or callable(value):
        return value
    if constant_type is not None and isinstance(value, constant_type) and not isinstance(value, bool):
        return value
    raise _validation.wrong_type(argument, f"None, a function of (config, build_config){constant_text}", value)


def register(name, *, params=None, macs=None, output_shape=None):
    """Teach `param_count` a registered layer class: its count, MACs and output shape.

    `count_model`, `count_config`, `layer_count`, `layer_macs` and
    `layer_output_shape` then give rows of that class full columns, live
    and from its `.keras` file. Each function receives the layer's
    `get_config()` dict and its `get_build_config()` dict, usually
    `{"input_shape": [None, ...]}` (for a layer without a `build()` of its
    own, the shape it was called on). Registering a name again replaces its
    rule. This library's `keras_recipes>Sampling`, `>FeatureMean` and
    `>SelectChannels` are registered this way. A function may raise
    `param_count.ConfigError(key, expected, value)` for a config its layer
    could not have; the error then names the layer's class (and its path, in
    `count_config`), as for Keras's own classes.

    Args:
        name: the class's Keras registered name, `"package>ClassName"`, as
            `keras.saving.register_keras_serializable(package=...)` makes it
            and `config.json` stores it under `registered_name`.
        params: a function `(config, build_config) -> ParamCount`, or a
            `ParamCount` for a layer whose count never changes. Defaults to
            `None` (the count unknown: `count_model` counts the live weights,
            `count_config` gives an unsupported row).
        macs: a function `(config, build_config) -> int`, or an `int` for a
            layer whose MACs never change (0 for elementwise work). Defaults
            to `None` (MACs unknown, `?`).
        output_shape: a function `(config, build_config) -> tuple`, the
            output shape with `None` for the batch axis. Defaults to `None`
            (shape and so output bytes unknown in a saved model's rows).

    Raises:
        ValueError: `name` is not `"package>ClassName"`, or `macs` is a
            negative int.
        TypeError: a part is neither `None`, a function nor a constant of
            its kind.

    Example:

    >>> from keras_recipes import param_count
    >>> param_count.register(
    ...     "my_package>Scale",
    ...     params=lambda config, build: param_count.ParamCount(build["input_shape"][-1]),
    ...     macs=0,
    ...     output_shape=lambda config, build: tuple(build["input_shape"]),
    ... )
    >>> build = {"input_shape": [None, 4]}
    >>> param_count.layer_count("Scale", {}, build, registered_name="my_package>Scale")
    ParamCount(trainable=4, non_trainable=0)
    >>> param_count.layer_output_shape("Scale", {}, build, registered_name="my_package>Scale")
    (None, 4)
    """
    if not isinstance(name, str):
        raise _validation.wrong_type("name", 'a registered name "package>ClassName"', name)
    package, _, class_name = name.partition(">")
    if not package or not class_name:
        raise _validation.invalid(
            "name",
            'a Keras registered name "package>ClassName", as '
            "`keras.saving.register_keras_serializable(package=...)` makes it",
            name,
        )
    if isinstance(params, ParamCount):
        params = _constant(params)
    params = _check_part("params", params, constant_text=" or a ParamCount")
    macs = _check_part("macs", macs, int, " or an int")
    if isinstance(macs, int) and macs < 0:
        raise _validation.invalid("macs", "a non-negative number of MACs", macs)
    output_shape = _check_part("output_shape", output_shape)
    _REGISTERED[name] = Rule(params=params, macs=macs, output_shape=output_shape)


def _constant(count):
    def params(config, build_config):
        return count

    return params


class _RegisteredCounts(MutableMapping):
    """The count functions of the registered rules, by registered name.

    Kept for code written against the dict `REGISTERED` of earlier
    versions: setting `REGISTERED[name] = function` registers a count (and
    keeps the rule's MACs and shape), deleting it forgets the count.
    """

    def __getitem__(self, name):
        rule = _REGISTERED.get(name)
        if rule is None or rule.params is None:
            raise KeyError(name)
        return rule.params

    def __setitem__(self, name, params):
        rule = _REGISTERED.get(name, Rule())
        register(name, params=params, macs=rule.macs, output_shape=rule.output_shape)

    def __delitem__(self, name):
        self[name]  # a KeyError for a name without a count
        rule = _REGISTERED[name]
        if rule.macs is None and rule.output_shape is None:
            del _REGISTERED[name]
        else:
            _REGISTERED[name] = Rule(macs=rule.macs, output_shape=rule.output_shape)

    def __iter__(self):
        return iter([name for name, rule in _REGISTERED.items() if rule.params is not None])

    def __len__(self):
        return sum(rule.params is not None for rule in _REGISTERED.values())

    def __repr__(self):
        return f"REGISTERED({dict(self)!r})"


REGISTERED = _RegisteredCounts()
"""The count function of each registered class, by registered name (see `register`)."""


# This library's layers, registered as a user's would be. `Sampling`'s one
# variable is its SeedGenerator state, which Keras does not count as a
# parameter; none of the three contracts anything: 0 MACs.


def _sampling_shape(config, build_config):
    # Called on [z_mean, z_log_var]; z = z_mean + exp(0.5 * z_log_var) * epsilon
    # is elementwise. `Sampling.compute_output_shape` is z_mean's shape.
    z_mean, _ = _shapes.shape_list(_shapes.build_inputs(build_config), count=(2,))
    return z_mean


def _feature_mean_shape(config, build_config):
    # The mean of each sample's features: a sum, not a contraction (like
    # average pooling). `FeatureMean.compute_output_shape` is (batch, 1).
    shape = _shapes.one_shape(_shapes.build_inputs(build_config))
    if len(shape) < 2:
        raise _readers.invalid("input_shape", "a shape of rank 2 or more", shape)
    return (None, 1)


def _select_channels_shape(config, build_config):
    # A gather of the listed channels of the last axis.
    shape = _shapes.one_shape(_shapes.build_inputs(build_config))
    channels = config.get("channels")
    if not (
        _validation.is_sequence(channels)
        and channels
        and all(map(_readers.is_count, channels))
    ):
        raise _readers.invalid("channels", "a non-empty list of non-negative integers", channels)
    if len(shape) < 2:
        raise _readers.invalid("input_shape", "a shape of rank 2 or more", shape)
    return (*shape[:-1], len(channels))


register("keras_recipes>Sampling", params=ZERO, macs=0, output_shape=_sampling_shape)
register("keras_recipes>FeatureMean", params=ZERO, macs=0, output_shape=_feature_mean_shape)
register("keras_recipes>SelectChannels", params=ZERO, macs=0,
         output_shape=_select_channels_shape)


# === Counting one layer ===


def _is_custom(class_name, registered_name):
    """Whether a layer is a registered class rather than Keras's own.

    Keras saves its own layers with no registered name (or their class name).
    """
    return registered_name is not None and registered_name != class_name


def layer_count(class_name, config, build_config, *, registered_name=None, module=None):
    """The `ParamCount` of one layer, or `None` if its class is not known here.

    Args:
        class_name: the layer's class name, as in a config's `"class_name"`.
        config: the layer's `get_config()` dict.
        build_config: the layer's `get_build_config()` dict (`None` when
            the layer was never built).
        registered_name: the config's `"registered_name"`; registered
            classes are looked up by it (see `register`). Defaults to `None`.
        module: the config's `"module"`; a class name is taken as Keras's
            own only when the module is Keras's (or not given). Defaults to
            `None`.

    Returns:
        A `ParamCount` with `trainable=False` applied, or `None`.

    Raises:
        ConfigError: (a `ValueError` and a `TypeError`) the config or build
            shape is not one a layer of that class could have; the message
            names the class and the key.

    Example:

    >>> layer_count("Dense", {"units": 3}, {"input_shape": [None, 2]})
    ParamCount(trainable=9, non_trainable=0)
    """
    return _count(class_name, config, build_config, registered_name, module, 0, False)


# What reading a config no layer could have raises inside a count function.
_CONFIG_ERRORS = (IndexError, KeyError, TypeError, AttributeError)


def _too_deep(class_name):
    return _readers.invalid(
        "config", f"layer wrappers nested at most {MAX_WRAPPER_DEPTH} deep", f"<{class_name} nested deeper>"
    )


def _count(class_name, config, build_config, registered_name, module, depth, outer_frozen):
    try:
        return _count_by_rule(class_name, config, build_config, registered_name, module, depth,
                              outer_frozen)
    except ConfigError as error:
        # The readers name the key; the class is known here. A wrapped
        # layer's error keeps the wrapped class, the one the key belongs to.
        raise error.where(class_name=class_name) from None


def _count_by_rule(class_name, config, build_config, registered_name, module, depth, outer_frozen):
    if depth > MAX_WRAPPER_DEPTH:
        raise _too_deep(class_name)
    if not isinstance(registered_name, (str, type(None))) or not isinstance(
        module, (str, type(None))
    ):
        return None
    frozen = outer_frozen or _readers.get(config, "trainable", True) is False
    if class_name in _BUILDS_SUBLAYERS and not outer_frozen:
        # Its sublayers' weights stay trainable: that is what Keras gives on
        # loading such a layer (and on building one frozen before its first
        # call). Freezing it after it was built does make its weights
        # non-trainable; `count_model` sees that on the live variables.
        frozen = False
    rule = _REGISTERED.get(registered_name)
    if rule is not None:
        if rule.params is None:
            return None
        try:
            count = rule.params(config, build_config)
        except ConfigError:
            raise
        except _CONFIG_ERRORS as error:
            # The rule read a config its layer could not have (a hostile
            # or corrupted file): a ConfigError, as for Keras's classes.
            raise _readers.invalid(
                "config", "a config its registered rule can read", f"{type(error).__name__}: {error}"
            ) from None
        if not isinstance(count, ParamCount):
            raise _readers.invalid(
                "params", f"the rule registered for {shown(registered_name, 80)} to return a ParamCount", count
            )
        return count.frozen() if frozen else count
    if registered_name not in (None, class_name) or (
        module is not None and not (module == "keras" or module.startswith("keras."))
    ):
        return None
    if registered_name is not None and module is None:
        # Keras saves a class defined in `__main__` (a script, a notebook)
        # with no module and its class name as registered name: a user's
        # class, maybe `class Dense(keras.layers.Dense)` with extra weights.
        return None
    entry = _KERAS.get(class_name) if isinstance(class_name, str) else None
    if entry is None or entry.params is None:
        return None
    if entry.params is _weightless:
        return ZERO
    if _weights.quantized(config) or (
        _readers.get(config, "lora_rank") and class_name not in _weights.LORA
    ):
        return None
    if entry.wrapper:
        return entry.params(class_name, config, build_config, depth, frozen)
    if build_config is None:
        raise _readers.invalid("build_config", "a built layer (the config has no build_config)", None)
    try:
        count = entry.params(class_name, config, build_config)
        if _readers.get(config, "lora_rank"):
            count = _weights.with_lora(class_name, config, build_config, count)
    except ConfigError:
        raise
    except _CONFIG_ERRORS as error:
        # A config no Keras layer could have (a hostile or corrupted file)
        # that slipped past the checks: still a clear ConfigError.
        raise _readers.invalid(
            "config", "a config Keras could have built", f"{type(error).__name__}: {error}"
        ) from None
    return count.frozen() if frozen else count


def layer_macs(class_name, config, build_config, *, registered_name=None):
    """Multiply-accumulates of one forward pass of one layer, for one sample.

    Args:
        class_name: the layer's class name, as in its serialized config
            (`"Dense"`, `"Conv2D"`, ...).
        config: the layer's `get_config()` dict, as stored in a `.keras`
            file's `config.json`.
        build_config: the layer's `get_build_config()` dict, usually
            `{"input_shape": [None, ...]}`, or `None` when the layer was never
            built (or, like most weightless layers, records no build shapes).
        registered_name: the config's `"registered_name"`
            (`"keras_recipes>Sampling"`), for a class registered with
            `keras.saving.register_keras_serializable`. A name other than
            `None` or `class_name` is looked up among the registered rules
            only (see `register`); any other registered class is unknown.
            Defaults to `None` (a Keras layer, known by its class name).

    Returns:
        An `int`: the MACs with the batch axis left out (multiply by the
        batch size for a batch, by 2 for FLOPs). `None` for an unknown class,
        or when a shape the count needs is missing or partly unknown. For
        layers whose MACs are 0 by convention, 0 even without a shape.

    Raises:
        ConfigError: (a `ValueError` and a `TypeError`) for a config or
            build config Keras would refuse, naming the class and the key (a wrong type, a negative size, an unknown padding).

    Example:

    >>> layer_macs("LSTM", {"units": 5}, {"input_shape": [None, 10, 4]})
    1800
    >>> layer_macs("MaxPooling2D", {"pool_size": [2, 2]}, None)
    0
    """
    result = _analyze(class_name, config, build_config, registered_name=registered_name)
    if result is None:
        return _macs_without_shape(class_name, registered_name)
    return result[1]


def layer_output_shape(class_name, config, build_config, *, registered_name=None):
    """The output shape of one layer, with `None` for the batch axis.

    The same shape as Keras's `layer.compute_output_shape(input_shape)`
    (axes Keras cannot know are `None` here too), except that the batch
    axis is always `None`. A layer with several outputs (a recurrent layer
    with `return_state=True`, `Bidirectional` with `merge_mode=None`) gets a
    tuple of shapes, one per output, as Keras returns.

    Args:
        class_name: the layer's class name, as in its serialized config.
        config: the layer's `get_config()` dict.
        build_config: the layer's `get_build_config()` dict, or `None`.
        registered_name: the config's `"registered_name"`, as for
            `layer_macs`. Defaults to `None`.

    Returns:
        A tuple of sizes (`int` or `None`), a tuple of such tuples for a
        layer with several outputs, or `None` for an unknown class or a
        missing input shape.

    Raises:
        ConfigError: (a `ValueError` and a `TypeError`) for a config or
            build config Keras would refuse, naming the class and the key.

    Example:

    >>> layer_output_shape("Flatten", {}, {"input_shape": [None, 4, 4, 3]})
    (None, 48)
    """
    result = _analyze(class_name, config, build_config, registered_name=registered_name)
    return None if result is None else result[0]


def _macs_without_shape(class_name, registered_name):
    """The MACs of a layer whose shape rule cannot answer: 0 by convention, or `None`."""
    if _is_custom(class_name, registered_name):
        rule = _REGISTERED.get(registered_name)
        return rule.macs if rule is not None and isinstance(rule.macs, int) else None
    entry = _KERAS.get(class_name)
    return 0 if entry is not None and entry.zero_macs else None


def _analyze(class_name, config, build_config, depth=0, registered_name=None):
    """`(output_shape, macs)` of one layer, or `None` when it cannot tell."""
    try:
        return _analyze_by_rule(class_name, config, build_config, depth, registered_name)
    except ConfigError as error:
        raise error.where(class_name=class_name) from None


def _analyze_by_rule(class_name, config, build_config, depth, registered_name):
    if depth > MAX_WRAPPER_DEPTH:
        raise _too_deep(class_name)
    if not isinstance(class_name, str):
        raise _readers.wrong_type("class_name", "a string", class_name)
    if not isinstance(config, dict):
        raise _readers.wrong_type("config", "a dict", config).where(class_name=class_name)
    if not isinstance(registered_name, (str, type(None))):
        raise _readers.wrong_type("registered_name", "None or a string", registered_name).where(
            class_name=class_name
        )
    if _is_custom(class_name, registered_name):
        rule = _REGISTERED.get(registered_name)
        if rule is None or _shapes.build_inputs(build_config) is None:
            return None
        return _registered_analysis(rule, config, build_config)
    if class_name == "InputLayer":
        return _shapes.input_layer(config)
    entry = _KERAS.get(class_name)
    if entry is None or entry.shape is None:
        return None
    inputs = _shapes.build_inputs(build_config)
    if inputs is None:
        return None
    if entry.wrapper:
        return entry.shape(config, inputs, depth)
    return entry.shape(config, inputs)


def _registered_analysis(rule, config, build_config):
    """`(output_shape, macs)` of a registered class, either `None` where its rule has no part."""
    shape = None if rule.output_shape is None else rule.output_shape(config, build_config)
    if isinstance(shape, list):
        shape = tuple(shape)
    if callable(rule.macs):
        macs = rule.macs(config, build_config)
    else:
        macs = rule.macs
    return shape, macs
