"""The `keras-recipes` command line: assembly, `list`, `--version`, errors."""

import os
import subprocess
import sys

import pytest

import keras_recipes
from keras_recipes import cli
from keras_recipes.cli import _inspect


def run_cli(*args, timeout=300, **kwargs):
    """Runs `python -m keras_recipes ARGS` in a subprocess, as a user would."""
    env = dict(os.environ)
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    return subprocess.run(
        [sys.executable, "-m", "keras_recipes", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        **kwargs,
    )


def test_list_prints_every_recipe_once_without_importing_keras():
    """`list` prints one line per recipe, starting with its name, and loads no Keras."""
    result = run_cli("list")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    names = [line.split()[0] for line in result.stdout.splitlines()]
    assert names == list(_inspect.RECIPES)
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, contextlib, io\n"
            "from keras_recipes.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    main(['list'])\n"
            "print(sorted(m for m in ('keras', 'tensorflow') if m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probe.stdout.strip() == "[]", probe.stderr


def test_list_lines_are_the_builders_docstring_summaries():
    """Each `list` line is the first line of the builder's own docstring."""
    for name in _inspect.RECIPES:
        builder = getattr(keras_recipes, name)
        assert _inspect.recipe_summary(name) == builder.__doc__.strip().splitlines()[0]


def test_version_prints_the_package_version():
    """`--version` prints the program name and the installed version."""
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"keras-recipes {keras_recipes.__version__}"


@pytest.mark.parametrize("argv", [[], ["no-such-command"], ["list", "--bogus"]])
def test_bad_arguments_exit_2_with_one_usage_error_and_no_traceback(argv):
    """A missing or unknown command or option: exit status 2, usage and one error line."""
    result = run_cli(*argv)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1


def test_errors_raised_by_a_command_become_one_line_and_status_2(capsys, monkeypatch):
    """A ValueError from a command prints `keras-recipes CMD: error: ...` on one line."""

    def fail(args):
        raise ValueError("Invalid value for argument `epochs`:\nexpected a positive integer.")

    monkeypatch.setattr(_inspect, "run_list", fail)
    assert cli.main(["list"]) == 2
    captured = capsys.readouterr()
    assert captured.err == (
        "keras-recipes list: error: Invalid value for argument `epochs`: "
        "expected a positive integer.\n"
    )


def test_require_names_the_extra_to_install():
    """A missing optional dependency fails with the pip command that installs it."""
    with pytest.raises(cli.CommandError, match=r"pip install 'keras-recipes\[examples\]'"):
        cli.require("no_such_module_for_keras_recipes", purpose="plots")


def test_import_keras_writes_nothing_to_stderr():
    """Importing Keras through the CLI leaves stderr empty (TensorFlow's start-up lines hidden)."""
    result = subprocess.run(
        [sys.executable, "-c", "from keras_recipes.cli import import_keras; import_keras()"],
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"},
    )
    assert result.returncode == 0
    assert result.stderr == ""
