"""Command-line options made from a recipe builder's own signature.

`keras-recipes summary vae --latent-dim 3` must accept exactly the arguments
`keras_recipes.vae` takes, with the builder's defaults, so the options are
read from the builder's `def` line and docstring rather than listed by hand:
they cannot drift. The builder's module is parsed (`ast`), not imported, so
`--help` and a bad option answer before Keras and TensorFlow load.

Values use one small syntax, shared by every subcommand that builds a recipe
(`summary`, `plot`, and whoever else calls `add_builder_options`):

- a number: `3`, `0.5`; `none`, `true`, `false`; anything else is a string;
- a list: comma-separated values, `64,32` or `8,8,1`; one value is a list
  of one for an argument whose default is a list (`--units 4`), and an empty
  string is the empty list (`--bridge-units ''`);
- a nested list, or any Python literal: brackets, `'[[2], [1, 2]]'`.
"""

import argparse
import ast
import functools
import importlib.util
import math
import re
import textwrap

# Re-exported: `plot --dpi` takes its type from here.
from keras_recipes.cli._option_types import positive_int  # noqa: F401

VALUE_SYNTAX = """\
option values:
  3, 0.5, none, true, false   a number, None, a boolean; other words are strings
  64,32  or  8,8,1            a list (a tuple where the builder's default is one);
                              one value is a list of one where a list is expected,
                              '' is the empty list
  '[[2], [1, 2]]'             a nested list, or any Python literal, in brackets
"""

# The recipe builders' required arguments have no default in the builder; the
# command line gives them the lecture's examples (docs/recipes.md), and makes
# the models that are costly at the builder's defaults small, so that
# `keras-recipes summary RECIPE` works with no options. The autoencoders get
# digits-shaped images, which both the dense and the conv architecture take.
RECIPE_DEFAULTS = {
    "mlp": {"input_dim": 2, "units": [3, 2, 3]},
    "shared_mlp": {"input_dim": 2, "shared_units": 3, "bridge_units": [2]},
    "branch_merge": {
        "input_dim": 2,
        "trunk_units": [3],
        "branch_units": [[2], [1, 2]],
        "head_units": [3],
    },
    "averaging_layer": {"input_dim": 3},
    "autoencoder": {"input_shape": (8, 8, 1), "latent_dim": 2},
    "vae": {"input_shape": (8, 8, 1)},
    "split_brain_ae": {"input_shape": (32, 32, 3), "architecture": "small"},
}

# The largest model, in parameters, a command builds: 400 MB of float32
# weights, about 1.2 GB with Adam's two moments (the builders compile). A
# bigger one could exhaust memory or take minutes to initialise, and its
# count is known without building it (`keras_recipes.param_count`).
MAX_BUILD_PARAMS = 100_000_000

# Arguments that take a list although their default is not one.
_LIST_ARGUMENTS = frozenset({"metrics"})

_NO_DEFAULT = object()


class Parameter:
    """One argument of a builder: its name, default, and docstring line."""

    def __init__(self, name, default, keyword_only, help_text):
        self.name = name
        self.default = default
        self.keyword_only = keyword_only
        self.help_text = help_text

    @property
    def required(self):
        return self.default is _NO_DEFAULT

    @property
    def option(self):
        return "--" + self.name.replace("_", "-")

    def __repr__(self):
        default = "required" if self.required else repr(self.default)
        return f"<Parameter {self.name}={default}>"


@functools.cache
def builder_node(recipe):
    """The `def` of `keras_recipes.<recipe>`, parsed from its module's source (not imported)."""
    from keras_recipes import _BUILDERS

    if recipe not in _BUILDERS:
        raise LookupError(f"no builder named {recipe!r}")
    spec = importlib.util.find_spec(_BUILDERS[recipe])
    with open(spec.origin, encoding="utf-8") as source:
        tree = ast.parse(source.read(), filename=spec.origin)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == recipe:
            return node
    raise LookupError(f"{spec.origin} defines no function {recipe!r}")


def _argument_help(docstring):
    """`{argument: first sentence of its description}` from a Keras-style `Args:` section."""
    described = {}
    in_args = False
    name = None
    for line in docstring.splitlines():
        if line.strip() == "Args:":
            in_args = True
            continue
        if not in_args:
            continue
        if line and not line.startswith(" "):
            break  # the next section (Returns:, Raises:, ...)
        match = re.match(r"^    (\w+): (.*)$", line)
        if match:
            name = match.group(1)
            described[name] = match.group(2).strip()
        elif line.startswith("        ") and name:
            described[name] += " " + line.strip()
        elif line.strip():
            break
    for name, text in described.items():
        text = re.sub(r"\s*Defaults to .*$", "", text)
        # The first sentence: a full stop after a word, not the one in "e.g.".
        sentence = re.match(r"^(.*?(?<=[\w)`\"'])(?<!e\.g)(?<!i\.e)[.;])(\s|$)", text)
        text = (sentence.group(1) if sentence else text).rstrip(".;")
        if len(text) > 100 and ": " in text:
            # A long list of examples (the layer names `name` prefixes).
            text = text.split(": ", 1)[0]
        described[name] = text
    return described


@functools.cache
def builder_parameters(recipe):
    """The arguments of `keras_recipes.<recipe>`, read from its source without Keras.

    Args:
        recipe: a builder name, e.g. `"vae"`.

    Returns:
        A tuple of `Parameter`, in the order of the signature.
    """
    node = builder_node(recipe)
    helps = _argument_help(ast.get_docstring(node) or "")
    arguments = node.args
    positional = arguments.posonlyargs + arguments.args
    defaults = [_NO_DEFAULT] * (len(positional) - len(arguments.defaults)) + [
        ast.literal_eval(default) for default in arguments.defaults
    ]
    parameters = [
        Parameter(arg.arg, default, False, helps.get(arg.arg, ""))
        for arg, default in zip(positional, defaults)
    ]
    for arg, default in zip(arguments.kwonlyargs, arguments.kw_defaults):
        value = _NO_DEFAULT if default is None else ast.literal_eval(default)
        parameters.append(Parameter(arg.arg, value, True, helps.get(arg.arg, "")))
    return tuple(parameters)


def default_arguments(recipe, defaults=None):
    """The builder arguments the command line uses when given no options.

    The builder's own defaults, with `defaults` over them.

    Args:
        recipe: a builder name.
        defaults: the command's own defaults, a dict from argument name to
            value. Defaults to `None`, for `RECIPE_DEFAULTS[recipe]`.
    """
    values = {
        parameter.name: parameter.default
        for parameter in builder_parameters(recipe)
        if not parameter.required
    }
    values.update(RECIPE_DEFAULTS.get(recipe, {}) if defaults is None else defaults)
    return values


# === Values ===


# No builder argument takes a number this large or an infinity or NaN; such a
# value is refused where it is typed, before any builder, count or backend
# sees it (Python's float() would raise OverflowError on the integers).
MAX_OPTION_MAGNITUDE = 2**63


def _scalar(text):
    lowered = text.lower()
    if lowered == "none":
        return None
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _check_numbers(value, text):
    """Refuses a number, anywhere in `value`, that is not finite or not below 2**63 in size."""
    if isinstance(value, (list, tuple)):
        for item in value:
            _check_numbers(item, text)
    elif isinstance(value, dict):
        for item in (*value.keys(), *value.values()):
            _check_numbers(item, text)
    elif isinstance(value, (int, float, complex)) and not isinstance(value, bool):
        parts = (value.real, value.imag) if isinstance(value, complex) else (value,)
        # abs() first: math.isfinite(10**400) itself raises OverflowError.
        if not all(abs(part) < MAX_OPTION_MAGNITUDE and math.isfinite(part) for part in parts):
            raise ValueError(
                f"expected finite numbers of magnitude below 2**63; got {text!r}"
            )


def parse_value(text, like=None):
    """Parses one option value in the command line's syntax (see `VALUE_SYNTAX`).

    Args:
        text: the value as typed.
        like: the default of the argument: a list or tuple default makes a
            single value a list of one and `""` the empty list, and a tuple
            default makes lists tuples. Defaults to `None`.

    Returns:
        An int, float, bool, `None`, string, list or tuple.

    Raises:
        ValueError: a bracketed value is not a Python literal, or a number
            in the value is infinite, NaN, or of magnitude 2**63 or more.

    Example:

    >>> parse_value("64,32"), parse_value("8,8,1", like=(64,)), parse_value("4", like=[3])
    ([64, 32], (8, 8, 1), [4])
    >>> parse_value("[[2], [1, 2]]"), parse_value("none"), parse_value("tanh")
    ([[2], [1, 2]], None, 'tanh')
    """
    stripped = text.strip()
    sequence = isinstance(like, (list, tuple))
    if stripped.startswith(("[", "(")):
        try:
            value = ast.literal_eval(stripped)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            raise ValueError(f"expected a Python literal in brackets, got {text!r}") from None
    elif sequence and stripped == "":
        value = []
    elif "," in stripped:
        value = [_scalar(part.strip()) for part in stripped.split(",")]
    else:
        value = _scalar(stripped)
        if sequence:
            value = [value]
    _check_numbers(value, text)
    if isinstance(like, tuple) and isinstance(value, list):
        value = tuple(value)
    return value


def format_value(value):
    """A value as it would be typed on the command line (the inverse of `parse_value`)."""
    if value is None or isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, tuple)):
        if value and all(
            isinstance(item, (int, float, str)) and not isinstance(item, bool) for item in value
        ):
            return ",".join(str(item) for item in value)
        return repr(list(value)) if isinstance(value, list) else repr(value)
    return str(value)


def format_call(recipe, arguments):
    """`recipe(arg=value, ...)` as Python, for showing what was built."""
    inner = ", ".join(f"{name}={value!r}" for name, value in arguments.items())
    return f"{recipe}({inner})"


def check_buildable(recipe, arguments):
    """The recipe's analytic count; refuses a model of more than `MAX_BUILD_PARAMS` parameters.

    `param_count.<recipe>(**arguments)` is pure Python and checks the sizes
    as the builder does, so most bad values, and every model too big to
    build, fail here, before Keras loads.

    Args:
        recipe: the builder name.
        arguments: the builder arguments.

    Returns:
        The `ParamCount` of `param_count.<recipe>(**arguments)`.

    Raises:
        ValueError: a bad argument, or a count above `MAX_BUILD_PARAMS`; the
            message then gives the count, so the user learns it all the same.
    """
    from keras_recipes import param_count

    formula = getattr(param_count, recipe)(**arguments)
    count = formula.total
    if count > MAX_BUILD_PARAMS:
        raise ValueError(
            f"keras_recipes.{format_call(recipe, arguments)} would have {count:,} "
            f"parameters (keras_recipes.param_count.{recipe}), {4 * count / 1e9:.1f} GB "
            f"of float32 weights before the optimizer's state; this command builds "
            f"models of at most {MAX_BUILD_PARAMS:,} parameters"
        )
    return formula


# === argparse ===


class _ValueType:
    """An argparse `type` that parses the value syntax; argparse reports its errors."""

    def __init__(self, like):
        self.like = like
        self.__name__ = "value"

    def __call__(self, text):
        try:
            return parse_value(text, self.like)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None


def add_builder_options(parser, recipe, *, defaults=None, exclude=()):
    """Adds one `--option` per argument of the recipe's builder to `parser`.

    An option that is not given leaves no attribute on the parsed namespace,
    so `builder_arguments` falls back to the defaults. A command that takes
    some arguments from elsewhere (`train` takes `input_shape` from its
    data) excludes them here and in `builder_arguments`, and passes the same
    `defaults` to both.

    Args:
        parser: an `argparse.ArgumentParser`.
        recipe: a builder name, e.g. `"vae"`.
        defaults: the command's defaults, shown in `--help`. Defaults to
            `None`, for `RECIPE_DEFAULTS[recipe]`.
        exclude: argument names to leave out (a command that sets them
            itself). Defaults to `()`.

    Returns:
        The option group the options went into.
    """
    defaults = default_arguments(recipe, defaults)
    group = parser.add_argument_group(
        f"arguments of keras_recipes.{recipe}",
        textwrap.fill(
            "Each option is the builder argument of the same name, its value in "
            "the syntax under 'option values' below; options not given keep the "
            "default shown.",
            width=79,
        ),
    )
    for parameter in builder_parameters(recipe):
        if parameter.name in exclude:
            continue
        default = defaults.get(parameter.name)
        like = [] if parameter.name in _LIST_ARGUMENTS else default
        shown = format_value(default) if parameter.name in defaults else "required"
        if shown == "":
            shown = "''"
        help_text = parameter.help_text.replace("%", "%%")
        group.add_argument(
            parameter.option,
            dest=f"builder_{parameter.name}",
            metavar="VALUE",
            type=_ValueType(like),
            default=argparse.SUPPRESS,
            help=f"{help_text} (default: {shown.replace('%', '%%')})",
        )
    return group


def builder_arguments(args, recipe, *, defaults=None, exclude=()):
    """The keyword arguments to call `keras_recipes.<recipe>` with, from parsed options.

    Holds the options given and the command's defaults (for required
    arguments, and any builder default it overrides); every other argument
    is left to the builder's own default.

    Args:
        args: the namespace `parse_args` returned.
        recipe: the builder name.
        defaults: as given to `add_builder_options`. Defaults to `None`, for
            `RECIPE_DEFAULTS[recipe]`.
        exclude: as given to `add_builder_options`; these are left out of
            the result, for the caller to add. Defaults to `()`.

    Returns:
        A dict from argument name to value, in the signature's order.
    """
    chosen = dict(RECIPE_DEFAULTS.get(recipe, {}) if defaults is None else defaults)
    for parameter in builder_parameters(recipe):
        attribute = f"builder_{parameter.name}"
        if hasattr(args, attribute):
            chosen[parameter.name] = getattr(args, attribute)
    order = [parameter.name for parameter in builder_parameters(recipe)]
    return {name: chosen[name] for name in order if name in chosen and name not in exclude}
