"""The config readers, the limits and the one error of `param_count`'s rules.

Every rule (the parameter counts of `_layer_configs`, the shapes and MACs of
`_macs`, the wrappers of `_rules`) reads a layer's `config` and
`build_config` through the readers here, so a key is checked the same way
whichever column asks, and a config no layer could have raises one error,
`ConfigError`, whatever the column. The readers raise it naming the key; the
rule table adds the layer's class, and the row maker adds the layer's path.

The error subclasses both `ValueError` and `TypeError` (as numpy's
`AxisError` subclasses `ValueError` and `IndexError`): a wrong value and a
wrong type in a file are the same mistake to a reader of it, and code that
catches either keeps working.

Example:

>>> positive({"units": 3}, "units")
3
>>> positive({"units": 0}, "units")
Traceback (most recent call last):
...
keras_recipes.param_count._readers.ConfigError: Invalid value for argument `units`: expected a positive integer up to 281474976710656. Received: units=0
"""

from keras_recipes import _validation
from keras_recipes._untrusted import shown

# === Limits ===
# Bounds that keep a hostile config from making the arithmetic slow (a
# product of a million 4,000-digit sizes) or the rules recurse without end.

MAX_AXIS = 2**48
"""The longest tensor axis a config may give: far beyond any real layer."""

MAX_RANK = 32
"""The most axes a shape in a config may have (Keras's backends allow fewer)."""

MAX_WRAPPER_DEPTH = 16
"""How many wrappers (Bidirectional, TimeDistributed, SpectralNormalization)
may nest, for the count, the MACs and the shape alike: real models use one or
two; a config nested deeper is refused rather than recursed into."""


# === The one error ===


class ConfigError(ValueError, TypeError):
    """A layer config or build config that no layer of its class could have.

    Raised by every rule of `param_count` (parameters, MACs, output shapes),
    and what a rule registered with `param_count.register` may raise for a
    config its layer could not have. The message names the layer's path (in
    a table), its class and the config key, in Keras's form
    ``Invalid value for argument `key` ... Received: key=value``; a value from
    a file is shown escaped and cut short.

    Args:
        key: the config key (or `"input_shape"`, `"build_config"`, ...).
        expected: what a valid value would be, in words.
        value: the value received.
        class_name: the layer's class name, where known. Defaults to `None`.
        path: the layer's path in a table, where known. Defaults to `None`.
        wrong_type: whether the value has the wrong type (the message then
            says "Invalid type" and names the type). Defaults to `False`.

    Attributes:
        key, expected, value, class_name, path: as given.

    Example:

    >>> error = ConfigError("units", "a positive integer", 0, class_name="Dense", path="d")
    >>> print(error)
    Cannot count layer 'd': Invalid value for argument `units` of a `Dense` layer: expected a positive integer. Received: units=0
    >>> isinstance(error, ValueError) and isinstance(error, TypeError)
    True
    """

    def __init__(self, key, expected, value, *, class_name=None, path=None, wrong_type=False):
        self.key = key
        self.expected = expected
        self.value = value
        self.class_name = class_name
        self.path = path
        self.wrong_type = wrong_type
        super().__init__(self._message())

    def _message(self):
        key = shown(self.key, 80)
        kind = "type" if self.wrong_type else "value"
        where = "" if self.class_name is None else f" of a `{shown(self.class_name, 80)}` layer"
        received = f"{key}={shown(repr(self.value), 200)}"
        if self.wrong_type:
            received += f" of type {shown(type(self.value).__name__, 80)}"
        message = (
            f"Invalid {kind} for argument `{key}`{where}: expected "
            f"{shown(self.expected, 300)}. Received: {received}"
        )
        if self.path is not None:
            message = f"Cannot count layer '{self.path}': {message}"
        return message

    def where(self, *, class_name=None, path=None):
        """The same error with the class and path filled in where not known yet.

        Args:
            class_name: the layer's class name. Defaults to `None`.
            path: the layer's path in a table. Defaults to `None`.

        Returns:
            A new `ConfigError`, or this one when nothing changes.
        """
        class_name = self.class_name if self.class_name is not None else class_name
        path = self.path if self.path is not None else path
        if (class_name, path) == (self.class_name, self.path):
            return self
        return ConfigError(self.key, self.expected, self.value, class_name=class_name,
                           path=path, wrong_type=self.wrong_type)


def invalid(key, expected, value):
    """A `ConfigError` for a value no layer could have."""
    return ConfigError(key, expected, value)


def wrong_type(key, expected, value):
    """A `ConfigError` for a value of a type no layer could have."""
    return ConfigError(key, expected, value, wrong_type=True)


# === Readers ===


def get(config, key, default=None):
    """`config[key]`, or `default` when it is missing or `config` is no dict."""
    return config.get(key, default) if isinstance(config, dict) else default


# These three run for every size of every layer: the exact-type test comes
# first, as in `_validation.is_int`, and the ABC test only for other ints.


def is_size(value):
    """Whether `value` is an axis size: an integer from 1 to `MAX_AXIS`."""
    if type(value) is int:
        return 0 < value <= MAX_AXIS
    return _validation.is_int(value) and 0 < value <= MAX_AXIS


def is_dim(value):
    """Whether `value` is a size in a shape: `None` (unknown), or 0 to `MAX_AXIS`."""
    if value is None:
        return True
    if type(value) is int:
        return 0 <= value <= MAX_AXIS
    return is_count(value)


def is_count(value):
    """Whether `value` is an integer from 0 to `MAX_AXIS` (an index, a padding)."""
    return _validation.is_int(value) and 0 <= value <= MAX_AXIS


def positive(config, key, default=None):
    """`config[key]` as a positive `int` of at most `MAX_AXIS`."""
    value = get(config, key, default)
    if not is_size(value):
        raise invalid(key, f"a positive integer up to {MAX_AXIS}", value)
    return int(value)


def non_negative(config, key, default=None):
    """`config[key]` as a non-negative `int` of at most `MAX_AXIS`."""
    value = get(config, key, default)
    if not is_count(value):
        raise invalid(key, f"a non-negative integer up to {MAX_AXIS}", value)
    return int(value)


def flag(config, key, default):
    """`config[key]`, which must be `True` or `False`."""
    value = get(config, key, default)
    if not isinstance(value, bool):
        raise invalid(key, "a bool (True or False)", value)
    return value


def int_tuple(config, key, rank, default=None, minimum=1):
    """`config[key]`, an int or a list of `rank` ints, as a tuple of ints.

    Each int is from `minimum` to `MAX_AXIS`.
    """
    value = get(config, key, default)
    if _validation.is_int(value):
        value = (value,) * rank
    if (
        not _validation.is_sequence(value)
        or len(value) != rank
        or not all(_validation.is_int(item) and minimum <= item <= MAX_AXIS for item in value)
    ):
        raise invalid(key, f"an integer or a list of {rank} integers from {minimum} to {MAX_AXIS}", value)
    return tuple(int(item) for item in value)


def shape(value, key="input_shape"):
    """`value`, a shape of at most `MAX_RANK` sizes (`None` or 0 to `MAX_AXIS`), as a list."""
    if not _validation.is_sequence(value) or len(value) > MAX_RANK or not all(map(is_dim, value)):
        raise invalid(key, f"a shape: a list of at most {MAX_RANK} sizes (integers or None)", value)
    if all(size is None or type(size) is int for size in value):
        return list(value)
    return [None if size is None else int(size) for size in value]


def build_shape(build_config, key="input_shape"):
    """The shape under `key` of a build config (`{"input_shape": [None, 4]}`), as a list."""
    return shape(get(build_config, key), key)


def layer(config, key):
    """`config[key]`, a serialized layer: a dict with a string `class_name`."""
    value = get(config, key)
    if not isinstance(value, dict) or not isinstance(value.get("class_name"), str):
        raise invalid(key, "a serialized layer (a dict with a class_name)", value)
    return value


def choice(config, key, default, choices):
    """`config[key]`, a string among `choices` (matched without case)."""
    value = get(config, key, default)
    if isinstance(value, str):
        value = value.lower()
    if value not in choices:
        raise invalid(key, f"one of {list(choices)}", value)
    return value
