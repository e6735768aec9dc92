"""Acceptance review of the command line: hostile inputs a user can give it.

In-process through `cli.main()` where possible, so the file stays fast; each
test pins a defect the review found (a hang, a traceback, a deleted user
file, memory exhausted) and now guards its fix.
"""

import argparse
import errno
import importlib.util
import os
import sys
import threading
import warnings

import numpy as np
import pytest
from helpers import needs_graphviz

from keras_recipes import cli
from keras_recipes.cli import CommandError, _builder_options, _data, _inspect, _runs
from keras_recipes.cli._train import _run as train_run


def run_main(argv, capsys, timeout=30):
    """`cli.main(argv)` in a thread; fails the test if it does not return within `timeout`."""
    result = {}

    def target():
        try:
            result["status"] = cli.main(argv)
        except BaseException as error:  # noqa: BLE001 - reported below
            result["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), f"keras-recipes {' '.join(argv)} blocked for {timeout} s"
    if "error" in result:
        raise result["error"]
    captured = capsys.readouterr()
    return result["status"], captured.out, captured.err


def assert_one_error_line(stderr, command):
    assert stderr.startswith(f"keras-recipes {command}: error: "), stderr
    assert len(stderr.splitlines()) == 1, stderr
    assert "Traceback" not in stderr


@pytest.fixture
def images(tmp_path):
    """A valid `.npy` of 20 grey 8x8 images in [0, 1]."""
    path = tmp_path / "images.npy"
    np.save(path, np.random.default_rng(0).random((20, 8, 8)).astype("float32"))
    return str(path)


# === Files that are not regular files ===


def test_count_refuses_a_named_pipe_instead_of_waiting_for_a_writer(tmp_path, capsys):
    """`count FIFO` answers at once with one error line (it used to block forever)."""
    fifo = tmp_path / "model.keras"
    os.mkfifo(fifo)
    status, _, stderr = run_main(["count", str(fifo)], capsys, timeout=10)
    assert status == 2
    assert_one_error_line(stderr, "count")
    assert "not a regular file" in stderr


def test_train_data_refuses_a_named_pipe_instead_of_waiting_for_a_writer(tmp_path):
    """`--data FIFO.npy` is refused with a ValueError naming `--data`, without opening the pipe."""
    fifo = str(tmp_path / "images.npy")
    os.mkfifo(fifo)
    outcome = {}

    def target():
        try:
            _data.load_array_file(fifo)
        except ValueError as error:
            outcome["error"] = str(error)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive(), "load_array_file blocked on a named pipe"
    assert "`--data`" in outcome["error"] and "not a regular file" in outcome["error"]


# === Array files that lie about their size ===


def _npy_with_header(path, shape, payload=b"\0" * 64):
    with open(path, "wb") as file:
        np.lib.format.write_array_header_1_0(
            file, {"descr": "<f4", "fortran_order": False, "shape": shape}
        )
        file.write(payload)


def test_an_npy_header_declaring_terabytes_is_refused_without_allocating(tmp_path):
    """A 100-byte .npy whose header claims 36 TiB is a ValueError naming the sizes, not a MemoryError."""
    path = str(tmp_path / "huge.npy")
    _npy_with_header(path, (10**7, 10**6))
    with pytest.raises(ValueError, match=r"`--data`.*declares .*bytes.*holds"):
        _data.load_array_file(path)


def test_an_npz_member_too_large_for_memory_is_one_error_line(tmp_path, capsys, monkeypatch):
    """Running out of memory while reading `--data` is one error line naming `--data`."""
    path = str(tmp_path / "data.npz")
    np.savez(path, x=np.zeros((4, 8, 8), "float32"))

    def out_of_memory(*args, **kwargs):
        raise MemoryError("Unable to allocate 36.4 TiB")

    monkeypatch.setattr(_data.np, "frombuffer", out_of_memory)
    with pytest.raises(ValueError, match=r"`--data`.*memory"):
        _data.load_array_file(path)


def test_values_beyond_float32_are_refused_without_a_numpy_warning(tmp_path):
    """float64 values of 1e300 are refused as out of range, and numpy's overflow warning is not shown."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="float32"):
            _data.check_samples(
                "big.npy", np.full((4, 8, 8), 1e300), min_rank=2, max_rank=4, what="images"
            )


def test_labels_that_do_not_fit_int32_are_refused():
    """uint64 labels of 2**40 are refused rather than wrapped round to other classes."""
    with pytest.raises(ValueError, match="`--data`.*'y'"):
        _data.check_labels("data.npz", np.arange(4, dtype="uint64") * 2**40, 4)


# === --out and --force ===


def test_force_never_deletes_a_users_file_whose_name_contains_partial(tmp_path):
    """`--force` refuses a directory holding `notes.partial.txt` and leaves the file in place."""
    (tmp_path / "model.keras").write_bytes(b"old run")
    (tmp_path / "notes.partial.txt").write_text("my notes")
    with pytest.raises(CommandError, match="notes.partial.txt"):
        _runs.prepare_directory(str(tmp_path), force=True)
    assert (tmp_path / "notes.partial.txt").read_text() == "my notes"
    assert (tmp_path / "model.keras").exists()


def test_force_refuses_a_directory_named_like_a_run_file(tmp_path):
    """A sub-directory called `model.keras` is the user's: `--force` refuses in one CommandError."""
    (tmp_path / "model.keras").mkdir()
    (tmp_path / "model.keras" / "weights.h5").write_bytes(b"mine")
    with pytest.raises(CommandError, match="model.keras"):
        _runs.prepare_directory(str(tmp_path), force=True)
    assert (tmp_path / "model.keras" / "weights.h5").exists()


def test_force_still_replaces_a_previous_runs_partial_files(tmp_path):
    """The files an interrupted run leaves (`.model.partial.keras`, `loss.partial.png`) are replaced."""
    for name in ("model.keras", _runs.PARTIAL_MODEL_FILE, "loss.partial.png"):
        (tmp_path / name).write_bytes(b"old")
    _runs.prepare_directory(str(tmp_path), force=True).release()
    assert os.listdir(tmp_path) == ["model.keras"]  # replaced by the first checkpoint only


def test_an_out_that_cannot_be_created_is_one_error_line(images, capsys):
    """`--out` under /proc (no directory can be made there) is one error line, status 2, no traceback."""
    status, _, stderr = run_main(
        ["train", "vae", "--data", images, "--out", "/proc/keras-recipes-review/run"], capsys
    )
    assert status == 2
    assert_one_error_line(stderr, "train vae")
    assert "/proc/keras-recipes-review" in stderr


def test_a_write_error_is_one_line_with_status_1(capsys, monkeypatch):
    """An OSError while a command writes (disk full) is one line naming it, exit status 1."""

    def fill_the_disk(args):
        raise OSError(errno.ENOSPC, "No space left on device", "runs/vae/model.keras")

    monkeypatch.setattr(_inspect, "run_list", fill_the_disk)
    status, _, stderr = run_main(["list"], capsys)
    assert status == 1
    assert_one_error_line(stderr, "list")
    assert "No space left on device" in stderr and "runs/vae/model.keras" in stderr


def test_disk_full_during_training_is_one_line_saying_what_is_kept(images, tmp_path, capsys,
                                                                    monkeypatch):
    """ENOSPC while checkpointing: exit 1, one line naming the run directory; no partial file is left."""

    def no_space(self, filepath, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    import keras

    monkeypatch.setattr(keras.Model, "save", no_space)
    out = tmp_path / "run"
    status, _, stderr = run_main(
        ["train", "vae", "--data", images, "--out", str(out), "--epochs", "1",
         "--hidden-units", "4", "--batch-size", "8"],
        capsys, timeout=120,
    )
    assert status == 1
    assert_one_error_line(stderr, "train vae")
    assert "No space left on device" in stderr and str(out) in stderr
    assert "no model" in stderr
    assert not (out / _runs.PARTIAL_MODEL_FILE).exists()


# === Sizes that would exhaust memory ===


@pytest.mark.parametrize(
    "argv",
    [
        ["summary", "mlp", "--units", "100000000"],
        ["summary", "mlp", "--units", "100000,100000"],
        ["plot", "mlp", "--units", "100000,100000", "-o", "{tmp}/mlp.png"],
    ],
)
def test_a_model_too_big_to_build_is_refused_with_its_analytic_count(argv, tmp_path, capsys,
                                                                      no_building):
    """summary/plot refuse a recipe above the size limit before building, giving its param_count total."""
    argv = [part.replace("{tmp}", str(tmp_path)) for part in argv]
    status, _, stderr = run_main(argv, capsys)
    assert status == 2
    assert_one_error_line(stderr, argv[0])
    assert "parameters" in stderr and f"{_builder_options.MAX_BUILD_PARAMS:,}" in stderr


def test_train_vae_refuses_hidden_units_too_big_to_build(images, tmp_path, capsys, no_building):
    """`train vae --hidden-units 100000000` is refused before Keras builds anything, nothing is written."""
    out = tmp_path / "run"
    status, _, stderr = run_main(
        ["train", "vae", "--data", images, "--out", str(out), "--hidden-units", "100000000"],
        capsys,
    )
    assert status == 2
    assert_one_error_line(stderr, "train vae")
    assert f"{_builder_options.MAX_BUILD_PARAMS:,}" in stderr
    assert not out.exists()


@pytest.mark.parametrize("images_option", ["1", "100000000"])
def test_split_brain_images_out_of_range_are_refused(images_option, tmp_path, capsys):
    """`--images 1` (nothing to train on) and `--images 100000000` (terabytes) are one usage error."""
    with pytest.raises(SystemExit) as exit:
        cli.main(["train", "split-brain", "--images", images_option, "--out", str(tmp_path / "r")])
    assert exit.value.code == 2
    stderr = capsys.readouterr().err
    assert "argument --images" in stderr and images_option in stderr
    assert not (tmp_path / "r").exists()


def test_out_of_memory_anywhere_is_one_line(capsys, monkeypatch):
    """A MemoryError in a command is one line (not a traceback), exit status 1."""

    def allocate(args):
        raise MemoryError("Unable to allocate 23.8 GiB")

    monkeypatch.setattr(_inspect, "run_list", allocate)
    status, _, stderr = run_main(["list"], capsys)
    assert status == 1
    assert_one_error_line(stderr, "list")
    assert "memory" in stderr


# === Ctrl-C while drawing ===


def test_ctrl_c_while_drawing_keeps_the_model_and_says_where(images, tmp_path, capsys,
                                                             monkeypatch):
    """Ctrl-C during the pictures: exit 130, stderr names the run and model.keras, no partial PNG left."""
    from keras_recipes.cli import _figures

    original_save = _figures._save

    def interrupted_save(figure, directory, name):
        if name == "latent.png":
            # As if Ctrl-C came while matplotlib wrote the file.
            open(os.path.join(directory, "latent.partial.png"), "wb").close()
            raise KeyboardInterrupt
        return original_save(figure, directory, name)

    monkeypatch.setattr(_figures, "_save", interrupted_save)
    out = tmp_path / "run"
    status, _, stderr = run_main(
        ["train", "vae", "--data", images, "--out", str(out), "--epochs", "1",
         "--hidden-units", "4", "--batch-size", "8"],
        capsys, timeout=120,
    )
    assert status == 130
    assert "Traceback" not in stderr and len(stderr.splitlines()) == 1
    assert f"kept in {out}: model.keras (the best, epoch 1)" in stderr
    assert "reconstructions.png" in stderr
    assert sorted(os.listdir(out)) == ["arguments.json", "history.csv", "model.keras", "reconstructions.png"]


# === plot ===


@needs_graphviz
def test_plot_to_an_upper_case_suffix_writes_that_file(tmp_path, capsys):
    """`-o MODEL.PNG`, which the suffix check accepts, writes a PNG there (Graphviz refused `-TPNG`: a traceback)."""
    output = tmp_path / "MLP.PNG"
    status, stdout, stderr = run_main(["plot", "mlp", "-o", str(output)], capsys, timeout=120)
    assert (status, stderr) == (0, "")
    assert output.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert sorted(os.listdir(tmp_path)) == ["MLP.PNG"]
    assert f"wrote {output}" in stdout


# === Names that are not UTF-8 ===


def test_count_of_a_file_whose_name_is_not_utf8_prints_its_table(tmp_path, monkeypatch):
    """With a strict UTF-8 stdout (an en_US.UTF-8 terminal), a non-UTF-8 file name still gets its table, status 0."""
    import io
    import sys
    import zipfile

    config = (
        '{"class_name": "Sequential", "config": {"name": "seq", "layers": ['
        '{"class_name": "InputLayer", "config": {"batch_shape": [null, 2], "name": "in"}},'
        '{"class_name": "Dense", "config": {"units": 3, "use_bias": true, "name": "d"},'
        ' "build_config": {"input_shape": [null, 2]}}]}}'
    )
    path = os.path.join(os.fsencode(tmp_path), b"caf\xe9.keras")
    with zipfile.ZipFile(os.fsdecode(path), "w") as archive:
        archive.writestr("config.json", config)
    buffer = io.BytesIO()
    stdout = io.TextIOWrapper(buffer, encoding="utf-8", errors="strict")
    monkeypatch.setattr(sys, "stdout", stdout)
    status = cli.main(["count", os.fsdecode(path)])
    stdout.flush()
    assert status == 0
    assert b"caf\\udce9.keras" in buffer.getvalue() and b"total" in buffer.getvalue()


def test_missing_scikit_learn_for_the_digits_names_the_extra_to_install(tmp_path, capsys,
                                                                        monkeypatch):
    """Without scikit-learn, `train vae` (digits) is one line naming the `examples` extra (was an ImportError traceback)."""
    import sys

    monkeypatch.setitem(sys.modules, "sklearn", None)  # makes `import sklearn` fail
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    status, _, stderr = run_main(["train", "vae", "--out", str(tmp_path / "run")], capsys)
    assert status == 2
    assert_one_error_line(stderr, "train vae")
    assert "scikit-learn" in stderr or "sklearn" in stderr
    assert "pip install 'keras-recipes[examples]'" in stderr
    assert not (tmp_path / "run").exists()


def test_a_closed_stdout_is_no_traceback(monkeypatch, capsys):
    """With stdout closed (`keras-recipes list >&-`, Python's sys.stdout is None) the command exits 0 quietly."""
    import sys

    monkeypatch.setattr(sys, "stdout", None)
    assert cli.main(["list"]) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("command", ["vae", "split-brain"])
def test_a_seed_numpy_cannot_take_is_a_usage_error_naming_seed(command, tmp_path, capsys):
    """`--seed 2**32` is refused by the parser, naming --seed, before --out is made (was numpy's
    unnamed "Seed must be between 0 and 2**32 - 1" after TensorFlow loaded, and an empty run directory)."""
    with pytest.raises(SystemExit) as exit:
        cli.main(["train", command, "--seed", str(2**32), "--out", str(tmp_path / "run")])
    assert exit.value.code == 2
    assert "argument --seed" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("suffix", [".npy", ".npz"])
def test_an_array_larger_than_the_machines_memory_is_refused_before_reading(suffix, tmp_path,
                                                                            monkeypatch):
    """An array needing more than physical memory (a compressed .npz of zeros can) is refused from its header."""
    path = str(tmp_path / f"data{suffix}")
    samples = np.zeros((20, 8, 8), "float32")  # 5,120 bytes, 10,240 with its float32 copy
    if suffix == ".npy":
        np.save(path, samples)
    else:
        np.savez_compressed(path, x=samples)
    monkeypatch.setattr(_data, "_memory_bytes", lambda: 10_000)
    monkeypatch.setattr(_data, "_read_data", _fail_if_reading)
    with pytest.raises(ValueError, match=r"`--data`: too large to load into memory.*\(20, 8, 8\)"):
        _data.load_array_file(path)


def _fail_if_reading(path, stream, header):
    """`_data._read_data` for a test where only headers may be looked at."""
    raise AssertionError(f"the data of {header.what} was read")


def test_an_array_that_fits_in_memory_is_read():
    """Control: with the real memory size, a small array passes the size check."""
    assert _data._memory_bytes() is None or _data._memory_bytes() > 10**6


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["plot", "mlp", "--units", "100000,100000", "-o", "{tmp}/m.png"], "parameters"),
        (["plot", "mlp", "--units", "0", "-o", "{tmp}/m.png"], "units"),
        (["plot", "mlp", "-o", "{tmp}/m.gif"], "expected a file name ending in"),
        (["plot", "mlp", "-o", "{tmp}/no/such/folder/m.png"], "does not exist"),
    ],
)
@pytest.mark.parametrize("missing", ["dot", "pydot"])
def test_plot_refuses_the_users_mistakes_before_missing_tools(argv, fragment, missing, tmp_path,
                                                              capsys, monkeypatch, no_building):
    """Bad arguments, a model too big to build and a bad output are refused as such, with or without Graphviz and pydot."""
    if missing == "dot":
        empty = tmp_path / "bin"
        empty.mkdir()
        monkeypatch.setenv("PATH", str(empty))  # shutil.which("dot") finds nothing
    else:
        monkeypatch.setitem(sys.modules, "pydot", None)  # makes `import pydot` fail
    argv = [part.replace("{tmp}", str(tmp_path)) for part in argv]
    status, _, stderr = run_main(argv, capsys)
    assert status == 2
    assert_one_error_line(stderr, "plot")
    assert fragment in stderr
    assert "dot" not in stderr.replace(str(tmp_path), "") and "pip install" not in stderr
    assert sorted(os.listdir(tmp_path)) == (["bin"] if missing == "dot" else [])


# === Numbers beyond range, on every numeric option ===

# Values no numeric option takes: beyond int64 and float64, infinities, NaN.
OUT_OF_RANGE = ["1" + "0" * 400, "-1" + "0" * 400, str(2**63), "1e309", "-inf", "nan",
                "[1e309]", "8,8,1e400"]
# Values some options take: each is refused in one line or reaches the builder.
EDGES = ["-1", "0", "1e300", str(2**62)]


class ReachedTheBackend(Exception):
    """Raised instead of creating a run directory or importing Keras."""


def _subparser(parser, name):
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return action.choices[name]


def _commands():
    """`(argv prefix, parser)` of every subcommand that takes numeric options."""
    parser = cli.build_parser()
    train = _subparser(parser, "train")
    commands = [(["train", recipe], _subparser(train, recipe)) for recipe in ("vae", "split-brain")]
    for command in ("summary", "plot"):
        recipes = _subparser(parser, command)
        commands += [([command, recipe], _subparser(recipes, recipe)) for recipe in _inspect.RECIPES]
    return commands


def _numeric_options(parser):
    """`(option, default, help)` of each option whose type turns "1" into a number or numbers."""
    options = []
    for action in parser._actions:
        if not action.option_strings or action.type is None:
            continue
        try:
            parsed = action.type("1")
        except (argparse.ArgumentTypeError, ValueError, TypeError):
            continue
        parts = parsed if isinstance(parsed, (list, tuple)) else [parsed]
        if parts and all(isinstance(part, (int, float)) for part in parts):
            options.append((action.option_strings[-1], action.default, action.help))
    return options


_COMMANDS = _commands()


@pytest.mark.parametrize(("prefix", "parser"), _COMMANDS,
                         ids=[" ".join(prefix) for prefix, _ in _COMMANDS])
def test_every_numeric_option_refuses_numbers_beyond_range_before_anything_is_made(
        prefix, parser, tmp_path, capsys, monkeypatch):
    """Every numeric option (read from the parsers) given a number beyond range exits 2 in one line naming it, before a run directory or Keras."""

    def reached(*args, **kwargs):
        raise ReachedTheBackend

    monkeypatch.setattr(_runs, "prepare_directory", reached)
    monkeypatch.setattr(cli, "import_keras", reached)
    monkeypatch.setattr(train_run, "import_keras", reached)
    options = _numeric_options(parser)
    assert options, f"no numeric option found in {' '.join(prefix)}"
    extra = ["-o", str(tmp_path / "model.png")] if prefix[0] == "plot" else []
    for option, default, help_text in options:
        # An option whose help says that 0 turns it off may take 0 whatever its default.
        zero_turns_off = "0 skips" in (help_text or "")
        for value in OUT_OF_RANGE + EDGES:
            argv = [*prefix, f"{option}={value}", *extra]
            try:
                status, _, stderr = run_main(argv, capsys)
            except SystemExit as exit:  # argparse refused it
                status, stderr = exit.code, capsys.readouterr().err
            except ReachedTheBackend:
                # Only a value in range may get this far; on `train` a negative
                # value, or zero where the default is not zero, may not.
                assert value in EDGES, f"{' '.join(argv)} was accepted"
                assert prefix[0] != "train" or value != "-1", argv
                assert prefix[0] != "train" or value != "0" or default == 0 or zero_turns_off, argv
                continue
            assert status == 2, (argv, stderr)
            assert "Traceback" not in stderr
            last = stderr.strip().splitlines()[-1]
            assert "error:" in last, (argv, stderr)
            if value in OUT_OF_RANGE:
                # The option, or the builder argument it sets.
                assert option in last or option[2:].replace("-", "_") in last, (argv, stderr)


# === A backend that is not installed ===


def test_summary_on_a_backend_that_is_not_installed_is_one_error_line(tmp_path):
    """`KERAS_BACKEND=openvino` without openvino installed: `summary` exits 2 with one line naming the missing module."""
    import subprocess

    if importlib.util.find_spec("openvino") is not None:
        pytest.skip("openvino is installed here")
    env = {**os.environ, "KERAS_BACKEND": "openvino"}
    result = subprocess.run([sys.executable, "-m", "keras_recipes", "summary", "mlp"],
                            capture_output=True, text=True, env=env, timeout=120, check=False)
    assert result.returncode == 2, result.stderr
    assert_one_error_line(result.stderr, "summary")
    assert "Keras cannot start its backend: No module named 'openvino'" in result.stderr
