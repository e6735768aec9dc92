"""`submodel()`: any part of a built functional model as a model of its own.

Keras has no public API for a model's graph of layer calls, so this module
reads the same structure `keras.Model` itself reads to build a functional
model (`keras/src/ops/function.py`): every tensor of a graph carries a
`_keras_history` naming the call (a `Node` in the operation's
`_inbound_nodes`) that produced it, and each node knows its `input_tensors`
and `output_tensors`.
"""

import difflib

import keras

from keras_recipes import _validation

_MODEL_EXPECTED = "a built functional or Sequential keras.Model"
_SPEC_EXPECTED = "a layer name or a KerasTensor, or a non-empty list of them"


def submodel(model, outputs, inputs=None, name=None):
    """Return a part of a built functional model as a new `keras.Model`.

    The lecture's point about sub-models: once a model is built with the
    functional API every hidden layer is reachable, and the interesting part
    is often a hidden representation (the encoder of an autoencoder, the
    features of a classifier) rather than the output. The new model calls
    the very layers of `model`, so it shares their weights: nothing is
    copied, and training either model trains the other.

    A layer name in `outputs` means that layer's output. A layer name in
    `inputs` means the tensors flowing into that layer, which becomes the
    first layer of the new model: `inputs="decoder_dense_0"` gives the part
    of the graph from `decoder_dense_0` to `outputs`, the decoder half of an
    autoencoder that has no named decoder. An input layer's name means the
    model input itself. KerasTensors of `model`'s graph can be given
    instead of names, for a tensor no layer name picks out.

    The layers of a nested model (such as an `encoder` inside an
    autoencoder) are reached with `submodel(model.get_layer("encoder"), ...)`.

    Args:
        model: a built functional or Sequential `keras.Model`.
        outputs: the outputs of the new model: a layer name or a KerasTensor
            of `model`'s graph, or a list of them.
        inputs: where the new model starts: a layer name (the tensors that
            flow into that layer) or a KerasTensor of `model`'s graph, or a
            list of them. They must separate `outputs` from `model`'s inputs,
            and `outputs` must depend on each of them. `None` means the
            inputs of `model` that `outputs` depend on, in `model`'s order.
            Defaults to `None`.
        name: the new model's name; `None` lets Keras choose one.
            Defaults to `None`.

    Returns:
        An uncompiled `keras.Model` sharing `model`'s layers and weights. It
        has one input (output) when `inputs` (`outputs`) is one name or
        tensor that means one tensor, and a list otherwise.

    Raises:
        TypeError: `model` is not a Keras functional or Sequential model, or
            `outputs`, `inputs` or `name` has the wrong type.
        ValueError: `model` is an unbuilt Sequential model; a name is not a
            layer of `model` (the message lists the valid names) or names a
            layer called more than once in it; a tensor is not in `model`'s
            graph; or `inputs` do not separate `outputs` from `model`'s
            inputs, or include one that `outputs` do not depend on.

    Example:

    >>> import keras_recipes
    >>> model = keras_recipes.mlp(4, [3, 2, 4])
    >>> encoder = keras_recipes.submodel(model, "mlp_dense_1")
    >>> encoder.output.shape
    (None, 2)
    >>> decoder = keras_recipes.submodel(model, "mlp_dense_2", inputs="mlp_dense_2")
    >>> decoder.input.shape
    (None, 2)
    >>> encoder.get_layer("mlp_dense_0") is model.get_layer("mlp_dense_0")
    True
    """
    graph = _Graph(model)
    output_tensors, one_output = _tensors(graph, "outputs", outputs)
    if inputs is not None:
        input_tensors, one_input = _tensors(graph, "inputs", inputs)
    if name is not None:
        name = _validation.check_name(name)

    if inputs is None:
        used, _ = graph.ancestors(output_tensors, graph.inputs)
        input_tensors = [tensor for tensor in graph.inputs if id(tensor) in used]
        one_input = len(input_tensors) == 1
    else:
        _check_cut(graph, inputs, input_tensors, output_tensors)
        if not all(graph.producers[id(t)].is_input for t in input_tensors):
            input_tensors, output_tensors = _call_again(graph, input_tensors, output_tensors)

    return keras.Model(
        input_tensors[0] if one_input else input_tensors,
        output_tensors[0] if one_output else output_tensors,
        name=name,
    )


class _Graph:
    """The layer calls (`Node`s) of one model's graph, by layer and by tensor."""

    def __init__(self, model):
        # `keras.models.Model` is `keras.Model`, under a name that tests which
        # patch the constructor `keras.Model` to prove nothing is built
        # before validation leave alone.
        if not isinstance(model, keras.models.Model):
            raise _validation.wrong_type("model", _MODEL_EXPECTED, model)
        try:
            self.inputs = list(model.inputs)
            outputs = list(model.outputs)
        except AttributeError:
            if isinstance(model, keras.Sequential):
                raise _validation.invalid(
                    "model",
                    _MODEL_EXPECTED,
                    model,
                    "This Sequential model has no inputs yet. Once built it is "
                    "a functional graph: start it with `keras.Input(shape)`, "
                    "or call `model.build((None, *shape))` or call it on data "
                    "once",
                ) from None
            raise _validation.wrong_type(
                "model",
                f"{_MODEL_EXPECTED}; a subclassed model has no graph of layer "
                "calls to take a part of",
                model,
            ) from None
        self.model = model
        # Ids, not tensors, as keys: a KerasTensor overloads `==`.
        self.producers = {}
        self.nodes_by_layer = {}
        pending = [*outputs, *self.inputs]
        seen = set()
        while pending:
            tensor = pending.pop()
            node = _producer(tensor)
            if id(node) in seen:
                continue
            seen.add(id(node))
            for output in node.output_tensors:
                self.producers[id(output)] = node
            self.nodes_by_layer.setdefault(node.operation.name, []).append(node)
            if not node.is_input:
                pending.extend(node.input_tensors)

    def layer_names(self):
        """The names of the model's layers, in the model's order, input layers first."""
        names = [layer.name for layer in self.model.layers]
        extra = [name for name in self.nodes_by_layer if name not in names]
        return extra + [name for name in names if name in self.nodes_by_layer]

    def ancestors(self, tensors, stops):
        """Walk up from `tensors` to the tensors in `stops`.

        Returns:
            A pair: the ids of the `stops` reached, and the model inputs
            reached that are not in `stops`.
        """
        stop_ids = {id(tensor) for tensor in stops}
        used, leaks = set(), []
        pending, seen = list(tensors), set()
        while pending:
            tensor = pending.pop()
            if id(tensor) in seen:
                continue
            seen.add(id(tensor))
            if id(tensor) in stop_ids:
                used.add(id(tensor))
                continue
            node = self.producers[id(tensor)]
            if node.is_input:
                leaks.append(tensor)
            else:
                pending.extend(node.input_tensors)
        return used, leaks


def _producer(tensor):
    """The `Node` (layer call) that produced a KerasTensor."""
    operation, node_index, _ = tensor._keras_history
    return operation._inbound_nodes[node_index]


def _origin(tensor):
    """The name of the layer that produced `tensor`, and its output index if it has several."""
    node = _producer(tensor)
    if len(node.output_tensors) == 1:
        return node.operation.name, None
    index = next(i for i, t in enumerate(node.output_tensors) if t is tensor)
    return node.operation.name, index


def _describe(tensor):
    """Name a KerasTensor by the layer that produced it, for error messages."""
    layer_name, index = _origin(tensor)
    if index is None:
        return f"the output of layer '{layer_name}'"
    return f"output {index} of layer '{layer_name}'"


def _tensors(graph, argument, value):
    """The tensors that `outputs` or `inputs` name, and whether it means exactly one."""
    items = list(value) if _validation.is_sequence(value) else [value]
    if not items:
        raise _validation.invalid(argument, _SPEC_EXPECTED, value)
    tensors = []
    for item in items:
        if isinstance(item, str):
            tensors.extend(_named_tensors(graph, argument, value, item))
        elif isinstance(item, keras.KerasTensor):
            if id(item) not in graph.producers:
                raise _validation.invalid(
                    argument,
                    f"KerasTensors of the graph of model '{graph.model.name}'",
                    value,
                    f"{_describe(item)} is not computed by this model; a layer's "
                    "`.output` is the tensor of its first call, which may "
                    "belong to another model",
                )
            tensors.append(item)
        else:
            raise _validation.wrong_type(argument, _SPEC_EXPECTED, value)
    if argument == "inputs":
        # A tensor is one input however often it is named: a merge layer can
        # read one tensor twice, and two layers named can read the same one.
        unique = {id(tensor): tensor for tensor in tensors}
        tensors = list(unique.values())
    return tensors, not _validation.is_sequence(value) and len(tensors) == 1


def _named_tensors(graph, argument, value, layer_name):
    """The tensors a layer name means: its output, or for `inputs` its input."""
    names = graph.layer_names()
    nodes = graph.nodes_by_layer.get(layer_name)
    if nodes is None:
        raise _validation.invalid(
            argument,
            f"names of layers of model '{graph.model.name}'",
            value,
            _unknown_name_hint(graph, layer_name, names),
        )
    if len(nodes) > 1:
        single_use = [name for name in names if len(graph.nodes_by_layer[name]) == 1]
        raise _validation.invalid(
            argument,
            "names of layers called once in the model",
            value,
            f"Layer '{layer_name}' is called {len(nodes)} times in model "
            f"'{graph.model.name}' (a shared layer), so its name does not say "
            "which call is meant; pass that call's KerasTensor instead, for "
            "example the `.input` of the layer that reads it. Layers called "
            f"once: {single_use}",
        )
    (node,) = nodes
    if argument == "outputs" or node.is_input:
        return node.output_tensors
    return node.input_tensors


def _unknown_name_hint(graph, layer_name, names):
    """Say where a name that is not a layer of the graph might have come from."""
    for layer in graph.model.layers:
        if isinstance(layer, keras.models.Model) and _contains_layer(layer, layer_name):
            return (
                f"Layer '{layer_name}' is inside the nested model "
                f"'{layer.name}', which is one layer of this graph; take it "
                f"from `submodel(model.get_layer({layer.name!r}), ...)`. "
                f"Valid names: {names}"
            )
    close = difflib.get_close_matches(layer_name, names, n=3)
    guess = f"Did you mean {' or '.join(map(repr, close))}? " if close else ""
    return f"{guess}Valid names: {names}"


def _contains_layer(model, layer_name):
    """Whether `model` or a model nested in it has a layer named `layer_name`."""
    return any(
        layer.name == layer_name
        or (isinstance(layer, keras.models.Model) and _contains_layer(layer, layer_name))
        for layer in model.layers
    )


def _check_cut(graph, inputs, input_tensors, output_tensors):
    """Check that `outputs` depend on every input, and on nothing else upstream of them."""
    used, leaks = graph.ancestors(output_tensors, input_tensors)
    unused = [tensor for tensor in input_tensors if id(tensor) not in used]
    if unused:
        raise _validation.invalid(
            "inputs",
            "tensors that `outputs` depend on",
            inputs,
            f"`outputs` do not depend on {', '.join(map(_describe, unused))}: "
            "each input must lie upstream of `outputs`, and not behind "
            "another input",
        )
    if leaks:
        reached = [_producer(tensor).operation.name for tensor in leaks]
        raise _validation.invalid(
            "inputs",
            "tensors that separate `outputs` from the model's inputs",
            inputs,
            f"`outputs` also depend on the model input(s) {reached} by a path "
            "that does not pass through `inputs`: in a branched graph, cut "
            "every branch, or add those model inputs to `inputs`",
        )


def _call_again(graph, input_tensors, output_tensors):
    """Call the layers between `input_tensors` and `output_tensors` again, on new inputs.

    `keras.Model(intermediate_tensors, outputs)` would clone the graph
    itself, but Keras 3.15's `clone_graph_nodes` replaces every call of the
    layer that produced an intermediate input by the new input layer: a cut
    at the output of a shared layer's first call (shared_mlp's `f`) turns its
    second call into an input and fails with "Output ... is not connected to
    `inputs`". Calling each layer again on new `keras.Input`s, as the
    original model was built, has no such case, and the new inputs get
    readable names: `latent_output` for the output of layer `latent`
    (`latent_output_1` if that name is taken).

    Returns:
        The new model's input tensors and output tensors, as lists.
    """
    taken = set(graph.nodes_by_layer)
    new = {}
    for tensor in input_tensors:
        if graph.producers[id(tensor)].is_input:
            # A model input stays as it is: its input layer is shared too.
            new[id(tensor)] = tensor
            continue
        layer_name, index = _origin(tensor)
        input_name = f"{layer_name}_output" + ("" if index is None else f"_{index}")
        # Two calls of one shared layer give two inputs of the same origin.
        unique_name, suffix = input_name, 1
        while unique_name in taken:
            unique_name, suffix = f"{input_name}_{suffix}", suffix + 1
        taken.add(unique_name)
        new[id(tensor)] = keras.Input(
            batch_shape=tensor.shape,
            dtype=tensor.dtype,
            sparse=tensor.sparse,
            name=unique_name,
        )
    # Depth-first, each node once its inputs have new tensors: the order the
    # layers were called in when the model was built.
    pending = [(tensor, False) for tensor in reversed(output_tensors)]
    while pending:
        tensor, inputs_ready = pending.pop()
        if id(tensor) in new:
            continue
        node = graph.producers[id(tensor)]
        if inputs_ready:
            args, kwargs = node.arguments.fill_in(new)
            results = keras.tree.flatten(node.operation(*args, **kwargs))
            for old_output, new_output in zip(node.output_tensors, results):
                new[id(old_output)] = new_output
        else:
            pending.append((tensor, True))
            pending.extend((t, False) for t in node.input_tensors if id(t) not in new)
    return (
        [new[id(tensor)] for tensor in input_tensors],
        [new[id(tensor)] for tensor in output_tensors],
    )
