"""JAX's `keras.distribution.DataParallel`: two devices in one process, and two processes.

Both run in subprocesses with `KERAS_BACKEND=jax` (`distribute_worker.py`):
JAX fixes its devices when it starts, and the multi-process run needs
processes of its own anyway. They run in the JAX run of the suite
(`KERAS_BACKEND=jax pytest -n 2`, which `.ci/run` does).

- One process, `XLA_FLAGS=--xla_force_host_platform_device_count=2`: every
  recipe of the shared table trains for one epoch of two global batches of
  8 with SGD over both devices, and again on one device from the same
  initial weights.
- Two processes over loopback (127.0.0.1), one CPU device each, joined by
  `keras.distribution.initialize`: `examples/jax_multiprocess_vae.py`
  trains `vae()` for two epochs, each process feeding its half of every
  global batch; the one-device worker above trains the same VAE alone on
  the whole batches, as the reference.
"""

import importlib.util
import inspect
import json
import math
import os
import signal
import subprocess
import sys
from pathlib import Path

import distribute_worker
import numpy as np
import pytest
from test_recipes import RECIPES, _id

pytestmark = [
    # The subprocesses run JAX whatever this session's backend is; the JAX
    # run of the suite (`.ci/run` runs it on all three) is the one that pays
    # for them (about 45 s), not the TensorFlow and PyTorch runs as well.
    pytest.mark.backend(
        "jax", reason="JAX DataParallel runs once per CI matrix, in the JAX run of the suite"
    ),
    pytest.mark.skipif(
        importlib.util.find_spec("jax") is None,
        reason="jax is not installed (pip install jax); these tests run JAX in subprocesses",
    ),
]

# Largest difference allowed between a weight after the epoch on two
# devices and on one. XLA sums each device's half batch and then the two
# halves, where one device sums the batch at once: float32 rounding of
# weights of size ~1 (measured: at most 6e-8 over the table). A loss scaled
# by the wrong number of devices would move them by a whole step (3e-4 or
# more here).
WEIGHT_TOLERANCE = 1e-6
# The same, relative, for the epoch's mean loss (measured: at most 1.2e-7).
LOSS_TOLERANCE = 1e-5
# Rows with noise in their training step: the noise of a sharded batch need
# not be the noise one device draws (measured: identical for the dense VAE,
# not for the conv ones), so only the step's length and the loss are
# compared (measured ratios 1.000 to 1.005, losses within 0.1%).
STEP_RATIO_RANGE = (0.8, 1.25)
NOISY_LOSS_TOLERANCE = 5e-2
# Two processes start JAX at once on a shared machine (about 4 s each when
# the machine is idle); a wrong address would hang for minutes.
PROCESS_TIMEOUT = 300


@pytest.fixture(scope="module")
def data_parallel(tmp_path_factory):
    """The one-process, two-device worker's JSON report: one row per RECIPES row."""
    out = tmp_path_factory.mktemp("jax_data_parallel") / "report.json"
    process = distribute_worker.launch(
        "jax-data-parallel",
        out,
        backend="jax",
        # XLA's backend optimisations off: compiling 28 training steps is
        # most of this worker's time, and level 0 halves it (49 s to 23 s on
        # 2 busy cores); both runs compile alike, and the differences stay
        # float32 rounding (at most 7.5e-9 at level 0, 1.5e-8 at the default).
        extra_env={"XLA_FLAGS": "--xla_force_host_platform_device_count=2 "
                                "--xla_backend_optimization_level=0",
                   "JAX_PLATFORMS": "cpu"},
    )
    (report,) = distribute_worker.run_and_read([process], [out], timeout=600)
    return report


_row = distribute_worker.row
ROWS = distribute_worker.each_row()


def test_one_process_has_two_devices(data_parallel):
    """XLA_FLAGS gave the worker two host devices, and DataParallel used both."""
    assert data_parallel["devices"] == ["cpu:0", "cpu:1"]


@ROWS
def test_data_parallel_trains_with_replicated_weights(data_parallel, index):
    """Every recipe trains over two devices with every weight replicated on both."""
    row = _row(data_parallel, index)
    assert all(math.isfinite(value) for value in row["history_two"]["loss"])
    if RECIPES[index][0] == "averaging_layer":
        assert row["weight_shardings"] == []  # a model without weights
        return
    assert row["devices_per_weight"] == [2]
    # A replicated weight's PartitionSpec has no mesh axis: P(None, ...).
    assert all(set(spec[2:-1].replace(" ", "").split(",")) <= {"None", ""}
               for spec in row["weight_shardings"])
    assert row["step"] > 100 * WEIGHT_TOLERANCE


@ROWS
def test_trains_when_built_with_its_defaults_under_data_parallel(data_parallel, index):
    """Built with its defaults under DataParallel over two devices, every recipe fits one epoch
    to a finite loss, with the steps per execution it asked for (JAX runs several there)."""
    import keras_recipes

    name, _, kwargs, _ = RECIPES[index]
    defaults = _row(data_parallel, index)["defaults"]
    assert "error" not in defaults, defaults.get("error")
    assert all(math.isfinite(value) for value in defaults["history"]["loss"])
    parameter = inspect.signature(getattr(keras_recipes, name)).parameters.get(
        "steps_per_execution"
    )
    asked = kwargs.get("steps_per_execution", parameter.default if parameter else 1)
    assert defaults["steps_per_execution"] == asked


DETERMINISTIC = [
    i for i, (name, _, kwargs, _) in enumerate(RECIPES)
    if not distribute_worker.is_random(name, kwargs)
]
RANDOM = [i for i in range(len(RECIPES)) if i not in DETERMINISTIC]


@pytest.mark.parametrize("index", DETERMINISTIC, ids=[_id(RECIPES[i]) for i in DETERMINISTIC])
def test_two_devices_give_one_devices_weights(data_parallel, index):
    """Two devices end the epoch with one device's weights and loss (global batch 8)."""
    row = _row(data_parallel, index)
    assert row["weight_difference"] <= WEIGHT_TOLERANCE
    assert row["history_two"]["loss"] == pytest.approx(
        row["history_one"]["loss"], rel=LOSS_TOLERANCE
    )


@pytest.mark.parametrize("index", RANDOM, ids=[_id(RECIPES[i]) for i in RANDOM])
def test_noisy_recipes_step_as_far_as_on_one_device(data_parallel, index):
    """With noise in the step, two devices step as far as one device and report its loss."""
    row = _row(data_parallel, index)
    assert STEP_RATIO_RANGE[0] <= row["step_norm_ratio"] <= STEP_RATIO_RANGE[1]
    assert row["history_two"]["loss"] == pytest.approx(
        row["history_one"]["loss"], rel=NOISY_LOSS_TOLERANCE
    )


EXAMPLE = Path(__file__).parent.parent / "examples" / "jax_multiprocess_vae.py"


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory, data_parallel):
    """Reports, weights and stdout of examples/jax_multiprocess_vae.py's two processes, and the
    one-device reference run."""
    directory = tmp_path_factory.mktemp("jax_processes")
    np.save(directory / "x.npy", distribute_worker.process_vae_data())
    out = directory / "run"
    # Its own session, so that on a timeout the launcher and its two
    # workers are killed together, by the launcher's PID as process group.
    launcher = subprocess.Popen(
        [sys.executable, str(EXAMPLE), "--num-processes", "2", "--data",
         str(directory / "x.npy"), "--out", str(out), "--weights",
         *distribute_worker.PROCESS_ARGUMENTS],
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        stdout, stderr = launcher.communicate(timeout=PROCESS_TIMEOUT)
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)
            launcher.wait()
    assert launcher.returncode == 0, stderr[-4000:]
    reports = []
    for process_id in range(2):
        report = json.loads((out / f"process-{process_id}.json").read_text())
        with np.load(out / f"weights-{process_id}.npz") as weights:
            report["weights"] = [weights[f"arr_{i}"] for i in range(len(weights.files))]
        reports.append(report)
    return (*reports, data_parallel["process_reference"], stdout, out)


def test_two_processes_see_each_others_device(two_processes):
    """Each process has one CPU device of its own and sees both processes' devices."""
    first, second, *_ = two_processes
    assert len(first["devices"]) == len(second["devices"]) == 2
    assert first["devices"] == second["devices"]


def test_two_processes_end_with_identical_weights(two_processes):
    """Both processes hold exactly the same VAE weights after training, and the example says so."""
    first, second, _, stdout, _ = two_processes
    for a, b in zip(first["weights"], second["weights"], strict=True):
        np.testing.assert_array_equal(a, b)
    assert first["weights_sha256"] == second["weights_sha256"]
    assert "identical weights in every process: yes" in stdout


def test_only_process_0_saves_the_model_and_it_loads_safely(two_processes):
    """The example's process 0 writes model.keras, which loads with safe_mode=True."""
    import keras

    import keras_recipes  # noqa: F401  (registers the classes the saved model uses)

    first, *_, out = two_processes
    assert sorted(p.name for p in out.iterdir()) == [
        "model.keras", "process-0.json", "process-1.json", "weights-0.npz", "weights-1.npz"
    ]
    loaded = keras.saving.load_model(out / "model.keras", safe_mode=True)
    for saved, trained in zip(loaded.get_weights(), first["weights"], strict=True):
        np.testing.assert_array_equal(saved, trained)


def test_two_processes_match_one_process(two_processes):
    """Loss and weights of the two-process VAE equal one device's on the same global batches."""
    first, _, one, _, _ = two_processes
    for key in ("loss", "reconstruction_loss", "kl_loss"):
        assert first["history"][key] == pytest.approx(one["history"][key], rel=LOSS_TOLERANCE)
    for a, b in zip(first["weights"], one["weights"], strict=True):
        np.testing.assert_allclose(a, np.asarray(b), rtol=0, atol=WEIGHT_TOLERANCE)
