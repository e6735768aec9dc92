"""The main job, examples/param_counts.py: it covers every recipe and fails on a disagreement."""

import importlib.util
from pathlib import Path

import pytest

import test_recipes  # tests/test_recipes.py, on `sys.path` through tests/conftest.py
from keras_recipes import param_count

_SCRIPT = Path(__file__).resolve().parent.parent / "examples" / "param_counts.py"


@pytest.fixture(scope="module")
def param_counts():
    """examples/param_counts.py loaded as a module, without running `main()`."""
    spec = importlib.util.spec_from_file_location("param_counts_example", _SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_covers_every_recipe(param_counts):
    """Every builder of the shared recipe table has at least one example."""
    recipes = {row[0] for row in test_recipes.RECIPES}
    assert recipes <= {name for name, _, _ in param_counts.EXAMPLES}


def test_every_example_agrees(param_counts, capsys):
    """On the current library every example agrees and the job exits with 0."""
    assert param_counts.main() == 0
    output = capsys.readouterr().out
    assert "DISAGREE" not in output
    assert output.count(" ok\n") == len(param_counts.EXAMPLES)


@pytest.mark.parametrize(
    "wrong",
    [
        lambda count: count + param_count.ParamCount(1),
        # Same total, another split: a missed non-trainable weight.
        lambda count: param_count.ParamCount(count.trainable - 1, count.non_trainable + 1),
    ],
    ids=["total", "split"],
)
def test_disagreement_exits_with_1(param_counts, monkeypatch, capsys, wrong):
    """A param_count that is off, in total or in its split, makes the job exit with 1."""
    right = param_count.mlp
    monkeypatch.setattr(param_counts, "EXAMPLES", [("mlp", (2, [3, 2, 3]), {})])
    monkeypatch.setattr(param_count, "mlp", lambda *args, **kwargs: wrong(right(*args, **kwargs)))
    assert param_counts.main() == 1
    assert "DISAGREE" in capsys.readouterr().out
