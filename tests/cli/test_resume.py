"""`train --resume`: an interrupted run, resumed, ends as the uninterrupted one; bad resumptions are refused."""

import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
from cli.test_main import run_cli
from cli.test_train import history_rows

import keras_recipes  # noqa: F401  (registers the classes the saved models use)
from keras_recipes import cli
from keras_recipes.cli import _runs
from keras_recipes.cli._train import _resume

# Small enough for a few seconds of training (10 batches an epoch of the
# `grey_images` below); 12 epochs leave time to kill the run between the
# first backup and the end, however fast the machine.
VAE = ["train", "vae", "--epochs", "12", "--batch-size", "16", "--hidden-units", "16"]
SPLIT_BRAIN = ["train", "split-brain", "--epochs", "3", "--batch-size", "8",
               "--width-multiplier", "0.0625"]
# Resumed and uninterrupted runs compute the same float32 operations in
# the same order, so their weights should agree bit for bit; the tolerance
# only allows for a kernel that sums in another order in a new process. A
# lost optimizer state, seed state or batch order moves weights by a whole
# step (1e-3 or more with Adam's default learning rate).
WEIGHT_TOLERANCE = 1e-6

# `python -m keras_recipes ARGS` that crashes with an exception (not Ctrl-C)
# right after the backup of epoch $CRASH_AFTER_EPOCH is written.
_CRASH_AFTER_EPOCH = (
    "import os, runpy\n"
    "from keras_recipes.cli._train import _resume\n"
    "backup_callback = _resume.backup_callback\n"
    "def crashing(*args):\n"
    "    callback = backup_callback(*args)\n"
    "    epoch_end = callback.on_epoch_end\n"
    "    def on_epoch_end(epoch, logs=None):\n"
    "        epoch_end(epoch, logs)\n"
    "        if epoch + 1 == int(os.environ['CRASH_AFTER_EPOCH']):\n"
    "            raise RuntimeError('crash after the backup')\n"
    "    callback.on_epoch_end = on_epoch_end\n"
    "    return callback\n"
    "_resume.backup_callback = crashing\n"
    "runpy.run_module('keras_recipes', run_name='__main__', alter_sys=True)\n"
)


def _environment(**extra):
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    return {**env, **extra}


def _weights(directory):
    return keras.saving.load_model(os.path.join(directory, "model.keras"),
                                   safe_mode=True).get_weights()


def _assert_same_run(resumed, uninterrupted):
    """The resumed run's history and best model equal the uninterrupted run's."""
    rows, expected = history_rows(resumed), history_rows(uninterrupted)
    assert [row["epoch"] for row in rows] == [row["epoch"] for row in expected]
    for row, want in zip(rows, expected):
        for key in want:
            np.testing.assert_allclose(float(row[key]), float(want[key]), rtol=1e-5,
                                       err_msg=f"epoch {row['epoch']}: {key}")
    for got, want in zip(_weights(resumed), _weights(uninterrupted), strict=True):
        np.testing.assert_allclose(got, want, atol=WEIGHT_TOLERANCE, rtol=0)
    assert not os.path.exists(os.path.join(resumed, _runs.BACKUP_FILE))


@pytest.fixture(scope="module")
def grey_images(tmp_path_factory):
    """A `.npy` of 200 random 8x8 grey images in [0, 1]: 160 to train on, 40 held out."""
    path = tmp_path_factory.mktemp("data") / "grey.npy"
    np.save(path, np.random.default_rng(0).uniform(0, 1, (200, 8, 8)).astype("float32"))
    return str(path)


@pytest.fixture(scope="module")
def vae(grey_images):
    return [*VAE, "--data", grey_images]


@pytest.fixture(scope="module")
def uninterrupted_vae(tmp_path_factory, vae):
    out = str(tmp_path_factory.mktemp("resume") / "uninterrupted")
    result = run_cli(*vae, "--out", out)
    assert result.returncode == 0, result.stderr
    return out


def test_a_vae_run_killed_between_epochs_and_resumed_ends_as_the_uninterrupted_run(
        uninterrupted_vae, vae, tmp_path):
    """SIGKILL once the first backup exists, then --resume: same history and weights as without the kill."""
    out = str(tmp_path / "killed")
    process = subprocess.Popen([sys.executable, "-m", "keras_recipes", *vae, "--out", out],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               env=_environment())
    try:
        deadline = time.monotonic() + 120
        while not os.path.exists(os.path.join(out, _runs.BACKUP_FILE)):
            assert process.poll() is None, process.stderr.read()
            assert time.monotonic() < deadline, "no backup within 120 s"
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    killed_after = _resume.backup_epoch(out)
    assert 1 <= killed_after < 12, "the kill did not land between epochs 1 and 12"
    result = run_cli(*vae, "--out", out, "--resume")
    assert result.returncode == 0, result.stderr
    assert f"resuming after epoch {killed_after}; " in result.stdout
    _assert_same_run(out, uninterrupted_vae)


def test_a_split_brain_run_that_crashed_after_epoch_1_resumes_to_the_uninterrupted_weights(
        tmp_path):
    """A callback raises after epoch 1's backup; --resume ends with the uninterrupted run's history and weights."""
    uninterrupted, crashed = str(tmp_path / "uninterrupted"), str(tmp_path / "crashed")
    # 24 random 8x8 images without labels: no probe, the fewest seconds.
    images = tmp_path / "images.npy"
    np.save(images, np.random.default_rng(0).uniform(0, 1, (24, 8, 8, 3)).astype("float32"))
    split_brain = [*SPLIT_BRAIN, "--data", str(images)]
    result = run_cli(*split_brain, "--out", uninterrupted)
    assert result.returncode == 0, result.stderr
    crash = subprocess.run([sys.executable, "-c", _CRASH_AFTER_EPOCH, *split_brain, "--out",
                            crashed], capture_output=True, text=True, timeout=300,
                           env=_environment(CRASH_AFTER_EPOCH="1"))
    assert "crash after the backup" in crash.stderr
    assert _resume.backup_epoch(crashed) == 1 and len(history_rows(crashed)) == 1
    result = run_cli(*split_brain, "--out", crashed, "--resume")
    assert result.returncode == 0, result.stderr
    assert "resuming after epoch 1; " in result.stdout
    _assert_same_run(crashed, uninterrupted)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--resume", "--force"], "give --out DIR and not --force"),
        (["--epochs", "13", "--resume"], "which had --epochs=12. Received: --epochs=13"),
        (["--seed", "1", "--resume"], "which had --seed=0. Received: --seed=1"),
        (["--resume"], "finished all 12 epochs; there is nothing to resume"),
    ],
    ids=["force", "other-epochs", "other-seed", "finished"],
)
def test_a_resume_that_cannot_continue_the_run_is_refused_and_touches_nothing(
        uninterrupted_vae, vae, extra, message, capsys):
    """--resume with --force, other arguments, or of a finished run: one line, status 2, no file changed."""
    before = {name: os.path.getmtime(os.path.join(uninterrupted_vae, name))
              for name in os.listdir(uninterrupted_vae)}
    # In this process: the refusal comes before Keras would start.
    assert cli.main([*vae, "--out", uninterrupted_vae, *extra]) == 2
    stderr = capsys.readouterr().err
    assert message in stderr and len(stderr.splitlines()) == 1, stderr
    assert before == {name: os.path.getmtime(os.path.join(uninterrupted_vae, name))
                      for name in os.listdir(uninterrupted_vae)}


@pytest.mark.parametrize("make", ["missing", "foreign", "no-out"])
def test_resume_without_a_run_to_resume_is_refused(tmp_path, make, capsys, monkeypatch):
    """--resume of a missing directory, one without arguments.json, or without --out: one line, status 2."""
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "run"
    if make == "foreign":
        out.mkdir()
        (out / "notes.txt").write_text("mine")
    args = [*VAE, "--resume"] + ([] if make == "no-out" else ["--out", str(out)])
    assert cli.main(args) == 2
    stderr = capsys.readouterr().err
    assert len(stderr.splitlines()) == 1, stderr
    expected = {"missing": "there is none", "foreign": "holds no readable arguments.json",
                "no-out": "without --out"}[make]
    assert expected in stderr
    assert sorted(os.listdir(tmp_path)) == (["run"] if make == "foreign" else [])
