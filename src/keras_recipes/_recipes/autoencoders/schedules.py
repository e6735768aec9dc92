"""KL schedules of the VAE: the weight `beta` of the KL term as a function of the optimizer step.

A schedule is given to `vae(beta=...)` instead of a number. The model counts
its own training steps (`BetaTracker`, saved with the model), applies
`schedule(step)` at each step and logs the beta of the last step as the
metric `beta`, so a model saved mid-schedule and reloaded resumes where it
stopped.

    ConstantBeta(value):                 beta = value
    LinearBeta(warmup_steps, value):     beta = value * min(1, step / warmup_steps)
    CyclicalBeta(period, ratio, value):  tau = (step mod period) / period
                                         beta = value * min(1, tau / ratio)

The linear warm-up is Bowman et al. (2016)'s KL annealing; the cyclical
schedule is Fu et al. (2019, NAACL)'s, which repeats the warm-up so that
the encoder gets several chances to escape posterior collapse. `step`
counts from 0: the first optimizer step uses `schedule(0)`.
"""

import keras
from keras import ops

from keras_recipes._recipes.autoencoders import spec


class BetaSchedule:
    """The base of the KL schedules: a callable from an optimizer step to a weight.

    Subclasses define `__call__(step)` with `keras.ops` (step: an integer
    tensor, a numpy array or an int; returns floats of the same shape) and
    `get_config()`; `from_config` rebuilds them from it.
    """

    # The marker `spec.is_beta_schedule` checks, so `spec` needs no Keras.
    is_beta_schedule = True

    def __call__(self, step):
        raise NotImplementedError

    def get_config(self):
        raise NotImplementedError

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __eq__(self, other):
        return type(self) is type(other) and self.get_config() == other.get_config()

    def __hash__(self):
        return hash((type(self).__name__, tuple(sorted(self.get_config().items()))))

    def __repr__(self):
        arguments = ", ".join(f"{key}={value!r}" for key, value in self.get_config().items())
        return f"{type(self).__name__}({arguments})"


def _steps(step):
    return ops.cast(ops.convert_to_tensor(step), "float32")


@keras.saving.register_keras_serializable(package="keras_recipes")
class ConstantBeta(BetaSchedule):
    """A KL weight that does not change: `beta = value` at every step.

    Unlike a plain number given to `vae(beta=...)`, it logs `beta` in the
    history, like the other schedules.

    Args:
        value: the weight, at least 0. Defaults to `1.0`.

    Example:

    >>> keras.ops.convert_to_numpy(ConstantBeta(0.5)([0, 10])).tolist()
    [0.5, 0.5]
    """

    def __init__(self, value=1.0):
        self.value = spec.check_beta(value)

    def __call__(self, step):
        return ops.zeros_like(_steps(step)) + self.value

    def get_config(self):
        return {"value": self.value}


@keras.saving.register_keras_serializable(package="keras_recipes")
class LinearBeta(BetaSchedule):
    """A linear KL warm-up: `beta = value * min(1, step / warmup_steps)`.

    Starts at 0 (a plain autoencoder with noisy codes), reaches `value` at
    step `warmup_steps` and stays there (Bowman et al., 2016).

    Args:
        warmup_steps: optimizer steps to reach `value`, a positive integer.
        value: the final weight, at least 0. Defaults to `1.0`.

    Example:

    >>> keras.ops.convert_to_numpy(LinearBeta(4)([0, 1, 4, 9])).tolist()
    [0.0, 0.25, 1.0, 1.0]
    """

    def __init__(self, warmup_steps, value=1.0):
        self.warmup_steps = spec.check_schedule_steps("warmup_steps", warmup_steps)
        self.value = spec.check_beta(value)

    def __call__(self, step):
        fraction = _steps(step) / float(self.warmup_steps)
        return self.value * ops.where(fraction < 1.0, fraction, ops.ones_like(fraction))

    def get_config(self):
        return {"warmup_steps": self.warmup_steps, "value": self.value}


@keras.saving.register_keras_serializable(package="keras_recipes")
class CyclicalBeta(BetaSchedule):
    """Fu et al. (2019)'s cyclical KL schedule: a linear warm-up repeated every `period` steps.

        tau = (step mod period) / period
        beta = value * min(1, tau / ratio)

    Each period rises from 0 to `value` over its first `ratio` part and
    stays at `value` for the rest. The paper's `M` cycles over `T` steps
    are `period = T / M`; its default `ratio` is 0.5.

    Args:
        period: steps per cycle, a positive integer.
        ratio: part of each cycle spent rising, in (0, 1]. Defaults to `0.5`.
        value: the weight at the top of each cycle, at least 0. Defaults
            to `1.0`.

    Example:

    >>> keras.ops.convert_to_numpy(CyclicalBeta(4)([0, 1, 2, 3, 4, 5])).tolist()
    [0.0, 0.5, 1.0, 1.0, 0.0, 0.5]
    """

    def __init__(self, period, ratio=0.5, value=1.0):
        self.period = spec.check_schedule_steps("period", period)
        self.ratio = spec.check_schedule_ratio(ratio)
        self.value = spec.check_beta(value)

    def __call__(self, step):
        step = ops.cast(ops.convert_to_tensor(step), "int32")
        position = ops.cast(ops.mod(step, self.period), "float32") / float(self.period)
        rising = position / self.ratio
        return self.value * ops.where(rising < 1.0, rising, ops.ones_like(rising))

    def get_config(self):
        return {"period": self.period, "ratio": self.ratio, "value": self.value}


@keras.saving.register_keras_serializable(package="keras_recipes")
class BetaTracker(keras.metrics.Metric):
    """The training-step counter of a scheduled VAE, and its metric `beta`.

    A metric, so that its variable is updated inside the training step on
    every backend (JAX's stateless step carries metric variables), saved
    with the model and kept out of `count_params()`. `reset_state` keeps
    the count: Keras resets metrics at each epoch, the schedule must not.
    `result()` is the beta of the last training step.

    Args:
        schedule: a `BetaSchedule`.
        name: the metric's name. Defaults to `"beta"`.
        **kwargs: base metric arguments.
    """

    def __init__(self, schedule, name="beta", **kwargs):
        super().__init__(name=name, **kwargs)
        if isinstance(schedule, dict):
            schedule = keras.saving.deserialize_keras_object(schedule)
        self.schedule = spec.check_beta(schedule, schedule=True)
        # Counted once, not summed over the replicas of a distribution
        # strategy, each of which runs the same step.
        self.step = self.add_variable(
            shape=(), initializer="zeros", dtype="int32",
            aggregation="only_first_replica", name="step",
        )

    def next_beta(self):
        """The beta of this training step; counts the step."""
        step = self.step.value
        beta = self.schedule(step)
        self.step.assign(step + 1)
        return beta

    def update_state(self, *args, **kwargs):
        # Updated by `next_beta`, in the model's `compute_loss`.
        pass

    def result(self):
        step = self.step.value
        last = ops.where(step > 0, step - 1, ops.zeros_like(step))
        return self.schedule(last)

    def reset_state(self):
        pass

    def get_config(self):
        return {
            **super().get_config(),
            "schedule": keras.saving.serialize_keras_object(self.schedule),
        }
