"""`keras-recipes train RECIPE`: train a recipe, keep the run, draw what it learned.

`_run` is the life cycle every run shares (the run directory, Ctrl-C, the
checkpoint and `history.csv`, the report); each recipe the command trains
has one module beside it with what is its own (its data, its builder call,
its pictures) and an `add_parser(recipes)` that adds its subcommand.
"""

import importlib

# The recipes `train` trains, in the order `train --help` lists them.
_RECIPE_MODULES = (
    "keras_recipes.cli._train._vae",
    "keras_recipes.cli._train._split_brain",
)


def add_parsers(subparsers):
    """Adds the `train` command, with one subcommand per recipe, to `subparsers`.

    Args:
        subparsers: the command line's `argparse` subparsers.
    """
    train = subparsers.add_parser(
        "train",
        help="train a recipe and draw what it learned",
        description="Train a recipe on data that ships with the install (or your "
        "own .npy/.npz array) and write the model, its history and pictures into "
        "a run directory.",
    )
    recipes = train.add_subparsers(title="recipes", metavar="RECIPE", dest="recipe",
                                   required=True)
    for module_name in _RECIPE_MODULES:
        importlib.import_module(module_name).add_parser(recipes)
