"""Subcommands that look at recipes and models without training them.

`list` names the recipes; `summary` builds one and checks Keras's parameter
count against `keras_recipes.param_count`; `count` tables a saved `.keras`
file without Keras; `plot` draws a recipe's architecture.
"""

import argparse
import ast
import json
import math
import os
import pathlib
import shutil
import sys
import textwrap

from keras_recipes._recipes import registry
from keras_recipes.cli import _builder_options, _memory_options

# The recipes the command line offers, in the order of the lecture, read from
# the registry. The helpers that take a built model (`submodel`,
# `split_brain_targets`, `split_brain_features`) are not recipes.
RECIPES = tuple(recipe.name for recipe in registry.RECIPES)

# Exit status when the command ran but its answer is incomplete or wrong:
# `summary` found counts that disagree, `count` met layers it cannot count.
# Distinct from 2 (bad arguments or a bad file), so a script can tell them apart.
EXIT_INCOMPLETE = 1

PLOT_SUFFIXES = (".png", ".svg", ".pdf")
# A PNG's resolution at most: print quality. Graphviz would try to draw a
# diagram at any dpi, and at 10**6 one that exhausts memory.
MAX_DPI = 1200

_GRAPHVIZ_HINT = (
    "install Graphviz: apt-get install graphviz (Debian, Ubuntu), "
    "brew install graphviz (macOS), or see https://graphviz.org/download/"
)


def recipe_summary(name):
    """The first line of a recipe builder's docstring, read without Keras.

    The builder's module is parsed, not imported, so `keras-recipes list`
    answers without loading TensorFlow, and the line cannot drift from the
    docstring.
    """
    docstring = ast.get_docstring(_builder_options.builder_node(name)) or ""
    return docstring.strip().splitlines()[0] if docstring.strip() else ""


def run_list(args):
    width = max(len(name) for name in RECIPES)
    for name in RECIPES:
        print(f"{name:<{width}}  {recipe_summary(name)}")
    return 0


# === summary ===


def _build(recipe, arguments):
    from keras_recipes.cli import import_keras

    import_keras()
    import keras_recipes

    return getattr(keras_recipes, recipe)(**arguments)


def _keras_count(model):
    """`(trainable, non_trainable, total)` as Keras reports them."""
    trainable = sum(math.prod(weight.shape) for weight in model.trainable_weights)
    non_trainable = sum(math.prod(weight.shape) for weight in model.non_trainable_weights)
    return trainable, non_trainable, model.count_params()


def _optimizer_variables(model):
    """Values in the optimizer's state (moments, iteration), which `summary()` adds to its total."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not getattr(optimizer, "built", False):
        return 0
    return sum(math.prod(variable.shape) for variable in optimizer.variables)


def comparison_lines(counts):
    """Lines of a table of `(label, (trainable, non_trainable, total))`, the
    first being the reference; rows that differ from it are marked.

    Returns:
        `(lines, agree)`.
    """
    reference = counts[0][1]
    header = ("counted by", "trainable", "non-trainable", "total")
    rows = [(label, *(f"{value:,}" for value in values)) for label, values in counts]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]

    def render(row):
        return "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths))
        )

    lines = [render(header), "  ".join("-" * width for width in widths)]
    agree = True
    for (label, values), row in zip(counts, rows):
        differs = tuple(values) != tuple(reference)
        agree = agree and not differs
        lines.append(render(row) + ("  <-- DIFFERS from Keras" if differs else ""))
    return lines, agree


def run_summary(args):
    from keras_recipes import param_count
    from keras_recipes.cli import PROG

    recipe = args.recipe_name
    arguments = _builder_options.builder_arguments(args, recipe)
    formula = _builder_options.check_buildable(recipe, arguments)
    model = _build(recipe, arguments)

    call = _builder_options.format_call(recipe, arguments)
    print(f"keras_recipes.{call}\n")
    model.summary(print_fn=lambda text, line_break=True: print(text.rstrip("\n")))
    table = param_count.count_model(model)
    optimizer_variables = _optimizer_variables(model)
    if optimizer_variables:
        print(
            f"(Keras's \"Total params\" includes the optimizer's {optimizer_variables:,} "
            "state values, which model.count_params() and param_count leave out.)"
        )
    print("\nkeras_recipes.param_count.count_model(model):\n")
    print(table)
    print()
    counted = table.total
    lines, agree = comparison_lines(
        [
            ("Keras (model.count_params())", _keras_count(model)),
            ("param_count.count_model(model)", (counted.trainable, counted.non_trainable,
                                               counted.total)),
            (f"param_count.{recipe}(...)", (formula.trainable, formula.non_trainable,
                                            formula.total)),
        ]
    )
    print("\n".join(lines))
    if not agree:
        print(
            f"{PROG} summary: MISMATCH: the analytic counts of {recipe} differ from "
            "Keras's (marked above); please report this as a bug in keras_recipes.param_count",
            file=sys.stderr,
        )
        return EXIT_INCOMPLETE
    print(f"\nAll three agree: {counted.total:,} parameters.")
    if _memory_options.wants_memory(args):
        # The recipe's own optimizer (its `--optimizer`) decides the slots.
        memory = _memory_options.estimate(model, args, model.optimizer)
        print("\n" + _memory_options.memory_text(memory, args))
    return 0


# === count ===


def run_count(args):
    from keras_recipes import param_count
    from keras_recipes._untrusted import shown
    from keras_recipes.cli import PROG, CommandError
    from keras_recipes.param_count._table import describe_rows

    path = args.path
    depth = _count_depth(args.depth)
    memory_asked = _memory_options.wants_memory(args)
    if memory_asked and args.format == "csv":
        raise CommandError(
            "--batch-size and --fits-in are not shown in CSV, whose lines are the table's "
            "rows only; use --format json, markdown or text"
        )
    # A file's name is untrusted too (`count downloads/*.keras`).
    named = shown(path, 300)
    if os.path.isdir(path):
        raise CommandError(f"{named} is a directory, not a .keras file")
    if not os.path.exists(path):
        raise CommandError(f"no such file: {named}")
    if not os.path.isfile(path):
        # Reading a named pipe or a device would wait for a writer: never answer.
        raise CommandError(f"{named} is not a regular file (a pipe or a device), not a .keras file")
    if args.rules is not None:
        _import_rules(args.rules, path, named)
    try:
        # A path object, so that a name starting with "{" is never read as JSON.
        table = param_count.count_config(pathlib.Path(path))
    except ValueError as error:
        # The library's messages show a file's strings escaped and cut.
        raise CommandError(f"cannot count {named}: {error}") from None
    # The folded table is what is shown; the layers named as unsupported
    # below come from the whole table, folded or not.
    shown_table = table if depth is None else table.fold(depth)
    unsupported = table.unsupported
    # With unsupported layers there is no total, so no estimate either; the
    # message below says why. The estimate reads the whole table, not the folded one.
    memory = (_memory_options.estimate(table, args, args.optimizer)
              if memory_asked and not unsupported else None)
    if args.format == "json":
        data = shown_table.to_dict(flops=args.flops)
        if memory is not None:
            data["training_memory"] = _memory_options.memory_data(memory, args)
        print(json.dumps(data, indent=2))
    elif args.format == "markdown":
        print(shown_table.to_markdown(flops=args.flops))
        if memory is not None:
            print("\n" + _memory_options.memory_text(memory, args, markdown=True))
    elif args.format == "csv":
        print(shown_table.to_csv(flops=args.flops), end="")
    else:
        print(f"{table.name or 'model'} ({named})\n")
        print(shown_table.to_text(flops=args.flops))
        if memory is not None:
            print("\n" + _memory_options.memory_text(memory, args))
    if unsupported:
        print(
            f"{PROG} count: total unknown: no formula for {len(unsupported)} "
            f"layer(s), marked unsupported: {describe_rows(unsupported, 5)}",
            file=sys.stderr,
        )
        return EXIT_INCOMPLETE
    return 0


def _count_depth(text):
    """`--depth`'s value as an int, `None` when not given; a bad one is one line, status 2.

    Checked here rather than by argparse, whose refusal is a usage block,
    and before the file is read.
    """
    from keras_recipes._untrusted import shown
    from keras_recipes.cli import CommandError

    if text is None:
        return None
    try:
        depth = int(text)
    except ValueError:  # not an integer, or more digits than Python converts
        depth = -1
    if depth < 0:
        raise CommandError(
            "Invalid value for argument `--depth`: expected a non-negative integer "
            "(0 shows each nested model as one row). "
            f"Received: --depth={shown(repr(text), 60)}"
        )
    return depth


def _import_rules(module, path, named):
    """Imports the user's rules module, once the file has passed the bounded reader.

    The module runs code (it calls `param_count.register`), so it is
    imported only when asked, and only for a file that `count_config`'s
    reader accepts: a file refused for its size, its archive or its JSON is
    refused before any of the user's code runs.
    """
    import importlib

    from keras_recipes._untrusted import shown
    from keras_recipes.cli import CommandError
    from keras_recipes.param_count._saved import read_keras_file

    try:
        read_keras_file(path)
    except ValueError as error:
        raise CommandError(f"cannot count {named}: {error}") from None
    try:
        importlib.import_module(module)
    except Exception as error:  # any error of the user's module is one line
        raise CommandError(
            f"cannot import the --rules module {shown(module, 200)}: "
            f"{type(error).__name__}: {shown(str(error), 300)}"
        ) from None


# === plot ===


def _check_output(path, force):
    """Refuses, before anything is built, an output the diagram cannot or should not go to."""
    from keras_recipes.cli import CommandError

    if os.path.isdir(path):
        raise CommandError(f"-o {path} is a directory; give a file name such as {path}/model.png")
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in PLOT_SUFFIXES:
        raise CommandError(
            f"-o {path}: expected a file name ending in {', '.join(PLOT_SUFFIXES)}"
        )
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise CommandError(f"-o {path}: the folder {parent} does not exist")
    if os.path.exists(path) and not force:
        raise CommandError(f"{path} exists; pass --force to overwrite it")


def run_plot(args):
    from keras_recipes.cli import CommandError, require

    recipe = args.recipe_name
    # The user's own mistakes (a bad output, bad arguments, a model too big to
    # build) are refused first, whatever is installed: they need fixing on
    # every machine, and the answer must not depend on Graphviz being there.
    # The missing tools come next, still before anything is built or written.
    _check_output(args.output, args.force)
    arguments = _builder_options.builder_arguments(args, recipe)
    _builder_options.check_buildable(recipe, arguments)
    require("pydot", purpose="keras-recipes plot")
    if shutil.which("dot") is None:
        raise CommandError(
            "Graphviz's `dot` program, which draws the diagram, is not on PATH; "
            + _GRAPHVIZ_HINT
        )
    model = _build(recipe, arguments)
    import keras

    # Graphviz takes its output format from the suffix, in lower case only
    # (`-TPNG` fails), so the diagram is drawn into a hidden file with the
    # lower-case suffix beside the output, then renamed over it: an output
    # named MODEL.PNG works, and an existing file is replaced only by a
    # complete diagram.
    root, suffix = os.path.splitext(args.output)
    directory, name = os.path.split(root)
    partial = os.path.join(directory, f".{name}.partial{suffix.lower()}")
    try:
        keras.utils.plot_model(
            model,
            to_file=partial,
            show_shapes=True,
            show_layer_names=True,
            show_layer_activations=True,
            expand_nested=not args.collapse,
            rankdir=args.rankdir,
            dpi=args.dpi,
        )
        os.replace(partial, args.output)
    except ImportError as error:
        # Keras checks again by drawing an empty graph; a broken Graphviz fails here.
        raise CommandError(f"{error} ({_GRAPHVIZ_HINT})") from None
    except AssertionError as error:
        # pydot asserts that `dot` exited 0; its message holds dot's stderr.
        raise CommandError(f"Graphviz's dot failed: {str(error)[:300]}") from None
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    size = os.path.getsize(args.output)
    print(f"wrote {args.output} ({size:,} bytes): the architecture of "
          f"keras_recipes.{_builder_options.format_call(recipe, arguments)}")
    return 0


# === parsers ===


def _wrap(text):
    """A description wrapped for the terminal: the raw formatter that keeps the
    epilog's example lines as typed would not wrap it."""
    return textwrap.fill(" ".join(text.split()), width=79)


def _add_recipe_parsers(parser, *, command, run, extra_options=None, example):
    """One sub-parser per recipe under `parser`, each with its builder's options."""
    recipes = parser.add_subparsers(
        title="recipes", metavar="RECIPE", dest="recipe", required=True
    )
    for recipe in RECIPES:
        aliases = [recipe.replace("_", "-")] if "_" in recipe else []
        sub = recipes.add_parser(
            recipe,
            aliases=aliases,
            help=recipe_summary(recipe),
            description=_wrap(
                f"{command.capitalize()} keras_recipes.{recipe}: {recipe_summary(recipe)}"
            ),
            formatter_class=argparse.RawDescriptionHelpFormatter,
            epilog=_builder_options.VALUE_SYNTAX + "\nexample:\n  " + example(recipe),
        )
        if extra_options:
            extra_options(sub)
        _builder_options.add_builder_options(sub, recipe)
        sub.set_defaults(run=run, recipe_name=recipe)


def _plot_options(parser):
    parser.add_argument(
        "-o", "--output", required=True, metavar="FILE",
        help=f"the image to write, {', '.join(PLOT_SUFFIXES)}",
    )
    parser.add_argument(
        "--force", action="store_true", help="overwrite FILE if it exists"
    )
    parser.add_argument(
        "--rankdir", choices=("TB", "LR"), default="TB",
        help="layout: TB top to bottom, LR left to right (default: TB)",
    )
    parser.add_argument(
        "--dpi", type=_builder_options.positive_int("--dpi", maximum=MAX_DPI), default=96,
        help=f"resolution of a PNG, 1 to {MAX_DPI} (default: 96)",
    )
    parser.add_argument(
        "--collapse", action="store_true",
        help="draw nested models (an encoder, a decoder) as one box each "
        "instead of expanding their layers",
    )


_SUMMARY_EXAMPLES = {
    "mlp": "keras-recipes summary mlp --input-dim 2 --units 3,2,3 --activation tanh",
    "vae": "keras-recipes summary vae --input-shape 28,28,1 --architecture conv",
    "branch_merge": "keras-recipes summary branch_merge --branch-units '[[], [2]]' --trunk-units 1",
}


def add_parsers(subparsers):
    parser = subparsers.add_parser(
        "list",
        help="list the recipes, one line each",
        description="List the recipes, one line each, with what they build.",
        epilog="example:\n  keras-recipes list",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(run=run_list)

    parser = subparsers.add_parser(
        "summary",
        help="build a recipe; Keras's summary next to param_count's table",
        description=_wrap(
            "Build a recipe with the given builder arguments and print Keras's "
            "summary, the analytic table of keras_recipes.param_count.count_model, "
            "and the three totals (Keras, count_model, the recipe formula). Exit "
            "status 1 if they ever disagree. `keras-recipes summary RECIPE --help` "
            "lists the recipe's options."
        ),
        epilog="examples:\n  keras-recipes summary vae\n  " + _SUMMARY_EXAMPLES["mlp"],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_recipe_parsers(
        parser, command="summarize", run=run_summary,
        extra_options=lambda sub: _memory_options.add_memory_options(sub, optimizer=False),
        example=lambda recipe: _SUMMARY_EXAMPLES.get(recipe, f"keras-recipes summary {recipe}"),
    )

    parser = subparsers.add_parser(
        "count",
        help="per-layer parameters and MACs of a saved .keras file, without Keras",
        description=_wrap(
            "Print the per-layer table (parameters, MACs and output bytes per "
            "sample, how each was counted) of any Sequential or Functional model "
            "saved as .keras. Reads the file's config.json only: neither Keras "
            "nor TensorFlow is imported, no weights are loaded and nothing in "
            "the file is run. Exit status 1 when a layer's class has no formula "
            "(its rows say unsupported and the total is unknown), 2 when the "
            "file cannot be read."
        ),
        epilog="examples:\n  keras-recipes count runs/vae/model.keras\n"
        "  keras-recipes count model.keras --format json\n"
        "  keras-recipes count model.keras --depth 0 --flops --format csv\n"
        "  keras-recipes count model.keras --rules my_package.counting\n"
        "  keras-recipes count model.keras --batch-size 64 --dtype-policy mixed_bfloat16 "
        "--fits-in 16GiB",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("path", metavar="PATH", help="a .keras file")
    parser.add_argument(
        "--format", choices=("text", "markdown", "json", "csv"), default="text",
        help="text (default), a Markdown table, JSON for programs, or CSV for "
        "spreadsheets (one line per row, no total line)",
    )
    parser.add_argument(
        "--depth", metavar="N", default=None,
        help="show each model nested N models deep as one row (its layers summed); "
        "0 shows only the model's own layers; totals are unchanged (default: every layer)",
    )
    parser.add_argument(
        "--flops", action="store_true",
        help="add FLOPs (2 x MACs) beside the MACs",
    )
    parser.add_argument(
        "--rules", metavar="MODULE", default=None,
        help="a Python module to import first that registers rules for your own "
        "layer classes (keras_recipes.param_count.register); imported only after "
        "the file passed the bounded reader",
    )
    _memory_options.add_memory_options(parser)
    parser.set_defaults(run=run_count)

    parser = subparsers.add_parser(
        "plot",
        help="draw a recipe's architecture diagram (needs pydot and Graphviz)",
        description=_wrap(
            "Build a recipe and draw it with keras.utils.plot_model: layer names, "
            "shapes and activations, nested models expanded. Needs pydot "
            "(pip install 'keras-recipes[examples]') and Graphviz's dot program. "
            "Never overwrites a file unless --force is given."
        ),
        epilog="example:\n  keras-recipes plot vae -o vae.png",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_recipe_parsers(
        parser, command="draw", run=run_plot, extra_options=_plot_options,
        example=lambda recipe: f"keras-recipes plot {recipe} -o {recipe}.png",
    )
