"""Hypothesis strategies of the autoencoders: valid and invalid `vae()` and `autoencoder()` calls.

`vae_arguments()` and `autoencoder_arguments()` draw valid calls (the tests
beside this file check the analytic count on them); `invalid_vae_calls()` and
`invalid_autoencoder_calls()` draw calls with one thing wrong, for
`tests/test_invalid_arguments.py`.
"""

from hypothesis import strategies as st

# `strategies` is tests/strategies.py (tests/ is on `sys.path`, see tests/conftest.py),
# not this module: the pieces every family shares.
from strategies import (
    huge_integers,
    input_shapes,
    invalid_initializers,
    invalid_input_shapes,
    invalid_names,
    invalid_numbers,
    invalid_optimizers,
    invalid_seeds,
    invalid_sizes,
    invalid_unit_lists,
    one_wrong,
    sizes,
    unit_lists,
    unknown_choices,
)


# === Valid calls ===

ARCHITECTURES = ("dense", "conv")
"""The architectures of `vae()` and `autoencoder()`."""


@st.composite
def autoencoder_sizes(draw):
    """`(input_shape, latent_dim, keywords)` valid for `vae()` and `autoencoder()`.

    Conv draws have a height and width divisible by `2 ** len(filters)`;
    dense draws have inputs of rank 1 to 3 and possibly no hidden layer.
    """
    architecture = draw(st.sampled_from(ARCHITECTURES))
    latent_dim = draw(sizes(4))
    if architecture == "conv":
        filters = draw(st.lists(sizes(4), min_size=1, max_size=2))
        factor = 2 ** len(filters)
        shape = (
            factor * draw(sizes(2)),
            factor * draw(sizes(2)),
            draw(sizes(3)),
        )
        keywords = {
            "architecture": "conv",
            "filters": filters,
            "intermediate_dim": draw(sizes()),
        }
    else:
        shape = draw(input_shapes(max_rank=3, max_size=4))
        keywords = {"architecture": "dense", "hidden_units": draw(unit_lists(min_size=0, max_size=2))}
    keywords["seed"] = draw(st.none() | st.integers(min_value=0, max_value=2**16))
    return shape, latent_dim, keywords


@st.composite
def vae_arguments(draw):
    """`(args, kwargs)` of a valid `vae()` call."""
    shape, latent_dim, keywords = draw(autoencoder_sizes())
    keywords["reconstruction_loss"] = draw(
        st.sampled_from(["binary_crossentropy", "squared_error"])
    )
    keywords["beta"] = draw(st.floats(min_value=0.0, max_value=4.0))
    return (shape, latent_dim), keywords


@st.composite
def autoencoder_arguments(draw):
    """`(args, kwargs)` of a valid `autoencoder()` call, with or without training noise."""
    shape, latent_dim, keywords = draw(autoencoder_sizes())
    keywords["reconstruction_loss"] = draw(
        st.sampled_from(["binary_crossentropy", "squared_error"])
    )
    keywords["noise_stddev"] = draw(st.just(0.0) | st.floats(min_value=0.0, max_value=1.0))
    return (shape, latent_dim), keywords


# === Calls with one thing wrong ===


@st.composite
def _autoencoder_mismatches(draw):
    kind = draw(st.sampled_from(["rank", "divisible", "huge"]))
    if kind == "huge":
        # A size too big to build, in an argument the architecture uses (the
        # others are checked for type and sign only: they build nothing).
        huge = draw(huge_integers())
        change = draw(
            st.sampled_from(
                [
                    ({"architecture": "dense", "input_shape": (6,), "hidden_units": (4, huge)}, "hidden_units"),
                    ({"architecture": "dense", "input_shape": (6,), "latent_dim": huge}, "latent_dim"),
                    ({"architecture": "conv", "input_shape": (4, 4, 1), "filters": (huge,)}, "filters"),
                    ({"architecture": "conv", "input_shape": (4, 4, 1), "filters": (2,), "intermediate_dim": huge}, "intermediate_dim"),
                ]
            )
        )
        return change[0], (change[1],)
    if kind == "rank":
        # The conv architecture needs (height, width, channels).
        shape = draw(st.sampled_from([(8,), (8, 8), (8, 8, 1, 1), (64,)]))
        return {"input_shape": shape, "architecture": "conv", "filters": (2,)}, ("input_shape",)
    filters = draw(st.lists(sizes(4), min_size=1, max_size=3))
    factor = 2 ** len(filters)
    side = draw(st.integers(1, 4 * factor).filter(lambda s: s % factor))
    shape = draw(st.sampled_from([(side, factor, 1), (factor, side, 2)]))
    return {"input_shape": shape, "architecture": "conv", "filters": filters}, ("input_shape", "filters")


def _autoencoder_table():
    return {
        "input_shape": invalid_input_shapes(),
        "latent_dim": invalid_sizes(),
        "architecture": unknown_choices(ARCHITECTURES),
        "hidden_units": invalid_unit_lists(allow_empty=True, huge=False),
        "filters": invalid_unit_lists(huge=False),
        "intermediate_dim": invalid_sizes(huge=False),
        "reconstruction_loss": unknown_choices(("binary_crossentropy", "squared_error")),
        "optimizer": invalid_optimizers(),
        "steps_per_execution": invalid_sizes(),
        "seed": invalid_seeds(),
        "name": invalid_names(),
    }


_AUTOENCODER_BASES = st.sampled_from(
    [
        {"input_shape": (6,), "latent_dim": 2, "hidden_units": (4,)},
        {"input_shape": (4, 4, 1), "latent_dim": 2, "architecture": "conv", "filters": (2,), "intermediate_dim": 3},
    ]
)


def invalid_vae_calls():
    """One thing wrong in a `vae()` call, dense or conv; `beta` or `free_bits` negative or not finite."""
    table = {
        **_autoencoder_table(),
        "beta": invalid_numbers(),
        "free_bits": invalid_numbers(),
        "objective": unknown_choices(("elbo", "iwae")),
        "num_samples": invalid_sizes(),
        "kernel_initializer": invalid_initializers(),
        "bias_initializer": invalid_initializers(),
    }
    return _AUTOENCODER_BASES.flatmap(lambda base: one_wrong(base, table, [_autoencoder_mismatches()]))


def invalid_autoencoder_calls():
    """One thing wrong in an `autoencoder()` call; `noise_stddev` outside [0, 1] or not finite."""
    table = {**_autoencoder_table(), "noise_stddev": invalid_numbers(high=1.0)}
    return _AUTOENCODER_BASES.flatmap(lambda base: one_wrong(base, table, [_autoencoder_mismatches()]))
