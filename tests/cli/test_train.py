"""`keras-recipes train vae` and `train split-brain`, run as a user runs them: in subprocesses."""

import csv
import json
import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
from helpers import png_size
from cli.test_main import run_cli

import keras_recipes  # noqa: F401  (registers the classes the saved models use)
from keras_recipes.cli import _figures, _runs
from keras_recipes.cli._train import _split_brain
from keras_recipes.cli._train import _vae as _train_vae
from keras_recipes.data import colored_shapes

VAE_FILES = ["model.keras", "history.csv", "reconstructions.png", "latent.png",
             "samples.png", "loss.png", "evaluation.json"]
SPLIT_BRAIN_FILES = ["model.keras", "history.csv", "colorized.png", "probe.json"]
# Written by every run besides the files its report lists (for --resume).
STATE_FILES = [_runs.ARGUMENTS_FILE]
# Tiny settings: a few seconds of training after TensorFlow's start-up.
TINY_VAE = ["--epochs", "2", "--batch-size", "8", "--hidden-units", "16", "--nll-samples", "50"]
TINY_SPLIT_BRAIN = ["--epochs", "1", "--batch-size", "8", "--width-multiplier", "0.0625"]


def history_rows(directory):
    with open(os.path.join(directory, "history.csv"), newline="") as file:
        return list(csv.DictReader(file))


@pytest.fixture(scope="module")
def grey_images(tmp_path_factory):
    """A `.npz` of 40 random 8x8 grey images in [0, 1] with labels 0 to 3."""
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("data") / "images.npz"
    np.savez(path, x=rng.uniform(0, 1, (40, 8, 8)).astype("float32"),
             y=np.arange(40) % 4)
    return str(path)


@pytest.fixture(scope="module")
def vae_run(grey_images, tmp_path_factory):
    """`train vae --force` on tiny data, into a directory holding an older run's files."""
    out = tmp_path_factory.mktemp("runs") / "vae"
    out.mkdir()
    (out / "samples.png").write_bytes(b"an older run's picture")
    (out / "probe.json").write_text("{}")  # written by split-brain, never by vae
    (out / _runs.PARTIAL_MODEL_FILE).write_bytes(b"a save cut short")
    result = run_cli("train", "vae", "--data", grey_images, "--out", str(out), "--force",
                     *TINY_VAE)
    return result, str(out)


def test_train_vae_exits_0_quietly_and_lists_every_file_it_wrote(vae_run):
    """A tiny VAE run exits 0, writes nothing to stderr, and ends by naming the run and its files."""
    result, out = vae_run
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert sorted(os.listdir(out)) == sorted(VAE_FILES + STATE_FILES)
    assert f"run: {out}" in result.stdout
    assert result.stdout.splitlines()[-1] == "wrote: " + ", ".join(VAE_FILES)


def test_train_vae_pictures_are_pngs_of_the_documented_size(vae_run):
    """Every picture of a VAE run is a PNG of the size `_figures.SIZES` gives."""
    _, out = vae_run
    for name in ("reconstructions.png", "latent.png", "samples.png", "loss.png"):
        assert png_size(os.path.join(out, name)) == _figures.SIZES[name], name


def test_train_vae_model_reloads_safely_and_history_has_every_epoch(vae_run):
    """model.keras loads with safe_mode=True and reconstructs the data's shape; history.csv has one row per epoch."""
    _, out = vae_run
    model = keras.saving.load_model(os.path.join(out, "model.keras"), safe_mode=True)
    reconstruction, z_mean, _ = model.predict(np.zeros((3, 8, 8), "float32"), verbose=0)
    assert reconstruction.shape == (3, 8, 8)
    assert z_mean.shape == (3, 2)
    rows = history_rows(out)
    assert [row["epoch"] for row in rows] == ["0", "1"]
    assert {"loss", "val_loss", "reconstruction_loss", "kl_loss"} <= set(rows[0])


def test_train_vae_evaluation_json_reports_the_held_out_nll_and_latent_use(vae_run):
    """evaluation.json holds the held-out NLL with its k, the -ELBO above it, and per-dimension KL and activity."""
    result, out = vae_run
    with open(os.path.join(out, "evaluation.json")) as file:
        evaluation = json.load(file)
    assert evaluation["nll_samples"] == 50 and evaluation["num_examples"] == 8  # 20% of 40
    assert evaluation["nll"] <= evaluation["negative_elbo"]
    assert evaluation["likelihood"] == "bernoulli" and evaluation["binary_data"] is False
    assert "not binary" in evaluation["note"]
    assert len(evaluation["kl_per_dimension"]) == len(evaluation["activity"]) == 2
    assert evaluation["active_units"] == sum(value > 0.01 for value in evaluation["activity"])
    assert f"held-out NLL {evaluation['nll']:.4g}" in result.stdout


def test_train_vae_research_options_log_beta_and_draw_traversals(grey_images, tmp_path):
    """A 3-D latent with a KL warm-up and free bits: beta follows the schedule per epoch, traversals.png is drawn."""
    out = tmp_path / "research"
    result = run_cli("train", "vae", "--data", grey_images, "--out", str(out), *TINY_VAE,
                     "--latent-dim", "3", "--beta-schedule", "linear:8:0.5", "--free-bits", "0.1",
                     "--kernel-initializer", "fan_in_uniform", "--bias-initializer", "fan_in_uniform")
    assert result.returncode == 0, result.stderr
    assert "kernels fan_in_uniform, biases fan_in_uniform" in result.stdout
    assert "traversals.png" in os.listdir(out)
    assert png_size(out / "traversals.png") == _figures.SIZES["traversals.png"]
    rows = history_rows(out)
    # 32 training digits in batches of 8: 4 steps an epoch; the logged beta is the last step's.
    assert [float(row["beta"]) for row in rows] == pytest.approx([0.5 * 3 / 8, 0.5 * 7 / 8])
    model = keras.saving.load_model(out / "model.keras", safe_mode=True)
    assert model.free_bits == 0.1 and model.beta == keras_recipes.losses.LinearBeta(8, 0.5)
    kernels = [layer for layer in model.get_layer("encoder").layers if hasattr(layer, "kernel")]
    assert kernels
    for layer in kernels:
        assert isinstance(layer.kernel_initializer, keras_recipes.initializers.FanInUniform)
        assert layer.bias_initializer.fan_in == layer.kernel.shape[0]


@pytest.mark.parametrize(
    ("argument", "choices"),
    [("kernel_initializer", _train_vae.KERNEL_INITIALIZERS), ("bias_initializer", _train_vae.BIAS_INITIALIZERS)],
)
def test_every_initializer_choice_is_one_vae_takes(argument, choices):
    """--kernel-initializer's and --bias-initializer's choices, checked without Keras, are names vae() takes."""
    for name in choices:
        expected = keras_recipes.initializers.get(name) or keras.initializers.get(name)
        model = keras_recipes.vae((4,), 2, hidden_units=(3,), seed=0, **{argument: name})
        dense = model.get_layer("encoder").layers[1]
        assert type(getattr(dense, argument)) is type(expected), name


def test_train_vae_force_leaves_no_file_of_the_older_run(vae_run):
    """--force deletes the older run's files: none of them survives beside the new run."""
    _, out = vae_run
    assert not os.path.exists(os.path.join(out, "probe.json"))
    assert not os.path.exists(os.path.join(out, _runs.PARTIAL_MODEL_FILE))
    assert png_size(os.path.join(out, "samples.png")) == _figures.SIZES["samples.png"]


@pytest.fixture(scope="module")
def split_brain_run(tmp_path_factory):
    """`train split-brain` on 24 labelled 16x16 coloured shapes."""
    data = tmp_path_factory.mktemp("data") / "shapes.npz"
    rgb, labels = colored_shapes(24, size=16, seed=0)
    np.savez(data, x=rgb, y=labels)
    out = tmp_path_factory.mktemp("runs") / "split-brain"
    result = run_cli("train", "split-brain", "--data", str(data), "--out", str(out),
                     *TINY_SPLIT_BRAIN)
    return result, str(out)


def test_train_split_brain_writes_model_history_picture_and_probe(split_brain_run):
    """A tiny split-brain run exits 0 quietly, with a PNG of the documented size and a reloadable model."""
    result, out = split_brain_run
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert sorted(os.listdir(out)) == sorted(SPLIT_BRAIN_FILES + STATE_FILES)
    assert png_size(os.path.join(out, "colorized.png")) == _figures.SIZES["colorized.png"]
    model = keras.saving.load_model(os.path.join(out, "model.keras"), safe_mode=True)
    ab_logits, l_logits = model.predict(np.zeros((2, 16, 16, 3), "float32"), verbose=0)
    assert ab_logits.shape[:3] == l_logits.shape[:3] == (2, 4, 4)
    assert len(history_rows(out)) == 1


def test_train_split_brain_ignores_a_global_channels_first_setting(tmp_path):
    """With keras.json saying channels_first, train split-brain still reads channels-last images and draws its picture."""
    keras_home = tmp_path / "keras-home"
    keras_home.mkdir()
    (keras_home / "keras.json").write_text(json.dumps(
        {"backend": keras.backend.backend(), "image_data_format": "channels_first",
         "floatx": "float32", "epsilon": 1e-07}))
    data = tmp_path / "shapes.npz"
    rgb, labels = colored_shapes(24, size=16, seed=0)
    np.savez(data, x=rgb, y=labels)
    out = tmp_path / "run"
    env = {key: value for key, value in os.environ.items() if key != "KERAS_BACKEND"}
    env["KERAS_HOME"] = str(keras_home)
    result = subprocess.run(
        [sys.executable, "-m", "keras_recipes", "train", "split-brain", "--data", str(data),
         "--out", str(out), *TINY_SPLIT_BRAIN],
        capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    assert png_size(os.path.join(out, "colorized.png")) == _figures.SIZES["colorized.png"]


def test_train_split_brain_probe_json_holds_accuracies_and_is_printed(split_brain_run):
    """probe.json has an accuracy in [0, 1] for every probed layer, before and after pre-training, and stdout prints them."""
    result, out = split_brain_run
    with open(os.path.join(out, "probe.json")) as file:
        probe = json.load(file)
    for key in ("accuracy", "accuracy_before_pretraining"):
        assert list(probe[key]) == list(_split_brain.PROBED_LAYERS)
        assert all(0.0 <= value <= 1.0 for value in probe[key].values())
    assert probe["classes"] == 4 and probe["chance"] == 0.25
    assert probe["train_images"] + probe["test_images"] == 24
    assert f"conv3 {probe['accuracy']['conv3']:.3f}" in result.stdout


# `python -m keras_recipes ARGS`, with Python's Ctrl-C handler even when the
# tests run in the background: a non-interactive shell starts background jobs
# with SIGINT ignored, the child would inherit that, and Python installs no
# handler for an ignored signal. A user's shell in the foreground does not.
_WITH_CTRL_C = (
    "import runpy, signal\n"
    "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
    "runpy.run_module('keras_recipes', run_name='__main__', alter_sys=True)\n"
)


def test_ctrl_c_during_training_keeps_the_best_checkpoint_and_exits_130(grey_images, tmp_path):
    """SIGINT after the first epoch: exit 130, a message naming the run, a loadable model.keras, the history so far."""
    out = tmp_path / "interrupted"
    stdout_path = tmp_path / "stdout.txt"
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    with open(stdout_path, "w") as stdout:
        process = subprocess.Popen(
            [sys.executable, "-c", _WITH_CTRL_C, "train", "vae", "--data", grey_images,
             "--out", str(out), *TINY_VAE[2:], "--epochs", "100000"],
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        try:
            deadline = time.monotonic() + 120
            # "Epoch 2/" is printed once epoch 1 has ended and been checkpointed.
            while "Epoch 2/" not in stdout_path.read_text():
                assert process.poll() is None, "the run ended before it was interrupted"
                assert time.monotonic() < deadline, "no epoch ended within 120 s"
                time.sleep(0.1)
            process.send_signal(signal.SIGINT)
            _, stderr = process.communicate(timeout=120)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 130, stderr
    assert stderr.startswith("keras-recipes train vae: interrupted after ")
    assert f"kept in {out}: model.keras (the best, epoch " in stderr
    assert "Traceback" not in stderr and len(stderr.splitlines()) == 1
    assert os.path.exists(out / "model.keras")
    assert not os.path.exists(out / _runs.PARTIAL_MODEL_FILE)
    keras.saving.load_model(out / "model.keras", safe_mode=True)
    assert len(history_rows(out)) >= 1
    assert png_size(out / "loss.png") == _figures.SIZES["loss.png"]


# `python -m keras_recipes ARGS` in which, as epoch 1 ends, Ctrl-C lands
# while a garbage-collection callback runs, as it can while JAX's runs: the
# SIGINT handler's KeyboardInterrupt is raised inside the callback, where
# Python reports it as "Exception ignored" and goes on. Deterministic: the
# signal is raised at that point, not sent at a lucky moment.
_CTRL_C_IN_A_GC_CALLBACK = (
    "import gc, runpy, signal\n"
    "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
    "from keras_recipes.cli import _runs\n"
    "armed = []\n"
    "def in_gc(phase, info):\n"
    "    if phase == 'start' and armed:\n"
    "        armed.clear()\n"
    "        signal.raise_signal(signal.SIGINT)\n"
    "gc.callbacks.append(in_gc)\n"
    "best_checkpoint = _runs.best_checkpoint\n"
    "def armed_checkpoint(keras, directory):\n"
    "    checkpoint = best_checkpoint(keras, directory)\n"
    "    epoch_end = checkpoint.on_epoch_end\n"
    "    def on_epoch_end(epoch, logs=None):\n"
    "        epoch_end(epoch, logs)\n"
    "        if epoch == 0:\n"
    "            armed.append(True)\n"
    "            gc.collect()\n"
    "            assert not armed, 'the gc callback did not run'\n"
    "    checkpoint.on_epoch_end = on_epoch_end\n"
    "    return checkpoint\n"
    "_runs.best_checkpoint = armed_checkpoint\n"
    "runpy.run_module('keras_recipes', run_name='__main__', alter_sys=True)\n"
)


def test_ctrl_c_swallowed_by_a_gc_callback_still_stops_the_run_with_130(grey_images, tmp_path):
    """Ctrl-C raised inside a garbage-collection callback at the end of epoch 1 stops the run: exit 130, epoch 1's model kept."""
    out = tmp_path / "interrupted"
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run(
        [sys.executable, "-c", _CTRL_C_IN_A_GC_CALLBACK, "train", "vae", "--data", grey_images,
         "--out", str(out), *TINY_VAE[2:], "--epochs", "5"],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )
    assert result.returncode == 130, result.stderr
    assert result.stderr == (f"keras-recipes train vae: interrupted after 1 epoch; kept in {out}: "
                             "model.keras (the best, epoch 1), history.csv, "
                             "reconstructions.png, latent.png, samples.png, loss.png\n")
    assert len(history_rows(out)) == 1
    keras.saving.load_model(out / "model.keras", safe_mode=True)


# === Two runs, one --out ===


def _popen_cli(*args, stdout=subprocess.PIPE):
    """`python -m keras_recipes ARGS` started, not waited for, with Python's Ctrl-C handler."""
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.Popen([sys.executable, "-c", _WITH_CTRL_C, *args], stdout=stdout,
                            stderr=subprocess.PIPE, text=True, env=env)


def test_two_runs_started_together_on_one_new_out_one_runs_and_one_is_refused(grey_images,
                                                                             tmp_path):
    """Of two `train vae` started at once with the same new --out, one writes its run, the other exits 2 in one line."""
    out = str(tmp_path / "shared")
    argv = ["train", "vae", "--data", grey_images, "--out", out, *TINY_VAE]
    processes = [_popen_cli(*argv), _popen_cli(*argv)]
    results = []
    try:
        for process in processes:
            stdout, stderr = process.communicate(timeout=300)
            results.append((process.returncode, stdout, stderr))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    assert sorted(status for status, _, _ in results) == [0, 2], results
    (_, winner_out, _), = [result for result in results if result[0] == 0]
    (_, _, refused), = [result for result in results if result[0] == 2]
    # Refused while the other runs (the lock), or, had it started late, because
    # the other's run is there: never both writing.
    assert ("another run is writing to the run directory" in refused
            or "already exists" in refused), refused
    assert len(refused.splitlines()) == 1 and "Traceback" not in refused
    assert sorted(os.listdir(out)) == sorted(VAE_FILES + STATE_FILES)
    assert len(history_rows(out)) == 2
    assert f"run: {out}" in winner_out


def test_a_second_run_is_refused_while_the_first_runs_even_with_force(grey_images, tmp_path):
    """While a run trains in --out, `train vae --force` on it exits 2 in one line and changes nothing; the first keeps going."""
    out = tmp_path / "busy"
    stdout_path = tmp_path / "stdout.txt"
    with open(stdout_path, "w") as stdout:
        first = _popen_cli("train", "vae", "--data", grey_images, "--out", str(out),
                           *TINY_VAE[2:], "--epochs", "100000", stdout=stdout)
        try:
            deadline = time.monotonic() + 120
            # "Epoch 2/": epoch 1 has ended and model.keras is written.
            while "Epoch 2/" not in stdout_path.read_text():
                assert first.poll() is None, first.communicate()
                assert time.monotonic() < deadline, "no epoch ended within 120 s"
                time.sleep(0.1)
            second = run_cli("train", "vae", "--data", grey_images, "--out", str(out),
                             "--force", *TINY_VAE)
            assert first.poll() is None, "the first run stopped"
            first.send_signal(signal.SIGINT)
            _, first_stderr = first.communicate(timeout=120)
        finally:
            if first.poll() is None:
                first.kill()
    assert second.returncode == 2, second.stderr
    assert second.stderr.startswith("keras-recipes train vae: error: another run is writing "
                                    f"to the run directory {str(out)!r}")
    assert len(second.stderr.splitlines()) == 1 and second.stdout == ""
    # The first run ended as an interrupted run does, its files its own.
    assert first.returncode == 130, first_stderr
    assert "kept in" in first_stderr and "model.keras" in first_stderr
    assert (out / "model.keras").exists()
    keras.saving.load_model(out / "model.keras", safe_mode=True)


# === The environment ===


@pytest.mark.parametrize("redirections", [">&-", "<&- >&- 2>&-"],
                         ids=["stdout closed", "all three closed"])
def test_train_vae_with_standard_streams_closed_writes_its_run(redirections, grey_images,
                                                                tmp_path):
    """With stdout (or stdin, stdout and stderr) closed, as under cron, `train vae` exits 0 and writes its whole run."""
    out = tmp_path / "run"
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run(
        ["bash", "-c", f'"$@" {redirections}', "bash", sys.executable, "-m", "keras_recipes",
         "train", "vae", "--data", grey_images, "--out", str(out), *TINY_VAE],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300, env=env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    if "2>&-" not in redirections:
        assert result.stderr == ""
    assert sorted(os.listdir(out)) == sorted(VAE_FILES + STATE_FILES)
    assert len(history_rows(out)) == 2


_BACKEND_PROBE = """
import contextlib, io, json, os, sys
from keras_recipes.cli import main
results = []
for backend, argv in json.loads(sys.argv[1]):
    os.environ["KERAS_BACKEND"] = backend
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        status = main(argv)
    loaded = sorted(m for m in ("keras", "tensorflow", "jax", "torch") if m in sys.modules)
    results.append({"status": status, "stderr": stderr.getvalue(), "loaded": loaded})
print(json.dumps(results))
"""

# Keras's numpy backend (installed, cannot train), OpenVINO (not installed
# here, inference only), and a name Keras does not know.
UNTRAINABLE_BACKENDS = ["numpy", "openvino", "mxnet"]


def test_a_backend_that_cannot_train_is_refused_in_one_line_before_keras(grey_images,
                                                                        tmp_path):
    """KERAS_BACKEND numpy, openvino or an unknown name: exit 2, one line naming the backends that train, no Keras, no run directory."""
    cases = [(backend, [command, recipe, "--data", data, "--out", str(tmp_path / backend)])
             for backend in UNTRAINABLE_BACKENDS
             for command, recipe, data in [("train", "vae", grey_images),
                                           ("train", "split-brain", "shapes")]]
    completed = subprocess.run([sys.executable, "-c", _BACKEND_PROBE, json.dumps(cases)],
                               capture_output=True, text=True, timeout=120, check=False)
    assert completed.returncode == 0, completed.stderr
    for (backend, argv), result in zip(cases, json.loads(completed.stdout)):
        assert result["status"] == 2, (backend, argv, result)
        assert result["loaded"] == [], (backend, result)
        assert result["stderr"].startswith(f"keras-recipes train {argv[1]}: error: "), result
        assert len(result["stderr"].splitlines()) == 1
        assert "runs on tensorflow, jax or torch" in result["stderr"]
        assert f"Received: KERAS_BACKEND={backend}" in result["stderr"]
    assert os.listdir(tmp_path) == []


def test_a_training_backend_that_is_not_installed_is_refused_in_one_line(grey_images, tmp_path,
                                                                        monkeypatch, capsys):
    """KERAS_BACKEND naming a backend that trains but whose package is missing: exit 2, one line, no run directory."""
    from keras_recipes.cli import _distribute, main

    find_spec = _distribute.importlib.util.find_spec
    monkeypatch.setattr(_distribute, "backend", lambda: "jax")
    monkeypatch.setattr(_distribute.importlib.util, "find_spec",
                        lambda name, *args: None if name == "jax" else find_spec(name, *args))
    out = tmp_path / "run"
    status = main(["train", "vae", "--data", grey_images, "--out", str(out)])
    stderr = capsys.readouterr().err
    assert status == 2
    assert "jax is not installed here (no module 'jax')" in stderr
    assert "Received: KERAS_BACKEND=jax" in stderr and len(stderr.splitlines()) == 1
    assert not out.exists()


# === Failures before Keras: bad data, bad --out ===

# Runs each command line through `main()` in ONE fresh interpreter and
# reports its exit status, its stderr, and whether Keras or TensorFlow had
# been imported by then: the checks must answer before TensorFlow starts.
_PROBE_SCRIPT = """
import contextlib, io, json, sys
from keras_recipes.cli import main
results = []
for argv in json.loads(sys.argv[1]):
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        try:
            status = main(argv)
        except SystemExit as exit:
            status = exit.code
    loaded = sorted(m for m in ("keras", "tensorflow") if m in sys.modules)
    results.append({"status": status, "stderr": stderr.getvalue(), "loaded": loaded})
print(json.dumps(results))
"""


def _write_cases(directory):
    """Bad `--data` files and `--out` directories; returns `[(case, argv, expected text)]`."""
    rng = np.random.default_rng(0)
    good = rng.uniform(0, 1, (10, 8, 8)).astype("float32")

    def save(name, array, **kwargs):
        path = os.path.join(directory, name)
        np.save(path, array, **kwargs) if name.endswith(".npy") else np.savez(path, **array)
        return path

    nan = good.copy()
    nan[3, 2, 1] = np.nan
    infinite = good.copy()
    infinite[0, 0, 0] = np.inf
    text_file = os.path.join(directory, "notes.npy")
    with open(text_file, "w") as file:
        file.write("not an array\n")
    csv_file = os.path.join(directory, "data.csv")
    with open(csv_file, "w") as file:
        file.write("0.1,0.2\n")
    existing = os.path.join(directory, "existing-run")
    os.makedirs(existing)
    with open(os.path.join(existing, "model.keras"), "w") as file:
        file.write("a model worth keeping")
    foreign = os.path.join(directory, "foreign")
    os.makedirs(foreign)
    with open(os.path.join(foreign, "thesis.tex"), "w") as file:
        file.write("not a run file")
    a_file = os.path.join(directory, "a-file")
    with open(a_file, "w") as file:
        file.write("")
    valid = save("valid.npy", good)
    truncated = save("truncated.npy", good)
    with open(truncated, "r+b") as file:
        file.truncate(os.path.getsize(truncated) - 100)
    out = os.path.join(directory, "never-created")

    def vae(data, *extra):
        return ["train", "vae", "--data", data, "--out", out, *extra]

    rgb = rng.uniform(0, 1, (10, 16, 16, 3)).astype("float32")
    return [
        ("nan", vae(save("nan.npy", nan)), "expected finite values; 1 are NaN or infinite"),
        ("inf", vae(save("inf.npy", infinite)), "expected finite values"),
        ("rank 1", vae(save("flat.npy", good.ravel())), "the array has shape (640,)"),
        ("rank 5", vae(save("rank5.npy", good[:, None, None])), "the array has shape (10, 1, 1, 8, 8)"),
        ("two channels", vae(save("two.npy", np.stack([good, good], -1))), "1 or 3 channels"),
        ("strings", vae(save("strings.npy", np.array(["a", "b"]))), "the array has dtype <U1"),
        ("complex", vae(save("complex.npy", good.astype("complex64"))), "dtype complex64"),
        ("object", vae(save("object.npy", np.array([{}, {}]), allow_pickle=True)),
         "Object arrays cannot be loaded when allow_pickle=False"),
        ("empty", vae(save("empty.npy", np.zeros((0, 64), "float32"))), "the array is empty"),
        ("one sample", vae(save("one.npy", good[:1])), "at least 2 samples"),
        ("8-bit", vae(save("bytes.npy", (good * 255).astype("uint8"))), "expected values in [0, 1]"),
        ("not an array file", vae(text_file), "not a numpy array file: it lacks the .npy header"),
        ("truncated", vae(truncated), "cannot read the arrays"),
        ("wrong suffix", vae(csv_file), "expected a .npy or .npz file"),
        ("missing file", vae(os.path.join(directory, "missing.npy")), "no such file"),
        ("typo of digits", vae("digit"), "expected 'digits' or the path"),
        ("npz without x", vae(save("nox.npz", {"images": good})), "under the key 'x'"),
        ("labels too short", vae(save("labels.npz", {"x": good, "y": np.arange(9)})),
         "one integer label per sample"),
        ("float labels", vae(save("flabels.npz", {"x": good, "y": np.ones(10)})),
         "one integer label per sample"),
        ("split-brain grey", ["train", "split-brain", "--data", valid, "--out", out],
         "expected sRGB images"),
        ("split-brain size", ["train", "split-brain", "--data",
                              save("odd.npy", rgb[:, :10, :10]), "--out", out],
         "multiples of 4"),
        ("existing --out", ["train", "vae", "--data", valid, "--out", existing],
         "already exists; choose another --out, or pass --force"),
        ("existing --out, split-brain",
         ["train", "split-brain", "--data", save("rgb.npy", rgb), "--out", existing],
         "already exists; choose another --out, or pass --force"),
        ("--force with a foreign file", ["train", "vae", "--data", valid, "--out", foreign, "--force"],
         "also holds 'thesis.tex'"),
        ("--out is a file", ["train", "vae", "--data", valid, "--out", a_file], "is not a directory"),
        ("--epochs 0", ["train", "vae", "--epochs", "0"], "expected a positive integer"),
        ("--seed -1", ["train", "vae", "--seed", "-1"], "expected a non-negative integer"),
        ("--hidden-units", ["train", "vae", "--hidden-units", "16,x"], "comma-separated positive"),
        ("--beta-schedule", ["train", "vae", "--beta-schedule", "linear:0"],
         "WARMUP_STEPS must be a positive integer"),
        ("--beta-schedule kind", ["train", "vae", "--beta-schedule", "cosine:10"],
         "expected constant:VALUE, linear:WARMUP_STEPS"),
        ("--free-bits", ["train", "vae", "--free-bits", "-1"], "expected a number between 0 and 1000"),
        ("--objective", ["train", "vae", "--objective", "vi"], "invalid choice: 'vi'"),
        ("iwae with a schedule", vae(valid, "--objective", "iwae", "--beta-schedule", "linear:5"),
         "1.0 with objective='iwae'"),
        ("--nll-samples", ["train", "vae", "--nll-samples", "-1"], "from 0 (no NLL)"),
        ("--kernel-initializer", ["train", "vae", "--kernel-initializer", "kaiming_uniform"],
         "invalid choice: 'kaiming_uniform'"),
    ]


@pytest.fixture(scope="module")
def failures(tmp_path_factory):
    """Every bad case run in one fresh interpreter: `{case: (argv, expected, result)}`."""
    directory = str(tmp_path_factory.mktemp("bad"))
    cases = _write_cases(directory)
    completed = subprocess.run(
        [sys.executable, "-c", _PROBE_SCRIPT, json.dumps([argv for _, argv, _ in cases])],
        check=False, capture_output=True, text=True, timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    results = json.loads(completed.stdout)
    assert [case for case, _, _ in cases] == CASES
    return directory, {case: (argv, expected, result)
                       for (case, argv, expected), result in zip(cases, results)}


CASES = [
    "nan", "inf", "rank 1", "rank 5", "two channels", "strings", "complex", "object",
    "empty", "one sample", "8-bit", "not an array file", "truncated", "wrong suffix", "missing file",
    "typo of digits", "npz without x", "labels too short", "float labels",
    "split-brain grey", "split-brain size", "existing --out",
    "existing --out, split-brain", "--force with a foreign file", "--out is a file",
    "--epochs 0", "--seed -1", "--hidden-units", "--beta-schedule", "--beta-schedule kind",
    "--free-bits", "--objective", "iwae with a schedule", "--nll-samples", "--kernel-initializer",
]


@pytest.mark.parametrize("case", CASES)
def test_bad_data_or_out_fails_with_one_line_and_status_2_before_keras(failures, case):
    """Bad data, a taken --out or a bad option: status 2, one error line naming the problem, Keras not imported."""
    _, results = failures
    argv, expected, result = results[case]
    assert result["status"] == 2, (argv, result)
    lines = result["stderr"].splitlines()
    errors = [line for line in lines if "error:" in line]
    assert len(errors) == 1 and expected in errors[0], result["stderr"]
    assert errors[0].startswith(f"keras-recipes train {argv[1]}: error: ")
    assert "Traceback" not in result["stderr"]
    assert result["loaded"] == [], f"{case}: Keras was imported before the failure"


def test_failures_touch_nothing(failures):
    """A refused run creates no directory and leaves an existing run's and a user's files as they were."""
    directory, _ = failures
    assert not os.path.exists(os.path.join(directory, "never-created"))
    with open(os.path.join(directory, "existing-run", "model.keras")) as file:
        assert file.read() == "a model worth keeping"
    assert os.listdir(os.path.join(directory, "foreign")) == ["thesis.tex"]


def test_missing_matplotlib_names_the_extra_to_install_before_keras(grey_images, tmp_path):
    """Without matplotlib, train exits 2 with the pip command of the `examples` extra, before Keras and before --out."""
    script = (
        "import sys\n"
        "sys.modules['matplotlib'] = None  # makes `import matplotlib` fail\n"
        "from keras_recipes.cli import main\n"
        f"status = main(['train', 'vae', '--data', {grey_images!r}, '--out', {str(tmp_path / 'run')!r}])\n"
        "print(status, sorted(m for m in ('keras', 'tensorflow') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], check=False,
                            capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "2 []", result.stderr
    assert result.stderr.startswith("keras-recipes train vae: error: matplotlib is needed")
    assert "pip install 'keras-recipes[examples]'" in result.stderr
    assert not (tmp_path / "run").exists()
