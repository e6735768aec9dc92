"""Will it fit? The memory one training step needs, from a model, a `.keras` file or a table.

`training_memory` adds five parts, each from what `param_count` already
knows (the rows of `count_model` / `count_config`), so a path or a table
needs no Keras:

- parameters: every weight, in the policy's variable dtype;
- gradients: one per trainable number, in the variable dtype;
- optimizer state: the slots Keras's optimizer creates (`_optimizers`);
- activations: what the forward pass keeps for the backward pass, per
  sample (the rows' output bytes, by the rule of `kept_factor`), in the
  compute dtype, times the batch size;
- the batch: inputs and targets, per sample, times the batch size.

The "Will it fit?" page of the docs gives each formula and its errors.
"""

import os
import re
from dataclasses import dataclass, replace
from math import prod

from keras_recipes import _validation
from keras_recipes.param_count._optimizers import optimizer_spec, state_bytes
from keras_recipes.param_count._saved import count_config
from keras_recipes.param_count._table import ParamTable, dtype_bytes
from keras_recipes.param_count._walk import count_model

# Policy name: (variable dtype, compute dtype).
DTYPE_POLICIES = {
    "float32": ("float32", "float32"),
    "float16": ("float16", "float16"),
    "bfloat16": ("bfloat16", "bfloat16"),
    "float64": ("float64", "float64"),
    "mixed_float16": ("float32", "float16"),
    "mixed_bfloat16": ("float32", "bfloat16"),
}

# Layers whose output is a view of their input (or the input itself): the
# backward pass keeps nothing of theirs.
VIEWS = frozenset({"InputLayer", "Reshape", "Flatten", "Identity", "ActivityRegularization"})
# Dropout keeps its output and a mask of the same size (in the compute dtype).
DROPOUTS = frozenset({"Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
                      "GaussianDropout", "AlphaDropout"})
# Activations whose gradient needs only their output: a layer with one of
# these fused in keeps its output once; with another (gelu, swish, ...) the
# pre-activation too.
OUTPUT_GRADIENT_ACTIVATIONS = frozenset({None, "linear", "relu", "sigmoid", "tanh", "softmax"})

_UNITS = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
          "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}
_SIZE = re.compile(r"\s*(\d{1,30}(?:\.\d{1,30})?)\s*([A-Za-z]+)\s*")
# The largest budget taken, 1 EiB: far above any machine's memory, and a
# bound that keeps a mistyped exponent from reaching the arithmetic.
MAX_SIZE = 2**60
SIZE_EXPECTED = ("a number of bytes up to 1 EiB (2**60): an int, or a number and a unit, one of "
                 "B, KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024), "
                 "e.g. '16GiB'")


def parse_size(argument, value):
    """Bytes from an int or a text such as `"16GiB"`, `"512MB"`, `"1.5 GB"`.

    KB, MB, GB and TB are powers of 1000; KiB, MiB, GiB and TiB powers of
    1024; `B` is bytes (units are case-insensitive). A fractional result is
    rounded down to whole bytes.

    Args:
        argument: the argument's name, for messages.
        value: a non-negative int, or such a text.

    Returns:
        An int.

    Raises:
        ValueError: a negative int, a size above `MAX_SIZE` (1 EiB), or a
            text of another form.
        TypeError: neither an int nor a string.

    Example:

    >>> parse_size("memory_bytes", "16GiB"), parse_size("memory_bytes", "512MB")
    (17179869184, 512000000)
    """
    if isinstance(value, str):
        match = _SIZE.fullmatch(value)
        unit = _UNITS.get(match.group(2).upper()) if match else None
        if unit is None:
            raise _validation.invalid(argument, SIZE_EXPECTED, value)
        whole, _, fraction = match.group(1).partition(".")
        # Integer arithmetic: exact for any number of digits.
        size = (int(whole + fraction) * unit) // 10 ** len(fraction)
    elif _validation.is_int(value):
        size = int(value)
    else:
        raise _validation.wrong_type(argument, SIZE_EXPECTED, value)
    if not 0 <= size <= MAX_SIZE:
        raise _validation.invalid(argument, SIZE_EXPECTED, value)
    return size


def kept_factor(row):
    """How many times a row's output bytes the backward pass keeps (0, 1 or 2).

    A nested model's own row 0 (its layers have rows); a view 0; dropout 2
    (output and mask); a layer with a fused activation whose gradient needs
    its input (gelu, swish, ...) 2 (pre- and post-activation); any other 1.
    """
    if row.status == "nested" or row.class_name in VIEWS:
        return 0
    if row.class_name in DROPOUTS:
        return 2
    return 1 if row.activation in OUTPUT_GRADIENT_ACTIVATIONS else 2


@dataclass(frozen=True)
class TrainingMemory:
    """The memory of one training step, by part, in bytes.

    Attributes:
        batch_size: the batch size it is for.
        optimizer: the optimizer, described (`"adam"`, `"sgd (momentum=0.9)"`).
        dtype_policy: the dtype policy (`"mixed_bfloat16"`).
        parameters: `((dtype, bytes), ...)`: every weight, by dtype.
        gradients: one per trainable number, in the variable dtype.
        optimizer_state: the optimizer's variables, its counters left out.
        activations_per_sample: what the forward pass keeps, for one sample.
        batch_per_sample: the inputs and targets of one sample.
        unknown_rows: rows whose output size is not known (counted as 0).

    The properties `activations`, `batch`, `fixed` and `total` add them up.
    """

    batch_size: int
    optimizer: str
    dtype_policy: str
    parameters: tuple
    gradients: int
    optimizer_state: int
    activations_per_sample: int
    batch_per_sample: int
    unknown_rows: int = 0

    @property
    def activations(self):
        """Bytes of activations at `batch_size`."""
        return self.activations_per_sample * self.batch_size

    @property
    def batch(self):
        """Bytes of the batch (inputs and targets) at `batch_size`."""
        return self.batch_per_sample * self.batch_size

    @property
    def fixed(self):
        """Bytes that do not grow with the batch: parameters, gradients, optimizer state."""
        return sum(size for _, size in self.parameters) + self.gradients + self.optimizer_state

    @property
    def per_sample(self):
        """Bytes each sample of a batch adds: activations and the batch."""
        return self.activations_per_sample + self.batch_per_sample

    @property
    def total(self):
        """All parts at `batch_size`, in bytes."""
        return self.fixed + self.per_sample * self.batch_size

    def largest_batch(self, memory_bytes):
        """The largest batch size whose total fits in `memory_bytes` (0 when not even 1 does).

        Args:
            memory_bytes: the budget, an int or a text such as `"16GiB"`
                (see `parse_size`).

        Returns:
            An int.

        Raises:
            ValueError: `memory_bytes` is not a size.
        """
        budget = parse_size("memory_bytes", memory_bytes)
        if budget < self.fixed:
            return 0
        if self.per_sample == 0:
            raise ValueError(
                "Cannot find the largest batch: nothing grows with the batch size "
                "(no activation or input sizes are known)."
            )
        return (budget - self.fixed) // self.per_sample

    def to_dict(self):
        """Plain data (JSON-serializable): every part in bytes, and the total."""
        return {
            "batch_size": self.batch_size,
            "optimizer": self.optimizer,
            "dtype_policy": self.dtype_policy,
            "parameters": dict(self.parameters),
            "gradients": self.gradients,
            "optimizer_state": self.optimizer_state,
            "activations": self.activations,
            "activations_per_sample": self.activations_per_sample,
            "batch": self.batch,
            "batch_per_sample": self.batch_per_sample,
            "unknown_rows": self.unknown_rows,
            "total": self.total,
        }

    def lines(self):
        """`(label, bytes)` pairs, one per part and the total, for a text or Markdown table."""
        pairs = [(f"parameters ({dtype})", size) for dtype, size in self.parameters]
        pairs += [
            ("gradients", self.gradients),
            (f"optimizer state ({self.optimizer})", self.optimizer_state),
            (f"activations ({self.activations_per_sample:,} x {self.batch_size})",
             self.activations),
            (f"batch ({self.batch_per_sample:,} x {self.batch_size})", self.batch),
            ("total", self.total),
        ]
        return pairs

    def __str__(self):
        pairs = self.lines()
        width = max(len(label) for label, _ in pairs)
        numbers = [f"{size:,}" for _, size in pairs]
        number_width = max(map(len, numbers))
        text = [f"Training memory, batch {self.batch_size:,}, {self.dtype_policy}:"]
        for (label, size), number in zip(pairs, numbers):
            text.append(f"  {label:<{width}}  {number:>{number_width}} B  ({_readable(size)})")
        if self.unknown_rows:
            text.append(f"  ({self.unknown_rows} rows of unknown output size counted as 0)")
        return "\n".join(text)


def training_memory(source, *, batch_size, optimizer="adam", dtype_policy="float32",
                    input_bytes=None, target_bytes=None):
    """Estimate the memory one training step needs, before anything is built.

    Adds the parameters, their gradients, the optimizer's slots (exactly as
    Keras creates them), the activations the backward pass keeps and the
    batch. From a path or a table it imports no Keras.

    Args:
        source: a built `keras.Model`, a path to a `.keras` file, or a
            `ParamTable` from `count_model` / `count_config`.
        batch_size: the batch size, a positive int.
        optimizer: an optimizer name (`"adam"`, `"sgd"`, ...; see
            `OPTIMIZERS`) or a `keras.optimizers.Optimizer`, whose config
            decides the slots. Defaults to `"adam"`.
        dtype_policy: one of `"float32"`, `"float16"`, `"bfloat16"`,
            `"float64"`, `"mixed_float16"`, `"mixed_bfloat16"`. Variables
            are in its variable dtype (float32 for the mixed ones),
            activations in its compute dtype; `"mixed_float16"` adds the
            loss-scale optimizer that `compile` wraps around the optimizer.
            Defaults to `"float32"`.
        input_bytes: bytes of one sample's inputs. Defaults to `None`: the
            model's inputs for a live model, else the first row's input,
            as float32.
        target_bytes: bytes of one sample's targets. Defaults to `None`: the
            model's outputs as float32 for a live model, else the last
            row's output; pass 4 for one integer label per sample.

    Returns:
        A `TrainingMemory`.

    Raises:
        ValueError: a bad batch size, optimizer, policy or size; an unknown
            layer class in the table (no total); Adafactor from a table.
        TypeError: an argument of the wrong type.

    Example:

    >>> from keras_recipes import param_count
    >>> from keras_recipes.param_count import LayerRow, ParamCount, ParamTable
    >>> row = LayerRow("dense", "Dense", (None, 2), ParamCount(9, 0), 6, 12, "formula")
    >>> memory = param_count.training_memory(ParamTable([row]), batch_size=10)
    >>> memory.total  # 36 + 36 + 72 (Adam) + 10 x (12 + 8 + 12)
    464
    >>> memory.largest_batch("1KiB")
    27
    """
    batch_size = _validation.check_positive_int("batch_size", batch_size)
    policy = _validation.check_choice("dtype_policy", dtype_policy, DTYPE_POLICIES)
    spec = optimizer_spec(optimizer)
    if policy == "mixed_float16" and not spec.loss_scale:
        # `compile` wraps the optimizer in a LossScaleOptimizer under this policy.
        spec = replace(spec, loss_scale=True)
    for argument, value in (("input_bytes", input_bytes), ("target_bytes", target_bytes)):
        if value is not None:
            _validation.check_non_negative_int(argument, value)
    model = _Source(source)
    variable_dtype, compute_dtype = DTYPE_POLICIES[policy]
    itemsize = dtype_bytes(variable_dtype)
    compute_size = dtype_bytes(compute_dtype)
    total = model.table.total
    parameters = ((variable_dtype, total.total * itemsize),)
    kept, unknown = 0, 0
    for row in model.table.rows:
        factor = kept_factor(row)
        if row.output_bytes is None or row.status == "folded":
            unknown += factor > 0
            continue
        # A row's bytes are in the source's compute dtype; count its numbers.
        kept += factor * row.output_bytes // model.source_size
    if input_bytes is None:
        input_bytes = model.input_bytes
    if target_bytes is None:
        target_bytes = model.target_bytes
    return TrainingMemory(
        batch_size=batch_size,
        optimizer=spec.describe(),
        dtype_policy=policy,
        parameters=parameters,
        gradients=total.trainable * itemsize,
        optimizer_state=state_bytes(spec, total.trainable, itemsize, model.shapes),
        activations_per_sample=kept * compute_size,
        batch_per_sample=input_bytes + target_bytes,
        unknown_rows=unknown,
    )


def _readable(size):
    """`size` bytes in GiB (one decimal) from 1 GiB up, else in MiB."""
    if size >= 2**30:
        return f"{_validation.gibibytes(size)} GiB"
    return f"{size / 2**20:.1f} MiB"


class _Source:
    """What `training_memory` reads from its source: the table, and what a live model adds.

    Attributes:
        table: the `ParamTable`.
        shapes: each trainable variable's shape (a live model), or `None`.
        source_size: bytes per number of the rows' output bytes.
        input_bytes: one sample's inputs, in bytes.
        target_bytes: one sample's targets, in bytes.
    """

    def __init__(self, source):
        self.shapes = None
        self.source_size = 4
        if isinstance(source, ParamTable):
            self.table = source
        elif isinstance(source, (str, os.PathLike, dict)):
            self.table = count_config(source)
        elif hasattr(source, "trainable_variables") and hasattr(source, "layers"):
            self._live(source)
            return
        else:
            raise _validation.wrong_type(
                "source", "a built keras.Model, a path to a .keras file or a ParamTable", source)
        rows = [row for row, depth in zip(self.table.rows, self.table.depths) if depth == 0]
        first = rows[0].build_shape if rows else None
        self.input_bytes = _elements(first) * 4 if _is_flat(first) else 0
        self.target_bytes = (rows[-1].output_bytes or 0) if rows else 0

    def _live(self, model):
        self.table = count_model(model)
        self.shapes = [tuple(variable.shape) for variable in model.trainable_variables]
        self.source_size = dtype_bytes(str(getattr(model, "compute_dtype", "float32"))) or 4
        try:
            inputs, outputs = list(model.inputs), list(model.outputs)
        except (AttributeError, ValueError):  # a Sequential built without an Input
            inputs, outputs = [], []
        self.input_bytes = sum(_elements(tuple(tensor.shape))
                               * (dtype_bytes(str(tensor.dtype)) or 4) for tensor in inputs)
        self.target_bytes = sum(_elements(tuple(tensor.shape)) * 4 for tensor in outputs)


def _is_flat(shape):
    return isinstance(shape, tuple) and all(dim is None or isinstance(dim, int) for dim in shape)


def _elements(shape):
    """Numbers in one sample of `shape` (batch axis first, `None` dropped)."""
    return prod(dim for dim in shape[1:] if dim is not None) if shape else 0
