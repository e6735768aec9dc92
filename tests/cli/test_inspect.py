"""The inspection subcommands `summary`, `count` and `plot`, and the builder options they share."""

import inspect
import json
import os
import subprocess
import sys
import textwrap
import zipfile

import pytest
from hypothesis import given
from hypothesis import strategies as st
from helpers import needs_graphviz, png_size
from cli.test_main import run_cli

import keras_recipes
from keras_recipes import cli, param_count
from keras_recipes.cli import _builder_options, _inspect
from keras_recipes.param_count import ParamCount



def keras_free(argv):
    """Runs `cli.main(argv)` in a fresh interpreter; returns (status, stdout, stderr, keras loaded?)."""
    code = textwrap.dedent(
        f"""
        import sys
        from keras_recipes.cli import main
        status = main({argv!r})
        loaded = sorted(m for m in ("keras", "tensorflow") if m in sys.modules)
        print("LOADED", loaded, status)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("LOADED"), result.stdout + result.stderr
    loaded, status = last[len("LOADED "):].rsplit(" ", 1)
    return int(status), result.stdout, result.stderr, loaded != "[]"


# === Builder options ===


@pytest.mark.parametrize("recipe", _inspect.RECIPES)
def test_options_are_the_builders_signature(recipe):
    """The options read from the builder's source are its signature's arguments and defaults."""
    signature = inspect.signature(getattr(keras_recipes, recipe))
    read = {parameter.name: parameter for parameter in _builder_options.builder_parameters(recipe)}
    assert list(read) == list(signature.parameters)
    for name, expected in signature.parameters.items():
        if expected.default is inspect.Parameter.empty:
            assert read[name].required
        else:
            assert read[name].default == expected.default
        assert read[name].keyword_only == (expected.kind is inspect.Parameter.KEYWORD_ONLY)
        assert read[name].help_text, f"{recipe}: no docstring line for {name}"


@pytest.mark.parametrize("recipe", _inspect.RECIPES)
def test_every_required_argument_has_a_command_line_default(recipe):
    """`summary RECIPE` needs no option: every required builder argument has a default."""
    required = {p.name for p in _builder_options.builder_parameters(recipe) if p.required}
    assert required <= set(_builder_options.RECIPE_DEFAULTS[recipe])
    assert set(_builder_options.RECIPE_DEFAULTS[recipe]) <= {
        p.name for p in _builder_options.builder_parameters(recipe)
    }


@pytest.mark.parametrize(
    "text, like, expected",
    [
        ("3", None, 3),
        ("0.5", None, 0.5),
        ("none", None, None),
        ("None", 5, None),
        ("true", None, True),
        ("tanh", None, "tanh"),
        ("64,32", None, [64, 32]),
        ("8,8,1", (64,), (8, 8, 1)),
        ("64", (64,), (64,)),
        ("4", [3, 2], [4]),
        ("", [3], []),
        ("classification, regression", "classification", ["classification", "regression"]),
        ("[[], [2]]", [[2]], [[], [2]]),
        ("((0,), (1, 2))", ((0,), (1, 2)), ((0,), (1, 2))),
    ],
)
def test_parse_value_reads_the_documented_syntax(text, like, expected):
    """Numbers, none, booleans, words, comma lists and bracketed literals parse as documented."""
    value = _builder_options.parse_value(text, like)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize("text", ["[1, 2", "[x]", "(__import__('os'))"])
def test_parse_value_refuses_a_bracket_that_is_not_a_literal(text):
    """A bracketed value must be a Python literal; nothing is evaluated."""
    with pytest.raises(ValueError, match="expected a Python literal"):
        _builder_options.parse_value(text)


@pytest.mark.parametrize(
    "value", [3, 0.5, None, True, "relu", [3, 2, 3], (8, 8, 1), [[2], [1, 2]], ((0,), (1, 2))]
)
def test_format_value_is_read_back_by_parse_value(value):
    """What `--help` shows as a default parses back to that default."""
    shown = _builder_options.format_value(value)
    assert _builder_options.parse_value(shown, like=value) == value


def test_recipe_help_lists_every_argument_with_its_default(capsys):
    """`summary vae --help` lists each builder argument as an option with its default."""
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["summary", "vae", "--help"])
    assert exit_info.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    for parameter in _builder_options.builder_parameters("vae"):
        assert parameter.option in out
    assert "--input-shape VALUE shape of one sample, without the batch axis (default: 8,8,1)" in out
    assert "(default: binary_crossentropy)" in out
    assert "keras-recipes summary vae --input-shape 28,28,1" in out  # the epilog example


@pytest.mark.parametrize("command", ["list", "summary", "count", "plot"])
def test_every_subcommand_has_help_with_an_example(command, capsys):
    """`COMMAND --help` exits 0 with a description and an example command line."""
    with pytest.raises(SystemExit) as exit_info:
        cli.main([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert f"usage: keras-recipes {command}" in out
    assert f"keras-recipes {command}" in out.split("example")[-1]


# === summary ===


# The recipes' counts at the command line's defaults, from the docs (the
# lecture's examples) or, for the autoencoders, from the formulas.
DEFAULT_TOTALS = {
    "mlp": 26,
    "shared_mlp": 17,
    "branch_merge": 40,
    "averaging_layer": 0,
    "vae": 34_884,
    "autoencoder": param_count.autoencoder((8, 8, 1), 2).total,
    "split_brain_ae": param_count.split_brain_ae((32, 32, 3), architecture="small").total,
}


@pytest.mark.parametrize("recipe", _inspect.RECIPES)
def test_summary_with_no_options_shows_three_agreeing_counts(recipe, capsys):
    """`summary RECIPE` builds the default model; Keras, count_model and the formula agree."""
    assert cli.main(["summary", recipe]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"keras_recipes.{recipe}(")
    assert f'Model: "{recipe}"' in out  # Keras's own summary
    assert "count_model(model):" in out
    assert "DIFFERS" not in out
    assert out.rstrip().endswith(f"All three agree: {DEFAULT_TOTALS[recipe]:,} parameters.")


def test_summary_passes_options_to_the_builder(capsys):
    """Options reach the builder: `--input-dim 5 --units 4,1` builds a 29-parameter mlp."""
    assert cli.main(["summary", "mlp", "--input-dim", "5", "--units", "4,1",
                     "--activation", "tanh", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        "keras_recipes.mlp(input_dim=5, units=[4, 1], activation='tanh', seed=1)"
    )
    assert out.rstrip().endswith("All three agree: 29 parameters.")


def test_summary_takes_nested_lists_and_hyphenated_names(capsys):
    """`branch-merge --branch-units '[[], [2]]' --trunk-units 1 --head-units 1` is the lecture's 11."""
    assert cli.main(["summary", "branch-merge", "--trunk-units", "1",
                     "--branch-units", "[[], [2]]", "--head-units", "1"]) == 0
    assert capsys.readouterr().out.rstrip().endswith("All three agree: 11 parameters.")


def test_summary_marks_a_disagreement_and_exits_1(capsys, monkeypatch):
    """When the formula disagrees with Keras, its row is marked and the status is 1."""
    monkeypatch.setattr(param_count, "mlp", lambda *args, **kwargs: ParamCount(27))
    assert cli.main(["summary", "mlp"]) == 1
    captured = capsys.readouterr()
    marked = [line for line in captured.out.splitlines() if "DIFFERS" in line]
    assert len(marked) == 1 and marked[0].startswith("param_count.mlp(...)")
    assert "All three agree" not in captured.out
    assert "MISMATCH" in captured.err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--input-dim", "0"], "Invalid value for argument `input_dim`: expected a positive "
                               "integer. Received: input_dim=0"),
        (["--units", "3,0"], "Invalid value for argument `units`"),
        (["--units", "three"], "`units`"),
    ],
)
def test_summary_bad_sizes_fail_in_one_line_before_building(argv, message, capsys, no_building):
    """A size the builder would reject: one error line, status 2, nothing built."""
    assert cli.main(["summary", "mlp", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("keras-recipes summary: error: ")
    assert message in err


def test_summary_builder_only_errors_come_out_in_one_line(capsys):
    """A value only the builder checks (an activation name) is still one line and status 2."""
    assert cli.main(["summary", "mlp", "--activation", "nosuch"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "Invalid value for argument `activation`" in err and "nosuch" in err


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["summary", "vae", "--bogus", "1"], "unrecognized arguments: --bogus"),
        (["summary", "vae", "--input-shape", "[8, 8"], "argument --input-shape: expected a Python"),
        (["summary", "no_such_recipe"], "invalid choice: 'no_such_recipe'"),
        (["summary", "vae", "--input-dim", "3"], "unrecognized arguments: --input-dim"),
    ],
)
def test_summary_usage_errors_exit_2_without_keras(argv, fragment):
    """Unknown options, recipes and unparsable values: usage error, status 2, Keras never loaded."""
    code = f"from keras_recipes.cli import main\nmain({argv!r})"
    result = subprocess.run(
        [sys.executable, "-c",
         f"import sys\ntry:\n    exec({code!r})\nexcept SystemExit as e:\n"
         "    print(e.code, sorted(m for m in ('keras', 'tensorflow') if m in sys.modules))"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.stdout.strip() == "2 []", result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and fragment in errors[0], result.stderr


def test_summary_in_a_fresh_process_prints_only_the_summary():
    """`keras-recipes summary vae` as a user runs it: status 0, nothing on stderr."""
    result = run_cli("summary", "vae")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "All three agree: 34,884 parameters." in result.stdout


# === count ===


@pytest.fixture(scope="module")
def saved_mlp(tmp_path_factory):
    """The lecture's mlp(2, [3, 2, 3]) saved as .keras."""
    path = tmp_path_factory.mktemp("count") / "mlp.keras"
    keras_recipes.mlp(2, [3, 2, 3]).save(path)
    return path


def write_zip(path, files):
    """A zip at `path` holding `files` (name -> text)."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


def test_count_prints_the_table_without_importing_keras(saved_mlp):
    """`count PATH` prints every layer and the total, and never imports Keras or TensorFlow."""
    status, out, err, loaded = keras_free(["count", str(saved_mlp)])
    assert (status, err, loaded) == (0, "", False)
    for name in ("mlp_dense_0", "mlp_dense_1", "mlp_dense_2"):
        assert name in out
    total_line = [line for line in out.splitlines() if line.startswith("total")]
    assert total_line and total_line[0].rstrip().endswith("total 26")


def test_count_formats(saved_mlp, capsys):
    """`--format json` is the table's data with total 26; `--format markdown` a Markdown table."""
    assert cli.main(["count", str(saved_mlp), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["total"] == {"trainable": 26, "non_trainable": 0, "total": 26}
    assert [row["total"] for row in data["rows"]] == [9, 8, 9]
    assert cli.main(["count", str(saved_mlp), "--format", "markdown"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("| path | class |") and lines[1].startswith("| --- |")
    assert len(lines) == 2 + 3 + 1


def test_count_of_unsupported_layers_shows_the_table_and_exits_1(tmp_path, capsys):
    """A layer class without a formula: its row is marked, the total unknown, status 1."""
    config = {"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "Dense", "config": {"name": "d", "units": 3},
         "build_config": {"input_shape": [None, 2]}},
        {"class_name": "MyLayer", "module": None, "registered_name": "Custom>MyLayer",
         "config": {"name": "mine"}, "build_config": {"input_shape": [None, 3]}},
    ]}}
    path = write_zip(tmp_path / "custom.keras", {"config.json": json.dumps(config)})
    assert cli.main(["count", str(path)]) == 1
    captured = capsys.readouterr()
    assert any("mine" in line and "unsupported" in line for line in captured.out.splitlines())
    assert "total unknown" in captured.out
    assert captured.err.startswith("keras-recipes count: total unknown: no formula for 1 layer")
    assert "mine (MyLayer)" in captured.err


@pytest.mark.parametrize(
    "files, fragment",
    [
        (None, "no such file"),
        ("directory", "is a directory"),
        (b"not a zip at all", "this is not a zip"),
        ({"metadata.json": "{}"}, "with a `config.json`"),
        ({"config.json": "{not json"}, "valid JSON"),
        ({"config.json": "[1, 2]"}, "a JSON object"),
        ({"config.json": json.dumps({"class_name": "Sequential", "config": {"layers": 3}})},
         "expected `layers` to be a list"),
    ],
    ids=["missing", "directory", "not-zip", "no-config", "bad-json", "not-object", "bad-layers"],
)
def test_count_bad_files_give_one_line_and_status_2(files, fragment, tmp_path):
    """Missing, directory, not a zip, no config, corrupt config: one error line, status 2."""
    path = tmp_path / "model.keras"
    if files == "directory":
        path.mkdir()
    elif isinstance(files, bytes):
        path.write_bytes(files)
    elif files is not None:
        write_zip(path, files)
    result = run_cli("count", str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("keras-recipes count: error: ")
    assert fragment in result.stderr


# === plot ===


@needs_graphviz
def test_plot_writes_a_png_of_the_recipe(tmp_path, capsys):
    """`plot mlp -o FILE.png` writes a PNG of sane size and says where."""
    target = tmp_path / "mlp.png"
    assert cli.main(["plot", "mlp", "-o", str(target), "--units", "4,1"]) == 0
    width, height = png_size(target)
    assert 100 < width < 5000 and 100 < height < 5000
    assert height > width  # top to bottom: three stacked boxes
    assert capsys.readouterr().out.startswith(f"wrote {target} (")


@needs_graphviz
def test_plot_expands_nested_models_unless_collapsed(tmp_path):
    """The vae's encoder and decoder are drawn layer by layer; `--collapse` makes them boxes."""
    expanded, collapsed = tmp_path / "expanded.svg", tmp_path / "collapsed.svg"
    assert cli.main(["plot", "vae", "-o", str(expanded)]) == 0
    assert cli.main(["plot", "vae", "-o", str(collapsed), "--collapse"]) == 0
    assert "vae_encoder_dense_0" in expanded.read_text()
    assert "vae_encoder_dense_0" not in collapsed.read_text()
    assert "encoder" in collapsed.read_text()


@needs_graphviz
def test_plot_never_overwrites_without_force(tmp_path, capsys):
    """An existing -o file is refused (status 2, file intact) unless --force is given."""
    target = tmp_path / "taken.png"
    target.write_bytes(b"keep me")
    assert cli.main(["plot", "mlp", "-o", str(target)]) == 2
    assert "exists; pass --force" in capsys.readouterr().err
    assert target.read_bytes() == b"keep me"
    assert cli.main(["plot", "mlp", "-o", str(target), "--force"]) == 0
    png_size(target)


@pytest.mark.parametrize(
    "output, fragment",
    [
        ("{tmp}", "is a directory"),
        ("{tmp}/no/such/folder/m.png", "does not exist"),
        ("{tmp}/m.gif", "expected a file name ending in .png, .svg, .pdf"),
    ],
)
def test_plot_refuses_bad_outputs_before_building(output, fragment, tmp_path, capsys, no_building):
    """A directory, a missing folder or an unknown image type: one line, status 2, nothing built."""
    assert cli.main(["plot", "mlp", "-o", output.format(tmp=tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and fragment in err


def test_plot_without_pydot_says_how_to_install_it(tmp_path, capsys, monkeypatch, no_building):
    """Without pydot: one line naming `pip install 'keras-recipes[examples]'`, status 2."""
    monkeypatch.setitem(sys.modules, "pydot", None)  # makes `import pydot` fail
    assert cli.main(["plot", "mlp", "-o", str(tmp_path / "m.png")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "pydot" in err and "pip install 'keras-recipes[examples]'" in err


def test_plot_without_graphviz_says_how_to_install_it(tmp_path):
    """With no `dot` on PATH: one line naming apt-get and brew, status 2, no file written."""
    empty = tmp_path / "bin"
    empty.mkdir()
    env = {**os.environ, "PATH": str(empty)}
    target = tmp_path / "m.png"
    result = subprocess.run(
        [sys.executable, "-m", "keras_recipes", "plot", "mlp", "-o", str(target)],
        capture_output=True, text=True, timeout=120, env=env,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "apt-get install graphviz" in result.stderr and "brew install graphviz" in result.stderr
    assert not target.exists()


def test_builder_options_take_a_commands_own_defaults_and_exclusions(capsys):
    """Another command (`train`) can replace the defaults and leave arguments out, in help and values."""
    import argparse

    parser = argparse.ArgumentParser(prog="train-vae")
    defaults = {"latent_dim": 3}
    _builder_options.add_builder_options(parser, "vae", defaults=defaults, exclude=("input_shape",))
    assert "--input-shape" not in parser.format_help()
    assert "(default: 3)" in " ".join(parser.format_help().split())
    with pytest.raises(SystemExit):
        parser.parse_args(["--input-shape", "4"])
    assert "unrecognized arguments: --input-shape" in capsys.readouterr().err
    args = parser.parse_args(["--beta", "0.5"])
    chosen = _builder_options.builder_arguments(
        args, "vae", defaults=defaults, exclude=("input_shape",)
    )
    assert chosen == {"latent_dim": 3, "beta": 0.5}
    assert _builder_options.builder_arguments(args, "vae") == {"input_shape": (8, 8, 1), "beta": 0.5}


@given(
    st.lists(st.integers(0, 512), max_size=6)
    | st.lists(st.lists(st.integers(1, 8), max_size=3), min_size=1, max_size=3)
)
def test_list_values_round_trip_through_the_command_line_syntax(value):
    """Any list of sizes (flat or nested) shown by `format_value` parses back to itself (a tuple where the default is one)."""
    shown = _builder_options.format_value(value)
    assert _builder_options.parse_value(shown, like=[1]) == value
    assert _builder_options.parse_value(shown, like=(1,)) == tuple(value)


def test_the_examples_extra_installs_what_the_command_line_asks_for():
    """`pip install 'keras-recipes[examples]'`, which the error lines name, installs pydot and matplotlib."""
    import pathlib
    import re
    import tomllib

    pyproject = pathlib.Path(__file__).parents[2] / "pyproject.toml"
    extras = tomllib.loads(pyproject.read_text())["project"]["optional-dependencies"]
    names = {re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower()
             for requirement in extras["examples"]}
    assert {"pydot", "matplotlib"} <= names


def test_a_reader_that_stops_early_gets_no_traceback(tmp_path):
    """`keras-recipes count BIG --format json | head -c 100`: status 141, nothing on stderr."""
    layers = [
        {"class_name": "Dense", "config": {"name": f"dense_{i}", "units": 4},
         "build_config": {"input_shape": [None, 4]}}
        for i in range(2000)
    ]
    path = write_zip(tmp_path / "long.keras", {"config.json": json.dumps(
        {"class_name": "Sequential", "config": {"name": "long", "layers": layers}})})
    process = subprocess.Popen(
        [sys.executable, "-m", "keras_recipes", "count", str(path), "--format", "json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    assert process.stdout.read(100).startswith(b"{")
    process.stdout.close()  # the output is far larger than a pipe's buffer
    stderr = process.stderr.read()
    assert process.wait(timeout=60) == cli.EXIT_BROKEN_PIPE
    assert stderr == b""
