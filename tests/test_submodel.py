"""`submodel()`: parts of built models, sharing their weights, checked before building."""

import importlib
import inspect

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from keras.src.ops.function import make_node_key
from test_recipes import RECIPES

import helpers
import strategies
import keras_recipes
from keras_recipes import submodel


def _autoencoder():
    """A plain functional autoencoder 6 -> 4 -> 2 -> 4 -> 6, with no named sub-models.

    Its weights are seeded: drawn unseeded, the decoder's four ReLU units were
    now and then all off for every input, so that the output did not depend
    on the encoder and the training test failed by chance (CI, 2026-12-07).
    """

    def dense(units, name, seed, activation=None):
        return keras.layers.Dense(
            units,
            activation=activation,
            kernel_initializer=keras.initializers.GlorotUniform(seed=seed),
            name=name,
        )

    inputs = keras.Input((6,), name="pixels")
    hidden = dense(4, "encoder_dense_0", 1, "relu")(inputs)
    latent = dense(2, "latent", 2)(hidden)
    hidden = dense(4, "decoder_dense_0", 3, "relu")(latent)
    outputs = dense(6, "reconstruction", 4, "sigmoid")(hidden)
    return keras.Model(inputs, outputs, name="autoencoder")


def _nested_autoencoder():
    """An autoencoder whose encoder and decoder are models used as layers."""
    inputs = keras.Input((6,))
    encoder = keras.Model(
        inputs, keras.layers.Dense(2, name="encoder_dense_0")(inputs), name="encoder"
    )
    code = keras.Input((2,))
    decoder = keras.Model(
        code, keras.layers.Dense(6, name="decoder_dense_0")(code), name="decoder"
    )
    outer = keras.Input((6,), name="pixels")
    return keras.Model(outer, decoder(encoder(outer)), name="nested")


def _as_list(value):
    return value if isinstance(value, list) else [value]


def _one_or_list(items):
    return items[0] if len(items) == 1 else list(items)


def _data(tensors, seed=0):
    """Random data shaped like `tensors` (one array, or a list for several)."""
    arrays = [
        helpers.inputs(5, *tensor.shape[1:], seed=seed + index)
        for index, tensor in enumerate(tensors)
    ]
    return arrays if len(arrays) > 1 else arrays[0]


def _calls(model):
    """How many calls each layer of `model` has recorded, in any graph."""
    return {layer.name: len(layer._inbound_nodes) for layer in model.layers}


def _close(actual, expected):
    for a, e in zip(_as_list(actual), _as_list(expected), strict=True):
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(e), rtol=1e-5, atol=1e-5
        )


@pytest.fixture(scope="module")
def resnet():
    """ResNet50 without weights or top, on small images: built once, it is slow."""
    return keras.applications.ResNet50(
        weights=None, include_top=False, input_shape=(64, 64, 3)
    )


@pytest.fixture(scope="module")
def models():
    """Models for the bad-input tests, built before `no_building` patches Keras."""
    return {
        "autoencoder": _autoencoder(),
        "nested": _nested_autoencoder(),
        "shared_mlp": keras_recipes.shared_mlp(2, 3, [2]),
        "branch_merge": keras_recipes.branch_merge(2, [3], [[2], [1, 2]], [3]),
        "other": _autoencoder(),
    }


def test_submodel_is_the_function_even_after_its_module_is_imported():
    """`keras_recipes.submodel` is the function, loaded lazily like the builders."""
    importlib.import_module("keras_recipes._submodel")
    assert inspect.isfunction(keras_recipes.submodel)
    assert keras_recipes.submodel.__name__ == "submodel"
    assert "submodel" in keras_recipes.__all__


# === Shared weights ===


def test_submodel_holds_the_models_own_layers_and_variables():
    """The encoder's layers and variables are the model's objects, not copies."""
    model = _autoencoder()
    encoder = submodel(model, "latent")
    assert [layer.name for layer in encoder.layers] == ["pixels", "encoder_dense_0", "latent"]
    for layer in encoder.layers:
        assert layer is model.get_layer(layer.name)
    model_variables = {id(variable) for variable in model.weights}
    assert encoder.weights
    assert all(id(variable) in model_variables for variable in encoder.weights)


def test_training_the_submodel_changes_the_full_model():
    """One training step on the encoder changes the full model's outputs."""
    model = _autoencoder()
    encoder = submodel(model, "latent")
    x = helpers.inputs(8, 6)
    before = keras.ops.convert_to_numpy(model(x))
    encoder.compile(optimizer="sgd", loss="mse")
    encoder.fit(x, helpers.inputs(8, 2, seed=2), epochs=1, batch_size=8, verbose=0)
    assert not np.allclose(keras.ops.convert_to_numpy(model(x)), before)


def test_training_the_full_model_changes_the_submodel():
    """One training step on the full model changes the decoder's outputs."""
    model = _autoencoder()
    decoder = submodel(model, "reconstruction", inputs="decoder_dense_0")
    code = helpers.inputs(8, 2)
    before = keras.ops.convert_to_numpy(decoder(code))
    model.compile(optimizer="sgd", loss="mse")
    x = helpers.inputs(8, 6)
    model.fit(x, x, epochs=1, batch_size=8, verbose=0)
    assert not np.allclose(keras.ops.convert_to_numpy(decoder(code)), before)


def test_encoder_saves_and_loads_safely(tmp_path):
    """An encoder sharing the model's input layer saves and loads with safe_mode=True."""
    model = _autoencoder()
    encoder = submodel(model, "latent", name="encoder")
    path = tmp_path / "encoder.keras"
    encoder.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert loaded.name == "encoder"
    x = helpers.inputs(5, 6)
    _close(loaded(x), encoder(x))


# === Outputs and the downstream part ===


def test_layer_output_equals_its_formula():
    """The part of an mlp up to its first layer computes relu(x @ W + b)."""
    model = keras_recipes.mlp(3, [4, 2])
    helpers.randomize(model)
    kernel, bias = model.get_layer("mlp_dense_0").get_weights()
    x = helpers.inputs(5, 3)
    _close(submodel(model, "mlp_dense_0")(x), helpers.relu(x @ kernel + bias))


def test_decoder_of_the_encoder_equals_the_full_model():
    """The decoder applied to the encoder's codes gives the full model's output."""
    model = _autoencoder()
    encoder = submodel(model, "latent")
    decoder = submodel(model, "reconstruction", inputs="decoder_dense_0")
    assert decoder.input.shape == (None, 2)
    assert [layer.name for layer in decoder.layers[1:]] == ["decoder_dense_0", "reconstruction"]
    x = helpers.inputs(5, 6)
    _close(decoder(encoder(x)), model(x))


def test_cut_inputs_are_named_after_the_layer_they_stand_for():
    """The decoder's input layer is `latent_output`, whatever Keras's tensor counter says."""
    decoder = submodel(_autoencoder(), "reconstruction", inputs="decoder_dense_0")
    assert decoder.layers[0].name == "latent_output"
    assert decoder.input.name == "latent_output"


def test_a_cut_after_a_shared_layers_first_call_works():
    """shared_mlp cut after f's first call: bridge, f again and activation, equal to the model.

    Keras 3.15's own `keras.Model(tensor, outputs)` fails on this cut: it
    replaces f's second call by the new input layer.
    """
    model = keras_recipes.shared_mlp(2, 3, [2])
    downstream = submodel(model, model.output, inputs="shared_mlp_shared_activation_0")
    assert downstream.get_layer("shared_mlp_shared") is model.get_layer("shared_mlp_shared")
    upstream = submodel(model, model.get_layer("shared_mlp_shared_activation_0").input)
    x = helpers.inputs(5, 2)
    _close(downstream(upstream(x)), model(x))


def test_one_name_gives_one_output_and_a_list_gives_a_list():
    """`outputs="latent"` predicts an array; `["latent", "reconstruction"]` a list of two."""
    model = _autoencoder()
    x = helpers.inputs(5, 6)
    assert not isinstance(submodel(model, "latent")(x), (list, tuple))
    both = submodel(model, ["latent", "reconstruction"])(x)
    assert isinstance(both, (list, tuple))
    _close(both, [submodel(model, "latent")(x), model(x)])
    _close(submodel(model, ["latent"])(x), [both[0]])


def test_tensors_are_accepted_for_names():
    """KerasTensors of the graph work like names: the same part of the model."""
    model = _autoencoder()
    latent = model.get_layer("latent").output
    x = helpers.inputs(5, 6)
    _close(submodel(model, latent)(x), submodel(model, "latent")(x))
    decoder = submodel(model, model.output, inputs=latent)
    _close(decoder(submodel(model, "latent")(x)), model(x))


def test_a_merge_layer_as_inputs_gives_one_input_per_merged_tensor():
    """Naming a Concatenate as `inputs` starts at its two inputs; with the upstream part it equals the model."""
    model = keras_recipes.branch_merge(2, [3], [[2], [1, 2]], [3])
    head = submodel(model, model.outputs, inputs="branch_merge_merge")
    assert [tensor.shape for tensor in head.inputs] == [(None, 2), (None, 2)]
    upstream = submodel(model, model.get_layer("branch_merge_merge").input)
    x = helpers.inputs(5, 2)
    _close(head(upstream(x)), model(x))


def test_default_inputs_are_the_model_inputs_the_outputs_need():
    """A branch of a two-input model gives a one-input model."""
    model = keras_recipes.branch_merge([4, 4], [5], [[5], []], [[1], [2, 3]])
    branch = submodel(model, "branch_merge_branch_0_dense_0")
    assert len(branch.inputs) == 1
    assert branch.inputs[0] is model.inputs[0]


def test_nested_models_layers_through_the_nested_model():
    """A nested model's part is taken from the nested model and equals the whole of it here."""
    model = _nested_autoencoder()
    encoder = model.get_layer("encoder")
    part = submodel(encoder, "encoder_dense_0")
    x = helpers.inputs(5, 6)
    _close(part(x), encoder(x))
    decoder = submodel(model, model.output, inputs="decoder")
    _close(decoder(encoder(x)), model(x))


def test_built_sequential_model_works_like_a_functional_one():
    """A built Sequential model's first layer as output equals that layer applied to the data."""
    model = keras.Sequential(
        [keras.layers.Dense(4, name="first"), keras.layers.Dense(1, name="second")]
    )
    model.build((None, 3))
    x = helpers.inputs(5, 3)
    _close(submodel(model, "first")(x), model.get_layer("first")(x))
    second = submodel(model, "second", inputs="second")
    _close(second(model.get_layer("first")(x)), model(x))


# === Every recipe ===


def _model_nodes(model, layer):
    """The calls of `layer` that belong to `model`, by Keras's own record of its graph."""
    # A built Sequential model keeps its graph in a functional model of its own.
    graph = getattr(model, "_functional", None) or model
    return [
        node
        for index, node in enumerate(layer._inbound_nodes)
        if make_node_key(layer, index) in graph._nodes
    ]


def _feed(model, part, x):
    """The arrays of `x` (one per input of `model`) that `part`'s inputs take."""
    arrays = {id(tensor): array for tensor, array in zip(model.inputs, _as_list(x))}
    return _one_or_list([arrays[id(tensor)] for tensor in part.inputs])


def _assert_same(actual, reference, x):
    """`actual` equals `reference(x)`; where `reference` itself draws at random, the shapes do."""
    expected, again = (
        [keras.ops.convert_to_numpy(tensor) for tensor in _as_list(reference(x))]
        for _ in range(2)
    )
    if all(np.allclose(e, a) for e, a in zip(expected, again)):
        _close(actual, expected)
    else:
        assert [tuple(a.shape) for a in _as_list(actual)] == [e.shape for e in expected]


def _check_every_output(model):
    """Each layer called once gives Keras's own activation; a shared layer is refused."""
    x = _data(model.inputs)
    for layer in model.layers:
        nodes = _model_nodes(model, layer)
        if len(nodes) > 1:
            with pytest.raises(ValueError, match=f"called {len(nodes)} times"):
                submodel(model, layer.name)
            continue
        # The Keras FAQ's way to read an intermediate activation.
        reference = keras.Model(_one_or_list(model.inputs), _one_or_list(nodes[0].output_tensors))
        part = submodel(model, layer.name)
        _assert_same(part(_feed(model, part, x)), reference, x)


def _check_every_cut(model):
    """Each cut before a layer called once: upstream then downstream part is the model, or refused as Keras refuses it."""
    x = _data(model.inputs)
    cuts = 0
    for layer in model.layers:
        nodes = _model_nodes(model, layer)
        if len(nodes) > 1 or nodes[0].is_input:
            continue
        # A merge layer may read one tensor twice; it is one input.
        cut = _one_or_list(list({id(t): t for t in nodes[0].input_tensors}.values()))
        try:
            downstream = submodel(model, model.outputs, inputs=layer.name)
        except ValueError as error:
            assert "separate `outputs`" in str(error)
            with pytest.raises(ValueError, match="not connected"):
                keras.Model(cut, model.outputs)
            continue
        upstream = submodel(model, cut)
        _assert_same(downstream(upstream(_feed(model, upstream, x))), model, x)
        cuts += 1
    # At least the last layer's input separates a one-output model.
    assert cuts or len(model.outputs) > 1


def _recipe_ids(rows):
    return [f"{row[0]}-{index}" for index, row in enumerate(rows)]


@pytest.fixture(params=RECIPES, ids=_recipe_ids(RECIPES))
def recipe_model(request):
    """A freshly built model of one row of the shared recipe table."""
    name, args, kwargs, _ = request.param
    return getattr(keras_recipes, name)(*args, **kwargs)


def test_every_layer_of_every_recipe_as_output(recipe_model):
    """Each layer called once gives Keras's own intermediate activation; shared layers are refused."""
    _check_every_output(recipe_model)


def test_every_cut_of_every_recipe_equals_the_full_model(recipe_model):
    """Upstream then downstream part equals the model, or Keras too finds the cut disconnected."""
    _check_every_cut(recipe_model)


@settings(max_examples=10)
@given(strategies.branch_merge_arguments())
def test_any_branch_merge_model_cut_anywhere(arguments):
    """Any branch_merge model (shared trunks, several inputs and heads), cut before any layer, is rebuilt or refused."""
    args, kwargs = arguments
    model = keras_recipes.branch_merge(*args, **kwargs)
    _check_every_output(model)
    _check_every_cut(model)


@settings(max_examples=10)
@given(strategies.shared_mlp_arguments())
def test_any_shared_mlp_model_cut_anywhere(arguments):
    """Any shared_mlp model, cut before any layer called once (after f's first call too), is rebuilt or refused."""
    args, kwargs = arguments
    model = keras_recipes.shared_mlp(*args, **kwargs)
    _check_every_output(model)
    _check_every_cut(model)


def test_every_recipes_last_layer_on_a_new_input_saves_and_loads_safely(recipe_model, tmp_path):
    """The model's last layer on a new input saves and loads with safe_mode=True, predicting the same."""
    model = recipe_model
    last = model.layers[-1]
    downstream = submodel(model, last.name, inputs=last.name)
    data = _data(downstream.inputs)
    path = tmp_path / "downstream.keras"
    downstream.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in downstream.layers]
    _close(loaded(data), downstream(data))


# === keras.applications ===


def test_resnet50_block_output_equals_the_intermediate_activation(resnet):
    """`conv4_block6_out` of ResNet50 equals Keras's intermediate activation and shares its variables."""
    features = submodel(resnet, "conv4_block6_out", name="resnet_features")
    assert features.output.shape == (None, 4, 4, 1024)
    resnet_variables = {id(variable) for variable in resnet.weights}
    assert all(id(variable) in resnet_variables for variable in features.weights)
    reference = keras.Model(resnet.input, resnet.get_layer("conv4_block6_out").output)
    x = helpers.inputs(2, 64, 64, 3)
    _close(features(x), reference(x))


def test_resnet50_downstream_of_block_4_equals_the_full_model(resnet, tmp_path):
    """ResNet50 cut at block 4's output: stage 5 applied to stage 1-4 features equals the model."""
    features = submodel(resnet, "conv4_block6_out")
    # Both the shortcut and the main path of stage 5 read this tensor.
    stage_5 = submodel(resnet, resnet.output, inputs="conv5_block1_1_conv")
    x = helpers.inputs(2, 64, 64, 3)
    _close(stage_5(features(x)), resnet(x))
    path = tmp_path / "stage_5.keras"
    stage_5.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    code = features(x)
    _close(loaded(code), stage_5(code))


# === Bad input ===

_UNKNOWN_NAMES = [
    ("outputs", {"outputs": "nope"}),
    ("outputs", {"outputs": ["latent", "nope"]}),
    ("inputs", {"outputs": "reconstruction", "inputs": "nope"}),
]


@pytest.mark.parametrize("argument, kwargs", _UNKNOWN_NAMES)
def test_unknown_names_list_the_valid_names(models, no_building, argument, kwargs):
    """A name that is no layer raises ValueError listing every layer name, before building."""
    with pytest.raises(ValueError, match=rf"`{argument}`.*Received: {argument}=") as error:
        submodel(models["autoencoder"], **kwargs)
    for layer in models["autoencoder"].layers:
        assert repr(layer.name) in str(error.value)


def test_a_near_miss_suggests_the_closest_name(models, no_building):
    """`latnet` suggests 'latent'."""
    with pytest.raises(ValueError, match="Did you mean 'latent'"):
        submodel(models["autoencoder"], "latnet")


def test_a_layer_of_a_nested_model_points_to_the_nested_model(models, no_building):
    """A layer inside the nested `encoder` is refused with the call that reaches it."""
    with pytest.raises(ValueError, match=r"inside the nested model 'encoder'.*get_layer\('encoder'\)"):
        submodel(models["nested"], "encoder_dense_0")


def test_a_shared_layer_is_refused_as_ambiguous(models, no_building):
    """shared_mlp's shared Dense is called twice; its name is refused, the once-called layers listed."""
    with pytest.raises(ValueError, match="called 2 times.*Layers called once: .*shared_mlp_bridge_dense_0"):
        submodel(models["shared_mlp"], "shared_mlp_shared")


def test_a_shared_layers_calls_are_reachable_by_tensor(models):
    """The tensor that the bridge reads is the shared layer's first call, after its activation."""
    model = models["shared_mlp"]
    first_call = submodel(model, model.get_layer("shared_mlp_bridge_dense_0").input)
    kernel, bias = model.get_layer("shared_mlp_shared").get_weights()
    x = helpers.inputs(5, 2)
    _close(first_call(x), helpers.relu(x @ kernel + bias))


_BAD_CUTS = [
    # Branch 0 reads the trunk by a path around this cut.
    ("branch_merge", {"outputs": "branch_merge_head_0_dense_0", "inputs": "branch_merge_branch_1_dense_1"}, "separate `outputs`"),
    # The head is downstream of the branch asked for.
    ("branch_merge", {"outputs": "branch_merge_branch_0_dense_0", "inputs": "branch_merge_head_0_dense_0"}, "do not depend on the output of layer 'branch_merge_merge'"),
    # The second input lies behind the first.
    ("autoencoder", {"outputs": "reconstruction", "inputs": ["decoder_dense_0", "encoder_dense_0"]}, "do not depend on the output of layer 'pixels'"),
]


@pytest.mark.parametrize("model_name, kwargs, message", _BAD_CUTS)
def test_a_cut_that_does_not_separate_is_refused(models, no_building, model_name, kwargs, message):
    """`inputs` that leave a path around them, or that `outputs` do not need, raise ValueError."""
    with pytest.raises(ValueError, match=rf"`inputs`(.|\n)*{message}"):
        submodel(models[model_name], **kwargs)


def test_a_tensor_of_another_model_is_refused(models, no_building):
    """A KerasTensor that is not in the model's graph raises ValueError naming its layer."""
    other = models["other"].get_layer("latent").output
    with pytest.raises(ValueError, match="the output of layer 'latent' is not computed by this model"):
        submodel(models["autoencoder"], other)


_BAD_TYPES = [
    ("model", lambda models: {"model": "autoencoder", "outputs": "latent"}),
    ("model", lambda models: {"model": models["autoencoder"].get_layer("latent"), "outputs": "latent"}),
    ("outputs", lambda models: {"model": models["autoencoder"], "outputs": 3}),
    ("outputs", lambda models: {"model": models["autoencoder"], "outputs": ["latent", 3]}),
    ("inputs", lambda models: {"model": models["autoencoder"], "outputs": "latent", "inputs": 2.0}),
    ("name", lambda models: {"model": models["autoencoder"], "outputs": "latent", "name": 1}),
]


@pytest.mark.parametrize("argument, make_kwargs", _BAD_TYPES, ids=helpers.case_ids(_BAD_TYPES))
def test_wrong_types_raise_type_error(models, no_building, argument, make_kwargs):
    """A wrong type raises TypeError naming the argument and the value, before building."""
    helpers.assert_invalid(submodel, make_kwargs(models), argument, TypeError)


_BAD_VALUES = [
    ("outputs", lambda models: {"model": models["autoencoder"], "outputs": []}),
    ("inputs", lambda models: {"model": models["autoencoder"], "outputs": "latent", "inputs": []}),
    ("name", lambda models: {"model": models["autoencoder"], "outputs": "latent", "name": "a/b"}),
]


@pytest.mark.parametrize("argument, make_kwargs", _BAD_VALUES, ids=helpers.case_ids(_BAD_VALUES))
def test_bad_values_raise_value_error(models, no_building, argument, make_kwargs):
    """An empty list or a bad name raises ValueError, before building."""
    helpers.assert_invalid(submodel, make_kwargs(models), argument, ValueError)


def test_a_valid_call_reaches_keras_model(models, no_building):
    """Control: with Keras patched, a valid call gets as far as building."""
    with pytest.raises(no_building):
        submodel(models["autoencoder"], "latent", name="encoder")


def test_a_refused_cut_leaves_no_stray_calls_on_the_layers(models):
    """A refused call records no new call on the model's layers."""
    model = models["branch_merge"]
    before = _calls(model)
    with pytest.raises(ValueError):
        submodel(model, model.outputs, inputs="branch_merge_branch_1_dense_1")
    assert _calls(model) == before


def test_an_unbuilt_sequential_model_is_refused_with_how_to_build_it():
    """A Sequential model without inputs raises ValueError saying how to build it."""
    model = keras.Sequential([keras.layers.Dense(2)])
    with pytest.raises(ValueError, match=r"`model`.*Received: model=.*model.build"):
        submodel(model, "dense")


def test_a_subclassed_model_is_refused():
    """A subclassed model has no graph of layer calls: TypeError."""

    class Doubler(keras.Model):
        def call(self, inputs):
            return inputs * 2

    model = Doubler()
    model(np.zeros((1, 2)))
    with pytest.raises(TypeError, match="subclassed model"):
        submodel(model, "doubler")
