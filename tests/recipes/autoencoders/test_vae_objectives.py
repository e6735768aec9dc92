"""Tests of `vae()`'s research options: KL schedules, free bits and the IWAE objective.

The schedules are read back from the history a fit logs; free bits are
checked by their gradient on every backend; the IWAE by its bound.
"""

import helpers  # tests/helpers.py, on `sys.path` through tests/conftest.py
import keras
import numpy as np
import pytest

import keras_recipes
from keras_recipes import losses

X = (np.random.default_rng(0).random((64, 6)) > 0.5).astype("float32")


class _BatchBetas(keras.callbacks.Callback):
    """Records the `beta` each training batch logs (one step per batch with steps_per_execution=1)."""

    def __init__(self):
        super().__init__()
        self.betas = []

    def on_train_batch_end(self, batch, logs=None):
        self.betas.append(float(logs["beta"]))


def _linear(step, warmup_steps, value=1.0):
    return value * min(1.0, step / warmup_steps)


def _cyclical(step, period, ratio=0.5, value=1.0):
    return value * min(1.0, (step % period) / period / ratio)


@pytest.mark.parametrize(
    ("schedule", "formula"),
    [
        (losses.LinearBeta(5, value=2.0), lambda step: _linear(step, 5, 2.0)),
        (losses.CyclicalBeta(6, ratio=0.5), lambda step: _cyclical(step, 6, 0.5)),
    ],
    ids=["linear", "cyclical"],
)
def test_logged_beta_follows_the_schedule_and_survives_a_reload(schedule, formula, tmp_path):
    """Each step's logged beta is the schedule's formula at that step, also after a save and reload mid-schedule."""
    model = keras_recipes.vae((6,), 2, hidden_units=(4,), beta=schedule, steps_per_execution=1, seed=0)
    recorder = _BatchBetas()
    history = model.fit(X, epochs=2, batch_size=16, verbose=0, callbacks=[recorder])  # 4 steps an epoch
    assert recorder.betas == pytest.approx([formula(step) for step in range(8)])
    assert history.history["beta"] == pytest.approx([formula(3), formula(7)])
    path = tmp_path / "mid_schedule.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    assert reloaded.beta == schedule
    recorder = _BatchBetas()
    history = reloaded.fit(X, epochs=1, batch_size=16, verbose=0, callbacks=[recorder])
    assert recorder.betas == pytest.approx([formula(step) for step in range(8, 12)])
    # The epoch's loss is the mean of each step's reconstruction + beta * kl.
    assert np.isfinite(history.history["loss"][0])


def test_scheduled_loss_weighs_the_kl_by_the_step_beta():
    """With a schedule the step's loss is reconstruction_loss + beta(step) * kl_loss, exactly as with a number."""
    schedule = losses.LinearBeta(4, value=3.0)
    model = keras_recipes.vae((6,), 2, hidden_units=(4,), beta=schedule, steps_per_execution=1, seed=0)
    logs = []
    callback = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs=None, seen=logs: seen.append(dict(logs)))
    model.fit(X, epochs=1, batch_size=64, verbose=0, callbacks=[callback])  # one step: beta(0) = 0
    model.fit(X[:8], epochs=1, batch_size=8, verbose=0, callbacks=[callback])  # beta(1) = 0.75
    for step, step_logs in enumerate(logs):
        assert step_logs["beta"] == pytest.approx(_linear(step, 4, 3.0))
        assert step_logs["loss"] == pytest.approx(
            step_logs["reconstruction_loss"] + step_logs["beta"] * step_logs["kl_loss"], rel=1e-5
        )


def test_default_vae_logs_and_saves_as_before():
    """A number as beta adds no `beta` to the history and keeps the config's beta a float."""
    model = keras_recipes.vae((6,), 2, hidden_units=(4,), seed=0)
    assert keras.ops.convert_to_numpy(losses.ConstantBeta(0.25)([0, 7])).tolist() == [0.25, 0.25]
    history = model.fit(X, epochs=1, batch_size=32, verbose=0)
    assert set(history.history) == {"loss", "reconstruction_loss", "kl_loss"}
    config = model.get_config()
    assert (config["beta"], config["objective"], config["num_samples"], config["free_bits"]) == (
        1.0, "elbo", 1, 0.0
    )
    assert model.beta_tracker is None


def test_free_bits_gradient_is_zero_below_the_floor_and_ordinary_above():
    """A dimension whose batch-mean KL is below the floor gets no gradient; one above gets the plain KL's."""
    z_mean = keras.Variable(np.array([[0.1, 2.0, 0.0], [0.3, -1.0, 0.0]]), dtype="float32")
    z_log_var = keras.Variable(np.array([[0.0, 0.5, -0.1], [0.0, 0.5, 0.1]]), dtype="float32")
    free_bits = 0.2
    # Batch-mean KL per dimension: 0.025, about 1.41 and about 0.005.

    def floored():
        return losses.free_bits_kl(losses.kl_per_dimension(z_mean, z_log_var), free_bits)

    def plain():
        return keras.ops.mean(losses.gaussian_kl_divergence(z_mean, z_log_var))

    value, (mean_gradient, log_var_gradient) = helpers.gradients(floored, [z_mean, z_log_var])
    _, (plain_mean, plain_log_var) = helpers.gradients(plain, [z_mean, z_log_var])
    assert np.all(mean_gradient[:, [0, 2]] == 0.0) and np.all(log_var_gradient[:, [0, 2]] == 0.0)
    np.testing.assert_allclose(mean_gradient[:, 1], plain_mean[:, 1], rtol=1e-6)
    np.testing.assert_allclose(log_var_gradient[:, 1], plain_log_var[:, 1], rtol=1e-6)
    assert np.all(plain_mean[:, 0] != 0.0)  # the floor, not the KL, zeroed it
    means = keras.ops.convert_to_numpy(losses.kl_per_dimension(z_mean, z_log_var)).mean(axis=0)
    assert float(value) == pytest.approx(free_bits + means[1] + free_bits, rel=1e-6)


def test_free_bits_vae_logs_the_floored_kl():
    """With free bits the trained KL term is the floor sum, and loss stays reconstruction_loss + kl_loss."""
    model = keras_recipes.vae((6,), 3, hidden_units=(4,), free_bits=2.0, seed=0)
    history = model.fit(X, epochs=1, batch_size=64, verbose=0)
    # An untrained encoder is near the prior: every dimension is below 2 nats.
    assert history.history["kl_loss"][0] == pytest.approx(6.0)
    assert history.history["loss"][0] == pytest.approx(
        history.history["reconstruction_loss"][0] + 6.0, rel=1e-5
    )


def test_iwae_loss_is_below_the_elbo_loss_of_the_same_weights(tmp_path):
    """The IWAE's loss (-bound of k draws) is below the ELBO loss of the same weights, and the model reloads."""
    iwae = keras_recipes.vae((6,), 2, hidden_units=(8,), objective="iwae", num_samples=8, seed=0)
    iwae.fit(X, epochs=1, batch_size=32, verbose=0)
    elbo = keras_recipes.vae((6,), 2, hidden_units=(8,), seed=0)
    elbo.set_weights(iwae.get_weights())
    tiled = np.tile(X, (10, 1))  # averages the draws' noise away
    iwae_loss = iwae.evaluate(tiled, batch_size=640, verbose=0, return_dict=True)["loss"]
    elbo_loss = elbo.evaluate(tiled, batch_size=640, verbose=0, return_dict=True)["loss"]
    assert iwae_loss < elbo_loss
    path = tmp_path / "iwae.keras"
    iwae.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    assert (reloaded.objective, reloaded.num_samples) == ("iwae", 8)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"objective": "iwae", "beta": 2.0}, ValueError, "beta"),
        ({"objective": "iwae", "beta": losses.LinearBeta(3)}, ValueError, "beta"),
        ({"objective": "iwae", "free_bits": 0.5}, ValueError, "free_bits"),
        ({"objective": "vi"}, ValueError, "objective"),
        ({"num_samples": 5000}, ValueError, "num_samples"),
        ({"beta": "linear"}, TypeError, "KL schedule"),
        ({"free_bits": -0.1}, ValueError, "free_bits"),
    ],
)
def test_vae_refuses_inconsistent_objectives(kwargs, error, match, no_building):
    """Objective arguments that contradict each other are refused, naming the argument, before building."""
    with pytest.raises(error, match=match):
        keras_recipes.vae((6,), 2, **kwargs)


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: losses.LinearBeta(0), ValueError, "warmup_steps"),
        (lambda: losses.LinearBeta(2.5), TypeError, "warmup_steps"),
        (lambda: losses.CyclicalBeta(4, ratio=0.0), ValueError, "ratio"),
        (lambda: losses.CyclicalBeta(4, ratio=1.5), ValueError, "ratio"),
        (lambda: losses.ConstantBeta(-1.0), ValueError, "beta"),
    ],
)
def test_schedules_refuse_bad_arguments(make, error, match):
    """Each schedule argument out of range is refused with its name."""
    with pytest.raises(error, match=match):
        make()


def test_schedules_round_trip_through_their_config():
    """A schedule serialises and deserialises to an equal schedule."""
    for schedule in (losses.LinearBeta(7, 0.5), losses.CyclicalBeta(10, 0.25, 2.0), losses.ConstantBeta(3.0)):
        config = keras.saving.serialize_keras_object(schedule)
        assert keras.saving.deserialize_keras_object(config) == schedule


def test_elbo_of_several_draws_estimates_the_same_reconstruction_term():
    """num_samples=k averages the reconstruction error over k draws: the same term as one draw, less noisy, no constant."""
    several = keras_recipes.vae(
        (6,), 2, hidden_units=(8,), reconstruction_loss="squared_error", num_samples=4, seed=0
    )
    one = keras_recipes.vae((6,), 2, hidden_units=(8,), reconstruction_loss="squared_error", seed=0)
    one.set_weights(several.get_weights())
    tiled = np.tile(X, (10, 1))
    results = [
        model.evaluate(tiled, batch_size=640, verbose=0, return_dict=True) for model in (several, one)
    ]
    # The Gaussian's constant, 0.5 * 6 * log(pi) = 3.4 nats, would show far above the noise.
    assert results[0]["reconstruction_loss"] == pytest.approx(results[1]["reconstruction_loss"], abs=0.1)
    assert results[0]["loss"] == pytest.approx(
        results[0]["reconstruction_loss"] + results[0]["kl_loss"], rel=1e-5
    )
