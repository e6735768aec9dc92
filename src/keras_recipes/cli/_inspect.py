"""Subcommands that look at recipes without training them: `list`."""

import ast
import importlib.util

# The recipes the command line offers, in the order of the lecture. The
# helpers that take a built model (`submodel`, `split_brain_targets`,
# `split_brain_features`) are not recipes.
RECIPES = (
    "mlp",
    "shared_mlp",
    "branch_merge",
    "averaging_layer",
    "autoencoder",
    "vae",
    "split_brain_ae",
)


def recipe_summary(name):
    """The first line of a recipe builder's docstring, read without Keras.

    The builder's module is parsed, not imported, so `keras-recipes list`
    answers without loading TensorFlow, and the line cannot drift from the
    docstring.
    """
    from keras_recipes import _BUILDERS

    spec = importlib.util.find_spec(_BUILDERS[name])
    with open(spec.origin, encoding="utf-8") as source:
        tree = ast.parse(source.read(), filename=spec.origin)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            docstring = ast.get_docstring(node) or ""
            return docstring.strip().splitlines()[0] if docstring else ""
    raise LookupError(f"{spec.origin} defines no function {name!r}")


def run_list(args):
    width = max(len(name) for name in RECIPES)
    for name in RECIPES:
        print(f"{name:<{width}}  {recipe_summary(name)}")
    return 0


def add_parsers(subparsers):
    parser = subparsers.add_parser(
        "list",
        help="list the recipes, one line each",
        description="List the recipes, one line each, with what they build.",
    )
    parser.set_defaults(run=run_list)
