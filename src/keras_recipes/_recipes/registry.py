"""The one list of the recipes: what the package, the command line and the docs read.

Pure Python, importing nothing: `keras_recipes.__init__` derives its lazy
builders from it, the command line its recipe list and default arguments
(`cli/_inspect.RECIPES`, `cli/_builder_options.RECIPE_DEFAULTS`), and the
docs their API page (`docs/builders_page.py`). Adding a recipe is one module
in its family's folder, its count in the family's `spec.py`, and one row
here.

Example:

>>> [recipe.name for recipe in RECIPES if recipe.trained]
['vae', 'split_brain_ae']
>>> by_name("mlp").module
'keras_recipes._recipes.functional.mlp'
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Recipe:
    """One recipe: a builder function of `keras_recipes` that returns a compiled model.

    Attributes:
        name: the builder's name, `keras_recipes.<name>`, and its count's,
            `keras_recipes.param_count.<name>`.
        family: the folder under `keras_recipes/_recipes/` that holds it.
        module: the module that defines the builder.
        cli_defaults: the arguments the command line builds it with when
            none are given (small, fast models).
        trained: whether `keras-recipes train` trains it.
        docs_page: its page under `docs/`.
    """

    name: str
    family: str
    module: str
    cli_defaults: dict
    trained: bool
    docs_page: str


@dataclass(frozen=True)
class Helper:
    """A function (or callback) of `keras_recipes` that takes a built model rather than building one.

    Attributes:
        name: the function's name, `keras_recipes.<name>`.
        module: the module that defines it.
    """

    name: str
    module: str


def _recipe(name, family, cli_defaults, *, trained=False):
    return Recipe(
        name=name,
        family=family,
        module=f"keras_recipes._recipes.{family}.{name}",
        cli_defaults=cli_defaults,
        trained=trained,
        docs_page=f"recipes/{name}.md",
    )


# In the order the command line lists them.
RECIPES = (
    _recipe("mlp", "functional", {"input_dim": 2, "units": [3, 2, 3]}),
    _recipe("shared_mlp", "functional", {"input_dim": 2, "shared_units": 3, "bridge_units": [2]}),
    _recipe(
        "branch_merge",
        "functional",
        {
            "input_dim": 2,
            "trunk_units": [3],
            "branch_units": [[2], [1, 2]],
            "head_units": [3],
        },
    ),
    _recipe("averaging_layer", "functional", {"input_dim": 3}),
    _recipe("autoencoder", "autoencoders", {"input_shape": (8, 8, 1), "latent_dim": 2}),
    _recipe("vae", "autoencoders", {"input_shape": (8, 8, 1)}, trained=True),
    Recipe(
        name="split_brain_ae",
        family="split_brain",
        module="keras_recipes._recipes.split_brain.builder",
        cli_defaults={"input_shape": (32, 32, 3), "architecture": "small"},
        trained=True,
        docs_page="recipes/split_brain_ae.md",
    ),
)

HELPERS = (
    Helper(name="submodel", module="keras_recipes._submodel"),
    Helper(name="split_brain_targets", module="keras_recipes._recipes.split_brain.builder"),
    Helper(name="split_brain_features", module="keras_recipes._recipes.split_brain.builder"),
    Helper(name="vae_nll", module="keras_recipes._recipes.autoencoders.evaluation"),
    Helper(name="latent_diagnostics", module="keras_recipes._recipes.autoencoders.evaluation"),
    Helper(name="LatentMonitor", module="keras_recipes._recipes.autoencoders.evaluation"),
)


def by_name(name):
    """The `Recipe` named `name`.

    Raises:
        LookupError: no recipe has that name.
    """
    for recipe in RECIPES:
        if recipe.name == name:
            return recipe
    raise LookupError(f"no recipe named {name!r}")
