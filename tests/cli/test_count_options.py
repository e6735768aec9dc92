"""`keras-recipes count`'s options: `--depth N`, `--flops` and `--format csv`."""

import csv
import io
import json
import subprocess
import sys
import textwrap
import zipfile

import keras
import pytest

from keras_recipes import cli

L = keras.layers


@pytest.fixture(scope="module")
def saved_nested(tmp_path_factory):
    """A model holding an encoder that holds a block: two levels of nesting, saved as .keras."""
    block_inputs = keras.Input((4,))
    block = keras.Model(block_inputs, L.Dense(4, name="block_dense")(block_inputs), name="block")
    encoder_inputs = keras.Input((4,))
    hidden = L.Dense(4, name="encoder_dense")(encoder_inputs)
    encoder = keras.Model(encoder_inputs, block(hidden), name="encoder")
    inputs = keras.Input((4,))
    model = keras.Model(inputs, L.Dense(2, name="head")(encoder(inputs)), name="outer")
    path = tmp_path_factory.mktemp("count_options") / "outer.keras"
    model.save(path)
    return path


def _count(capsys, *argv):
    status = cli.main(["count", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _json(capsys, path, *options):
    status, out, err = _count(capsys, str(path), "--format", "json", *options)
    assert (status, err) == (0, "")
    return json.loads(out)


# === --depth ===


@pytest.mark.parametrize(
    "depth, expected",
    [
        ("0", [("encoder", "folded"), ("head", "formula")]),
        ("1", [("encoder", "nested"), ("encoder/encoder_dense", "formula"),
               ("encoder/block", "folded"), ("head", "formula")]),
        ("2", [("encoder", "nested"), ("encoder/encoder_dense", "formula"),
               ("encoder/block", "nested"), ("encoder/block/block_dense", "formula"),
               ("head", "formula")]),
        ("7", [("encoder", "nested"), ("encoder/encoder_dense", "formula"),
               ("encoder/block", "nested"), ("encoder/block/block_dense", "formula"),
               ("head", "formula")]),
    ],
)
def test_depth_folds_nested_models_and_keeps_the_totals(saved_nested, capsys, depth, expected):
    """`--depth N` shows the models N deep as folded rows; the total and the MACs do not change."""
    full = _json(capsys, saved_nested)
    folded = _json(capsys, saved_nested, "--depth", depth)
    assert [(row["path"], row["status"]) for row in folded["rows"]] == expected
    assert (folded["total"], folded["macs"]) == (full["total"], full["macs"])
    assert sum(row["total"] for row in folded["rows"]) == full["total"]["total"]


def test_depth_zero_in_text_shows_one_row_per_nested_model(saved_nested, capsys):
    """The text table at `--depth 0`: the encoder's row holds its layers' 40 parameters."""
    status, out, err = _count(capsys, str(saved_nested), "--depth", "0")
    assert (status, err) == (0, "")
    lines = out.splitlines()
    encoder = next(line for line in lines if line.startswith("encoder"))
    assert encoder.split()[:4] == ["encoder", "Functional", "40", "0"] and encoder.endswith("folded")
    assert not any(line.startswith("encoder/") for line in lines)
    assert lines[-1].rstrip().endswith("total 50")


@pytest.mark.parametrize("depth", ["-1", "x", "1.5", "", "1e3", "9" * 5000, "\x1b[2J"])
def test_a_bad_depth_is_one_line_and_status_2_before_the_file_is_read(tmp_path, capsys, depth):
    """A `--depth` that is not a non-negative integer: one error line naming `--depth`, status 2, no output."""
    status, out, err = _count(capsys, str(tmp_path / "missing.keras"), "--depth", depth)
    assert (status, out) == (2, "")
    assert err.count("\n") == 1 and "\x1b" not in err
    assert err.startswith("keras-recipes count: error: Invalid value for argument `--depth`")
    assert "Received: --depth=" in err and "no such file" not in err


def test_a_folded_unsupported_layer_still_exits_1_naming_the_layer(tmp_path, capsys):
    """At `--depth 0` a nested custom layer folds into an unsupported row; stderr names the layer, status 1."""
    config = {"class_name": "Functional", "config": {"name": "outer", "layers": [
        {"class_name": "Sequential", "name": "inner", "config": {"name": "inner", "layers": [
            {"class_name": "MyLayer", "module": None, "registered_name": "Custom>MyLayer",
             "config": {"name": "mine"}, "build_config": {"input_shape": [None, 3]}},
        ]}, "inbound_nodes": []},
    ], "input_layers": [], "output_layers": []}}
    path = tmp_path / "custom.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps(config))
    status, out, err = _count(capsys, str(path), "--depth", "0")
    assert status == 1
    assert any(line.startswith("inner") and line.endswith("unsupported")
               for line in out.splitlines())
    assert "total unknown" in out
    assert err.startswith("keras-recipes count: total unknown: no formula for 1 layer")
    assert "inner/mine (MyLayer)" in err


# === --flops ===


def test_flops_adds_a_column_after_the_macs_in_every_format(saved_nested, capsys):
    """`--flops`: a FLOPs column (text, Markdown, CSV) or key (JSON) of 2 x MACs, the MACs kept."""
    data = _json(capsys, saved_nested, "--flops")
    assert data["flops"] == 2 * data["macs"]
    assert all(row["flops"] == 2 * row["macs"] for row in data["rows"])
    for output_format in ("text", "markdown", "csv"):
        status, out, err = _count(capsys, str(saved_nested), "--format", output_format, "--flops")
        assert (status, err) == (0, "")
        header = next(line for line in out.splitlines()
                      if "MACs" in line or "macs" in line).lower()
        assert header.index("flops") > header.index("macs"), output_format


def test_without_flops_no_format_changes(saved_nested, capsys):
    """No `--flops`: no FLOPs column or key anywhere."""
    for output_format in ("text", "markdown", "json", "csv"):
        status, out, err = _count(capsys, str(saved_nested), "--format", output_format)
        assert (status, err) == (0, "")
        assert "flops" not in out.lower(), output_format


# === --format csv ===


@pytest.mark.parametrize("options", [[], ["--flops"], ["--depth", "0"], ["--depth", "1", "--flops"]])
def test_csv_reads_back_to_the_json_numbers(saved_nested, capsys, options):
    """`--format csv` parsed by `csv.DictReader` has the JSON rows' columns, numbers and strings."""
    rows = _json(capsys, saved_nested, *options)["rows"]
    status, out, err = _count(capsys, str(saved_nested), "--format", "csv", *options)
    assert (status, err) == (0, "")
    read = list(csv.DictReader(io.StringIO(out)))
    assert len(read) == len(rows)
    for cells, row in zip(read, rows):
        assert list(cells) == list(row)
        for key, value in row.items():
            if key == "build_shape":
                continue
            expected = "" if value is None else str(value)
            assert cells[key] == expected, key


def test_csv_defuses_a_formula_in_a_layer_name(tmp_path, capsys):
    """A layer named like a spreadsheet formula gets a leading `'` in the CSV, nowhere else."""
    config = {"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "Dense", "config": {"name": "=HYPERLINK(\"http://x\")", "units": 3},
         "build_config": {"input_shape": [None, 2]}},
    ]}}
    path = tmp_path / "formula.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps(config))
    status, out, err = _count(capsys, str(path), "--format", "csv")
    assert (status, err) == (0, "")
    assert next(csv.DictReader(io.StringIO(out)))["path"] == "'=HYPERLINK(\"http://x\")"
    assert _json(capsys, path)["rows"][0]["path"] == "=HYPERLINK(\"http://x\")"


def test_the_new_options_import_no_keras(saved_nested):
    """`count --format csv --depth 0 --flops` in a fresh process: status 0, Keras never loaded."""
    code = textwrap.dedent(
        f"""
        import sys
        from keras_recipes.cli import main
        status = main(["count", {str(saved_nested)!r}, "--format", "csv", "--depth", "0", "--flops"])
        print("LOADED", sorted(m for m in ("keras", "tensorflow") if m in sys.modules), status)
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.stdout.strip().splitlines()[-1] == "LOADED [] 0", result.stdout + result.stderr
    assert result.stdout.splitlines()[0].startswith("path,class_name,build_shape,")
