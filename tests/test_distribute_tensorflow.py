"""TensorFlow's MirroredStrategy over two logical CPUs, for every recipe of the shared table.

The CPU is split in a subprocess (`distribute_worker.py mirrored`), not in
this session: the split must happen before TensorFlow's first operation,
which the root `conftest.py` runs, it would give every other test two CPU
devices, and one process that checks all recipes starts TensorFlow once.
The worker trains each recipe for one epoch of two global batches of 8 with
SGD on two replicas, and on one replica from the same initial weights.
"""

import math

import distribute_worker
import pytest
from test_recipes import RECIPES, _id

pytestmark = pytest.mark.backend(
    "tensorflow", reason="tf.distribute.MirroredStrategy needs the TensorFlow backend"
)

# Largest difference allowed between a weight after one epoch on two
# replicas and on one. The replicas sum their half-batch gradients where one
# device sums the whole batch: the same float32 numbers added in another
# order, which moves weights of size ~1 by a few float32 ulps (measured:
# at most 2e-9 over the table). A loss scaled by the wrong number of
# replicas moves them by a whole step (3e-4 or more here).
WEIGHT_TOLERANCE = 1e-6
# The same, relative, for the epoch's mean loss (measured: at most 1.5e-7).
LOSS_TOLERANCE = 1e-5
# Rows with noise in their training step (each replica draws its own): the
# length of the step on two replicas over one replica's, which a loss scaled
# by the wrong number of replicas makes 2 (measured: 0.945 to 1.023).
STEP_RATIO_RANGE = (0.8, 1.25)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """The worker's JSON report: one row per RECIPES row."""
    out = tmp_path_factory.mktemp("mirrored") / "report.json"
    process = distribute_worker.launch("mirrored", out, backend="tensorflow")
    (result,) = distribute_worker.run_and_read([process], [out], timeout=600)
    return result


_row = distribute_worker.row
ROWS = distribute_worker.each_row()


def test_the_worker_saw_two_logical_cpus(report):
    """The CPU was split into two logical devices before TensorFlow started."""
    assert report["logical_cpus"] == 2


@ROWS
def test_variables_are_mirrored_on_both_replicas(report, index):
    """Built inside the two-device scope, every variable is mirrored, one copy per replica."""
    row = _row(report, index)
    assert row["num_replicas_in_sync"] == 2
    if RECIPES[index][0] == "averaging_layer":
        assert row["trainable_variable_types"] == []  # a model without weights
        return
    assert row["trainable_variable_types"] == ["MirroredVariable"]
    assert row["replicas_per_variable"] == [2]


@ROWS
def test_trains_on_two_replicas(report, index):
    """One epoch of `fit` on two replicas reports a finite loss and moves the weights."""
    row = _row(report, index)
    assert all(math.isfinite(value) for value in row["history_two"]["loss"])
    if RECIPES[index][0] != "averaging_layer":
        assert row["step"] > 100 * WEIGHT_TOLERANCE


@ROWS
def test_trains_when_built_with_its_defaults_in_the_scope(report, index):
    """Built with its defaults inside a two-replica MirroredStrategy scope, as Keras's guide
    does, every recipe fits one epoch to a finite loss."""
    defaults = _row(report, index)["defaults"]
    assert "error" not in defaults, defaults.get("error")
    assert all(math.isfinite(value) for value in defaults["history"]["loss"])


DETERMINISTIC = [
    i for i, (name, _, kwargs, _) in enumerate(RECIPES)
    if not distribute_worker.is_random(name, kwargs) and name != "split_brain_ae"
]


@pytest.mark.parametrize("index", DETERMINISTIC, ids=[_id(RECIPES[i]) for i in DETERMINISTIC])
def test_two_replicas_give_one_replicas_weights(report, index):
    """Two replicas end the epoch with one replica's weights and loss (global batch 8)."""
    row = _row(report, index)
    assert row["weight_difference"] <= WEIGHT_TOLERANCE
    assert row["history_two"]["loss"] == pytest.approx(
        row["history_one"]["loss"], rel=LOSS_TOLERANCE
    )


def test_split_brain_batch_statistics_are_per_replica(report):
    """split_brain_ae's BatchNormalization normalises each replica's half batch, so weights
    differ from one replica's by more than rounding, while loss and step stay on scale."""
    index = next(i for i, row in enumerate(RECIPES) if row[0] == "split_brain_ae")
    row = _row(report, index)
    # Not the 2x of a wrong loss scale: the step has one replica's length.
    assert STEP_RATIO_RANGE[0] <= row["step_norm_ratio"] <= STEP_RATIO_RANGE[1]
    assert row["history_two"]["loss"] == pytest.approx(row["history_one"]["loss"], rel=1e-3)
    assert row["weight_difference"] > WEIGHT_TOLERANCE


RANDOM = [i for i, (name, _, kwargs, _) in enumerate(RECIPES)
          if distribute_worker.is_random(name, kwargs)]


@pytest.mark.parametrize("index", RANDOM, ids=[_id(RECIPES[i]) for i in RANDOM])
def test_noisy_recipes_step_as_far_as_on_one_replica(report, index):
    """With noise drawn per replica, the step on two replicas has one replica's length, not 2x."""
    row = _row(report, index)
    assert STEP_RATIO_RANGE[0] <= row["step_norm_ratio"] <= STEP_RATIO_RANGE[1]
    # The noise moves the loss too (measured: up to 1.3% for the conv VAE,
    # whose squared-error loss is ~29); twice the loss would be 100%.
    assert row["history_two"]["loss"] == pytest.approx(row["history_one"]["loss"], rel=5e-2)


@pytest.mark.parametrize(
    "index", [i for i in RANDOM if RECIPES[i][0] == "vae"],
    ids=[_id(RECIPES[i]) for i in RANDOM if RECIPES[i][0] == "vae"],
)
def test_vae_loss_is_its_two_terms_on_two_replicas(report, index):
    """On two replicas the VAE's reported loss is reconstruction_loss + kl_loss, not twice it."""
    history = _row(report, index)["history_two"]
    beta = RECIPES[index][2].get("beta", 1.0)
    assert history["loss"][0] == pytest.approx(
        history["reconstruction_loss"][0] + beta * history["kl_loss"][0], rel=LOSS_TOLERANCE
    )
