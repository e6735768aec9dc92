"""`assert_same_on_backends`: one recipe on every installed backend, with the first one's weights."""

import functools
import numpy as np
import pytest

import keras_recipes
from keras_recipes.testing import _parity, assert_same_on_backends

INPUTS = np.random.default_rng(0).standard_normal((4, 2)).astype("float32")


def test_a_pickled_builder_runs_in_a_subprocess():
    """A `functools.partial` of a recipe is pickled to the subprocess, which builds, predicts and counts.

    One backend, the current one: docs/testing.md's example, which its test
    runs, compares all three installed backends.
    """
    import keras

    backend = keras.backend.backend()
    run = assert_same_on_backends(
        functools.partial(keras_recipes.mlp, 2, [3, 2, 3], seed=0), INPUTS, backends=(backend,)
    )
    assert run == _parity.BackendRun(compared=(backend,), skipped={})


def _result(folder, output, hidden_units):
    """A fake backend's result folder: its outputs and the table of a 2 -> hidden_units Dense."""
    from keras_recipes.param_count import LayerRow, ParamCount, ParamTable
    from keras_recipes.testing import _snapshot

    folder.mkdir()
    np.savez(folder / "outputs.npz", output_0=np.asarray(output, "float32"))
    row = LayerRow("hidden", "Dense", (None, 2), ParamCount(3 * hidden_units, 0), 2 * hidden_units,
                   4 * hidden_units, "formula")
    (folder / "table.json").write_text(_snapshot.from_table(ParamTable([row])).to_json())
    return folder


def test_differing_outputs_and_tables_are_named(tmp_path):
    """An output beyond the tolerance and a layer with another count fail naming the backend, output and layer."""
    results = {
        "tensorflow": _result(tmp_path / "tensorflow", [[1.0, 2.0]], 3),
        "jax": _result(tmp_path / "jax", [[1.0, 2.0 + 1e-7]], 3),
        "torch": _result(tmp_path / "torch", [[1.0, 2.5]], 4),
    }
    with pytest.raises(AssertionError) as error:
        _parity._compare(results, rtol=1e-5, atol=1e-5)
    message = str(error.value)
    assert "jax" not in message
    assert "torch: output_0 differs by up to 0.5 (at (0, 1): tensorflow 2.0, torch 2.5)" in message
    assert "torch table: changed  hidden (Dense): trainable: snapshot 9, now 12" in message
    _parity._compare({"tensorflow": results["tensorflow"], "jax": results["jax"]}, 1e-5, 1e-5)


def test_backends_not_installed_are_skipped_not_failed(monkeypatch):
    """A backend whose package is missing is in `skipped` with the reason, and no process is started for it."""
    monkeypatch.setattr(_parity.importlib.util, "find_spec", lambda name: None)
    run = assert_same_on_backends("keras_recipes:mlp", INPUTS, backends=("jax", "torch"))
    assert run.compared == ()
    assert run.skipped == {"jax": "jax is not installed", "torch": "torch is not installed"}


@pytest.mark.parametrize(
    "arguments, error, match",
    [
        ({"build": "keras_recipes.mlp"}, ValueError, "`build`"),
        ({"build": 3}, TypeError, "`build`"),
        ({"build": lambda: None}, ValueError, "picklable"),
        ({"backends": ("tensorflow", "theano")}, ValueError, "`backends`"),
        ({"backends": ("jax", "jax")}, ValueError, "`backends`"),
        ({"backends": "jax"}, TypeError, "`backends`"),
        ({"inputs": {"a": 1}}, TypeError, "`inputs`"),
        ({"rtol": -1.0}, ValueError, "`rtol`"),
        ({"timeout": 0}, ValueError, "`timeout`"),
    ],
)
def test_bad_arguments_are_refused_before_any_process_starts(arguments, error, match):
    """A malformed builder, an unknown or repeated backend, non-array inputs, a bad tolerance or timeout: refused."""
    arguments = {"build": "keras_recipes:mlp", "inputs": INPUTS, **arguments}
    with pytest.raises(error, match=match):
        assert_same_on_backends(arguments.pop("build"), arguments.pop("inputs"), **arguments)
