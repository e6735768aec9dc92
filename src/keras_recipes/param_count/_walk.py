"""`count_model`: a per-layer parameter table of a live Keras model.

The live front end of the one walker (`_graph.GraphWalk`): it resolves each
call of a layer into a `LayerUse` (the layer's object is its identity, its
`get_config()` and `get_build_config()` are counted with the same pure
formulas `count_config` uses on a saved file, its real weights stand in
where no formula knows the class), and the core makes the rows, so a live
model and its `.keras` file give the same table. It never imports Keras
itself: a model passed in brings its own.
"""

import sys

from keras_recipes import _validation
from keras_recipes.param_count import _layer_configs
from keras_recipes._counting.record import ZERO, ParamCount
from keras_recipes.param_count._graph import GraphWalk, LayerUse
from keras_recipes.param_count._table import LayerRow, ParamTable, activation_bytes

_GRAPH_MODELS = ("Functional", "Sequential")


def _keras():
    return sys.modules["keras"]


def _weights_count(layer):
    """What Keras counts for one layer: its deduplicated weights, split."""
    trainable = sum(_size(weight) for weight in layer.trainable_weights)
    non_trainable = sum(_size(weight) for weight in layer.non_trainable_weights)
    return ParamCount(trainable, non_trainable)


def _size(weight):
    size = 1
    for dim in weight.shape:
        size *= int(dim)
    return size


def _is_graph_model(layer):
    keras = _keras()
    if not isinstance(layer, keras.Model):
        return False
    return (
        type(layer).__name__ in _GRAPH_MODELS
        or keras.saving.get_registered_name(type(layer)) in _layer_configs.GRAPH_SUBCLASSES
    )


def _members(model):
    """The model's layers and operations in order, each with its calls in this graph.

    Returns a list of `(operation, calls)`, one `(output tensors, input
    shape)` pair per call of the operation inside `model` (either may be
    `None` when not known). `model.layers` would
    miss the non-layer operations (`x + y`), and a layer's `_inbound_nodes`
    would include its calls in other models.
    """
    keras = _keras()
    if type(model).__name__ == "Sequential":
        members = []
        for layer in model.layers:
            try:
                outputs = [layer.output]
                input_shape = _input_shape(layer.input)
            except (AttributeError, ValueError):
                outputs, input_shape = None, None
            members.append((layer, [(outputs, input_shape)]))
        return members
    calls = {}
    for depth in sorted(model._nodes_by_depth, reverse=True):
        for node in model._nodes_by_depth[depth]:
            args = node.arguments.args
            # An operation on several tensors (`x + y`) takes them as a list,
            # as `count_config` reads the saved node.
            several = len(args) > 1 and all(hasattr(arg, "shape") for arg in args)
            input_shape = _input_shape(list(args) if several else args[0]) if args else None
            calls.setdefault(id(node.operation), []).append((list(node.outputs), input_shape))
    return [
        (operation, calls.get(id(operation), [(None, None)]))
        for operation in model.operations
        if not isinstance(operation, keras.layers.InputLayer)
    ]


def _input_shape(value):
    """The shape (or list of shapes) of a call's first argument, as a build config has it."""
    if isinstance(value, (list, tuple)):
        shapes = [_input_shape(item) for item in value]
        return shapes if shapes and all(isinstance(shape, tuple) for shape in shapes) else None
    shape = getattr(value, "shape", None)
    try:
        return tuple(None if dim is None else int(dim) for dim in shape)
    except (TypeError, ValueError):
        return None


def _shared_inner(layer):
    """The layer a TimeDistributed wraps: the user's object, so it may be used elsewhere too.

    (Bidirectional is not listed: it always builds fresh copies.)
    """
    if type(layer).__name__ == "TimeDistributed" and type(layer).__module__.startswith("keras."):
        return layer.layer
    return None


def _output_bytes(outputs):
    if outputs is None:
        return None
    flat = []
    for tensor in outputs:
        flat.extend(tensor if isinstance(tensor, (list, tuple)) else [tensor])
    try:
        return activation_bytes([(tuple(t.shape), str(t.dtype)) for t in flat])
    except (AttributeError, TypeError):
        return None


def _plain(value):
    """`value` with numpy integers made plain ints, as saving to JSON makes them.

    A layer made with `Conv2D(np.int64(4), ...)` keeps the numpy int in its
    config; the formulas accept plain ints only.
    """
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_plain(item) for item in value)
    if type(value) is not int and _validation.is_int(value):
        return int(value)
    return value


def _use(operation, path, frozen, outputs, input_shape):
    """The `LayerUse` of one call of a live layer, model or operation."""
    keras = _keras()
    class_name = type(operation).__name__
    module = type(operation).__module__
    output_bytes = _output_bytes(outputs)
    if _is_graph_model(operation):
        return LayerUse(path=path, key=id(operation), class_name=class_name,
                        build_config=operation.get_build_config(), output_bytes=output_bytes,
                        nested=True)
    if not isinstance(operation, keras.layers.Layer):
        # A non-layer operation of a functional graph (`x + y`): counted from
        # its config as `count_config` counts its saved one.
        try:
            config = _plain(operation.get_config())
        except NotImplementedError:  # an operation Keras cannot serialize
            config = None
        if not isinstance(config, dict):
            return LayerUse(path=path, key=id(operation), class_name=class_name,
                            output_bytes=output_bytes, status="formula")
        return LayerUse(path=path, key=id(operation), class_name=class_name, config=config,
                        module=module, frozen=frozen, input_shape=input_shape,
                        output_bytes=output_bytes, weights=_no_weights)
    inner = _shared_inner(operation)
    # Keras's own classes go by class name (their registered name can be an
    # export alias); only custom classes by registration.
    registered_name = (
        None if module.startswith("keras.") else keras.saving.get_registered_name(type(operation))
    )
    return LayerUse(
        path=path,
        key=id(operation),
        class_name=class_name,
        config=_plain(operation.get_config()),
        build_config=_plain(operation.get_build_config()),
        registered_name=registered_name,
        module=module,
        # Keras flags each variable; a layer frozen after it was built has
        # every variable non-trainable whatever its config says (see
        # MultiHeadAttention in `_rules`).
        frozen=frozen or not any(weight.trainable for weight in operation.weights),
        input_shape=input_shape,
        output_bytes=output_bytes,
        weights=lambda: _weights_count(operation),
        wrapped_key=None if inner is None else id(inner),
    )


def _no_weights():
    return ZERO


def _walk(model, prefix, frozen, walk):
    """Add the rows of `model`'s layers to `walk`."""
    for operation, calls in _members(model):
        path = prefix + operation.name
        for outputs, input_shape in calls:
            if id(operation) in walk.seen:
                # A later use: its row needs only its outputs.
                use = LayerUse(path=path, key=id(operation), class_name=type(operation).__name__,
                               output_bytes=_output_bytes(outputs))
            else:
                use = _use(operation, path, frozen, outputs, input_shape)
            if walk.add(use).status == "nested":
                _walk(operation, path + "/", frozen or not operation.trainable, walk)
                walk.close()


def count_model(model):
    """Per-layer parameter table of a built Keras model.

    Walks Sequential and Functional models, recursing into nested models,
    and counts each layer from its config and build shape with the pure
    formulas of `param_count` (status `"formula"`). A layer whose class the
    formulas do not know is counted with its own weights, as
    `count_params()` does, and marked `"fallback"`. A layer or nested model
    used more than once is counted at its first use; each later use is a
    `"shared"` row of 0, so the rows add up to `table.total`, which equals
    `model.count_params()` with the same trainable/non-trainable split.
    `trainable=False` on a layer or on any model that holds it makes its
    parameters non-trainable. Optimizer, metric and seed-generator state is
    not counted, as Keras does not count it. Input layers have no row.

    Args:
        model: a built `keras.Model` (Sequential, Functional, or a subclassed
            model, which is counted as one fallback row).

    Returns:
        A `ParamTable`.

    Raises:
        TypeError: `model` is not a Keras model.
        ValueError: the model is not built (Keras cannot count it either).

    Example:

    >>> import keras
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, name="dense")])
    >>> table = count_model(model)
    >>> table.total
    ParamCount(trainable=9, non_trainable=0)
    >>> [(row.path, row.count.total, row.status) for row in table.rows]
    [('dense', 9, 'formula')]
    """
    keras = sys.modules.get("keras")
    if keras is None or not isinstance(model, keras.Model):
        raise TypeError(
            "Invalid type for argument `model`: expected a keras.Model. "
            f"Received: model={model!r}"
        )
    if not model.built:
        raise ValueError(
            "Invalid value for argument `model`: expected a built model; call it "
            "on data or give it an `Input` first. "
            f"Received: model={model.name!r} (unbuilt)"
        )
    rows = []
    if not _is_graph_model(model):
        count = _weights_count(model)
        rows.append(LayerRow(path=model.name, class_name=type(model).__name__,
                             build_shape=None, count=count, macs=None, output_bytes=None,
                             status="fallback"))
        return ParamTable(rows, name=model.name)
    walk = GraphWalk(strict=False)
    _walk(model, "", not model.trainable, walk)
    return ParamTable(walk.rows, name=model.name)
