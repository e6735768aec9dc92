"""Training smoke checks: `assert_trains` and `assert_serializable`."""

import inspect
import math
import os
import tempfile

from keras_recipes import _validation


def _keras():
    # Imported when a check runs, so that `import keras_recipes.testing` and
    # the pytest plugin stay free of Keras.
    import keras

    return keras


def _check_model(model):
    keras = _keras()
    if not isinstance(model, keras.Model):
        raise _validation.wrong_type("model", "a keras.Model", model)
    return keras


def _is_float(variable):
    return "float" in _keras().backend.standardize_dtype(variable.dtype)


def _unique_names(model):
    """{id(variable): name} for the model's variables: the path, with `#2` on a repeat.

    Two nested models may hold layers of the same name, whose variables then
    share a path.
    """
    names, seen = {}, {}
    for variable in model.variables:
        count = seen.get(variable.path, 0) + 1
        seen[variable.path] = count
        names[id(variable)] = variable.path if count == 1 else f"{variable.path}#{count}"
    return names


def _values(variables, names):
    """{name: numpy copy} of the floating-point `variables`.

    Integer variables are left out: they are random-seed states (Dropout's,
    Sampling's) and counters, which change whenever they are used.
    """
    ops = _keras().ops
    return {names.get(id(variable), variable.path): ops.convert_to_numpy(variable).copy()
            for variable in variables if _is_float(variable)}


def _changed(before, after):
    import numpy as np

    return {path for path, value in before.items() if not np.array_equal(value, after[path])}


def _gradients(model, x, y, names):
    """{path: whether a non-zero gradient of the model's loss reaches it} for each trainable variable.

    The loss is the model's `compute_loss` in training mode, as Keras's own
    `train_step` computes it, differentiated the way each backend's trainer
    does. TensorFlow and PyTorch give no gradient to a variable outside the
    loss's graph, JAX a zero one: both count as not reached.
    """
    import numpy as np

    keras = _keras()
    variables = model.trainable_variables
    x = keras.tree.map_structure(keras.ops.convert_to_tensor, x)
    y = None if y is None else keras.tree.map_structure(keras.ops.convert_to_tensor, y)
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            y_pred = model(x, training=True)
            loss = model.compute_loss(x=x, y=y, y_pred=y_pred, training=True)
        gradients = tape.gradient(loss, variables)
    elif backend == "torch":
        import torch

        y_pred = model(x, training=True)
        loss = model.compute_loss(x=x, y=y, y_pred=y_pred, training=True)
        gradients = torch.autograd.grad(loss, [variable.value for variable in variables],
                                        allow_unused=True)
    elif backend == "jax":
        import jax

        non_trainable = [variable.value for variable in model.non_trainable_variables]
        metrics = [variable.value for variable in model.metrics_variables]
        optimizer = [variable.value for variable in model.optimizer.variables]

        def loss_of(trainable):
            loss, _ = model.compute_loss_and_updates(
                trainable, non_trainable, metrics, x, y, None, training=True,
                optimizer_variables=optimizer,
            )
            return loss

        gradients = jax.grad(loss_of)([variable.value for variable in variables])
    else:  # pragma: no cover - Keras has these three backends (and numpy, which cannot train).
        raise RuntimeError(f"assert_trains cannot differentiate on the {backend!r} backend")
    return {
        names[id(variable)]: gradient is not None
        and bool(np.any(keras.ops.convert_to_numpy(gradient) != 0))
        for variable, gradient in zip(variables, gradients)
    }


def _fail_on(model, failure, problems):
    """Raise one `AssertionError` listing `problems`, if there are any."""
    if problems:
        raise AssertionError(
            f"Model {model.name!r} {failure}:\n" + "\n".join(f"  - {problem}" for problem in problems)
        )


def _names(paths):
    return ", ".join(sorted(paths))


def assert_trains(model, x, y=None, *, steps=10, frozen=()):
    """Check that a compiled model learns from one fixed batch.

    A smoke test for a new architecture, in the spirit of torchtest: it
    trains `model` for `steps` steps on the batch `(x, y)` with the
    optimizer and loss it was compiled with, and checks that

    - the loss is finite at every step and lower at the last than at the
      first;
    - a non-zero gradient of the loss reaches every trainable variable (a
      layer left out of the path from the inputs to the loss gets none),
      and every trainable variable changes;
    - every non-trainable floating-point variable either changes in
      training only (a moving statistic, as BatchNormalization's mean and
      variance: it must not change when the model predicts) or is listed
      in `frozen`, and then does not change at all. An unlisted one that
      never changes is reported: it is frozen on purpose (list it) or
      untrainable by mistake.

    Integer variables (random-seed states, counters) are not checked. The
    model given is trained in place, optimizer state included: pass a
    freshly built model, not one whose weights you still need.

    Args:
        model: a compiled `keras.Model`.
        x: the batch's inputs, as `model.fit` takes them.
        y: the batch's targets, or `None` for a model whose loss needs
            none (an autoencoder's `compute_loss`). Defaults to `None`.
        steps: training steps on the batch: an integer of at least 2.
            Defaults to `10`.
        frozen: paths of variables (`"dense/kernel"`) or prefixes of them
            (`"backbone/"`) that are non-trainable on purpose. Defaults to
            `()`.

    Returns:
        The losses of the steps, a list of floats (each computed before
        that step's update).

    Raises:
        AssertionError: a check fails; the message names every offending
            variable by its path.
        TypeError: `model` is not a `keras.Model`, `steps` not an integer,
            or `frozen` not a sequence of strings.
        ValueError: `steps` is below 2, or the model is not compiled.

    Example:

    >>> import keras, numpy as np
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="out")])
    >>> model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    >>> x, y = np.ones((4, 3), "float32"), np.zeros((4, 2), "float32")
    >>> losses = assert_trains(model, x, y, steps=3)
    >>> losses[-1] < losses[0]
    True
    """
    import numpy as np

    _check_model(model)
    if not _validation.is_int(steps):
        raise _validation.wrong_type("steps", "an integer of at least 2", steps)
    if steps < 2:
        raise _validation.invalid("steps", "an integer of at least 2 (one step shows no trend)", steps)
    if isinstance(frozen, str) or not _validation.is_sequence(frozen) or not all(
        isinstance(path, str) for path in frozen
    ):
        raise _validation.wrong_type("frozen", "a list or tuple of variable paths", frozen)
    if not getattr(model, "compiled", False) or model.optimizer is None:
        raise _validation.invalid(
            "model", "a compiled model", model, "Call model.compile(optimizer=..., loss=...) first"
        )

    def is_frozen(path):
        return any(path == name or path.startswith(name) for name in frozen)

    problems = []
    names = _unique_names(model)
    before = _values(model.variables, names)
    # Inference first: nothing may change when the model predicts.
    model.predict(x, verbose=0)
    in_inference = _changed(before, _values(model.variables, names))
    if in_inference:
        problems.append(f"changed when the model predicted (not in training): {_names(in_inference)}")

    losses = []
    for _ in range(steps):
        logs = model.train_on_batch(x, y, return_dict=True)
        losses.append(float(np.asarray(logs["loss"])))
    bad = [f"step {step + 1}: {loss}" for step, loss in enumerate(losses) if not math.isfinite(loss)]
    if bad:
        problems.append(f"the loss is not finite: {', '.join(bad)}")
    elif losses[-1] >= losses[0]:
        problems.append(
            f"the loss did not go down in {steps} steps on one batch: {losses[0]:.6g} at the "
            f"first, {losses[-1]:.6g} at the last (learning rate too low, or too few steps?)"
        )

    after = _values(model.variables, names)
    changed = _changed(before, after)
    trainable = {names[id(variable)] for variable in model.trainable_variables if _is_float(variable)}
    reached = _gradients(model, x, y, names)
    unreached = {path for path, has_gradient in reached.items() if not has_gradient}
    if unreached:
        problems.append(
            "no gradient reaches these trainable variables (is their layer on the path "
            f"from the inputs to the loss?): {_names(unreached)}"
        )
    still = trainable - changed - unreached
    if still:
        problems.append(f"these trainable variables did not change in training: {_names(still)}")
    non_trainable = set(before) - trainable
    frozen_changed = {path for path in non_trainable & changed if is_frozen(path)}
    if frozen_changed:
        problems.append(f"these variables listed in `frozen` changed in training: {_names(frozen_changed)}")
    idle = {path for path in non_trainable - changed if not is_frozen(path)}
    if idle:
        problems.append(
            "these non-trainable variables neither learn nor update as statistics (marked "
            "untrainable by mistake? if they are frozen on purpose, list them in `frozen`): "
            f"{_names(idle)}"
        )
    _fail_on(model, "does not train as it should", problems)
    return losses


def _own_layers(model):
    """The model and every layer in it, nested ones included, each once."""
    seen, stack, layers = set(), [model], []
    while stack:
        layer = stack.pop()
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        layers.append(layer)
        stack.extend(reversed(getattr(layer, "layers", None) or []))
        inner = getattr(layer, "layer", None)  # wrappers: Bidirectional, TimeDistributed
        if inner is not None and hasattr(inner, "get_config"):
            stack.append(inner)
    return layers


def _missing_arguments(layer):
    """The constructor arguments of a layer's class that its `get_config()` leaves out.

    Only for classes defined outside Keras (Keras's own are tested by Keras,
    and some leave out arguments at their defaults on purpose).
    """
    cls = type(layer)
    if cls.__module__.split(".")[0] == "keras":
        return []
    config = layer.get_config()
    parameters = inspect.signature(cls.__init__).parameters.values()
    return [
        parameter.name
        for parameter in list(parameters)[1:]
        if parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY)
        and parameter.name not in config
    ]


def _plain(value):
    """A config with its tuples as lists: a reloaded config has lists where the original had tuples."""
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _config_differences(old, new, where="config"):
    """`where: original X, reloaded Y` for each leaf that differs between two plain configs."""
    if isinstance(old, dict) and isinstance(new, dict):
        return [
            line
            for key in dict.fromkeys([*old, *new])
            for line in _config_differences(old.get(key), new.get(key), f"{where}[{key!r}]")
        ]
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [
            line
            for index, (first, second) in enumerate(zip(old, new))
            for line in _config_differences(first, second, f"{where}[{index}]")
        ]
    return [] if old == new else [f"{where}: original {old!r}, reloaded {new!r}"]


def _example_input(model):
    import numpy as np

    shapes = []
    for tensor in model.inputs or []:
        shape = tuple(tensor.shape)
        if any(dim is None for dim in shape[1:]):
            raise _validation.invalid(
                "x", "an input batch for a model whose inputs have unknown sizes",
                None, f"The model's input shape is {shape}",
            )
        shapes.append((2, *shape[1:]))
    if not shapes:
        raise _validation.invalid(
            "x", "an input batch for a model that was not built on keras.Input", None
        )
    generator = np.random.default_rng(0)
    arrays = [generator.standard_normal(shape).astype("float32") for shape in shapes]
    return arrays[0] if len(arrays) == 1 else arrays


def assert_serializable(model, x=None, *, rtol=1e-6, atol=1e-6):
    """Check that a model saves to `.keras` and reloads under `safe_mode=True` unchanged.

    Saves `model` to a temporary `.keras` file, loads it back with
    `keras.saving.load_model(..., safe_mode=True)` (its custom classes must
    be registered), and checks that the reloaded model's `get_config()`
    equals the original's, that its predictions on `x` are the same within
    the tolerances, and that every layer of a class defined outside Keras
    lists each argument of its constructor in its `get_config()` (one that
    does not is rebuilt with the default when loaded).

    Args:
        model: a built `keras.Model`.
        x: inputs to predict on, or `None` for a seeded standard-normal
            batch of 2 shaped like the model's inputs. Defaults to `None`.
        rtol: relative tolerance of the predictions. Defaults to `1e-6`.
        atol: absolute tolerance of the predictions. Defaults to `1e-6`.

    Returns:
        The reloaded model.

    Raises:
        AssertionError: the model does not reload, or reloads different;
            the message names the offending layers.
        TypeError: `model` is not a `keras.Model`.
        ValueError: `x` is `None` and the model's inputs have unknown sizes.

    Example:

    >>> import keras
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    >>> assert_serializable(model).count_params()
    8
    """
    import numpy as np

    keras = _check_model(model)
    rtol = _validation.check_real_number("rtol", rtol)
    atol = _validation.check_real_number("atol", atol)
    problems = []
    for layer in _own_layers(model):
        missing = _missing_arguments(layer)
        if missing:
            problems.append(
                f"layer {layer.name!r} ({type(layer).__name__}): get_config() leaves out the "
                f"constructor arguments {', '.join(missing)}"
            )
    if x is None:
        x = _example_input(model)
    expected = keras.tree.flatten(model.predict(x, verbose=0))
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.keras")
        model.save(path)
        try:
            reloaded = keras.saving.load_model(path, safe_mode=True)
        except Exception as error:
            raise AssertionError(
                f"Model {model.name!r} saved but did not reload with safe_mode=True: "
                f"{type(error).__name__}: {error}"
            ) from error
    old_config, new_config = _plain(model.get_config()), _plain(reloaded.get_config())
    if new_config != old_config:
        problems.append(
            "the reloaded model's get_config() differs from the original's: "
            + "; ".join(_config_differences(old_config, new_config)[:10])
        )
    actual = keras.tree.flatten(reloaded.predict(x, verbose=0))
    for index, (old, new) in enumerate(zip(expected, actual)):
        if old.shape != new.shape or not np.allclose(old, new, rtol=rtol, atol=atol):
            difference = np.max(np.abs(old - new)) if old.shape == new.shape else "shape"
            problems.append(
                f"output {index} of the reloaded model differs from the original's "
                f"(largest difference {difference})"
            )
    _fail_on(model, "does not survive saving and reloading", problems)
    return reloaded
