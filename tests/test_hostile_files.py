"""Crafted `.keras` files: every loader refuses them, and nothing in them ever runs.

Each file is a real saved model whose `config.json` is edited by hand to hold
something a safe loader must not run: a `Lambda` layer's marshalled Python
bytecode, a `Lambda` around a named function, unknown classes, classes and
functions from `os`, `builtins`, `subprocess` or a module of the attacker's
(`hostile_marker`, put on `sys.path` by the tests, which creates a marker
file when it is imported and when its function is called), the same inside a
nested model and inside `TimeDistributed` / `Bidirectional` wrappers,
`__lambda__` objects as activations, and registered names that are not ours.

Every file goes through four loaders, and the marker file must never exist:

- `keras.saving.load_model(path)` with its default `safe_mode=True`, which
  refuses every one (Keras's behaviour, pinned so a change shows up here),
- `keras_recipes.saving.load_model(path)`, which must refuse every one with a
  `ValueError` naming the layer and the class, before Keras opens the file,
- `param_count.count_config(path)`, which never deserializes anything: the
  rows of classes it has no formula for are `unsupported` and `.total`
  refuses; a `Lambda` has no weights and counts 0 (pinned per file),
- `keras-recipes count FILE`, whose exit status follows docs/cli.md.
"""

import codecs
import json
import marshal
import sys
import textwrap
import zipfile

import keras
import numpy as np
import pytest

import keras_recipes
from keras_recipes import cli, param_count, saving

MARKER_MODULE = "hostile_marker"


def _find(node, name):
    """The serialized object (a dict with a `class_name`) whose config is named `name`."""
    if isinstance(node, list):
        for item in node:
            found = _find(item, name)
            if found is not None:
                return found
    elif isinstance(node, dict):
        config = node.get("config")
        if "class_name" in node and isinstance(config, dict) and config.get("name") == name:
            return node
        for value in node.values():
            found = _find(value, name)
            if found is not None:
                return found
    return None


def _function(module, name, registered_name=None):
    return {
        "module": module,
        "class_name": "function",
        "config": name,
        "registered_name": registered_name or name,
    }


def _python_lambda(marker):
    """A `__lambda__` object whose code creates `marker` when it runs, as Keras serializes lambdas."""
    code = compile(
        f"lambda x: (__import__('pathlib').Path({str(marker)!r}).touch(), x)[1]", "<hostile>", "eval"
    )
    lambda_code = next(const for const in code.co_consts if hasattr(const, "co_code"))
    encoded = codecs.encode(marshal.dumps(lambda_code), "base64").decode("ascii")
    return {"class_name": "__lambda__", "config": {"code": encoded, "defaults": None, "closure": None}}


def _as_lambda_layer(layer, function):
    """Turn the serialized layer `layer` into a `Lambda` layer calling `function`, in place."""
    name = layer["config"]["name"]
    layer["module"] = "keras.layers"
    layer["class_name"] = "Lambda"
    layer["registered_name"] = None
    layer["config"] = {"name": name, "trainable": True, "function": function, "arguments": {}}


def _replace_class(layer, module, class_name, registered_name=None):
    layer["module"] = module
    layer["class_name"] = class_name
    layer["registered_name"] = registered_name


def _set(layer, key, value):
    layer["config"][key] = value


# Each case: (id, base model, layer name, edit(layer, marker)). The edit
# changes the named layer of the base model's config (or the config itself
# for a `None` layer name).
CASES = [
    ("lambda_bytecode", "mlp", "mlp_dense_1", lambda layer, m: _as_lambda_layer(layer, _python_lambda(m))),
    ("lambda_named_function", "mlp", "mlp_dense_1", lambda layer, m: _as_lambda_layer(layer, _function(MARKER_MODULE, "touch"))),
    ("lambda_os_system", "mlp", "mlp_dense_1", lambda layer, m: _as_lambda_layer(layer, _function("os", "system"))),
    ("unknown_keras_class", "mlp", "mlp_dense_1", lambda layer, m: _replace_class(layer, "keras.layers", "NoSuchLayer")),
    ("unknown_class_no_module", "mlp", "mlp_dense_1", lambda layer, m: _replace_class(layer, None, "NoSuchLayer", "Custom>NoSuchLayer")),
    ("attacker_class", "mlp", "mlp_dense_1", lambda layer, m: _replace_class(layer, MARKER_MODULE, "Touch")),
    ("os_system_class", "mlp", "mlp_dense_1", lambda layer, m: _replace_class(layer, "os", "system")),
    ("builtins_eval_class", "mlp", "mlp_dense_1", lambda layer, m: _replace_class(layer, "builtins", "eval")),
    ("subprocess_popen_class", "mlp", "mlp_dense_1", lambda layer, m: _replace_class(layer, "subprocess", "Popen")),
    ("activation_os_system", "mlp", "mlp_dense_1", lambda layer, m: _set(layer, "activation", _function("os", "system"))),
    ("activation_attacker_function", "mlp", "mlp_dense_1", lambda layer, m: _set(layer, "activation", _function(MARKER_MODULE, "touch"))),
    ("activation_builtins_exec", "mlp", "mlp_dense_1", lambda layer, m: _set(layer, "activation", _function("builtins", "exec"))),
    ("activation_python_lambda", "mlp", "mlp_dense_1", lambda layer, m: _set(layer, "activation", _python_lambda(m))),
    ("initializer_attacker_function", "mlp", "mlp_dense_1", lambda layer, m: _set(layer, "kernel_initializer", _function(MARKER_MODULE, "touch"))),
    ("initializer_attacker_class", "mlp", "mlp_dense_1", lambda layer, m: _set(layer, "kernel_initializer", {"module": MARKER_MODULE, "class_name": "Touch", "config": {}, "registered_name": None})),
    ("loss_attacker_function", "mlp", None, lambda config, m: config["compile_config"].__setitem__("loss", _function(MARKER_MODULE, "touch"))),
    ("registered_name_not_ours", "mlp", "mlp_dense_1", lambda layer, m: _replace_class(layer, MARKER_MODULE, "Touch", "hostile>Touch")),
    ("our_registered_name_other_module", "mlp", "mlp_dense_1", lambda layer, m: _replace_class(layer, "os", "system", "keras_recipes>system")),
    ("our_class_foreign_registered_name", "averaging_layer", "averaging_layer_mean", lambda layer, m: _replace_class(layer, "keras_recipes.layers", "FeatureMean", "hostile>FeatureMean")),
    ("nested_lambda_bytecode", "autoencoder", "autoencoder_encoder_dense_0", lambda layer, m: _as_lambda_layer(layer, _python_lambda(m))),
    ("nested_activation_os_system", "autoencoder", "autoencoder_decoder_dense_0", lambda layer, m: _set(layer, "activation", _function("os", "system"))),
    ("nested_attacker_class", "autoencoder", "autoencoder_decoder_output", lambda layer, m: _replace_class(layer, MARKER_MODULE, "Touch")),
    ("time_distributed_lambda", "wrappers", "inner_dense", lambda layer, m: _as_lambda_layer(layer, _python_lambda(m))),
    ("time_distributed_attacker_class", "wrappers", "inner_dense", lambda layer, m: _replace_class(layer, MARKER_MODULE, "Touch")),
    ("bidirectional_activation_os_system", "wrappers", "forward_lstm", lambda layer, m: _set(layer, "activation", _function("os", "system"))),
    ("bidirectional_recurrent_attacker_function", "wrappers", "forward_lstm", lambda layer, m: _set(layer, "recurrent_activation", _function(MARKER_MODULE, "touch"))),
]

# Files that name only Keras modules, which the library's check lets through
# to Keras: a class Keras does not have, which Keras refuses without importing
# anything (it looks the name up in its own modules).
LEFT_TO_KERAS = {"unknown_keras_class"}

# Files whose `count_config` table has an `unsupported` row (a class with no
# formula), so that `.total` refuses and `keras-recipes count` exits 1; the
# others count (a `Lambda` has no weights, and a function in a config is
# never resolved: count_config reads sizes only) and exit 0.
UNCOUNTABLE = {
    "unknown_keras_class",
    "unknown_class_no_module",
    "attacker_class",
    "os_system_class",
    "builtins_eval_class",
    "subprocess_popen_class",
    "registered_name_not_ours",
    "our_registered_name_other_module",
    "nested_attacker_class",
    "time_distributed_attacker_class",
    "our_class_foreign_registered_name",
}


@pytest.fixture(scope="module")
def base_files(tmp_path_factory):
    """Real saved models to craft files from: mlp, averaging_layer, autoencoder, wrappers."""
    directory = tmp_path_factory.mktemp("base")
    paths = {}
    models = {
        "mlp": keras_recipes.mlp(2, [3, 3, 3]),  # a Lambda in the middle keeps the widths
        "averaging_layer": keras_recipes.averaging_layer(3),
        "autoencoder": keras_recipes.autoencoder((6,), 2, hidden_units=(4,)),
    }
    inputs = keras.Input((3, 2), name="sequence")
    tensor = keras.layers.TimeDistributed(keras.layers.Dense(2, name="inner_dense"), name="time")(inputs)
    tensor = keras.layers.Bidirectional(keras.layers.LSTM(2, name="forward_lstm"), name="both_ways")(tensor)
    models["wrappers"] = keras.Model(inputs, tensor, name="wrappers")
    for name, model in models.items():
        paths[name] = directory / f"{name}.keras"
        model.save(paths[name])
    return paths


@pytest.fixture
def marker(tmp_path, monkeypatch):
    """A path that appears only if crafted code runs; the attacker's module is importable."""
    path = tmp_path / "executed.marker"
    module_directory = tmp_path / "attacker"
    module_directory.mkdir()
    (module_directory / f"{MARKER_MODULE}.py").write_text(
        textwrap.dedent(
            f"""
            import pathlib
            pathlib.Path({str(path)!r}).touch()  # importing is running

            def touch(*args, **kwargs):
                pathlib.Path({str(path)!r}).touch()

            class Touch:
                def __init__(self, *args, **kwargs):
                    touch()

                @classmethod
                def from_config(cls, config):
                    return cls()
            """
        )
    )
    monkeypatch.syspath_prepend(str(module_directory))
    yield path
    sys.modules.pop(MARKER_MODULE, None)


def craft(case, base_files, directory, marker):
    """Write the crafted file of `case`; return its path."""
    name, base, layer_name, edit = case
    source = base_files[base]
    target = directory / f"{name}.keras"
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w") as crafted:
        for item in original.infolist():
            data = original.read(item)
            if item.filename == "config.json":
                config = json.loads(data)
                if layer_name is None:
                    edit(config, marker)
                else:
                    layer = _find(config, layer_name)
                    assert layer is not None, f"{layer_name} not in {base}"
                    edit(layer, marker)
                data = json.dumps(config)
            crafted.writestr(item, data)
    return target


@pytest.fixture(params=CASES, ids=[case[0] for case in CASES])
def hostile(request, base_files, tmp_path, marker):
    """`(case id, crafted path, marker path)` for one crafted file."""
    return request.param[0], craft(request.param, base_files, tmp_path, marker), marker


def test_marker_module_runs_when_imported(marker):
    """Control: importing the attacker's module creates the marker, so its absence below means it never ran."""
    __import__(MARKER_MODULE)
    assert marker.exists()


def test_crafted_lambda_runs_when_safe_mode_is_off(base_files, tmp_path, marker):
    """Control: the crafted bytecode does create the marker once Keras is told to run it."""
    path = craft(CASES[0], base_files, tmp_path, marker)
    keras.saving.load_model(path, safe_mode=False)
    assert marker.exists()


def test_keras_safe_mode_refuses_and_runs_nothing(hostile):
    """`keras.saving.load_model` (default safe mode, Keras 3.15) refuses every crafted file and runs none."""
    _, path, marker = hostile
    with pytest.raises((ValueError, TypeError)):
        keras.saving.load_model(path)
    assert not marker.exists()


def test_library_loader_refuses_naming_layer_and_class(hostile):
    """`keras_recipes.saving.load_model` refuses every file with a ValueError naming the layer and class."""
    name, path, marker = hostile
    if name in LEFT_TO_KERAS:
        with pytest.raises(ValueError, match="Could not deserialize 'keras.layers.NoSuchLayer'"):
            saving.load_model(path)
        assert not marker.exists()
        return
    with pytest.raises(ValueError) as info:
        saving.load_model(path)
    message = str(info.value)
    assert "`filepath`" in message and "Received: filepath=" in message
    assert "Nothing in the file was loaded or run" in message
    layer_name = next(case[2] for case in CASES if case[0] == name)
    if layer_name is not None:
        assert f"{layer_name}'" in message, message
    assert not marker.exists()


def test_count_config_never_runs_and_refuses_a_total_it_cannot_know(hostile):
    """`count_config` reads every file without running it; unknown classes are `unsupported` and `.total` refuses."""
    name, path, marker = hostile
    table = param_count.count_config(path)
    statuses = {row.status for row in table.rows}
    if name in UNCOUNTABLE:
        assert "unsupported" in statuses
        with pytest.raises(ValueError, match="no formula"):
            table.total
    else:
        assert "unsupported" not in statuses
        assert table.total.total >= 0
    assert not marker.exists()


def test_cli_count_exit_status(hostile, capsys):
    """`keras-recipes count FILE` exits 1 for a file with uncountable layers, 0 otherwise, and runs nothing."""
    name, path, marker = hostile
    status = cli.main(["count", str(path)])
    assert status == (1 if name in UNCOUNTABLE else 0)
    assert not marker.exists()


def trusted_tanh(x):
    """A user's own activation, trusted through `custom_objects`."""
    return keras.activations.tanh(x)


@keras.saving.register_keras_serializable(package="trusted")
def registered_tanh(x):
    """A user's own registered activation (`trusted>registered_tanh`)."""
    return keras.activations.tanh(x)


class TrustedDense(keras.layers.Dense):
    """A user's own layer class, trusted through `custom_objects`."""


@keras.saving.register_keras_serializable(package="trusted")
class RegisteredDense(keras.layers.Dense):
    """A user's own registered layer class (`trusted>RegisteredDense`)."""


def test_library_loader_accepts_trusted_custom_objects(base_files, tmp_path, marker):
    """A function the file names by its own module and name passes when `custom_objects` holds it, and Keras uses it."""
    case = ("trusted_function", "mlp", "mlp_dense_1",
            lambda layer, m: _set(layer, "activation", _function(trusted_tanh.__module__, "trusted_tanh")))
    path = craft(case, base_files, tmp_path, marker)
    model = saving.load_model(path, custom_objects={"trusted_tanh": trusted_tanh})
    assert model.get_layer("mlp_dense_1").activation is trusted_tanh
    assert not marker.exists()


def _entries(model, tmp_path):
    """`(path, config)` of `model` saved, and its parsed `config.json`."""
    path = tmp_path / "model.keras"
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        return path, json.loads(archive.read("config.json"))


def _rewrite(path, config):
    """Replace the `config.json` of the `.keras` file at `path`."""
    with zipfile.ZipFile(path) as original:
        files = {item.filename: original.read(item) for item in original.infolist()}
    files["config.json"] = json.dumps(config)
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)


def _custom_model(kind):
    """A model whose layer `custom` uses a custom function or class of kind `kind`."""
    inputs = keras.Input((2,))
    if kind.endswith("function"):
        activation = trusted_tanh if kind == "function" else registered_tanh
        layer = keras.layers.Dense(2, activation=activation, name="custom")
    elif kind == "class":
        layer = TrustedDense(2, name="custom")
    else:
        layer = RegisteredDense(2, name="custom")
    return keras.Model(inputs, layer(inputs))


# Each case: (kind, custom_objects key, edits of the entry, passes). The
# entry is the function (the Dense's activation) or the layer as Keras
# saved it; the edits replace its fields, as a crafted file would.
CUSTOM_OBJECT_CASES = [
    ("function", "trusted_tanh", {}, True),
    ("function", "trusted_tanh", {"module": "os"}, False),
    ("function", "my_act", {"module": "os", "config": "system", "registered_name": "my_act"}, False),
    ("function", "my_act", {"config": "system", "registered_name": "my_act"}, False),
    ("function", "my_act", {"module": "builtins", "config": "eval"}, False),
    ("function", "trusted_tanh", {"config": "system"}, False),
    ("function", "trusted_tanh", {"registered_name": "system"}, False),
    ("registered_function", "trusted>registered_tanh", {}, True),
    ("registered_function", "registered_tanh", {}, True),
    ("registered_function", "trusted>registered_tanh", {"module": "os"}, False),
    ("registered_function", "trusted>registered_tanh", {"config": "trusted>system"}, False),
    ("class", "TrustedDense", {}, True),
    ("class", "TrustedDense", {"module": "os"}, False),
    ("class", "TrustedDense", {"class_name": "system"}, False),
    ("class", "TrustedDense", {"module": "subprocess", "class_name": "Popen"}, False),
    ("class", "TrustedDense", {"registered_name": "hostile>TrustedDense"}, False),
    ("registered", "trusted>RegisteredDense", {}, True),
    ("registered", "RegisteredDense", {}, True),
    ("registered", "trusted>RegisteredDense", {"module": "os", "class_name": "system"}, False),
    ("registered", "trusted>RegisteredDense", {"class_name": "Popen"}, False),
]


@pytest.mark.parametrize(
    "kind, key, edits, passes", CUSTOM_OBJECT_CASES,
    ids=[f"{case[0]}-{case[1]}-{'-'.join(case[2]) or 'as_saved'}" for case in CUSTOM_OBJECT_CASES],
)
def test_custom_objects_pass_only_the_objects_they_hold(kind, key, edits, passes, tmp_path):
    """An entry passes `check_file` through `custom_objects` only with the trusted object's own module and names."""
    objects = {"function": trusted_tanh, "registered_function": registered_tanh,
               "class": TrustedDense, "registered": RegisteredDense}
    path, config = _entries(_custom_model(kind), tmp_path)
    layer = _find(config, "custom")
    entry = layer["config"]["activation"] if kind.endswith("function") else layer
    entry.update(edits)
    _rewrite(path, config)
    custom_objects = {key: objects[kind]}
    if passes:
        saving.check_file(path, custom_objects)
        saving.load_model(path, custom_objects=custom_objects)
    else:
        with pytest.raises(ValueError, match="Its layer '[^']*custom'.*Nothing in the file was loaded"):
            saving.check_file(path, custom_objects)


def test_check_file_keeps_deeply_nested_long_names_bounded(tmp_path):
    """Long names nested a hundred deep cost check_file bounded memory and a bounded message."""
    import tracemalloc

    entry = {"module": "os", "class_name": "system", "config": {"name": "last"}}
    for level in range(100):
        entry = {"module": "keras.layers", "class_name": "TimeDistributed",
                 "config": {"name": f"{level}" + "x" * 20_000, "layer": entry}}
    config = {"module": "keras", "class_name": "Sequential",
              "config": {"name": "m", "layers": [entry]}}
    path = tmp_path / "deep.keras"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.json", json.dumps(config))
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="class 'system'") as error:
            saving.check_file(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(str(error.value)) < 1000
    # The config itself is 2 MB; each level's full path would add up to 100 MB.
    assert peak < 30 * 2**20
