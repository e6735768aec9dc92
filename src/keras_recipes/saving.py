"""Loading saved models from files you did not write yourself.

`keras.saving.load_model` with its default `safe_mode=True` already refuses
a `Lambda` layer's marshalled Python bytecode, and Keras 3.15 resolves
classes and functions only from Keras, from registered objects and from
`custom_objects`. `load_model` here adds a check in pure Python before Keras
opens the file at all: the archive is read with the same bounded reader as
`param_count.count_config` (no weights, no deserialization), and every
object the file names must come from Keras, from this library, or from
`custom_objects`. A file that names anything else is refused with the layer
and the class, and nothing in it is imported or run.
"""

import os
import sys

from keras_recipes._untrusted import shown
from keras_recipes.param_count._saved import read_keras_file

# Objects Keras serializes with a class name of its own and no module:
# tensors, arrays and constants inside configs. `__lambda__` (marshalled
# Python bytecode) is not among them.
_DATA_CLASSES = frozenset(
    {"__keras_tensor__", "__tensor__", "__numpy__", "__bytes__", "__ellipsis__", "__slice__"}
)

_PACKAGE = "keras_recipes"

_PATH_WIDTH = 200
"""Most characters of a layer path in a message."""


def _is_keras_module(module):
    return module == "keras" or module.startswith("keras.")


def _is_ours(module, registered_name):
    return (
        (module == _PACKAGE or module.startswith(f"{_PACKAGE}."))
        and isinstance(registered_name, str)
        and registered_name.startswith(f"{_PACKAGE}>")
    )


def _object_names(key, obj):
    """The names a serialized `obj` may carry: its key, `__name__` and Keras registered name."""
    names = {key, getattr(obj, "__name__", None)}
    keras = sys.modules.get("keras")
    if keras is not None and isinstance(getattr(obj, "__name__", None), str):
        # Registration is Keras's; without Keras imported nothing is registered.
        names.add(keras.saving.get_registered_name(obj))
    return names - {None}


def _is_custom_object(node, key, obj):
    """Whether `node` is what Keras writes when it saves `obj`, given to the loader as `key`.

    The node's names must be the object's own (its `__name__`, its Keras
    registered name, or `key`), and its module the object's module, so that
    a trusted name cannot carry another object in: `{"module": "os",
    "config": "system", "registered_name": "my_act"}` is not `my_act`.
    Keras writes a function's module as `"builtins"` and its registered
    name as `"function"`, and a `__main__` module as none.
    """
    class_name = node["class_name"]
    module = node.get("module")
    registered_name = node.get("registered_name")
    names = _object_names(key, obj)
    own_module = getattr(obj, "__module__", None)
    modules = {own_module, None} if own_module == "__main__" else {own_module}
    if class_name == "function":
        return (
            callable(obj)
            and not isinstance(obj, type)
            and module in modules | {"builtins"}
            and node.get("config") in names
            and registered_name in names | {None, "function"}
        )
    return (
        isinstance(obj, type)
        and module in modules
        and class_name == obj.__name__
        and registered_name in names | {None}
    )


def _unsafe(node, path, custom_objects):
    """Why one serialized object (`{"class_name": ...}`) is unsafe to resolve, or `None`."""
    class_name = node["class_name"]
    module = node.get("module")
    registered_name = node.get("registered_name")
    if class_name in ("Lambda", "__lambda__"):
        return (
            "runs arbitrary Python code (a `Lambda` layer cannot be loaded "
            "safely; register a layer subclass instead)"
        )
    if class_name in _DATA_CLASSES and module is None:
        return None
    if any(_is_custom_object(node, key, obj) for key, obj in custom_objects.items()):
        return None
    if not isinstance(module, str):
        return "names no module"
    if _is_keras_module(module) or _is_ours(module, registered_name):
        return None
    return (
        "is neither a Keras object nor one of keras_recipes' registered "
        "objects, nor an object of `custom_objects` with this module and name; "
        "pass it in `custom_objects` if you trust this file"
    )


def _first_unsafe(node, path, custom_objects):
    """`(layer path, object, reason)` of the first unsafe object in a config tree, or `None`.

    `path` names the enclosing layers, joined by `/`.
    """
    if isinstance(node, list):
        for item in node:
            found = _first_unsafe(item, path, custom_objects)
            if found is not None:
                return found
        return None
    if not isinstance(node, dict):
        return None
    if isinstance(node.get("class_name"), str):
        config = node.get("config")
        name = config.get("name") if isinstance(config, dict) else None
        if isinstance(name, str):
            # Shown as it grows: a crafted file can nest long names deeply,
            # and every level keeps its path alive.
            path = shown(f"{path}/{shown(name, _PATH_WIDTH)}" if path else name, _PATH_WIDTH)
        reason = _unsafe(node, path, custom_objects)
        if reason is not None:
            return path, node, reason
    for value in node.values():
        found = _first_unsafe(value, path, custom_objects)
        if found is not None:
            return found
    return None


def check_file(filepath, custom_objects=None):
    """Check that a `.keras` file names only Keras, keras_recipes and `custom_objects` objects.

    Reads the archive's `config.json` only (bounded, pure Python, never
    deserializing anything) and walks every serialized object in it: layers,
    nested models, wrapped layers, initializers, activations, losses,
    optimizers and the compile config.

    Args:
        filepath: path to a `.keras` file.
        custom_objects: `None` or a dict of the trusted objects the file may
            name beyond Keras's and this library's. An entry of the file
            passes as one of them only if it is what Keras writes for that
            object: the object's own module and name (or registered name),
            under the key Keras looks it up by. Defaults to `None`.

    Raises:
        ValueError: the file is not a readable `.keras` archive (damaged,
            encrypted, compressed in a way zipfile cannot read, or naming
            an entry twice), or it holds a `Lambda` layer, a Python lambda, or a class or function from
            any other module; the message names the layer and the class.
        TypeError: `custom_objects` is not `None` or a dict.
    """
    if custom_objects is not None and not isinstance(custom_objects, dict):
        raise TypeError(
            "Invalid type for argument `custom_objects`: expected None or a dict "
            f"mapping names to classes or functions. Received: custom_objects="
            f"{custom_objects!r} of type {type(custom_objects).__name__}"
        )
    if not isinstance(filepath, (str, os.PathLike)):
        raise TypeError(
            "Invalid type for argument `filepath`: expected a path to a `.keras` "
            f"file. Received: filepath={filepath!r} of type {type(filepath).__name__}"
        )
    filepath = os.fspath(filepath)
    config = read_keras_file(filepath, argument="filepath")
    custom_objects = dict(custom_objects or {})
    try:
        found = _first_unsafe(config, "", custom_objects)
    except RecursionError:
        found = "", {"class_name": "?"}, "is nested too deeply to check"
    if found is None:
        return
    path, node, reason = found
    # The names come from the file: escaped and cut, never printed raw.
    layer = f"'{path}'" if path else "at the top"
    module = node.get("module")
    origin = f" from module '{shown(module)}'" if isinstance(module, str) else ""
    function = node.get("config") if node["class_name"] == "function" else None
    named = f" '{shown(function)}'" if isinstance(function, str) else ""
    raise ValueError(
        f"Invalid value for argument `filepath`: expected a `.keras` file that "
        f"names only Keras, keras_recipes and `custom_objects` objects. Its layer "
        f"{layer} uses the class '{shown(node['class_name'])}'{named}{origin}, which "
        f"{reason}. Nothing in the file was loaded or run. "
        f"Received: filepath={shown(repr(filepath), 300)}"
    )


def load_model(filepath, *, custom_objects=None, compile=True):
    """Loads a `.keras` model after checking, without running anything, that it is safe to.

    A drop-in for `keras.saving.load_model` for files from elsewhere. Before
    Keras opens the file, its `config.json` is read with the bounded,
    pure-Python reader of `param_count.count_config` and every object it
    names is checked: a `Lambda` layer, a marshalled Python lambda, or a
    class or function whose module is not Keras's or this library's (its
    registered `keras_recipes>` objects) and whose name is not in
    `custom_objects`, is refused with a `ValueError` naming the layer and
    the class. Only then is the file loaded, by
    `keras.saving.load_model(filepath, custom_objects=..., compile=...,
    safe_mode=True)`: Keras's own safe mode stays on as a second line.

    Args:
        filepath: path to a `.keras` file.
        custom_objects: `None` or a dict of the trusted classes and
            functions the file may name beyond Keras's and this library's,
            as for `keras.saving.load_model`. Defaults to `None`.
        compile: whether to compile the model as it was saved. Defaults to
            `True`.

    Returns:
        The loaded `keras.Model`.

    Raises:
        ValueError: the file is not a readable `.keras` archive (damaged,
            encrypted, compressed in a way zipfile cannot read, or naming
            an entry twice), or it names a `Lambda` layer, a Python lambda,
            or an untrusted class or function; nothing is imported or run.
        TypeError: `custom_objects` is not `None` or a dict, or `filepath`
            is not a path.

    Example:

    >>> import os, tempfile
    >>> import keras_recipes
    >>> path = os.path.join(tempfile.mkdtemp(), "mlp.keras")
    >>> keras_recipes.mlp(2, [3, 2, 3]).save(path)
    >>> model = load_model(path)
    >>> model.count_params()
    26
    """
    check_file(filepath, custom_objects)
    import keras

    # Our registered classes must be known to Keras before it deserializes.
    import keras_recipes.layers  # noqa: F401

    import zipfile
    import zlib

    try:
        return keras.saving.load_model(
            filepath, custom_objects=custom_objects, compile=compile, safe_mode=True
        )
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        # The check read `config.json` and every entry's header; a damaged
        # weights entry shows only when Keras unpacks it.
        raise ValueError(
            "Invalid value for argument `filepath`: expected a readable `.keras` "
            f"archive ({type(error).__name__}: {shown(str(error), 200)}). "
            f"Received: filepath={shown(repr(filepath), 300)}"
        ) from None
