"""JAX's `keras.distribution.DataParallel`: two devices in one process, and two processes.

Both run in subprocesses with `KERAS_BACKEND=jax` (`distribute_worker.py`),
whatever backend this session uses: JAX fixes its devices when it starts,
and the multi-process run needs processes of its own anyway.

- One process, `XLA_FLAGS=--xla_force_host_platform_device_count=2`: every
  recipe of the shared table trains for one epoch of two global batches of
  8 with SGD over both devices, and again on one device from the same
  initial weights.
- Two processes over loopback (127.0.0.1), one CPU device each, joined by
  `keras.distribution.initialize`: `vae()` trains for two epochs, each
  process feeding its half of every global batch, beside a third process
  that trains the same VAE alone on the whole batches.
"""

import importlib.util
import math

import numpy as np
import pytest

import distribute_worker
from test_recipes import RECIPES, _id

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("jax") is None,
    reason="jax is not installed (pip install jax); these tests run JAX in subprocesses",
)

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
# Two processes and a reference process start JAX (and TensorFlow, which
# Keras imports for its data pipeline) at once on a shared machine.
PROCESS_TIMEOUT = 300


@pytest.fixture(scope="module")
def data_parallel(tmp_path_factory):
    """The one-process, two-device worker's JSON report: one row per RECIPES row."""
    out = tmp_path_factory.mktemp("jax_data_parallel") / "report.json"
    process = distribute_worker.launch(
        "jax-data-parallel",
        out,
        backend="jax",
        extra_env={"XLA_FLAGS": "--xla_force_host_platform_device_count=2",
                   "JAX_PLATFORMS": "cpu"},
    )
    (report,) = distribute_worker.run_and_read([process], [out], timeout=600)
    return report


def _row(report, index):
    row = report["recipes"][index]
    name, args, kwargs, _ = RECIPES[index]
    assert row["recipe"] == [name, repr(args), repr(kwargs)]
    return row


ROWS = pytest.mark.parametrize("index", range(len(RECIPES)), ids=[_id(r) for r in RECIPES])


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


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory):
    """The JSON of process 0, process 1 and the one-process reference run."""
    directory = tmp_path_factory.mktemp("jax_processes")
    port = distribute_worker.free_port()
    address = f"127.0.0.1:{port}"
    # Without it the coordinator listens on every interface, not loopback only.
    env = {"JAX_COORDINATOR_BIND_ADDRESS": address, "JAX_PLATFORMS": "cpu"}
    outs = [directory / f"process_{i}.json" for i in range(2)] + [directory / "one.json"]
    processes = []
    try:
        for process_id in range(2):
            processes.append(
                distribute_worker.launch(
                    "jax-process",
                    outs[process_id],
                    backend="jax",
                    extra_args=["--coordinator", address, "--num-processes", "2",
                                "--process-id", str(process_id)],
                    extra_env=env,
                )
            )
        processes.append(
            distribute_worker.launch("jax-reference", outs[2], backend="jax",
                                     extra_env={"JAX_PLATFORMS": "cpu"})
        )
    except BaseException:
        distribute_worker.wait_all(processes, timeout=0)
        raise
    return distribute_worker.run_and_read(processes, outs, timeout=PROCESS_TIMEOUT)


def test_two_processes_see_each_others_device(two_processes):
    """Each process has one CPU device and sees both processes' devices."""
    first, second, one = two_processes
    assert len(first["devices"]) == len(second["devices"]) == 2
    assert first["devices"] == second["devices"]
    assert len(one["devices"]) == 1


def test_two_processes_end_with_identical_weights(two_processes):
    """Both processes hold exactly the same VAE weights after training."""
    first, second, _ = two_processes
    for a, b in zip(first["weights"], second["weights"], strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_two_processes_match_one_process(two_processes):
    """Loss and weights of the two-process VAE equal one process's on the same global batches."""
    first, _, one = two_processes
    for key in ("loss", "reconstruction_loss", "kl_loss"):
        assert first["history"][key] == pytest.approx(one["history"][key], rel=LOSS_TOLERANCE)
    for a, b in zip(first["weights"], one["weights"], strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=0, atol=WEIGHT_TOLERANCE)
