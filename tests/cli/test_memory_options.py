"""`keras-recipes count` and `summary` with `--batch-size`, `--optimizer`, `--dtype-policy`, `--fits-in`."""

import json

import pytest

import keras_recipes
from keras_recipes import cli
from keras_recipes.param_count import training_memory


@pytest.fixture(scope="module")
def saved_mlp(tmp_path_factory):
    """A small mlp saved as .keras, and the model."""
    model = keras_recipes.mlp(6, [5, 4, 3])
    path = tmp_path_factory.mktemp("memory_options") / "mlp.keras"
    model.save(path)
    return path, model


def _run(capsys, *argv):
    status = cli.main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_json_carries_the_estimate_and_the_largest_batch(saved_mlp, capsys):
    """`--format json` adds `training_memory` with the library's figures and the largest batch."""
    path, model = saved_mlp
    status, out, _ = _run(capsys, "count", str(path), "--format", "json", "--batch-size", "64",
                          "--optimizer", "RMSprop", "--dtype-policy", "mixed_bfloat16",
                          "--fits-in", "1MiB")
    assert status == 0
    data = json.loads(out)["training_memory"]
    memory = training_memory(model, batch_size=64, optimizer="rmsprop",
                             dtype_policy="mixed_bfloat16")
    assert {key: data[key] for key in memory.to_dict()} == memory.to_dict()
    assert data["fits_in"] == 2**20
    assert data["largest_batch"] == memory.largest_batch(2**20)


@pytest.mark.parametrize("format_", ["text", "markdown"])
def test_text_and_markdown_show_the_total_and_the_largest_batch(saved_mlp, capsys, format_):
    """Text and Markdown print the same total and largest batch as the library."""
    path, model = saved_mlp
    status, out, _ = _run(capsys, "count", str(path), "--format", format_, "--batch-size", "8",
                          "--fits-in", "2000000")
    memory = training_memory(model, batch_size=8)
    assert status == 0
    assert f"{memory.total:,}" in out.split("total")[-1]
    assert f"Largest batch in 2,000,000 bytes: {memory.largest_batch(2_000_000):,}" in out


def test_without_the_options_the_output_is_unchanged(saved_mlp, capsys):
    """No memory option, no estimate: the JSON has no `training_memory`."""
    path, _ = saved_mlp
    _, out, _ = _run(capsys, "count", str(path), "--format", "json")
    assert "training_memory" not in json.loads(out)


def test_csv_refuses_the_estimate_in_one_line(saved_mlp, capsys):
    """CSV has no place for the estimate: one line, status 2."""
    path, _ = saved_mlp
    status, out, err = _run(capsys, "count", str(path), "--format", "csv", "--batch-size", "2")
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and "--batch-size" in err


@pytest.mark.parametrize(
    ("option", "value"),
    [("--batch-size", "0"), ("--batch-size", "1.5"), ("--fits-in", "16gigs"),
     ("--fits-in", "-1GiB"), ("--optimizer", "adamm"), ("--dtype-policy", "float8")],
)
def test_bad_values_are_refused_naming_the_option(saved_mlp, capsys, option, value):
    """Each bad value exits with status 2 and an error line naming the option."""
    path, _ = saved_mlp
    with pytest.raises(SystemExit) as exit_:
        cli.main(["count", str(path), option, value])
    assert exit_.value.code == 2
    assert option in capsys.readouterr().err.strip().splitlines()[-1]


def test_summary_prints_the_recipes_estimate(capsys):
    """`summary mlp --batch-size N` prints the estimate with the recipe's own optimizer."""
    status, out, _ = _run(capsys, "summary", "mlp", "--optimizer", "sgd", "--batch-size", "4",
                          "--fits-in", "1MB")
    memory = training_memory(keras_recipes.mlp(2, [3, 2, 3], optimizer="sgd"), batch_size=4,
                             optimizer="sgd")
    assert status == 0
    assert "optimizer state (sgd)" in out
    assert f"{memory.total:,} B" in out
    assert f"Largest batch in 1,000,000 bytes: {memory.largest_batch(10**6):,}" in out
