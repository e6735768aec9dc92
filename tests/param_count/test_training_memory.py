"""training_memory: optimizer state byte for byte against Keras, the parts' arithmetic, and its refusals."""

import functools
import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import keras_recipes
from keras_recipes import param_count
from keras_recipes.param_count import ParamTable, count_config, count_model, training_memory
from keras_recipes.param_count._memory import parse_size

# The optimizer's own counters, which the estimate leaves out: every
# optimizer's iteration and learning rate, the loss-scale optimizer's step counter.
COUNTERS = frozenset({"iteration", "learning_rate", "step_counter"})


def keras_state_bytes(optimizer, model):
    """Bytes of `optimizer.variables` once built on the model, counters left out."""
    optimizer.build(model.trainable_variables)
    return sum(int(np.prod(v.shape)) * np.dtype(v.dtype).itemsize
               for v in optimizer.variables if v.name not in COUNTERS)


@functools.cache
def recipe(name):
    """Small recipes of several families, built once per test process."""
    builders = {
        "mlp": lambda: keras_recipes.mlp(6, [5, 4, 3]),
        "branch_merge": lambda: keras_recipes.branch_merge(4, [5], [[3], [2]], [2]),
        "convnet": lambda: keras.Sequential([
            keras.Input((6, 6, 1)), keras.layers.Conv2D(2, 3), keras.layers.BatchNormalization(),
            keras.layers.Flatten(), keras.layers.Dense(3)]),
        "vae": lambda: keras_recipes.vae((6,), 2, hidden_units=(5,)),
        "mobilenet": lambda: keras.applications.MobileNet(
            input_shape=(32, 32, 3), alpha=0.25, weights=None, classes=3),
        "vgg16": lambda: keras.applications.VGG16(
            input_shape=(32, 32, 3), include_top=False, weights=None),
    }
    return builders[name]()


OPTIMIZERS = [
    lambda: keras.optimizers.SGD(),
    lambda: keras.optimizers.SGD(momentum=0.9, use_ema=True),
    lambda: keras.optimizers.Adam(amsgrad=True),
    lambda: keras.optimizers.AdamW(gradient_accumulation_steps=2),
    lambda: keras.optimizers.Adamax(),
    lambda: keras.optimizers.Nadam(),
    lambda: keras.optimizers.RMSprop(momentum=0.5, centered=True),
    lambda: keras.optimizers.Adagrad(),
    lambda: keras.optimizers.Adadelta(),
    lambda: keras.optimizers.Ftrl(l2_shrinkage_regularization_strength=0.1),
    lambda: keras.optimizers.Lion(),
    lambda: keras.optimizers.Lamb(),
    lambda: keras.optimizers.Adafactor(),
    lambda: keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam()),
]


CASES = [(model, make) for model in ("mlp", "branch_merge", "convnet", "vae")
         for make in OPTIMIZERS]
# keras.applications models take 20 to 40 s each to build on JAX on 2 busy
# cores, past this file's share of the CI budget: with
# `KERAS_RECIPES_ALL_APPLICATIONS=1` (as in test_param_count_applications.py)
# two of them run with every optimizer.
if os.environ.get("KERAS_RECIPES_ALL_APPLICATIONS"):
    CASES += [(model, make) for model in ("mobilenet", "vgg16") for make in OPTIMIZERS]


@pytest.mark.parametrize(("model_name", "make"), CASES,
                         ids=[f"{model}-{index}" for index, (model, _) in enumerate(CASES)])
def test_optimizer_state_equals_what_keras_builds(model_name, make):
    """The estimate's optimizer state equals Keras's optimizer variables, byte for byte."""
    model = recipe(model_name)
    optimizer = make()
    expected = keras_state_bytes(optimizer, model)
    assert training_memory(model, batch_size=1, optimizer=optimizer).optimizer_state == expected


@given(
    name=st.sampled_from(["SGD", "Adam", "AdamW", "RMSprop", "Adafactor", "Nadam", "Lion"]),
    momentum=st.sampled_from([0.0, 0.5]),
    flag=st.booleans(),
    use_ema=st.booleans(),
    accumulate=st.sampled_from([None, 2, 3]),
    loss_scale=st.booleans(),
)
def test_optimizer_options_give_keras_state(name, momentum, flag, use_ema, accumulate,
                                            loss_scale):
    """Over drawn optimizer options, the estimate equals what Keras builds."""
    options = {"use_ema": use_ema, "gradient_accumulation_steps": accumulate}
    if name in ("SGD", "RMSprop"):
        options["momentum"] = momentum
    if name in ("Adam", "AdamW"):
        options["amsgrad"] = flag
    if name == "RMSprop":
        options["centered"] = flag

    optimizer = getattr(keras.optimizers, name)(**options)
    if loss_scale:
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    model = recipe("mlp")
    # The estimate reads only the config, which building does not change.
    expected = keras_state_bytes(optimizer, model)
    assert training_memory(model, batch_size=2, optimizer=optimizer).optimizer_state == expected


@pytest.mark.parametrize("name", param_count.OPTIMIZERS)
def test_optimizer_names_mean_keras_defaults(name):
    """A name gives the state of the optimizer class of that name at its defaults."""
    classes = {cls.__name__.lower(): cls for cls in vars(keras.optimizers).values()
               if isinstance(cls, type)}
    model = recipe("mlp")
    assert (training_memory(model, batch_size=1, optimizer=name).optimizer_state
            == keras_state_bytes(classes[name](), model))


def test_mixed_float16_adds_the_loss_scale_and_keeps_float32_variables():
    """Under mixed_float16: float32 variables, float16 activations, the loss-scale variable."""
    model = recipe("mlp")
    plain = training_memory(model, batch_size=8)
    mixed = training_memory(model, batch_size=8, dtype_policy="mixed_float16")
    assert mixed.parameters == plain.parameters == (("float32", 4 * model.count_params()),)
    assert mixed.optimizer_state == plain.optimizer_state + 4
    assert mixed.activations * 2 == plain.activations
    keras_lso = keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam())
    assert mixed.optimizer_state == keras_state_bytes(keras_lso, model)


def test_parts_add_up_and_largest_batch_is_the_largest_that_fits():
    """total = fixed + per-sample x batch, and largest_batch(b) fits where b+1 does not."""
    model = recipe("mlp")
    memory = training_memory(model, batch_size=3, optimizer="sgd")
    trainable = sum(int(np.prod(v.shape)) for v in model.trainable_variables)
    assert memory.gradients == 4 * trainable
    assert memory.optimizer_state == 0
    # mlp(6, [5, 4, 3]): Dense outputs 5 + 4 + 3 float32 numbers, input 6, target 3.
    assert memory.activations_per_sample == 4 * (5 + 4 + 3)
    assert memory.batch_per_sample == 4 * (6 + 3)
    assert memory.total == memory.fixed + 3 * memory.per_sample
    budget = memory.fixed + 10 * memory.per_sample + 1
    largest = memory.largest_batch(budget)
    assert largest == 10
    assert memory.largest_batch(memory.fixed - 1) == 0
    assert json.loads(json.dumps(memory.to_dict()))["total"] == memory.total
    assert "total" in str(memory) and "optimizer state (sgd)" in str(memory)


def test_activation_rules_per_layer_class():
    """Views keep nothing, dropout keeps output and mask, gelu fused in a Dense keeps both sides."""
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(3, activation="gelu")(inputs)
    hidden = keras.layers.Dropout(0.5)(hidden)
    hidden = keras.layers.Reshape((3, 1))(hidden)
    outputs = keras.layers.Flatten()(keras.layers.Dense(2, activation="relu")(hidden))
    model = keras.Model(inputs, outputs)
    memory = training_memory(model, batch_size=1)
    # gelu Dense: 2 x 3; Dropout: 2 x 3; Reshape, Flatten: 0; relu Dense: 3 x 2.
    assert memory.activations_per_sample == 4 * (6 + 6 + 6)


def test_path_and_table_agree_with_the_live_model(tmp_path):
    """The estimate from the saved file and from the table equals the live model's."""
    model = recipe("branch_merge")
    path = tmp_path / "model.keras"
    model.save(path)
    live = training_memory(model, batch_size=16, optimizer="rmsprop")
    assert training_memory(str(path), batch_size=16, optimizer="rmsprop") == live
    assert training_memory(count_model(model), batch_size=16, optimizer="rmsprop") == live


_ESTIMATE_IN_FRESH_PYTHON = textwrap.dedent(
    """
    import json, sys
    from keras_recipes.param_count import count_config, training_memory
    by_path = training_memory(sys.argv[1], batch_size=4, dtype_policy="mixed_bfloat16").total
    by_table = training_memory(count_config(sys.argv[1]), batch_size=4).total
    heavy = sorted(m for m in ("keras", "tensorflow", "jax", "torch") if m in sys.modules)
    print(json.dumps([by_path, by_table, heavy]))
    """
)


def test_path_and_table_import_no_keras(tmp_path):
    """training_memory(path) and training_memory(table) run in a process that never imports Keras."""
    model = recipe("mlp")
    path = tmp_path / "model.keras"
    model.save(path)
    output = subprocess.run([sys.executable, "-c", _ESTIMATE_IN_FRESH_PYTHON, str(path)],
                            capture_output=True, text=True, check=True, timeout=120).stdout
    by_path, by_table, heavy = json.loads(output.strip().splitlines()[-1])
    assert heavy == []
    assert by_path == training_memory(model, batch_size=4, dtype_policy="mixed_bfloat16").total
    assert by_table == training_memory(model, batch_size=4).total


def test_adafactor_from_a_table_is_refused():
    """Adafactor's statistics need each variable's shape, which a table does not have."""
    with pytest.raises(ValueError, match="Adafactor.*Pass the built model"):
        training_memory(count_model(recipe("mlp")), batch_size=1, optimizer="adafactor")


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"batch_size": True}, TypeError, "batch_size"),
        ({"batch_size": 2.0}, TypeError, "batch_size"),
        ({"batch_size": 1, "optimizer": "adamm"}, ValueError, r"optimizer.*'adam', 'adamw'"),
        ({"batch_size": 1, "optimizer": 3}, TypeError, "optimizer"),
        ({"batch_size": 1, "dtype_policy": "mixed_float8"}, ValueError, "dtype_policy"),
        ({"batch_size": 1, "dtype_policy": None}, TypeError, "dtype_policy"),
        ({"batch_size": 1, "target_bytes": -1}, ValueError, "target_bytes"),
    ],
)
def test_bad_arguments_are_refused_by_name(kwargs, error, pattern):
    """Each bad argument raises an error that names it."""
    with pytest.raises(error, match=pattern):
        training_memory(ParamTable([]), **kwargs)


def test_a_bad_source_is_refused():
    """A source that is no model, path or table raises a TypeError naming `source`."""
    with pytest.raises(TypeError, match="source"):
        training_memory(3, batch_size=1)


@pytest.mark.parametrize(
    ("text", "size"),
    [("16GiB", 16 * 2**30), ("512MB", 512 * 10**6), ("1.5 kb", 1500), ("7B", 7),
     ("0.5KiB", 512), (1024, 1024)],
)
def test_sizes_parse_exactly(text, size):
    """Decimal units are powers of 1000, binary ones powers of 1024."""
    assert parse_size("memory_bytes", text) == size


@pytest.mark.parametrize("text", ["16", "16 GB RAM", "-1GiB", "GiB", "1e9B", "16gigs", -1, 1.5,
                                  True])
def test_bad_sizes_are_refused_by_name(text):
    """Anything but an int or a number with a known unit names the argument."""
    memory = training_memory(ParamTable([]), batch_size=1)
    with pytest.raises((ValueError, TypeError), match="memory_bytes"):
        memory.largest_batch(text)


@pytest.mark.backend("jax", reason="XLA's memory analysis of the jitted train step")
def test_parameters_state_and_batch_match_xla_arguments():
    """On JAX, XLA's argument bytes of one train step equal parameters + Adam state + batch + counters."""
    import jax

    model = keras_recipes.mlp(784, [512, 256, 10])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = np.zeros((64, 784), "float32")
    y = np.zeros((64, 1), "float32")
    model.optimizer.build(model.trainable_variables)
    model._symbolic_build(data_batch=(x[:1], y[:1]))
    state = (
        [v.value for v in model.trainable_variables],
        [v.value for v in model.non_trainable_variables],
        [v.value for v in model.optimizer.variables],
        [v.value for v in model.metrics_variables],
    )
    lowered = jax.jit(model.train_step).lower(state, (x, y))
    measured = lowered.compile().memory_analysis().argument_size_in_bytes
    memory = training_memory(model, batch_size=64, optimizer="adam", target_bytes=4)
    counters = sum(int(np.prod(v.shape)) * np.dtype(v.dtype).itemsize
                   for v in model.optimizer.variables if v.name in COUNTERS)
    metric_state = sum(int(np.prod(v.shape)) * np.dtype(v.dtype).itemsize
                       for v in model.metrics_variables)
    parameters = sum(size for _, size in memory.parameters)
    assert measured == parameters + memory.optimizer_state + memory.batch + counters + metric_state
    assert measured == 6_630_792
