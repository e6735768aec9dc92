"""`assert_param_count`: a model's parameters against what its author worked out."""

from keras_recipes import _validation
from keras_recipes.param_count import ParamCount, count_model


def _as_count(name, value):
    if isinstance(value, ParamCount):
        return value
    if _validation.is_int(value):
        return _validation.check_non_negative_int(name, value)
    raise _validation.wrong_type(name, "a non-negative integer or a ParamCount", value)


def _same(expected, actual):
    """An int is compared with the total, a ParamCount with the split too."""
    if isinstance(expected, ParamCount):
        return expected == actual
    return expected == actual.total


def _text(count):
    if isinstance(count, ParamCount):
        return f"{count.total:,} ({count.trainable:,} trainable, {count.non_trainable:,} non-trainable)"
    return f"{count:,}"


def assert_param_count(model, expected):
    """Check that `model` has the parameters its author expected.

    Args:
        model: a built `keras.Model`.
        expected: an int (the total, `model.count_params()`), a `ParamCount`
            (the total and its trainable/non-trainable split), or a dict of
            layer name to int or `ParamCount`. Names are the table's paths:
            the layer's name, prefixed with `"nested_model/"` for layers of
            nested models. With a dict, every layer that has parameters must
            be listed, and each listed layer must have its count.

    Raises:
        AssertionError: the counts differ; the message lists each layer that
            differs (for a dict) or the whole per-layer table (otherwise).
        TypeError: `expected` is none of these.

    Example:

    >>> import keras
    >>> model = keras.Sequential(
    ...     [keras.Input((2,)), keras.layers.Dense(3, name="hidden")], name="tiny"
    ... )
    >>> assert_param_count(model, 9)
    >>> assert_param_count(model, {"hidden": 8})
    Traceback (most recent call last):
    ...
    AssertionError: Parameter counts differ in 1 layer of model 'tiny':
      hidden: expected 8, got 9 (9 trainable, 0 non-trainable)
    """
    if isinstance(expected, dict):
        for name in expected:
            if not isinstance(name, str):
                raise _validation.wrong_type("expected", "a dict keyed by layer names", expected)
        expected = {
            name: _as_count(f"expected[{name!r}]", value) for name, value in expected.items()
        }
    else:
        expected = _as_count("expected", expected)
    table = count_model(model)
    if not isinstance(expected, dict):
        total = table.total
        if not _same(expected, total):
            raise AssertionError(
                f"Parameter count of model {model.name!r}: expected {_text(expected)}, "
                f"got {_text(total)}.\nPer layer:\n{table}"
            )
        return
    actual = {}
    for row in table.rows:
        actual[row.path] = actual.get(row.path, ParamCount()) + row.count
    lines = []
    for path, count in actual.items():
        if path in expected:
            if not _same(expected[path], count):
                lines.append(f"  {path}: expected {_text(expected[path])}, got {_text(count)}")
        elif count.total:
            lines.append(f"  {path}: not in expected, has {_text(count)}")
    for path in expected:
        if path not in actual:
            lines.append(f"  {path}: expected {_text(expected[path])}, but the model has no such layer")
    if lines:
        layers = "layer" if len(lines) == 1 else "layers"
        raise AssertionError(
            f"Parameter counts differ in {len(lines)} {layers} of model {model.name!r}:\n"
            + "\n".join(lines)
        )
