"""`assert_trains` and `assert_serializable`: each passes a sound model and catches one deliberately broken one."""

import keras
import numpy as np
import pytest

from keras_recipes.testing import assert_serializable, assert_trains

X = np.random.default_rng(0).standard_normal((8, 4)).astype("float32")
Y = np.random.default_rng(1).standard_normal((8, 2)).astype("float32")


def compiled(model, loss="mse"):
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss=loss)
    return model


def sound(seed=0):
    """Dense -> BatchNormalization -> Dropout -> Dense: trainable, moving and seed variables."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(3, name="hidden")(inputs)
    hidden = keras.layers.BatchNormalization(name="norm")(hidden)
    hidden = keras.layers.Dropout(0.1, name="drop")(hidden)
    return compiled(keras.Model(inputs, keras.layers.Dense(2, name="out")(hidden), name="sound"))


@keras.saving.register_keras_serializable(package="keras_recipes_tests")
class Scale(keras.layers.Layer):
    """Multiplies by a learnt scalar; `learnt=False` makes it untrainable, as by mistake."""

    def __init__(self, learnt=True, **kwargs):
        super().__init__(**kwargs)
        self.learnt = learnt

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(), initializer="ones", trainable=self.learnt, name="scale")

    def call(self, inputs):
        return inputs * self.scale

    def get_config(self):
        return {**super().get_config(), "learnt": self.learnt}


@keras.saving.register_keras_serializable(package="keras_recipes_tests")
class Shift(keras.layers.Layer):
    """Adds `offset` and `bias`; its get_config lists `bias` but forgets `offset`: a reloaded Shift adds 0."""

    def __init__(self, offset=0.0, bias=0.0, **kwargs):
        super().__init__(**kwargs)
        self.offset = offset
        self.bias = bias

    def call(self, inputs):
        return inputs + self.offset + self.bias

    def get_config(self):
        return {**super().get_config(), "bias": self.bias}


def test_a_sound_model_trains():
    """Dense, BatchNormalization (moving statistics) and Dropout (a seed state) pass; the losses fall."""
    losses = assert_trains(sound(), X, Y, steps=5)
    assert len(losses) == 5 and losses[-1] < losses[0]


@pytest.mark.filterwarnings("ignore:Gradients do not exist for variables:UserWarning")
def test_a_layer_outside_the_gradient_path_is_named():
    """A Dense whose output reaches no loss gets no gradient, and the message names its variables."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,))
    kept = keras.layers.Dense(2, name="kept")(inputs)
    dangling = keras.layers.Dense(2, name="dangling")(inputs)
    model = compiled(keras.Model(inputs, [kept, dangling], name="two_heads"),
                     loss=["mse", None])
    with pytest.raises(AssertionError) as error:
        assert_trains(model, X, [Y, Y], steps=3)
    message = str(error.value)
    assert "no gradient reaches these trainable variables" in message
    assert "dangling/bias, dangling/kernel" in message
    assert "kept/" not in message


def test_a_variable_untrainable_by_mistake_is_named_and_frozen_accepts_it():
    """An untrainable weight that never changes is reported by path, unless listed in `frozen`."""
    def build():
        keras.utils.set_random_seed(0)
        inputs = keras.Input((4,))
        outputs = Scale(learnt=False, name="scale")(keras.layers.Dense(2, name="dense")(inputs))
        return compiled(keras.Model(inputs, outputs, name="scaled"))

    with pytest.raises(AssertionError, match=r"untrainable by mistake.*: scale/scale$"):
        assert_trains(build(), X, Y, steps=3)
    assert_trains(build(), X, Y, steps=3, frozen=["scale/"])


def test_a_nan_loss_is_caught():
    """A loss that returns NaN fails with the steps where it was not finite."""
    def nan_loss(y_true, y_pred):
        return keras.ops.mean(keras.ops.log(-keras.ops.abs(y_pred) - 1.0))

    model = sound()
    model.compile(optimizer="adam", loss=nan_loss)
    with pytest.raises(AssertionError, match=r"the loss is not finite: step 1: nan"):
        assert_trains(model, X, Y, steps=2)


def test_a_layer_that_forgets_a_config_argument_is_named():
    """Shift's get_config leaves out `offset`: named by layer and argument, and the reloaded outputs differ."""
    inputs = keras.Input((4,))
    model = keras.Model(inputs, Shift(offset=3.0, name="shift")(inputs), name="shifted")
    with pytest.raises(AssertionError) as error:
        assert_serializable(model, X)
    message = str(error.value)
    assert "layer 'shift' (Shift): get_config() leaves out the constructor arguments offset" in message
    assert "output 0 of the reloaded model differs" in message


def test_a_sound_model_serializes():
    """A model with a registered custom layer that lists its arguments reloads the same."""
    inputs = keras.Input((4,))
    model = keras.Model(inputs, Scale(name="scale")(keras.layers.Dense(2)(inputs)))
    assert isinstance(assert_serializable(model), keras.Model)


@pytest.mark.parametrize(
    "arguments, error, match",
    [
        ({"model": "model"}, TypeError, "`model`"),
        ({"steps": 1}, ValueError, "`steps`"),
        ({"steps": 2.0}, TypeError, "`steps`"),
        ({"frozen": "scale/"}, TypeError, "`frozen`"),
        ({"model": keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])}, ValueError,
         "a compiled model"),
    ],
)
def test_assert_trains_bad_arguments(arguments, error, match):
    """A non-model, a step count below 2 or not an int, a bare string for `frozen`, an uncompiled model: refused."""
    arguments = {"model": sound(), **arguments}
    with pytest.raises(error, match=match):
        assert_trains(arguments.pop("model"), X, Y, **arguments)
