"""ParamTable's options: `fold(depth)`, FLOPs beside MACs, and `to_csv()`."""

import csv
import io
import json

import keras
import pytest
from hypothesis import given
from strategies import negative_integers, non_integers

from keras_recipes import param_count
from keras_recipes.param_count import LayerRow, ParamCount, ParamTable

L = keras.layers


# === Models with nesting: plain, nested, nested twice, shared ===


def _plain():
    inputs = keras.Input((4,))
    hidden = L.Dense(3, name="dense")(inputs)
    return keras.Model(inputs, L.Dense(2, name="logits")(hidden), name="plain")


def _inner(name, units=3):
    inputs = keras.Input((4,))
    hidden = L.Dense(units, name=f"{name}_dense")(inputs)
    hidden = L.BatchNormalization(name=f"{name}_norm")(hidden)
    return keras.Model(inputs, L.Dense(4, name=f"{name}_out")(hidden), name=name)


def _nested():
    """An encoder and a decoder, as the vae builds them."""
    encoder, decoder = _inner("encoder"), _inner("decoder", 5)
    inputs = keras.Input((4,))
    return keras.Model(inputs, decoder(encoder(inputs)), name="nested")


def _nested_twice():
    """A model inside a model inside the model, and a layer after them."""
    deepest = _inner("deepest")
    inputs = keras.Input((4,))
    middle = keras.Model(inputs, L.Dense(4, name="middle_dense")(deepest(inputs)), name="middle")
    outer_inputs = keras.Input((4,))
    hidden = middle(outer_inputs)
    return keras.Model(outer_inputs, L.Dense(1, name="head")(hidden), name="nested_twice")


def _shared():
    """A nested model used twice and a layer used inside it and outside it."""
    dense = L.Dense(4, name="shared_dense")
    inner_inputs = keras.Input((4,))
    inner = keras.Model(inner_inputs, dense(L.Dense(4, name="inner_dense")(inner_inputs)),
                        name="inner")
    inputs = keras.Input((4,))
    hidden = inner(inner(dense(inputs)))
    return keras.Model(inputs, L.Dense(2, name="head")(hidden), name="shared")


MODELS = {"plain": _plain, "nested": _nested, "nested_twice": _nested_twice, "shared": _shared}


@pytest.fixture(scope="module", params=[(name, source) for name in MODELS
                                        for source in ("live", "saved")],
                ids=lambda param: f"{param[0]}-{param[1]}")
def table(request, tmp_path_factory):
    """`count_model` of each model (live) or `count_config` of its `.keras` file (saved)."""
    name, source = request.param
    model = MODELS[name]()
    if source == "live":
        return param_count.count_model(model)
    path = tmp_path_factory.mktemp("fold") / f"{name}.keras"
    model.save(path)
    return param_count.count_config(path)


def _by_hand(encoder_macs=4):
    """An encoder (nested) holding one Dense, then a Dense: a table to fold by hand."""
    return ParamTable([
        LayerRow("encoder", "Functional", (None, 2), ParamCount(), encoder_macs, 8, "nested"),
        LayerRow("encoder/dense", "Dense", (None, 2), ParamCount(6, 1), encoder_macs, 8,
                 "formula"),
        LayerRow("logits", "Dense", (None, 2), ParamCount(3, 0), 2, 4, "formula"),
    ], name="model")


# === fold ===


def test_depths_count_the_nested_models_that_hold_each_row(table):
    """A row's depth is the number of nested rows whose path, with `/`, begins its own."""
    for row, depth in zip(table.rows, table.depths):
        holders = [other for other in table.rows
                   if other.status == "nested" and row.path.startswith(other.path + "/")]
        assert depth == len(holders), row.path


def test_folding_keeps_the_totals_at_every_depth(table):
    """At every depth the folded table has the same total, split, MACs and FLOPs, and rows that add up."""
    deepest = max(table.depths)
    for depth in range(deepest + 2):
        folded = table.fold(depth)
        assert folded.total == table.total
        assert sum((row.count for row in folded.rows), ParamCount()) == table.total
        assert (folded.macs, folded.flops) == (table.macs, table.flops)
        assert max(folded.depths) <= depth
        assert folded.name == table.name


def test_folding_below_the_deepest_row_changes_nothing(table):
    """`fold(depth)` at or past the deepest row's depth gives the same rows."""
    assert table.fold(max(table.depths)).rows == table.rows
    assert table.fold(10**6).rows == table.rows


def test_folding_twice_is_folding_once(table):
    """Folding to `d` after folding to `d + 1` equals folding to `d`; folding is idempotent."""
    for depth in range(max(table.depths) + 1):
        assert table.fold(depth + 1).fold(depth).rows == table.fold(depth).rows
        assert table.fold(depth).fold(depth).rows == table.fold(depth).rows


def test_a_folded_row_shows_its_model(table):
    """A folded row keeps the nested row's path, class, shape and output bytes; it sums its layers."""
    depths = table.depths
    folded = {row.path: row for row in table.fold(0).rows if row.status in ("folded", "unsupported")}
    for index, row in enumerate(table.rows):
        if row.status != "nested" or depths[index] != 0:
            continue
        end = index + 1
        while end < len(table.rows) and depths[end] > 0:
            end += 1
        inner = table.rows[index + 1:end]
        shown = folded[row.path]
        assert (shown.class_name, shown.build_shape, shown.output_bytes) == (
            row.class_name, row.build_shape, row.output_bytes)
        assert shown.count == sum((item.count for item in inner), ParamCount())
        assert shown.macs == param_count._table.sum_macs(inner)
        assert shown.status == "folded"


def test_fold_zero_of_the_nested_model_shows_its_two_models():
    """`nested` at depth 0: the encoder and the decoder as one row each, with their counts."""
    model = _nested()
    folded = param_count.count_model(model).fold(0)
    assert [(row.path, row.class_name, row.status) for row in folded.rows] == [
        ("encoder", "Functional", "folded"), ("decoder", "Functional", "folded")]
    assert [row.count.total for row in folded.rows] == [
        model.get_layer("encoder").count_params(), model.get_layer("decoder").count_params()]


def test_a_folded_row_has_unknown_macs_when_a_part_has():
    """One layer of unknown MACs makes its folded model's MACs unknown, and the total's."""
    table = _by_hand(encoder_macs=None).fold(0)
    assert [row.macs for row in table.rows] == [None, 2]
    assert table.macs is None and table.flops is None


def test_a_folded_unsupported_layer_keeps_the_total_unknown():
    """A nested model holding an unsupported layer folds to an unsupported row; the total still raises."""
    rows = [
        LayerRow("inner", "Functional", None, ParamCount(), None, None, "nested"),
        LayerRow("inner/mine", "MyLayer", None, ParamCount(), None, None, "unsupported"),
    ]
    folded = ParamTable(rows).fold(0)
    assert [row.status for row in folded.rows] == ["unsupported"]
    with pytest.raises(ValueError, match="Cannot total"):
        folded.total


def test_fold_by_hand():
    """The worked example: the encoder row takes its Dense's count and MACs."""
    folded = _by_hand().fold(0)
    assert [(row.path, row.count, row.macs, row.output_bytes, row.status) for row in folded.rows] == [
        ("encoder", ParamCount(6, 1), 4, 8, "folded"),
        ("logits", ParamCount(3, 0), 2, 4, "formula"),
    ]


@given(depth=negative_integers())
def test_fold_refuses_a_negative_depth(depth):
    """A negative `depth` is a ValueError naming `depth` and the value."""
    with pytest.raises(ValueError, match=rf"argument `depth`.*Received: depth={depth}"):
        _by_hand().fold(depth)


def test_fold_takes_a_numpy_integer_depth():
    """A numpy integer is an integer: `fold(np.int64(0))` is `fold(0)`."""
    import numpy as np

    assert _by_hand().fold(np.int64(0)).rows == _by_hand().fold(0).rows


@given(depth=non_integers())
def test_fold_refuses_a_depth_that_is_not_an_int(depth):
    """A `depth` that is not an int (a bool, a float, a string, None) is a TypeError naming `depth`."""
    with pytest.raises(TypeError, match=r"argument `depth`.*Received: depth="):
        _by_hand().fold(depth)


# === FLOPs ===


def test_flops_are_twice_the_macs_in_every_format(table):
    """`flops=True`: each row's and the total's FLOPs are 2 x MACs (None stays None), in every format."""
    data = table.to_dict(flops=True)
    for row in data["rows"]:
        assert row["flops"] == (None if row["macs"] is None else 2 * row["macs"])
        assert list(row).index("flops") == list(row).index("macs") + 1
    assert data["flops"] == table.flops == (None if table.macs is None else 2 * table.macs)
    for text in (table.to_text(flops=True), table.to_markdown(flops=True)):
        header = text.splitlines()[0]
        assert "MACs" in header and "FLOPs" in header
        assert header.index("FLOPs") > header.index("MACs")


def test_without_flops_every_format_is_as_before(table):
    """By default no format gains a FLOPs column or key, and `str(table)` is `to_text()`."""
    assert str(table) == table.to_text()
    assert "FLOPs" not in table.to_text() and "FLOPs" not in table.to_markdown()
    data = table.to_dict()
    assert "flops" not in data and all("flops" not in row for row in data["rows"])
    assert "flops" not in table.to_csv().splitlines()[0]


def test_flops_of_an_unknown_macs_is_unknown():
    """`flops(None)` is None; `flops(n)` is 2n."""
    assert param_count._table.flops(None) is None
    assert param_count._table.flops(21) == 42


# === CSV ===


def _number(cell):
    return None if cell == "" else int(cell)


@pytest.mark.parametrize("flops", [False, True])
def test_csv_reads_back_to_the_json_numbers(table, flops):
    """`csv.DictReader` on `to_csv()` gives each row's numbers and strings as `to_dict()` has them."""
    data = json.loads(json.dumps(table.to_dict(flops=flops)))["rows"]
    read = list(csv.DictReader(io.StringIO(table.to_csv(flops=flops))))
    assert len(read) == len(data)
    for cells, row in zip(read, data):
        assert list(cells) == list(row)
        for key in ("trainable", "non_trainable", "total", "macs", "output_bytes",
                    *(("flops",) if flops else ())):
            assert _number(cells[key]) == row[key], key
        for key in ("path", "class_name", "status"):
            assert cells[key] == row[key], key


def test_csv_of_folded_rows_reads_back_to_the_total(table):
    """The CSV of a folded table sums, column by column, to the table's total."""
    read = list(csv.DictReader(io.StringIO(table.fold(0).to_csv())))
    total = table.total
    assert sum(int(cells["trainable"]) for cells in read) == total.trainable
    assert sum(int(cells["non_trainable"]) for cells in read) == total.non_trainable


@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
def test_csv_defuses_spreadsheet_formulas(start):
    """A cell from a file that starts like a formula gets a leading `'`; numbers are left alone."""
    formula = start + 'HYPERLINK("http://example.com","x")'
    row = LayerRow(formula, start + "Class", (None, 2), ParamCount(9, 0), 6, 12, "formula")
    cells = next(csv.DictReader(io.StringIO(ParamTable([row]).to_csv())))
    assert cells["path"] == "'" + formula
    assert cells["class_name"] == "'" + start + "Class"
    assert (cells["trainable"], cells["macs"], cells["build_shape"]) == ("9", "6", "(None, 2)")


@pytest.mark.parametrize("start", ["\t", "\r", "\n"])
def test_csv_cells_never_start_with_a_control_character(start):
    """A tab, carriage return or newline from a file is escaped: no cell starts with one."""
    row = LayerRow(start + "=cmd", "Dense", None, ParamCount(), 0, None, "formula")
    cells = next(csv.DictReader(io.StringIO(ParamTable([row]).to_csv())))
    assert not cells["path"].startswith(("\t", "\r", "\n", "="))
    assert "=cmd" in cells["path"]


def test_csv_quotes_commas_and_quotes():
    """A name holding a comma or a quote reads back whole."""
    row = LayerRow('a,"b"', "Dense", (None, 2), ParamCount(9, 0), 6, 12, "formula")
    cells = next(csv.reader(io.StringIO(ParamTable([row]).to_csv()).readlines()[1:]))
    assert cells[0] == 'a,"b"' and cells[2] == "(None, 2)"


def test_csv_of_an_empty_table_is_its_header():
    """No rows: the header line alone, with the flops column when asked."""
    assert ParamTable([]).to_csv().splitlines() == [
        "path,class_name,build_shape,trainable,non_trainable,total,macs,output_bytes,status"]
    assert ParamTable([]).to_csv(flops=True).splitlines()[0].split(",")[6:8] == ["macs", "flops"]
