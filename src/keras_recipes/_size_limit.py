"""The size refusal of every builder: a model whose analytic count is too big to build.

Kept apart from `_validation` because it counts with `param_count`, whose
modules check their arguments with `_validation`: here, above both, the
check imports the counter without an import cycle. Pure Python, like both.
"""

from keras_recipes import _validation, param_count


def buildable(recipe, arguments, responsible):
    """Refuse a recipe of more than `_validation.MAX_PARAMS` parameters, before it is built.

    The count is `keras_recipes.param_count.<recipe>(**arguments)`, worked
    out in pure Python from the same arguments; the message names the
    arguments in `responsible` (the sizes that set the count) and gives it.

    Returns:
        The number of parameters.
    """
    count = getattr(param_count, recipe)(**arguments).total
    if count > _validation.MAX_PARAMS:
        names = ", ".join(f"`{argument}`" for argument in responsible)
        received = ", ".join(f"{argument}={arguments[argument]!r}" for argument in responsible)
        raise ValueError(
            f"Invalid value for arguments {names}: expected sizes that give at "
            f"most {_validation.MAX_PARAMS:,} parameters (2**31). Received: {received}, "
            "which "
            f"give {count:,} parameters (keras_recipes.param_count.{recipe}), "
            f"{_validation.gibibytes(4 * count)} GiB of float32 weights before the "
            "optimizer's state"
        )
    return count


def autoencoder_buildable(
    recipe, shape, latent_dim, architecture, hidden_units, filters, intermediate_dim
):
    """Refuse a `vae()` or `autoencoder()` too big to build, naming its size arguments.

    Takes the sizes as `_autoencoding_checks.sizes()` returns them; `recipe` is `"vae"` or
    `"autoencoder"`, whose analytic count `buildable` computes.
    """
    buildable(
        recipe,
        {
            "input_shape": shape,
            "latent_dim": latent_dim,
            "architecture": architecture,
            "hidden_units": hidden_units,
            "filters": filters,
            "intermediate_dim": intermediate_dim,
        },
        responsible=("input_shape", "latent_dim", "hidden_units")
        if architecture == "dense"
        else ("input_shape", "latent_dim", "filters", "intermediate_dim"),
    )
