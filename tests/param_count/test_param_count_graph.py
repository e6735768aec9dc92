"""Tests of the one walker core, `param_count._graph.GraphWalk`, on uses made by hand.

Both front ends (`count_model`, `count_config`) feed it; these tests pin
what it makes of each kind of use, without Keras and without a file.
"""

import pytest

from keras_recipes.param_count import ParamCount
from keras_recipes.param_count._graph import GraphWalk, LayerUse

DENSE = {"name": "dense", "units": 3}
BUILT = {"input_shape": [None, 2]}


def dense(path, key, **fields):
    """A use of a Dense(3) layer built on 2 features (9 parameters)."""
    return LayerUse(path=path, key=key, class_name="Dense", config=DENSE, build_config=BUILT,
                    **fields)


def test_first_use_is_counted_and_later_uses_are_shared():
    """The first use of a key is counted by its rule; a later use is a shared row of 0 with the same MACs."""
    walk = GraphWalk(strict=True)
    first = walk.add(dense("a", 1))
    again = walk.add(LayerUse(path="a_1", key=1, class_name="Dense", output_bytes=12))
    assert (first.status, first.count) == ("formula", ParamCount(9, 0))
    assert (again.status, again.count.total, again.macs, again.output_bytes) == (
        "shared", 0, first.macs, 12)
    assert walk.rows == [first, again]


def test_alias_finds_a_layer_met_under_another_key():
    """A use whose key is new but whose alias names a counted layer is shared; without the alias it is counted."""
    walk = GraphWalk(strict=True)
    walk.add(dense("a", 1, name_key=("name", "a")))
    assert walk.add(dense("b", 2, aliases=(("name", "a"),))).status == "shared"
    assert walk.add(dense("c", 3)).status == "formula"


def test_wrapper_of_a_counted_layer_holds_nothing():
    """A wrapper whose wrapped key was counted is a shared row of 0; a first wrapper counts and marks its wrapped key."""
    walk = GraphWalk(strict=True)
    walk.add(dense("inner", 1))
    wrapper = walk.add(LayerUse(path="wrapper", key=2, class_name="TimeDistributed",
                                config={"name": "wrapper"}, wrapped_key=1))
    assert (wrapper.status, wrapper.count.total, wrapper.macs) == ("shared", 0, None)
    fresh = GraphWalk(strict=True)
    fresh.add(dense("outer", 7, wrapped_key=8))
    assert fresh.add(dense("direct", 8)).status == "shared"


def test_status_gives_a_row_of_zero_and_unknown_macs():
    """A use with a status (an ambiguous saved layer) is a row of 0 with unknown MACs, remembered for later uses."""
    walk = GraphWalk(strict=True)
    row = walk.add(dense("a", 1, status="unsupported"))
    assert (row.status, row.count.total, row.macs) == ("unsupported", 0, None)
    assert walk.add(LayerUse(path="a_1", key=1, class_name="Dense")).status == "shared"


def test_nested_model_carries_its_layers_macs_once_closed():
    """A nested row waits for its layers; `close` gives it their MACs, which a later shared use counts again."""
    walk = GraphWalk(strict=True)
    opened = walk.add(LayerUse(path="inner", key="model", class_name="Functional", nested=True))
    assert (opened.status, opened.macs) == ("nested", None)
    layer = walk.add(dense("inner/a", 1))
    closed = walk.close()
    assert walk.rows == [closed, layer]
    assert closed.macs == layer.macs == 6
    assert walk.add(LayerUse(path="inner_1", key="model", class_name="Functional")).macs == 6


def test_unknown_class_is_unsupported_or_counted_by_its_weights():
    """No rule: a saved layer (no weights) is unsupported and shows the graph's bytes; a live one falls back to its weights."""
    saved = GraphWalk(strict=True).add(
        LayerUse(path="x", key=1, class_name="NoSuchLayer", config={}, output_bytes=8,
                 counted_output_bytes=4))
    assert (saved.status, saved.output_bytes) == ("unsupported", 8)
    live = GraphWalk(strict=False).add(
        LayerUse(path="x", key=1, class_name="NoSuchLayer", config={},
                 weights=lambda: ParamCount(5, 1)))
    assert (live.status, live.count) == ("fallback", ParamCount(5, 1))


def test_counted_output_bytes_win_over_the_graphs():
    """A counted first use shows the bytes its front end computed, else those the graph records."""
    walk = GraphWalk(strict=True)
    assert walk.add(dense("a", 1, output_bytes=12, counted_output_bytes=24)).output_bytes == 24
    assert walk.add(dense("b", 2, output_bytes=12)).output_bytes == 12


def test_strict_walk_names_the_layer_of_a_bad_config():
    """A strict walk raises on a config Keras could not have, naming the path; a lenient one counts it as unknown."""
    bad = LayerUse(path="model/dense", key=1, class_name="Dense",
                   config={"name": "dense", "units": -1}, build_config=BUILT)
    with pytest.raises(ValueError, match="model/dense"):
        GraphWalk(strict=True).add(bad)
    assert GraphWalk(strict=False).add(bad).status == "unsupported"


def test_max_rows_bounds_the_walk():
    """A walk refuses the row past `max_rows`, naming the limit."""
    walk = GraphWalk(strict=True, max_rows=1)
    walk.add(dense("a", 1))
    with pytest.raises(ValueError, match="at most 1 layers"):
        walk.add(dense("b", 2))
