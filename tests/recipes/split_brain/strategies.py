"""Hypothesis strategies of the split-brain autoencoder: `split_brain_ae()` calls with one thing wrong.

`invalid_split_brain_ae_calls()` draws `(kwargs, names)` and
`invalid_bin_centers()` the `ab_bin_centers` no call accepts, both for
`tests/test_invalid_arguments.py`. The valid call stays in
tests/strategies.py, where the `param_count` recipe tests draw every family's.
"""

import math

import numpy as np
from hypothesis import strategies as st

# `strategies` is tests/strategies.py (tests/ is on `sys.path`, see tests/conftest.py),
# not this module: the pieces every family shares.
from strategies import (
    huge_integers,
    invalid_input_shapes,
    invalid_names,
    invalid_numbers,
    invalid_optimizers,
    invalid_seeds,
    invalid_sizes,
    odd_objects,
    one_wrong,
    unknown_choices,
)


@st.composite
def _split_brain_mismatches(draw):
    kind = draw(st.sampled_from(["overlap", "range", "classification", "bins"]))
    if kind == "overlap":
        groups = draw(st.sampled_from([((0,), (0, 1)), ((0, 1), (1, 2)), ((0, 1, 2), (2,)), ((0, 0), (1,))]))
        return {"channel_groups": groups}, ("channel_groups",)
    if kind == "range":
        groups = draw(st.sampled_from([((0,), (1, 3)), ((-1,), (1,)), ((0,), (5,)), ((0,), (1, 2**40))]))
        return {"channel_groups": groups}, ("channel_groups",)
    if kind == "classification":
        # Classification quantises L and ab, so it needs the Lab split.
        change = draw(
            st.sampled_from(
                [
                    {"input_shape": (16, 16, 4), "channel_groups": ((0, 1, 2), (3,))},
                    {"channel_groups": ((0, 1), (2,))},
                    {"input_shape": (16, 16, 2), "channel_groups": ((0,), (1,))},
                ]
            )
        )
        return {**change, "loss": "classification"}, ("loss", "channel_groups")
    return {"num_l_bins": draw(st.sampled_from([1, 0, -3, np.int64(1)]))}, ("num_l_bins",)


def invalid_bin_centers():
    """`ab_bin_centers` that are not rows of two distinct finite numbers."""
    return st.one_of(
        st.sampled_from(
            [
                [[0, 0]],
                [[0, 0], [0, 0]],
                [[0, 0, 0], [1, 1, 1]],
                [[0], [1]],
                [[0, math.nan], [1, 1]],
                [[0, math.inf], [1, 1]],
                [[0, 0], [1]],
                [[10**400, 0], [1, 1]],
                [[0, -(2**1024)], [1, 1]],
                [[1e39, 0], [1, 1]],
                "ab",
                3,
                [[None, 0], [1, 1]],
                [["a", "b"], [1, 1]],
                np.zeros((3, 3)),
                np.zeros((1, 2)),
                np.array([[0.0, np.nan], [1.0, 1.0]]),
            ]
        ),
        st.lists(st.tuples(st.floats(), st.floats()), min_size=2, max_size=4).filter(
            lambda rows: not all(math.isfinite(v) for row in rows for v in row)
        ),
    )


def invalid_split_brain_ae_calls():
    """One thing wrong in a `split_brain_ae()` call, or channel groups and losses that do not fit."""
    table = {
        "input_shape": st.one_of(
            invalid_input_shapes(min_rank=3),
            st.sampled_from([(16, 16), (16, 16, 1), (16, 16, 3, 1), (16,)]),
        ),
        "channel_groups": st.one_of(
            st.sampled_from([None, "L|ab", ((0,),), ((0,), (1,), (2,)), ((), (1, 2)), ((0.0,), (1, 2)), ((True,), (1, 2)), [[0], "12"]]),
            odd_objects(),
        ),
        "loss": st.one_of(
            unknown_choices(("classification", "regression")),
            st.sampled_from([("classification",), ("regression",) * 3, ("classification", None), ()]),
        ),
        "num_l_bins": invalid_sizes(),
        "ab_bin_centers": invalid_bin_centers(),
        "architecture": unknown_choices(("alexnet", "small")),
        "width_multiplier": st.one_of(
            invalid_numbers(strictly_positive=True),
            st.floats(min_value=1e4, allow_infinity=False),
            huge_integers(),
        ),
        "optimizer": invalid_optimizers(),
        "seed": invalid_seeds(),
        "name": invalid_names(),
    }
    base = {"input_shape": (16, 16, 3), "architecture": "small", "width_multiplier": 0.125}
    return one_wrong(base, table, [_split_brain_mismatches()])
