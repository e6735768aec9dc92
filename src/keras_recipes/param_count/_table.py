"""The per-layer table that `count_model` and `count_config` return."""

import dataclasses
from dataclasses import dataclass

from keras_recipes import _validation
from keras_recipes._untrusted import shown
from keras_recipes.param_count import _rules
from keras_recipes._counting.record import ParamCount

STATUSES = ("formula", "nested", "shared", "fallback", "unsupported", "folded")

# Widths of the text cells that come from a model (and so from a file
# anyone wrote): each is `shown`, escaped and cut, so one line of a table
# has a bounded width and a table's size grows with its rows only.
PATH_WIDTH = 120
CLASS_WIDTH = 60
SHAPE_WIDTH = 60
NUMBER_WIDTH = 40
SHAPE_JSON_WIDTH = 1000


@dataclass(frozen=True)
class LayerRow:
    """One layer (or one later call of a shared layer) of a model.

    Attributes:
        path: the layer's name, prefixed by the names of the models that
            hold it (`"encoder/dense_1"`).
        class_name: the layer's class name (`"Dense"`).
        build_shape: the input shape the layer was built on, batch axis
            `None` (a tuple of shapes for layers built on several inputs),
            or `None` when not known.
        count: the layer's `ParamCount`; 0 for "nested" and "shared" rows,
            so that the rows add up to the model's total.
        macs: multiply-accumulates of one forward pass for one sample, or
            `None` when not known.
        output_bytes: bytes of the layer's output activations for one
            sample, or `None` when not known.
        status: how `count` was found: `"formula"` (from the layer's config
            and build shape), `"nested"` (a model whose layers follow as
            rows of their own), `"shared"` (a later use of a layer or model
            counted at its first use), `"fallback"` (the live layer's
            `count_params()`, for a class the formulas do not know) or
            `"unsupported"` (a saved layer of a class the formulas do not
            know, or, in a config without `.keras` sharing marks, a layer
            that may be a later use of one counted in another nested
            model; its count is unknown and shown as 0). `ParamTable.fold`
            adds `"folded"`: a nested model shown as one row, its count
            the sum of its layers'.
        activation: the activation fused into the layer (its config's
            `"activation"`, when a name such as `"relu"`), or `None`; the
            training-memory estimate reads it.
    """

    path: str
    class_name: str
    build_shape: tuple | None
    count: ParamCount
    macs: int | None
    output_bytes: int | None
    status: str
    activation: str | None = None

    def to_dict(self):
        """The row as plain Python values (ints, strings, lists, `None`)."""
        shape = _as_lists(self.build_shape)
        if len(_shape_text(self.build_shape)) > SHAPE_JSON_WIDTH:
            shape = None  # an absurd shape from a crafted file: not shown
        return {
            "path": shown(self.path, PATH_WIDTH),
            "class_name": shown(self.class_name, CLASS_WIDTH),
            "build_shape": shape,
            "trainable": self.count.trainable,
            "non_trainable": self.count.non_trainable,
            "total": self.count.total,
            "macs": self.macs,
            "output_bytes": self.output_bytes,
            "status": shown(self.status),
        }


def _as_lists(shape):
    if isinstance(shape, tuple):
        return [_as_lists(dim) for dim in shape]
    return shape


def _shape_text(shape):
    if not isinstance(shape, tuple):
        return "" if shape is None else shown(shape, SHAPE_JSON_WIDTH + 1)
    if shape and all(isinstance(dim, tuple) for dim in shape):
        return _joined((_shape_text(dim) for dim in shape), ", ")
    return "(" + _joined(("None" if dim is None else _number(dim, "") for dim in shape), ", ") + ")"


def _joined(texts, separator):
    """`separator.join(texts)`, stopped once past `SHAPE_JSON_WIDTH` characters.

    A crafted file can give a shape of a million sizes; nothing prints more
    than this, so nothing longer is made.
    """
    parts, length = [], 0
    for text in texts:
        parts.append(text)
        length += len(text) + len(separator)
        if length > SHAPE_JSON_WIDTH:
            break
    return separator.join(parts)


def _number(value, thousands=","):
    """A count as text, with thousands separators; `?` when unknown."""
    if value is None:
        return "?"
    try:
        return shown(f"{value:{thousands}}", NUMBER_WIDTH)
    except ValueError:  # more digits than Python converts (4,300)
        return shown(f"about 2**{value.bit_length()}", NUMBER_WIDTH)


def describe_rows(rows, most):
    """`"path (Class), ..."` for the first `most` of `rows`, and how many more.

    For messages: each name is cut shorter than in a table, so that the
    sentence stays a readable line.
    """
    names = ", ".join(
        f"{shown(row.path, PATH_WIDTH // 2)} ({shown(row.class_name, CLASS_WIDTH // 2)})"
        for row in rows[:most]
    )
    more = f" and {len(rows) - most} more" if len(rows) > most else ""
    return names + more


class ParamTable:
    """Per-layer parameter counts of a model, with totals.

    `rows` lists every layer of the model in order, nested models' layers
    after the model's own row; `total` is the sum of the rows' counts, which
    equals `model.count_params()` with the same trainable/non-trainable
    split. `str(table)` (or `to_text()`) is a fixed-width table,
    `to_markdown()` a Markdown one, `to_csv()` comma-separated values,
    `to_dict()` plain data for programs; each takes `flops=True` to add
    FLOPs (2 x MACs) beside the MACs. `fold(depth)` shows nested models
    below a depth as one row each.
    """

    def __init__(self, rows, name=None):
        self.rows = tuple(rows)
        self.name = name

    @property
    def unsupported(self):
        """The rows whose layer class the formulas do not know."""
        return [row for row in self.rows if row.status == "unsupported"]

    @property
    def total(self):
        """The model's `ParamCount`, the sum of the rows.

        Raises:
            ValueError: a row is unsupported, so any total would be a guess.
        """
        unsupported = self.unsupported
        if unsupported:
            raise ValueError(
                "Cannot total the parameters: no formula for the layers "
                f"{describe_rows(unsupported, 10)} (or, in a `get_config()`, which "
                "does not mark shared layers, they may be layers counted in another "
                "nested model). Count the model with `count_model` on the "
                "loaded model instead, count its `.keras` file, or register a rule "
                "for the custom class with `keras_recipes.param_count.register`."
            )
        return sum((row.count for row in self.rows), ParamCount())

    @property
    def macs(self):
        """Multiply-accumulates of one forward pass for one sample, or `None` if a layer's are unknown."""
        return sum_macs(self.rows)

    @property
    def flops(self):
        """Floating-point operations of one forward pass for one sample: 2 x `macs`, or `None`."""
        return flops(self.macs)

    @property
    def depths(self):
        """How many nested models hold each row: a tuple of ints, one per row.

        A row is inside a nested model when it follows that model's
        `"nested"` row and its path starts with the model's path and `/`
        (Keras forbids `/` in a layer's name); a top-level row is at 0.
        """
        depths, open_models = [], []
        for row in self.rows:
            while open_models and not row.path.startswith(open_models[-1]):
                open_models.pop()
            depths.append(len(open_models))
            if row.status == "nested":
                open_models.append(row.path + "/")
        return tuple(depths)

    def fold(self, depth):
        """The table with every nested model `depth` models deep shown as one row.

        Like torchinfo's `depth`: rows held by more than `depth` nested
        models are summed into the row of the nested model that holds them
        at `depth`. `depth=0` keeps the model's own layers only, each nested
        model one row; `depth=1` also shows the layers of those nested
        models, and so on. A folded row keeps the nested model's path,
        class, build shape and output bytes (its outputs); its count is the
        sum of the rows folded into it, its MACs their sum (`None` if any is
        unknown), and its status `"folded"` (`"unsupported"` if any row
        folded into it was). Every row's count and MACs go to exactly one
        row of the result, so `total`, `macs` and `flops` are unchanged.

        Args:
            depth: the most nested models a row of the result may be
                inside: a non-negative integer.

        Returns:
            A new `ParamTable` with the same name.

        Raises:
            TypeError: `depth` is not an integer (a `bool` is not).
            ValueError: `depth` is negative.

        Example:

        >>> from keras_recipes.param_count import LayerRow, ParamCount, ParamTable
        >>> rows = [
        ...     LayerRow("encoder", "Functional", None, ParamCount(), 6, 8, "nested"),
        ...     LayerRow("encoder/dense", "Dense", (None, 2), ParamCount(6, 0), 4, 8, "formula"),
        ...     LayerRow("logits", "Dense", (None, 2), ParamCount(3, 0), 2, 4, "formula"),
        ... ]
        >>> [(row.path, row.count.total, row.status) for row in ParamTable(rows).fold(0).rows]
        [('encoder', 6, 'folded'), ('logits', 3, 'formula')]
        """
        if not _validation.is_int(depth):
            raise _validation.wrong_type("depth", "a non-negative integer", depth)
        if depth < 0:
            raise _validation.invalid(
                "depth", "a non-negative integer (0 keeps the model's own layers only)", depth
            )
        depth = int(depth)
        depths = self.depths
        rows, index = [], 0
        while index < len(self.rows):
            row = self.rows[index]
            end = index + 1
            if row.status == "nested" and depths[index] == depth:
                # The nested model's rows are the run after it that is deeper.
                while end < len(self.rows) and depths[end] > depth:
                    end += 1
                row = _folded(row, self.rows[index + 1:end])
            rows.append(row)
            index = end
        return ParamTable(rows, name=self.name)

    def _lines(self, with_flops=False):
        header = ("path", "class", "build shape", "trainable", "non-trainable", "MACs",
                  *(("FLOPs",) if with_flops else ()), "output bytes", "status")
        body = [
            (
                shown(row.path, PATH_WIDTH),
                shown(row.class_name, CLASS_WIDTH),
                shown(_shape_text(row.build_shape), SHAPE_WIDTH),
                _number(row.count.trainable),
                _number(row.count.non_trainable),
                _number(row.macs),
                *((_number(flops(row.macs)),) if with_flops else ()),
                _number(row.output_bytes),
                shown(row.status),
            )
            for row in self.rows
        ]
        try:
            total = self.total
            totals = (_number(total.trainable), _number(total.non_trainable),
                      f"total {_number(total.total)}")
        except ValueError:
            totals = ("?", "?", f"total unknown: {len(self.unsupported)} unsupported")
        footer = ("total", "", "", totals[0], totals[1], _number(self.macs),
                  *((_number(self.flops),) if with_flops else ()), "", totals[2])
        return header, body, footer

    def to_text(self, *, flops=False):
        """The table as fixed-width text: a header, one line per row, a total line.

        Args:
            flops: add a FLOPs column (2 x MACs) after the MACs. Defaults
                to `False`.

        Returns:
            The text, `str(table)` when `flops` is `False`.
        """
        header, body, footer = self._lines(flops)
        lines = [header, *body, footer]
        widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
        numeric = {i for i, title in enumerate(header) if title in _NUMERIC_COLUMNS}

        def render(line):
            cells = [
                cell.rjust(width) if i in numeric else cell.ljust(width)
                for i, (cell, width) in enumerate(zip(line, widths))
            ]
            return "  ".join(cells).rstrip()

        rule = "  ".join("-" * width for width in widths)
        return "\n".join([render(header), rule, *map(render, body), rule, render(footer)])

    def __str__(self):
        return self.to_text()

    def __repr__(self):
        name = "None" if self.name is None else f"'{shown(self.name, PATH_WIDTH)}'"
        return f"<ParamTable {name}: {len(self.rows)} rows>"

    def to_markdown(self, *, flops=False):
        """The table as GitHub Markdown, one line per row and a total line.

        Args:
            flops: add a FLOPs column (2 x MACs) after the MACs. Defaults
                to `False`.

        Returns:
            The Markdown text.
        """
        header, body, footer = self._lines(flops)

        def render(line):
            return "| " + " | ".join(cell.replace("|", "\\|") for cell in line) + " |"

        align = "| " + " | ".join(
            "---:" if title in _NUMERIC_COLUMNS else "---" for title in header
        ) + " |"
        return "\n".join([render(header), align, *map(render, body), render(footer)])

    def to_csv(self, *, flops=False):
        """The rows as comma-separated values, for spreadsheets and `csv.reader`.

        One header line, then one line per row, with the columns and values
        of `to_dict()`'s rows (numbers without separators, an unknown value
        empty, the build shape as `(None, 3)`); no total line, so that a
        column's sum is the total. Quoted as Python's `csv` module does.
        Strings from a file are escaped and cut as in every format, and a
        cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return
        gets a leading `'`, so that a spreadsheet shows it as text instead
        of running it as a formula.

        Args:
            flops: add a `flops` column (2 x MACs) after `macs`. Defaults to
                `False`.

        Returns:
            The text, lines ending in `\\n`.

        Example:

        >>> from keras_recipes.param_count import LayerRow, ParamCount, ParamTable
        >>> row = LayerRow("=dense", "Dense", (None, 2), ParamCount(9, 0), 6, 12, "formula")
        >>> print(ParamTable([row]).to_csv(), end="")
        path,class_name,build_shape,trainable,non_trainable,total,macs,output_bytes,status
        '=dense,Dense,"(None, 2)",9,0,9,6,12,formula
        """
        # Imported when asked, as few programs write CSV.
        import csv
        import io

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        header = None
        for row in self.rows:
            data = row.to_dict()
            if flops:
                data = _with_flops(data)
            data["build_shape"] = (
                "" if data["build_shape"] is None else _shape_text(row.build_shape)
            )
            if header is None:
                header = list(data)
                writer.writerow(header)
            writer.writerow(_csv_cell(data[key]) for key in header)
        if header is None:
            writer.writerow(_with_flops(_CSV_HEADER) if flops else _CSV_HEADER)
        return buffer.getvalue()

    def to_dict(self, *, flops=False):
        """Plain data: `{"name", "rows": [row.to_dict()...], "total": {...} or None, "macs"}`.

        Args:
            flops: add `"flops"` (2 x MACs, or `None`) beside every
                `"macs"`, in each row and at the top. Defaults to `False`.

        Returns:
            A dict of plain Python values (JSON-serializable).
        """
        try:
            total = self.total
            totals = {"trainable": total.trainable, "non_trainable": total.non_trainable,
                      "total": total.total}
        except ValueError:
            totals = None
        data = {
            "name": None if self.name is None else shown(self.name, PATH_WIDTH),
            "rows": [row.to_dict() for row in self.rows],
            "total": totals,
            "macs": self.macs,
        }
        if flops:
            data = _with_flops(data)
            data["rows"] = [_with_flops(row) for row in data["rows"]]
        return data


# The text and Markdown columns that hold numbers (right-aligned).
_NUMERIC_COLUMNS = frozenset({"trainable", "non-trainable", "MACs", "FLOPs", "output bytes"})

# `to_csv()`'s columns when there are no rows to take them from.
_CSV_HEADER = dict.fromkeys(("path", "class_name", "build_shape", "trainable", "non_trainable",
                             "total", "macs", "output_bytes", "status"))

# What a spreadsheet reads as the start of a formula (OWASP's list for CSV
# injection); `shown` already escapes the tab and the carriage return, they
# are listed so that the rule holds by itself.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def flops(macs):
    """Floating-point operations of `macs` multiply-accumulates: `2 * macs`, or `None` when unknown."""
    return None if macs is None else 2 * macs


def _with_flops(data):
    """`data` (a dict with a `"macs"` key) with `"flops"` inserted right after it."""
    result = {}
    for key, value in data.items():
        result[key] = value
        if key == "macs":
            result["flops"] = flops(value)
    return result


def _csv_cell(value):
    """A value as a CSV cell: ints as digits, `None` empty, strings defused for spreadsheets."""
    if value is None:
        return ""
    if isinstance(value, int):
        try:
            return str(value)
        except ValueError:  # more digits than Python converts (4,300)
            return f"about 2**{value.bit_length()}"
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _folded(row, inner):
    """`row`, a nested model's, standing for itself and the rows `inner` of its layers."""
    status = "unsupported" if any(item.status == "unsupported" for item in inner) else "folded"
    return dataclasses.replace(
        row,
        count=sum((item.count for item in inner), ParamCount()),
        macs=sum_macs(inner),
        status=status,
    )


# === Row values shared by both walkers ===

# What a MAC or shape rule may raise on a config it cannot read (a hostile
# file, an unusual layer); the row then shows the value as unknown.
_RULE_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError, ArithmeticError)


def known_macs(class_name, config, build_config, registered_name=None):
    """`_rules.layer_macs` for a row: `None` when the rule cannot read the config."""
    try:
        macs = _rules.layer_macs(class_name, config, build_config,
                                registered_name=registered_name)
    except _RULE_ERRORS:
        return None
    return macs if isinstance(macs, int) and not isinstance(macs, bool) and macs >= 0 else None


def known_output_shape(class_name, config, build_config, registered_name=None):
    """`_rules.layer_output_shape` for a row, as a tuple: `None` when unknown."""
    try:
        shape = _rules.layer_output_shape(class_name, config, build_config,
                                         registered_name=registered_name)
    except _RULE_ERRORS:
        return None
    shape = as_shape(shape)
    return shape if isinstance(shape, tuple) else None


def output_list(shape, dtype):
    """`[(shape, dtype)]` of a layer's outputs from `layer_output_shape`, or `None`.

    A layer with several outputs has a tuple of shapes: one pair each.
    """
    if not isinstance(shape, tuple) or not shape:
        return None
    if all(isinstance(dim, tuple) for dim in shape):
        return [(dim, dtype) for dim in shape]
    return [(shape, dtype)]


def with_input_shape(build_config, input_shape):
    """`build_config`, or `{"input_shape": input_shape}` when it records no shape.

    Keras saves no build config for layers without a `build()` of their own
    (`Reshape`, `Flatten` inside some graphs, custom layers); the shape the
    layer was called on, from the graph, stands in for it.
    """
    if input_shape is None or build_shape(build_config) is not None:
        return build_config
    return {"input_shape": _as_lists(input_shape)}


def sum_macs(rows):
    """MACs of a run of rows: nested rows are skipped (their layers follow them),
    shared rows count again (a layer called twice computes twice). `None` if
    any row's MACs are unknown."""
    values = [row.macs for row in rows if row.status != "nested"]
    if any(value is None for value in values):
        return None
    return sum(values)


_DTYPE_BYTES = {
    "bool": 1, "int8": 1, "uint8": 1, "float8_e4m3fn": 1, "float8_e5m2": 1,
    "int16": 2, "uint16": 2, "float16": 2, "bfloat16": 2,
    "int32": 4, "uint32": 4, "float32": 4,
    "int64": 8, "uint64": 8, "float64": 8, "complex64": 8, "complex128": 16,
}


def dtype_bytes(dtype):
    """Bytes per element of a dtype name or a serialized dtype policy, or `None`.

    A policy `"mixed_float16"` computes in float16; a quantized policy
    `"int8_from_float32"` computes in float32.
    """
    # Most layers name a plain dtype: one look-up (a policy name is not a key).
    size = _DTYPE_BYTES.get(dtype) if type(dtype) is str else None
    if size is not None:
        return size
    if isinstance(dtype, dict):
        config = dtype.get("config")
        dtype = config.get("name") if isinstance(config, dict) else None
    if not isinstance(dtype, str):
        return None
    if dtype.startswith("mixed_"):
        dtype = dtype[len("mixed_"):]
    if "_from_" in dtype:
        dtype = dtype.split("_from_", 1)[1]
    return _DTYPE_BYTES.get(dtype)


def as_shape(value, depth=0):
    """A shape as nested tuples (lists in configs become tuples), or `None`."""
    if isinstance(value, (list, tuple)) and depth < 4:
        # Most shapes are flat lists of sizes: one pass, no call per size.
        if all(dim is None or type(dim) is int for dim in value):
            return tuple(value)
        return tuple(as_shape(dim, depth + 1) for dim in value)
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    return None


def build_shape(build_config):
    """The shape a layer was built on, from its build config, or `None`."""
    if not isinstance(build_config, dict):
        return None
    shape = None
    if "input_shape" in build_config:
        shape = as_shape(build_config["input_shape"])
    elif isinstance(build_config.get("shapes_dict"), dict):
        shape = tuple(as_shape(shape) for shape in build_config["shapes_dict"].values())
    return shape if isinstance(shape, tuple) else None


def activation_bytes(shapes_and_dtypes):
    """Bytes of one sample's outputs: sum of prod(shape[1:]) * dtype size, or `None`."""
    total = 0
    for shape, dtype in shapes_and_dtypes:
        size = dtype_bytes(dtype)
        if size is None or not isinstance(shape, tuple) or not shape:
            return None
        elements = 1
        for dim in shape[1:]:
            if not isinstance(dim, int) or isinstance(dim, bool):
                return None
            elements *= dim
        total += elements * size
    return total if shapes_and_dtypes else None
