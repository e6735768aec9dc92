"""`keras-recipes train --distribute`: refusals before anything trains, and real distributed runs."""

import contextlib
import importlib.util
import io
import json
import os
import subprocess
import sys

import keras
import pytest
from cli.test_main import run_cli

from keras_recipes.cli import _distribute, main

BACKEND = keras.backend.backend()
TINY_VAE = ["--epochs", "1", "--batch-size", "8", "--hidden-units", "16"]


@pytest.fixture(scope="module")
def grey_images(tmp_path_factory):
    """A `.npz` of 41 random 8x8 grey images in [0, 1]: an odd count, as users' data often is."""
    import numpy as np

    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("data") / "images.npz"
    np.savez(path, x=rng.uniform(0, 1, (41, 8, 8)).astype("float32"))
    return str(path)


def _main(*argv):
    """Runs the command line in this process; returns (status, stdout, stderr)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            status = main(list(argv))
        except SystemExit as exit_:  # argparse's own errors
            status = exit_.code
    return status, stdout.getvalue(), stderr.getvalue()


OTHER_ENGINE = {"tensorflow": "data-parallel", "jax": "mirrored", "torch": "mirrored"}
# The engine of this session's backend; PyTorch has none, and every engine
# is refused there before the replica count is looked at.
OWN_ENGINE = {"tensorflow": "mirrored", "jax": "data-parallel"}.get(BACKEND)
NEEDS_AN_ENGINE = pytest.mark.skipif(OWN_ENGINE is None,
                                     reason=f"no --distribute engine runs on {BACKEND}")


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["--distribute", OTHER_ENGINE[BACKEND]], f"this process uses {BACKEND}"),
        (["--cpu-replicas", "2"], "it splits the CPU for --distribute"),
        (["--distribute", "mirrored", "--cpu-replicas", "0"], "Received: --cpu-replicas='0'"),
        pytest.param(["--distribute", OWN_ENGINE, "--cpu-replicas", "65"], "at most 64",
                     marks=NEEDS_AN_ENGINE),
        (["--distribute", "parameter-server"], "invalid choice: 'parameter-server'"),
    ],
    ids=["wrong backend", "cpu-replicas alone", "cpu-replicas 0", "cpu-replicas 65",
         "unknown engine"],
)
def test_bad_distribute_options_fail_with_one_line_and_status_2(grey_images, tmp_path, argv,
                                                                 expected):
    """A wrong engine, backend or replica count: status 2, one error line, no run directory."""
    out = tmp_path / "run"
    status, stdout, stderr = _main("train", "vae", "--data", grey_images, "--out", str(out),
                                   *TINY_VAE, *argv)
    assert status == 2
    assert stdout == ""  # nothing started: no data line, no model line
    errors = [line for line in stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and expected in errors[0], stderr
    assert "Traceback" not in stderr
    assert not out.exists()


@NEEDS_AN_ENGINE
def test_batch_size_must_divide_among_the_replicas(grey_images, tmp_path):
    """--batch-size 7 over 2 replicas: status 2 naming --batch-size, before any run directory."""
    engine = OWN_ENGINE
    out = tmp_path / "run"
    status, _, stderr = _main("train", "vae", "--data", grey_images, "--out", str(out),
                              "--epochs", "1", "--batch-size", "7", "--distribute", engine,
                              "--cpu-replicas", "2")
    assert status == 2
    assert "Invalid value for argument `--batch-size`" in stderr
    assert "must be a multiple of 2. Received: --batch-size=7" in stderr
    assert not out.exists()


def test_torch_is_refused_before_keras_with_how_keras_distributes_there(grey_images, tmp_path):
    """On KERAS_BACKEND=torch, --distribute mirrored is refused, saying PyTorch has no engine here, before Keras loads."""
    script = (
        "import sys, contextlib, io\n"
        "from keras_recipes.cli import main\n"
        "with contextlib.redirect_stderr(io.StringIO()) as err:\n"
        f"    status = main(['train', 'vae', '--data', {grey_images!r}, '--out', "
        f"{str(tmp_path / 'run')!r}, '--distribute', 'mirrored'])\n"
        "print(status, 'keras' in sys.modules, err.getvalue())"
    )
    env = {**os.environ, "KERAS_BACKEND": "torch"}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env=env, timeout=120, check=False)
    status, loaded, message = result.stdout.split(" ", 2)
    assert (status, loaded) == ("2", "False"), result.stdout + result.stderr
    assert "needs KERAS_BACKEND=tensorflow, this process uses torch" in message
    assert "keras.distribution does not support PyTorch" in message


def test_backend_is_read_as_keras_reads_it(monkeypatch, tmp_path):
    """Without Keras loaded: KERAS_BACKEND, else keras.json's backend, else tensorflow."""
    monkeypatch.delitem(sys.modules, "keras")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.delenv("KERAS_BACKEND")
    assert _distribute.backend() == "tensorflow"
    (tmp_path / "keras.json").write_text(json.dumps({"backend": "jax"}))
    assert _distribute.backend() == "jax"
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    assert _distribute.backend() == "torch"


ENGINES = {
    "tensorflow": ("mirrored", "distribute: MirroredStrategy over 2 replicas"),
    "jax": ("data-parallel", "distribute: DataParallel over 2 devices"),
}


@pytest.mark.skipif(BACKEND not in ENGINES, reason=f"no --distribute engine runs on {BACKEND}")
def test_distributed_vae_run_trains_on_two_cpu_replicas_and_saves_a_loadable_model(
    grey_images, tmp_path
):
    """`train vae --distribute ... --cpu-replicas 2` on this backend: exit 0, two replicas, a safe model."""
    if BACKEND == "jax" and importlib.util.find_spec("jax") is None:
        pytest.skip("jax is not installed")
    engine, line = ENGINES[BACKEND]
    out = tmp_path / "run"
    result = run_cli("train", "vae", "--data", grey_images, "--out", str(out),
                     "--distribute", engine, "--cpu-replicas", "2", *TINY_VAE)
    assert result.returncode == 0, result.stderr
    assert line in result.stdout.splitlines()
    # 41 samples: 33 to train on, 8 held out. The last batch of an epoch
    # holds one sample: MirroredStrategy gives one replica nothing (whose
    # mean loss would be NaN); DataParallel trains on 32, evenly sharded.
    trained = {"mirrored": 33, "data-parallel": 32}[engine]
    assert f"{trained} to train on, 8 held out" in result.stdout
    last_epoch = next(line for line in result.stdout.splitlines()
                      if line.startswith("last epoch 1:"))
    assert "nan" not in last_epoch
    loaded = keras.saving.load_model(out / "model.keras", safe_mode=True)
    assert loaded.count_params() > 0


# === Fewer samples than replicas ===


@pytest.fixture(scope="module")
def six_images(tmp_path_factory):
    """A `.npy` of 6 grey 8x8 images: 5 to train on and 1 held out."""
    import numpy as np

    path = tmp_path_factory.mktemp("six") / "six.npy"
    np.save(path, np.random.default_rng(0).uniform(0, 1, (6, 8, 8)).astype("float32"))
    return str(path)


@NEEDS_AN_ENGINE
def test_a_set_smaller_than_the_cpu_replicas_is_refused_before_anything_is_made(six_images,
                                                                               tmp_path):
    """With --cpu-replicas 4 and 1 held-out sample, the run exits 2 in one line naming the set, and no run directory exists."""
    out = tmp_path / "run"
    status, stdout, stderr = _main("train", "vae", "--data", six_images, "--out", str(out),
                                   "--epochs", "1", "--batch-size", "4",
                                   "--distribute", OWN_ENGINE, "--cpu-replicas", "4")
    assert status == 2 and stdout == ""
    assert stderr.startswith("keras-recipes train vae: error: Invalid value for argument `--data`")
    assert "each set needs at least 4 samples, but the held-out set (20% of the data) has 1" in stderr
    assert len(stderr.splitlines()) == 1
    assert not out.exists()


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="needs JAX")
def test_replicas_found_when_the_backend_starts_refuse_a_smaller_set_before_training(
        six_images, tmp_path):
    """On 4 JAX devices (XLA_FLAGS, no --cpu-replicas), 1 held-out sample is refused in one line before training; no run directory is left."""
    out = tmp_path / "run"
    env = {**os.environ, "KERAS_BACKEND": "jax",
           "XLA_FLAGS": "--xla_force_host_platform_device_count=4"}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    result = subprocess.run(
        [sys.executable, "-m", "keras_recipes", "train", "vae", "--data", six_images,
         "--out", str(out), "--epochs", "1", "--batch-size", "4",
         "--distribute", "data-parallel"],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and "Traceback" not in result.stderr
    assert "its 4 replicas" in errors[0] and "the held-out set (20% of the data) has 1" in errors[0]
    assert "training for" not in result.stdout
    assert not out.exists()
