"""The rows of a table, made in one place for both front ends.

The one walker (`_graph.GraphWalk`), fed by `count_model` (a live model)
and `count_config` (a saved config), asks here for the row of each use of
a layer: the first use of
a layer is counted by its rule (`_rules`), a later use is a `"shared"` row of
0, a nested model is a `"nested"` row whose MACs are its layers'. So a layer
gets the same row from both, by construction. Rows are built by keyword and
changed with `dataclasses.replace` (or, once per
layer, by building a new one, which is faster).
"""

from dataclasses import replace

from keras_recipes.param_count import _rules
from keras_recipes.param_count._readers import ConfigError
from keras_recipes._counting.record import ZERO
from keras_recipes.param_count._table import (
    LayerRow,
    build_shape,
    known_macs,
    sum_macs,
    with_input_shape,
)


def first_use_row(path, class_name, config, build_config, *, registered_name=None, module=None,
                  frozen=False, input_shape=None, weights=None, strict=True, shown_class=None,
                  output_bytes=None):
    """The row of a layer's first use, counted by the rule of its class.

    Args:
        path: the row's path (shown, for a saved config).
        class_name: the layer's class name.
        config: the layer's `get_config()` dict.
        build_config: its `get_build_config()` dict, or `None`.
        registered_name: its Keras registered name, or `None` for Keras's
            own classes.
        module: its class's module, or `None`.
        frozen: whether its weights are non-trainable (its own or an outer
            model's `trainable=False`).
        input_shape: the shape it was called on, from the graph: it stands in
            for a build config that records none (`Reshape`).
        weights: for a live layer, a function giving `count_params()`'s
            count, used (status `"fallback"`) when no rule counts the class;
            `None` for a saved layer, whose row is then `"unsupported"`.
        strict: raise on a config the rule refuses (a saved file: the
            message names `path`); when false, the layer counts as unknown.
        shown_class: the class name as the row shows it (escaped and cut,
            for a saved config). Defaults to `class_name`.
        output_bytes: the bytes of the call's outputs, for a row that is
            counted (an unsupported row has none). Defaults to `None`.

    Returns:
        A `LayerRow`.

    Raises:
        ConfigError: with `strict`, the config is one Keras could not have;
            the message names `path`, the class and the key.
        ValueError: with `strict`, a registered rule raised one.
    """
    try:
        count = _rules.layer_count(class_name, config, build_config,
                                   registered_name=registered_name, module=module)
    except ConfigError as error:
        if strict:
            raise error.where(path=path) from None
        count = None
    except ValueError as error:
        # A registered rule of a user's may raise a ValueError of its own.
        if strict:
            raise ValueError(f"Cannot count layer '{path}': {error}") from None
        count = None
    if count is None and isinstance(module, str) and module.startswith(("keras.src.ops", "keras.ops")):
        # A non-layer operation of a functional graph (`x + y`): no weights.
        count = ZERO
    shown_class = class_name if shown_class is None else shown_class
    status = "formula"
    if count is None:
        if weights is None:
            return LayerRow(path=path, class_name=shown_class,
                            build_shape=build_shape(build_config), count=ZERO, macs=None,
                            output_bytes=None, status="unsupported")
        count, status = weights(), "fallback"
    if frozen:
        count = count.frozen()
    macs = None
    if status == "formula":
        # A layer without a build config (Reshape) is measured on the shape
        # it was called on.
        shapes = with_input_shape(build_config, input_shape)
        macs = known_macs(class_name, config, shapes, registered_name)
    activation = config.get("activation") if isinstance(config, dict) else None
    return LayerRow(path=path, class_name=shown_class, build_shape=build_shape(build_config),
                    count=count, macs=macs, output_bytes=output_bytes, status=status,
                    activation=activation if isinstance(activation, str) else None)


def shared_row(path, first, output_bytes):
    """A later use of the layer or model whose first row is `first`: 0 parameters, its MACs again."""
    return LayerRow(path=path, class_name=first.class_name, build_shape=first.build_shape,
                    count=ZERO, macs=first.macs, output_bytes=output_bytes, status="shared",
                    activation=first.activation)


def uncounted_row(path, class_name, build_config, output_bytes, status):
    """A row of no parameters and unknown MACs: a wrapper around a layer counted
    elsewhere (`"shared"`), or a layer whose count cannot be known (`"unsupported"`)."""
    return LayerRow(path=path, class_name=class_name, build_shape=build_shape(build_config),
                    count=ZERO, macs=None, output_bytes=output_bytes, status=status)


def nested_row(path, class_name, build_config, output_bytes):
    """The row of a nested model, before its layers' rows: 0, its MACs not yet known."""
    return LayerRow(path=path, class_name=class_name, build_shape=build_shape(build_config),
                    count=ZERO, macs=None, output_bytes=output_bytes, status="nested")


def finish_nested(row, layer_rows):
    """The nested row once its layers' rows are made: it carries their MACs,
    so that a later shared use of the model counts them again."""
    return replace(row, macs=sum_macs(layer_rows))


def with_output_bytes(row, output_bytes):
    """The same row with `output_bytes` set."""
    # Built directly rather than with `replace`, which inspects the fields
    # on every call: once per layer, it was 5% of `count_config`'s time.
    return LayerRow(path=row.path, class_name=row.class_name, build_shape=row.build_shape,
                    count=row.count, macs=row.macs, output_bytes=output_bytes,
                    status=row.status, activation=row.activation)
