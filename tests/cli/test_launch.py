"""`keras-recipes launch` and `train --num-processes`: several JAX processes over loopback."""

import importlib.util
import os
import re

import keras
import numpy as np
import pytest
from cli.test_main import run_cli
from cli.test_train import history_rows

import keras_recipes  # noqa: F401  (registers the classes the saved models use)
from keras_recipes import cli

# As tests/test_distribute_jax.py: weights of size ~1 after the same steps
# summed in another order (each process's half batch, then the halves)
# differ by float32 rounding; a wrong loss scale or a wrong half of a batch
# moves them by a whole step.
WEIGHT_TOLERANCE = 1e-6
LOSS_TOLERANCE = 1e-5
VAE = ["train", "vae", "--epochs", "2", "--batch-size", "8", "--hidden-units", "16"]


@pytest.mark.backend("jax", reason="starts JAX processes; runs once, in the JAX run of the suite")
@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax is not installed")
def test_two_launched_processes_end_with_identical_weights_equal_to_one_process(tmp_path,
                                                                               monkeypatch):
    """launch -n 2: both processes end with the same weights, equal to one process on the same global batches."""
    images = tmp_path / "images.npy"
    # 40 images: 32 to train on and 8 held out, whole global batches of 8.
    np.save(images, np.random.default_rng(0).uniform(0, 1, (40, 8, 8)).astype("float32"))
    monkeypatch.delenv("XLA_FLAGS", raising=False)  # one CPU device per process
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    monkeypatch.setenv("JAX_PLATFORMS", "cpu")
    two, one = str(tmp_path / "two"), str(tmp_path / "one")
    launched = run_cli("launch", "--num-processes", "2", "--", *VAE, "--data", str(images),
                       "--out", two)
    alone = run_cli(*VAE, "--data", str(images), "--out", one)
    assert launched.returncode == 0, launched.stdout[-3000:] + launched.stderr
    assert alone.returncode == 0, alone.stderr
    digests = dict(re.findall(r"^\[\d\] process (\d) of 2: final weights sha256 (\w+)$",
                              launched.stdout, flags=re.MULTILINE))
    assert sorted(digests) == ["0", "1"] and len(set(digests.values())) == 1, launched.stdout
    # Only process 0 wrote the run directory.
    assert sorted(os.listdir(two)) == sorted(os.listdir(one))
    for got, want in zip(history_rows(two), history_rows(one), strict=True):
        for key in want:
            np.testing.assert_allclose(float(got[key]), float(want[key]), rtol=LOSS_TOLERANCE)
    weights = [keras.saving.load_model(os.path.join(run, "model.keras")).get_weights()
               for run in (two, one)]
    for got, want in zip(*weights, strict=True):
        np.testing.assert_allclose(got, want, atol=WEIGHT_TOLERANCE, rtol=0)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["launch", "--", "list"], "launch runs a `train` command"),
        (["launch", "--", *VAE, "--process-id", "1"], "launch gives each process its own"),
        ([*VAE, "--num-processes", "2", "--process-id", "0"], "needs --process-id I and --coordinator"),
        ([*VAE, "--process-id", "0"], "give --num-processes N too"),
        ([*VAE, "--num-processes", "2", "--process-id", "2", "--coordinator", "127.0.0.1:1"],
         "expected 0 to 1 with --num-processes 2"),
        ([*VAE, "--num-processes", "2", "--process-id", "0", "--coordinator", "nowhere"],
         "expected HOST:PORT"),
        ([*VAE, "--num-processes", "2", "--process-id", "0", "--coordinator", "h:1",
          "--batch-size", "7"], "must be a multiple of 2"),
    ],
    ids=["not-train", "own-option", "no-coordinator", "alone", "process-id", "address", "batch"],
)
def test_bad_several_process_options_are_refused_in_one_line_before_keras(argv, message, capsys):
    """Incomplete or contradictory --num-processes, --process-id, --coordinator, or a launch of no train command: status 2."""
    try:
        status = cli.main(argv)
    except SystemExit as refused:  # argparse refuses a malformed value itself
        status = refused.code
    assert status == 2
    stderr = capsys.readouterr().err
    # argparse shows the usage above its one line; the command's own checks only the line.
    assert message in stderr.splitlines()[-1] and "Traceback" not in stderr, stderr


@pytest.mark.skipif(keras.backend.backend() == "jax", reason="checks a backend other than JAX")
def test_launch_on_another_backend_than_jax_is_refused(capsys):
    """launch refuses, in one line with status 2, a backend keras.distribution cannot join processes on."""
    assert cli.main(["launch", "--", *VAE]) == 2
    assert "run with KERAS_BACKEND=jax" in capsys.readouterr().err


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax is not installed")
def test_launch_stops_the_others_and_returns_the_status_of_the_first_failure(tmp_path,
                                                                            monkeypatch):
    """A process that fails ends the launch with its status, the others killed; output is prefixed."""
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    # Each process refuses a --data that names nothing, status 2, before Keras.
    result = run_cli("launch", "--", *VAE, "--data", "nothing", "--out", str(tmp_path / "run"))
    assert result.returncode == 2, result.stdout + result.stderr
    assert re.search(r"^\[[01]\] keras-recipes train vae: error: .*--data='nothing'",
                     result.stdout,
                     flags=re.MULTILINE), result.stdout
    assert "failed with exit status 2; stopped the others" in result.stderr
