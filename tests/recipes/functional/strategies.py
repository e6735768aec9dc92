"""Hypothesis strategies of the functional recipes: `mlp()`, `shared_mlp()`, `branch_merge()`, `averaging_layer()` calls with one thing wrong.

Each `invalid_*_calls()` draws `(kwargs, names)` for `tests/test_invalid_arguments.py`.
Their valid calls stay in tests/strategies.py, where the `param_count`
recipe tests draw every family's.
"""

from hypothesis import strategies as st

# `strategies` is tests/strategies.py (tests/ is on `sys.path`, see tests/conftest.py),
# not this module: the pieces every family shares.
from strategies import (
    MERGE_MODES,
    common_invalid_keywords,
    flags,
    invalid_sizes,
    invalid_unit_lists,
    one_wrong,
    sizes,
    unknown_choices,
)


def invalid_mlp_calls():
    """One thing wrong in an `mlp()` call."""
    table = {"input_dim": invalid_sizes(), "units": invalid_unit_lists(), **common_invalid_keywords()}
    softmax_on_one = st.just(({"units": [3, 1], "output_activation": "softmax"}, ("output_activation",)))
    hidden_softmax = st.just(({"units": [1, 3], "activation": "softmax"}, ("activation",)))
    return one_wrong({"input_dim": 2, "units": [3, 2]}, table, [softmax_on_one, hidden_softmax])


@st.composite
def _shared_mlp_mismatches(draw):
    input_dim = draw(sizes())
    bridge = draw(st.lists(sizes(), max_size=2)) + [draw(sizes().filter(lambda w: w != input_dim))]
    shared_units = draw(sizes())
    if draw(flags()):
        bridge, shared_units = [], draw(sizes().filter(lambda w: w != input_dim))
    changes = {"input_dim": input_dim, "shared_units": shared_units, "bridge_units": bridge}
    return changes, ("bridge_units", "input_dim", "shared_units")


def invalid_shared_mlp_calls():
    """One thing wrong in a `shared_mlp()` call, or a bridge that does not end at `input_dim`."""
    table = {
        "input_dim": invalid_sizes(),
        "shared_units": invalid_sizes(),
        "bridge_units": invalid_unit_lists(allow_empty=True),
        **common_invalid_keywords(),
    }
    base = {"input_dim": 2, "shared_units": 3, "bridge_units": [2]}
    return one_wrong(base, table, [_shared_mlp_mismatches()])


@st.composite
def _branch_merge_mismatches(draw):
    kind = draw(st.sampled_from(["inputs", "trunk", "widths", "one_branch", "heads"]))
    if kind == "inputs":
        # One input per branch, but a different number of them.
        count = draw(st.sampled_from([1, 3, 4]))
        return {"input_dim": [2] * count, "branch_units": [[2], [2]]}, ("input_dim",)
    if kind == "trunk":
        # A shared trunk reads every input, so their widths must agree.
        dims = draw(st.lists(sizes(), min_size=2, max_size=2, unique=True))
        return {"input_dim": dims, "trunk_units": [3], "branch_units": [[2], [2]]}, ("input_dim",)
    if kind == "widths":
        merge = draw(st.sampled_from(["add", "average", "multiply", "maximum"]))
        widths = draw(st.lists(sizes(), min_size=2, max_size=2, unique=True))
        return {"merge": merge, "branch_units": [[w] for w in widths]}, ("branch_units",)
    if kind == "one_branch":
        branches = draw(st.sampled_from([[], [[2]], [[]], ()]))
        return {"branch_units": branches}, ("branch_units",)
    # A mix of widths and lists of widths: neither one head nor several.
    heads = draw(st.sampled_from([[[1], 2], [2, [1]], [[1], []], [[]]]))
    return {"head_units": heads}, ("head_units",)


def invalid_branch_merge_calls():
    """One thing wrong in a `branch_merge()` call, or inputs, branches and heads that do not fit."""
    table = {
        "input_dim": st.one_of(
            # A list of sizes is valid here: one input per branch.
            invalid_sizes().filter(lambda value: not isinstance(value, list)),
            st.just([]),
            st.lists(invalid_sizes(), min_size=2, max_size=2),
        ),
        "trunk_units": invalid_unit_lists(allow_empty=True),
        "branch_units": st.one_of(
            invalid_unit_lists(allow_empty=True, nested=False),
            st.tuples(invalid_unit_lists(allow_empty=True), st.just([2])).map(list),
        ),
        "head_units": st.one_of(
            invalid_unit_lists(nested=False),
            st.lists(invalid_unit_lists(), min_size=1, max_size=2).filter(
                lambda heads: all(isinstance(head, (list, tuple)) for head in heads)
            ),
        ),
        "merge": unknown_choices(MERGE_MODES),
        **common_invalid_keywords(),
    }
    base = {"input_dim": 2, "trunk_units": [3], "branch_units": [[2], [1, 2]], "head_units": [3]}
    return one_wrong(base, table, [_branch_merge_mismatches()])


def invalid_averaging_layer_calls():
    """One thing wrong in an `averaging_layer()` call."""
    table = {"input_dim": invalid_sizes(), **common_invalid_keywords(outputs=False)}
    return one_wrong({"input_dim": 3}, table)
