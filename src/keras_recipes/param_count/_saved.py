"""`count_config`: a per-layer parameter table of a saved model, without Keras.

A `.keras` file is a zip whose `config.json` holds every layer's class name,
config and build shape, which is all the formulas need. This module reads
that JSON and nothing else: it imports neither Keras nor TensorFlow, never
loads the weights, and never deserializes (so never runs) anything in the
file. Untrusted files get bounded work: the JSON is read only up to
`MAX_CONFIG_BYTES` (whatever the zip declares), and the walk stops at
`MAX_DEPTH` levels of nesting and `MAX_LAYERS` layers.
"""

import json
import os

from keras_recipes._untrusted import shown, zip_errors
from keras_recipes.param_count import _layer_configs
from keras_recipes.param_count._graph import GraphWalk, LayerUse
from keras_recipes.param_count._table import (
    CLASS_WIDTH,
    PATH_WIDTH,
    ParamTable,
    activation_bytes,
    as_shape,
    build_shape,
    known_output_shape,
    output_list,
    with_input_shape,
)

MAX_CONFIG_BYTES = 64 * 2**20
"""Largest `config.json` read (keras.applications' largest is a few MB)."""

MAX_DEPTH = 64
"""Deepest nesting of models inside models."""

MAX_LAYERS = 100_000
"""Most rows in one table."""

_GRAPH_MODELS = ("Functional", "Sequential", "Model")


def _is_graph_model(entry):
    """Whether a (layer) config entry is a model whose graph the walk can follow."""
    class_name, registered_name = entry.get("class_name"), entry.get("registered_name")
    return (isinstance(class_name, str) and class_name in _GRAPH_MODELS) or (
        isinstance(registered_name, str) and registered_name in _layer_configs.GRAPH_SUBCLASSES
    )


def _invalid_source(what, source, argument="source"):
    text = shown(repr(source), 200)
    return ValueError(
        f"Invalid value for argument `{argument}`: {what}. Received: {argument}={text}"
    )


def _parse_json(text, source, argument="source"):
    if len(text) > MAX_CONFIG_BYTES:
        raise _invalid_source(
            f"a model config of at most {MAX_CONFIG_BYTES:,} bytes, got {len(text):,}",
            source,
            argument,
        )
    try:
        return json.loads(text)
    except RecursionError:
        raise _invalid_source(
            "JSON nested too deeply to be a model config", source, argument
        ) from None
    except ValueError as error:
        raise _invalid_source(f"valid JSON ({shown(str(error), 200)})", source, argument) from None


class _ArchiveError(Exception):
    """What a `.keras` archive should have been, raised inside the reader."""


# What `zipfile` can unpack without a password.
_COMPRESSIONS = frozenset({0, 8, 12, 14})  # stored, deflated, bzip2, lzma


def _read_config_member(zipfile, file):
    """The bytes of `config.json`, read at most `MAX_CONFIG_BYTES + 1` deep.

    Every entry of the archive is checked from its header, without
    unpacking it, for what Keras's own reading would trip on later:
    encryption, a compression method zipfile lacks, a name given twice.
    """
    if not zipfile.is_zipfile(file):
        raise _ArchiveError("a `.keras` file (a zip archive); this is not a zip")
    with zipfile.ZipFile(file) as archive:
        infos = archive.infolist()
        names = set()
        for info in infos:
            if info.flag_bits & 0x1:
                raise _ArchiveError(
                    f"a `.keras` archive without encrypted entries; "
                    f"'{shown(info.filename)}' is encrypted"
                )
            if info.compress_type not in _COMPRESSIONS:
                raise _ArchiveError(
                    f"a `.keras` archive of stored, deflated, bzip2 or lzma entries; "
                    f"'{shown(info.filename)}' uses compression method {info.compress_type}"
                )
            if info.filename in names:
                # Readers disagree on which copy counts: the check could pass
                # one copy and Keras load the other.
                raise _ArchiveError(
                    f"a `.keras` archive naming each entry once; "
                    f"'{shown(info.filename)}' appears twice"
                )
            names.add(info.filename)
        if "config.json" not in names:
            raise _ArchiveError("a `.keras` file with a `config.json`")
        info = archive.getinfo("config.json")
        if info.file_size > MAX_CONFIG_BYTES:
            raise _ArchiveError(
                f"a `config.json` of at most {MAX_CONFIG_BYTES:,} bytes; the archive "
                f"declares {info.file_size:,}"
            )
        # The declared size can lie (a zip bomb), so read one byte past
        # the limit and refuse if it is there.
        with archive.open(info) as stream:
            return stream.read(MAX_CONFIG_BYTES + 1)


def read_keras_file(path, argument="source"):
    """`config.json` of a `.keras` zip, read at most `MAX_CONFIG_BYTES` deep.

    Shared with `keras_recipes.saving.load_model`, which checks a file with
    it before Keras opens the file; `argument` names the caller's argument
    in the error messages.
    """
    if os.path.isdir(path):
        raise _invalid_source("a path to a `.keras` file; this is a directory", path, argument)
    if not os.path.exists(path):
        alternatives = " (or a config dict or JSON string)" if argument == "source" else ""
        raise _invalid_source(
            f"a path to a `.keras` file{alternatives}; there is no file at this path",
            path,
            argument,
        )
    # Imported here, not at the top: zipfile pulls in shutil, pathlib and the
    # compression modules, a third of `import keras_recipes.param_count`'s
    # time, which only reading a file needs.
    import zipfile

    # An error of the file itself (not of the disk) names the file; zipfile
    # raises many kinds for a broken or crafted archive (`zip_errors`).
    with open(path, "rb") as file:
        try:
            data = _read_config_member(zipfile, file)
        except _ArchiveError as error:
            raise _invalid_source(str(error), path, argument) from None
        except zip_errors() as error:
            # The message can quote the archive's own entry names.
            raise _invalid_source(
                f"a readable `.keras` archive ({type(error).__name__}: "
                f"{shown(str(error), 200)})",
                path,
                argument,
            ) from None
    if len(data) > MAX_CONFIG_BYTES:
        raise _invalid_source(
            f"a `config.json` of at most {MAX_CONFIG_BYTES:,} bytes once unpacked",
            path,
            argument,
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _invalid_source("a UTF-8 `config.json`", path, argument) from None
    return _parse_json(text, path, argument)


def _load(source):
    """The serialized model dict (`{"class_name", "config", ...}`) of `source`, and whether it was a file."""
    from_file = isinstance(source, (str, os.PathLike)) and not (
        isinstance(source, str) and source.lstrip().startswith(("{", "["))
    )
    if from_file:
        config = read_keras_file(os.fspath(source))
    elif isinstance(source, str):
        config = _parse_json(source, source)
    elif isinstance(source, dict):
        config = source
    else:
        raise TypeError(
            "Invalid type for argument `source`: expected a model config dict, a JSON "
            f"string or a path to a `.keras` file. Received: source={shown(repr(source), 200)}"
        )
    if not isinstance(config, dict):
        raise _invalid_source("a JSON object describing a model", source)
    if "class_name" not in config and isinstance(config.get("layers"), list):
        # `model.get_config()` gives the inner config without the class.
        class_name = "Functional" if "input_layers" in config else "Sequential"
        config = {"class_name": class_name, "config": config}
    if not _is_graph_model(config) or not isinstance(config.get("config"), dict):
        raise _invalid_source(
            "the config of a Sequential or Functional model (`model.get_config()`, "
            "`model.to_json()` or a `.keras` file)",
            source,
        )
    return config, from_file


MAX_COMPARED = 10_000_000
"""Most values compared, in all, to tell a layer's second use from a copy."""

# Not compared to tell a layer from a copy: Keras's sharing marks, and the
# layer's place in a graph (a functional model's layers carry their name
# and calls beside their config; a Sequential's do not).
_MARK = frozenset({"shared_object_id"})
_PLACE = frozenset({"shared_object_id", "inbound_nodes", "name"})


class _Walk:
    """One walk of a model config: the saved front end of `_graph.GraphWalk`.

    It resolves each call of a serialized layer into a `LayerUse` (which
    layer it is, from sharing marks, names and wrapped layers; what it was
    called on and outputs, from the graph or the shape rules; the chain of
    a Sequential's layers) and lets the core make the rows.

    `marked` says whether the config was written by Keras's `.keras`
    saving, which marks a layer used in more than one graph: its second
    and later uses carry a `shared_object_id` (the first use keeps the mark
    only at the top of the model: inside a nested model's config it is
    lost). A plain `get_config()` marks nothing.
    """

    def __init__(self, marked):
        self.graph = GraphWalk(strict=True, max_rows=MAX_LAYERS)
        self.marked = marked
        # (class name, name) -> [(scope, layer config, seen key)] of the
        # layers counted at their first use, to find their later uses in
        # other graphs.
        self.first_uses = {}
        self.ambiguous = set()
        self.compared = 0

    def link(self, layer, key, class_name, name, scope):
        """Note a layer met for the first time under `key`; link it to an earlier use of the same layer.

        A layer whose config equals that of a layer counted in another graph,
        and that carries Keras's sharing mark, is that layer: its rows
        become `shared`. Without the mark, a `.keras` file says it is
        another layer; a config without marks cannot say, so the layer is
        `ambiguous` (an unsupported row: its count is unknown).
        """
        uses = self.first_uses.setdefault((class_name, name), [])
        earlier = None
        for other_scope, other, other_key in uses:
            if other_scope != scope and other_key in self.graph.seen and self.same(other, layer):
                earlier = other_key
                break
        if earlier is None:
            uses.append((scope, layer, key))
        elif key[0] == "shared":
            self.graph.seen[key] = self.graph.seen[earlier]
        elif not self.marked:
            self.ambiguous.add(key)

    def same(self, first, second, depth=0):
        """Whether two serialized layers are equal but for their graph nodes and sharing marks."""
        self.compared += 1
        if self.compared > MAX_COMPARED:
            raise ValueError(
                "Invalid value for argument `source`: a model config whose shared "
                f"layers can be told apart in at most {MAX_COMPARED:,} comparisons. "
                "Received: a config with too many layers of one name"
            )
        if type(first) is not type(second) or depth > 100:
            return False
        if isinstance(first, dict):
            ignored = _PLACE if depth == 0 else _MARK
            keys = first.keys() - ignored
            return keys == second.keys() - ignored and all(
                self.same(first[item], second[item], depth + 1) for item in keys
            )
        if isinstance(first, list):
            return len(first) == len(second) and all(
                self.same(a, b, depth + 1) for a, b in zip(first, second)
            )
        return first == second

    def model(self, entry, prefix, frozen, depth, model_outputs=None):
        """Add the rows of a model's layers; return its outputs' `[(shape, dtype)]` or `None`.

        `prefix` is the shown (escaped, bounded) path of the model, ending
        in `/`, or `""` at the top.
        """
        where = f"'{prefix}'" if prefix else "the top"
        if depth > MAX_DEPTH:
            raise ValueError(
                f"Invalid value for argument `source`: models nested at most {MAX_DEPTH} "
                f"deep. Received: deeper nesting at {where}"
            )
        config = entry["config"]
        # Layer names are unique within one graph: `scope` tells graphs
        # apart (the shown prefixes, cut short, may not).
        scope = id(config)
        layers = config.get("layers")
        if not isinstance(layers, list) or not all(isinstance(layer, dict) for layer in layers):
            raise ValueError(
                f"Invalid model config at {where}: expected `layers` to be a "
                f"list of layer configs. Received: {type(layers).__name__}"
            )
        sequential = entry.get("class_name") == "Sequential"
        outputs = {} if sequential else _consumed_shapes(layers)
        # A Sequential layer's input is the output before it, starting from
        # the model's input layer.
        previous = _sequential_input(entry, layers) if sequential else None
        graph = self.graph
        for index, layer in enumerate(layers):
            class_name = layer.get("class_name")
            if not isinstance(class_name, str):
                raise ValueError(
                    f"Invalid layer config in {where}: expected a "
                    f"`class_name` string. Received: {shown(repr(class_name), 200)}"
                )
            if class_name == "InputLayer":
                continue
            layer_config = layer.get("config")
            if not isinstance(layer_config, dict):
                layer_config = {}
            name = layer_config.get("name", layer.get("name"))
            if not isinstance(name, str):
                name = f"layer_{index}"
            graph_name = layer.get("name") if isinstance(layer.get("name"), str) else name
            path = shown(prefix + shown(name, PATH_WIDTH), PATH_WIDTH)
            shown_class = shown(class_name, CLASS_WIDTH)
            if sequential:
                calls = [_sequential_output(layers, index)]
                if index == len(layers) - 1 and calls == [None]:
                    # The last layer's output is the model's.
                    calls = [model_outputs]
                inputs = [previous or (None, None)]
            else:
                nodes = layer.get("inbound_nodes")
                count = len(nodes) if isinstance(nodes, list) else 1
                calls = [outputs.get((graph_name, call)) for call in range(max(count, 1))]
                # Read from the graph only what the layer's own config lacks:
                # most layers record their build shape and dtype.
                build = layer.get("build_config")
                needed = not layer_config.get("dtype") or not (
                    isinstance(build, dict)
                    and (build.get("input_shape") is not None or build.get("shapes_dict"))
                )
                inputs = [
                    (_call_input_shape(nodes, call), _call_input_dtype(nodes, call))
                    if needed
                    else (None, None)
                    for call in range(len(calls))
                ]
            key = layer.get("shared_object_id")
            key = ("shared", key) if isinstance(key, (int, str)) else ("layer", id(layer))
            if key not in graph.seen:
                self.link(layer, key, class_name, name, scope)
                inner_key = _wrapped_key(class_name, layer_config, scope)
                if inner_key is not None and inner_key not in graph.seen:
                    # The wrapped layer may be used in another graph too.
                    inner = layer_config["layer"]
                    inner_class = inner.get("class_name")
                    if isinstance(inner_class, str):
                        self.link(inner, inner_key, inner_class, _config_name(inner), scope)
                    if inner_key in self.ambiguous:
                        self.ambiguous.add(key)
            else:
                inner_key = _wrapped_key(class_name, layer_config, scope)
            name_key = ("name", scope, name)
            # A layer named like one met before in this graph is that layer;
            # a TimeDistributed is not, as its wrapped layer has its name.
            aliases = () if class_name == "TimeDistributed" else (name_key,)
            nested = _is_graph_model(layer) and isinstance(layer_config.get("layers"), list)
            for call, call_outputs in enumerate(calls):
                input_shape, input_dtype = inputs[call]
                output_bytes = activation_bytes(call_outputs) if call_outputs else None
                # What this call outputs, for the layers and model outputs
                # that read it: recorded shapes first, else the shape rules'.
                computed = None
                first = graph.earlier(key, aliases)
                if first is not None:
                    if call_outputs is None and first.status != "nested":
                        # Its own input this time: a shared layer may be
                        # called on another shape.
                        computed = _rule_outputs(
                            layer, class_name, layer_config,
                            {"input_shape": input_shape} if input_shape is not None
                            else layer.get("build_config"),
                            input_dtype,
                        )
                        output_bytes = activation_bytes(computed) if computed else None
                    use = LayerUse(path=path, key=key, class_name=class_name,
                                   output_bytes=output_bytes, aliases=aliases)
                elif key in self.ambiguous or nested:
                    # A nested model (its layers follow), or an ambiguous
                    # layer: perhaps a second use of a layer counted in
                    # another graph, perhaps a copy, so its count is unknown.
                    use = LayerUse(path=path, key=key, class_name=class_name,
                                   build_config=layer.get("build_config"),
                                   output_bytes=output_bytes, nested=nested,
                                   status="unsupported" if key in self.ambiguous else None,
                                   shown_class=shown_class)
                else:
                    build_config = layer.get("build_config")
                    # The shape rules answer for a class whose count is
                    # unknown too; such a row (unsupported) keeps neither
                    # their bytes nor their outputs.
                    computed = _rule_outputs(layer, class_name, layer_config,
                                             with_input_shape(build_config, input_shape),
                                             input_dtype)
                    use = LayerUse(
                        path=path,
                        key=key,
                        class_name=class_name,
                        config=layer_config,
                        build_config=build_config,
                        registered_name=layer.get("registered_name"),
                        module=layer.get("module"),
                        frozen=frozen,
                        input_shape=input_shape,
                        output_bytes=output_bytes,
                        counted_output_bytes=activation_bytes(computed) if computed else None,
                        name_key=name_key,
                        wrapped_key=inner_key,
                        shown_class=shown_class,
                    )
                row = graph.add(use)
                if row.status == "nested" and first is None:
                    index = len(graph.rows) - 1
                    computed = self.model(
                        layer, path + "/", frozen or layer_config.get("trainable") is False,
                        depth + 1, call_outputs,
                    )
                    row = graph.close()
                    if row.output_bytes is None and computed:
                        graph.set_output_bytes(index, activation_bytes(computed))
                elif use.config is not None and row.status != "formula":
                    # A wrapper of a layer counted already, or a class no
                    # rule counts.
                    computed = None
                previous = _record(outputs, graph_name, call, call_outputs or computed)
        if sequential:
            return model_outputs or previous and [previous]
        return _model_outputs(config.get("output_layers"), layers, outputs)


def _has_marks(config):
    """Whether a config holds any `shared_object_id`: it was written by `.keras` saving."""
    stack = [config]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            if "shared_object_id" in value:
                return True
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False


def _record(outputs, graph_name, call, call_outputs):
    """Note one call's outputs; return its single `(shape, dtype)` (a Sequential's next input) or `None`."""
    if call_outputs:
        outputs.setdefault((graph_name, call), call_outputs)
    return call_outputs[0] if call_outputs and len(call_outputs) == 1 else None


def _is_tensor(value):
    return isinstance(value, dict) and value.get("class_name") == "__keras_tensor__" and (
        isinstance(value.get("config"), dict)
    )


def _call_tensors(nodes, call):
    """The tensors of one call's first argument (or of all its arguments, for an operation)."""
    if not isinstance(nodes, list) or call >= len(nodes) or not isinstance(nodes[call], dict):
        return None
    # Lists in a file; tuples in a live model's `get_config()`.
    args = nodes[call].get("args")
    if not isinstance(args, (list, tuple)) or not args:
        return None
    first = args[0]
    if len(args) > 1 and all(map(_is_tensor, args)):
        # An operation on several tensors (`x + y` is `Add` called on x, y).
        return list(args)
    if _is_tensor(first):
        return first
    if isinstance(first, (list, tuple)) and first and all(map(_is_tensor, first)):
        return list(first)
    return None


def _call_input_dtype(nodes, call):
    """The dtype all inputs of one call share, or `None`.

    An operation (`x + y`) has no dtype in its config; its output has its
    inputs' dtype when they agree.
    """
    tensors = _call_tensors(nodes, call)
    tensors = tensors if isinstance(tensors, list) else [tensors] if tensors else []
    dtypes = {str(tensor["config"].get("dtype")) for tensor in tensors}
    return dtypes.pop() if len(dtypes) == 1 else None


def _call_input_shape(nodes, call):
    """The input shape of one call of a layer, from the tensors its inbound node records.

    A shape for a layer called on one tensor, a list of shapes for a layer
    called on a list (as `build_config["input_shape"]` has them) or for an
    operation called on several tensors, or `None`.
    """
    tensors = _call_tensors(nodes, call)
    if _is_tensor(tensors):
        return as_shape(tensors["config"].get("shape"))
    if tensors:
        shapes = [as_shape(tensor["config"].get("shape")) for tensor in tensors]
        return shapes if all(isinstance(shape, tuple) for shape in shapes) else None
    return None


def _sequential_input(entry, layers):
    """`(shape, dtype)` of a Sequential model's input: its input layer or build shape."""
    first = layers[0] if layers else None
    if first is not None and first.get("class_name") == "InputLayer":
        config = first.get("config") if isinstance(first.get("config"), dict) else {}
        shape = as_shape(config.get("batch_shape"))
        if isinstance(shape, tuple):
            return shape, config.get("dtype")
    shape = build_shape(entry.get("build_config"))
    return (shape, None) if shape is not None else None


def _model_outputs(output_layers, layers, outputs):
    """`[(shape, dtype)]` of a functional model's outputs, or `None` when one is unknown.

    `output_layers` names `[layer, node, tensor]` triples, with Keras's
    quirk: a nested Functional model's node indices there count the node it
    was created with, which its inbound nodes leave out.
    """
    functional = {
        layer.get("name")
        for layer in layers
        if _is_graph_model(layer) and layer.get("class_name") != "Sequential"
    }
    leaves = []
    _output_leaves(output_layers, leaves)
    found = []
    for name, node, tensor in leaves:
        if name in functional:
            node -= 1
        tensors = outputs.get((name, node))
        if not tensors or tensor >= len(tensors):
            return None
        found.append(tensors[tensor])
    return found or None


def _output_leaves(value, leaves, depth=0):
    if depth > 8 or len(leaves) > MAX_LAYERS:
        return
    if (
        isinstance(value, (list, tuple))
        and len(value) == 3
        and isinstance(value[0], str)
        and all(type(index) is int and index >= 0 for index in value[1:])
    ):
        leaves.append(tuple(value))
    elif isinstance(value, dict):
        for item in value.values():
            _output_leaves(item, leaves, depth + 1)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _output_leaves(item, leaves, depth + 1)


def _config_name(layer):
    """The `name` in a serialized layer's config, or `None`."""
    config = layer.get("config")
    name = config.get("name") if isinstance(config, dict) else None
    return name if isinstance(name, str) else None


def _wrapped_key(class_name, config, scope):
    """The sharing key of the layer a TimeDistributed wraps.

    Keras does not mark the wrapped layer with a `shared_object_id` even when
    the same object is also called directly in the graph. Layer names are
    unique within one graph, so a wrapped layer named like a layer of the
    same graph is that layer.
    """
    if class_name != "TimeDistributed" or not isinstance(config.get("layer"), dict):
        return None
    inner = config["layer"]
    key = inner.get("shared_object_id")
    if isinstance(key, (int, str)):
        return ("shared", key)
    name = _config_name(inner)
    return ("name", scope, name) if name is not None else None


def _tensor_shapes(value, found, depth=0):
    """Collect `(layer, node, tensor) -> (shape, dtype)` from serialized KerasTensors."""
    if depth > 8:
        return
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            config = value.get("config")
            if isinstance(config, dict):
                history = config.get("keras_history")
                if (
                    isinstance(history, list)
                    and len(history) == 3
                    and isinstance(history[0], str)
                    and all(type(index) is int for index in history[1:])
                ):
                    found[tuple(history)] = (as_shape(config.get("shape")), config.get("dtype"))
            return
        for item in value.values():
            _tensor_shapes(item, found, depth + 1)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _tensor_shapes(item, found, depth + 1)


def _consumed_shapes(layers):
    """Output shapes of each call, read from the inputs of the calls that consume them.

    Returns `{(layer name, call index): [(shape, dtype), ...]}` for the calls
    whose outputs some other layer of the graph reads.
    """
    found = {}
    for layer in layers:
        _tensor_shapes(layer.get("inbound_nodes"), found)
    outputs = {}
    for key, value in found.items():
        name, call, tensor = key
        outputs.setdefault((name, call), {})[tensor] = value
    return {
        key: [tensors[i] for i in sorted(tensors)]
        for key, tensors in outputs.items()
        if sorted(tensors) == list(range(len(tensors)))
    }


def _sequential_output(layers, index):
    """Output shape of a Sequential model's layer: the next layer's build shape."""
    layer = layers[index]
    dtype = (layer.get("config") or {}).get("dtype") if isinstance(layer.get("config"), dict) else None
    for following in layers[index + 1 : index + 2]:
        shape = build_shape(following.get("build_config"))
        if shape is not None and all(not isinstance(dim, tuple) for dim in shape):
            return [(shape, dtype)]
    return None


def _rule_outputs(layer, class_name, config, build_config, input_dtype=None):
    """`[(shape, dtype)]` of a layer's outputs by the shape rules, or `None`.

    The dtype is the layer's (its compute dtype), or for an operation, which
    has none in its config, its inputs'.
    """
    shape = known_output_shape(class_name, config, build_config, layer.get("registered_name"))
    return output_list(shape, config.get("dtype") or input_dtype)


def count_config(source):
    """Per-layer parameter table of a saved model, computed without Keras.

    Reads the layers' class names, configs and build shapes, and counts each
    layer with the same formulas as `count_model`, so the two give the same
    rows and totals. Nothing from the source is executed or deserialized,
    and neither Keras nor TensorFlow is imported. A layer class the formulas
    do not know gives an `"unsupported"` row, and then `table.total` raises
    instead of guessing.

    A layer or model used more than once is counted at its first use and
    each later use is a `"shared"` row of 0, as in `count_model`, also when
    it is used in several nested models: a `.keras` file marks those uses
    (`shared_object_id`). A plain `get_config()` marks nothing, so there a
    layer in another nested model with the same name and config as one
    already counted may be the same layer or a copy: its row is
    `"unsupported"` and the total unknown, never a guess.

    Args:
        source: a model config dict (`model.get_config()`, or the
            `{"class_name", "config"}` dict of `config.json`), a JSON string
            (`model.to_json()`), or a path to a `.keras` file.

    Returns:
        A `ParamTable`.

    Raises:
        TypeError: `source` is none of these.
        ValueError: the file is not a `.keras` zip or has no `config.json`;
            the archive is damaged, encrypted, compressed in a way zipfile
            cannot read, or names an entry twice; the JSON is malformed, larger than `MAX_CONFIG_BYTES`, nested
            deeper than the parser allows or than `MAX_DEPTH` models, or has
            more than `MAX_LAYERS` layers; or a known layer's config is one
            Keras could not have built.

    Example:

    >>> config = {"class_name": "Sequential", "config": {"name": "s", "layers": [
    ...     {"class_name": "Dense", "config": {"name": "d", "units": 3},
    ...      "build_config": {"input_shape": [None, 2]}}]}}
    >>> count_config(config).total
    ParamCount(trainable=9, non_trainable=0)
    """
    config, from_file = _load(source)
    # A `.keras` file is written by Keras's saving, which marks shared
    # layers; a dict or JSON string may be a `get_config()`, which does not.
    walk = _Walk(marked=from_file or _has_marks(config))
    walk.model(config, "", config["config"].get("trainable") is False, 0)
    name = config["config"].get("name")
    return ParamTable(walk.graph.rows, name=shown(name, PATH_WIDTH) if isinstance(name, str) else None)
