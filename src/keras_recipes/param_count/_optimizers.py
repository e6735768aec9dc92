"""The variables a Keras 3 optimizer creates for a model, by class, without Keras.

One table, `SLOTS`, says for each optimizer class how many copies of every
trainable variable its `build()` makes (`add_optimizer_variables` and
`add_variable_from_reference`, each in the variable's shape and dtype), as
read from Keras 3.15's `keras/src/optimizers/*.py`. A few classes add
something that is not a copy; `state_bytes` adds those by name:

- `Nadam`: one scalar `u_product` in the first variable's dtype (among the
  optimizer's variables only when it is not loss-scaled, see below).
- `Adafactor`: beside a full `velocity` copy of every variable, a row
  statistic of shape `shape[:-1]` and a column statistic of shape
  `shape[:-2] + shape[-1:]` for a variable of rank 2 or more; a variable of
  rank 0 or 1 gets two int32 scalars instead (Keras's placeholders, which are
  among the optimizer's variables only when it is not loss-scaled).
- `LossScaleOptimizer` (what `compile` wraps the optimizer in under
  `mixed_float16`): a float32 `dynamic_scale`.

The base class adds, with `use_ema`, an `average` copy of every variable,
and with `gradient_accumulation_steps`, a `gradient_accumulator` copy.

Not counted (the "counters"): every optimizer's `iteration` (int64 on
TensorFlow, int32 on JAX and PyTorch), its `learning_rate` (a float32
scalar, absent under a schedule), and the loss-scale optimizer's
`step_counter`; they are a few bytes whose size depends on the backend.
"""

from dataclasses import dataclass
from math import prod

from keras_recipes import _validation

# Copies of each trainable variable that `build()` makes, as a function of
# the optimizer's config (`get_config()`, its documented defaults filled in).
SLOTS = {
    "sgd": lambda config: 1 if config.get("momentum", 0.0) != 0 else 0,
    "adam": lambda config: 3 if config.get("amsgrad", False) else 2,
    "adamw": lambda config: 3 if config.get("amsgrad", False) else 2,
    "adamax": lambda config: 2,
    "nadam": lambda config: 2,
    "rmsprop": lambda config: (1 + (config.get("momentum", 0.0) > 0)
                               + bool(config.get("centered", False))),
    "adagrad": lambda config: 1,
    "adadelta": lambda config: 2,
    "ftrl": lambda config: 2,
    "lion": lambda config: 1,
    "lamb": lambda config: 2,
    # The full `velocity`; the factored statistics are added by shape.
    "adafactor": lambda config: 1,
}

OPTIMIZERS = tuple(SLOTS)
"""The optimizer names `training_memory` knows, lower case (Keras's class names, lowered)."""

# Keras's scalar placeholders for an unfactored Adafactor variable are
# `backend.Variable(0)`: int32 on every backend.
_ADAFACTOR_PLACEHOLDER_BYTES = 2 * 4
_LOSS_SCALE_BYTES = 4  # `dynamic_scale`, float32


@dataclass(frozen=True)
class OptimizerSpec:
    """What decides an optimizer's variables.

    Attributes:
        name: the class name, lower case (one of `OPTIMIZERS`).
        config: its `get_config()` dict (or `{}` for a name: Keras's defaults).
        loss_scale: whether it is wrapped in a `LossScaleOptimizer`.
    """

    name: str
    config: dict
    loss_scale: bool = False

    @property
    def copies(self):
        """Copies of each trainable variable, EMA and accumulators included."""
        base = SLOTS[self.name](self.config)
        return (base + bool(self.config.get("use_ema", False))
                + bool(self.config.get("gradient_accumulation_steps")))

    def describe(self):
        """A short text: `"adam"`, `"adam (amsgrad, ema) + loss scale"`."""
        options = [key for key in ("amsgrad", "centered", "use_ema") if self.config.get(key)]
        if self.config.get("momentum"):
            options.insert(0, f"momentum={self.config['momentum']:g}")
        if self.config.get("gradient_accumulation_steps"):
            options.append(f"accumulate={self.config['gradient_accumulation_steps']}")
        text = self.name + (f" ({', '.join(options)})" if options else "")
        return text + (" + loss scale" if self.loss_scale else "")


def optimizer_spec(optimizer, argument="optimizer"):
    """The `OptimizerSpec` of an optimizer name or a `keras.optimizers.Optimizer`.

    An object is read through `get_config()` and its class name only (no
    Keras import); a `LossScaleOptimizer` through its `inner_optimizer`.

    Args:
        optimizer: a name (`"adam"`, `"RMSprop"`; case does not matter) or
            an optimizer object.
        argument: the argument's name, for messages. Defaults to
            `"optimizer"`.

    Returns:
        An `OptimizerSpec`.

    Raises:
        ValueError: an unknown name or class (the message lists the known ones).
        TypeError: neither a string nor an object with `get_config()`.

    Example:

    >>> optimizer_spec("Adam").copies
    2
    """
    if isinstance(optimizer, str):
        return OptimizerSpec(name=_known(argument, optimizer, optimizer), config={})
    get_config = getattr(optimizer, "get_config", None)
    if not callable(get_config):
        raise _validation.wrong_type(
            argument, f"an optimizer name (one of {list(OPTIMIZERS)}) or a keras Optimizer",
            optimizer)
    config = get_config()
    class_name = type(optimizer).__name__
    if class_name == "LossScaleOptimizer":
        inner = config.get("inner_optimizer") or {}
        inner_class = inner.get("class_name", "") if isinstance(inner, dict) else ""
        return OptimizerSpec(name=_known(argument, inner_class, optimizer),
                             config=dict(inner.get("config") or {}), loss_scale=True)
    return OptimizerSpec(name=_known(argument, class_name, optimizer), config=dict(config))


def _known(argument, name, value):
    key = name.lower()
    if key not in SLOTS:
        raise _validation.invalid(argument, f"one of {list(OPTIMIZERS)} or such an optimizer "
                                  "object (or its LossScaleOptimizer)", value)
    return key


def state_bytes(spec, trainable, itemsize, shapes=None):
    """Bytes of the optimizer's variables for a model's trainable variables, counters left out.

    Args:
        spec: an `OptimizerSpec`.
        trainable: how many trainable numbers the model has.
        itemsize: bytes per number of the variables (their dtype's).
        shapes: each trainable variable's shape, a sequence of tuples;
            needed for Adafactor only, otherwise `None` is fine.

    Returns:
        An int, in bytes.

    Raises:
        ValueError: Adafactor without `shapes`.

    Example:

    >>> state_bytes(OptimizerSpec("adam", {}), 26, 4)
    208
    >>> state_bytes(OptimizerSpec("adafactor", {}), 26, 4, shapes=[(2, 3), (3,)])
    132
    """
    total = spec.copies * trainable * itemsize
    # Nadam's `u_product` and Adafactor's placeholders are made with
    # `backend.Variable`, which the optimizer tracks by attribute;
    # `LossScaleOptimizer.build` turns that tracking off, so wrapped they are
    # not among its variables.
    tracked = not spec.loss_scale
    if spec.name == "nadam" and tracked:
        total += itemsize  # `u_product`
    if spec.name == "adafactor":
        if shapes is None:
            raise ValueError(
                "Invalid value for argument `source`: Adafactor's statistics depend on the "
                "shape of each trainable variable, which a saved config or a table does not "
                "record. Pass the built model instead. Received: a table or a saved config"
            )
        for shape in shapes:
            if len(shape) < 2:
                total += _ADAFACTOR_PLACEHOLDER_BYTES if tracked else 0
            else:
                total += (prod(shape[:-1]) + prod(shape[:-2]) * shape[-1]) * itemsize
    if spec.loss_scale:
        total += _LOSS_SCALE_BYTES
    return total
