"""`assert_same_on_backends`: one model, the same weights, every installed Keras backend."""

import importlib.util
import json
import os
import pickle
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from keras_recipes import _validation

BACKENDS = ("tensorflow", "jax", "torch")
"""The Keras backends, each named as `KERAS_BACKEND` takes it and as its package is imported."""


@dataclass(frozen=True)
class BackendRun:
    """What `assert_same_on_backends` compared.

    Attributes:
        compared: the backends that built and ran the model, in order; the
            first one's weights went to the others.
        skipped: `{backend: reason}` for each backend asked for that is not
            installed.
    """

    compared: tuple
    skipped: dict


def _check_backends(backends):
    if not _validation.is_sequence(backends) or not backends:
        raise _validation.wrong_type("backends", f"a non-empty list or tuple of {BACKENDS}", backends)
    for backend in backends:
        if backend not in BACKENDS:
            raise _validation.invalid("backends", f"names among {BACKENDS}", backends)
    if len(set(backends)) != len(backends):
        raise _validation.invalid("backends", "each backend once", backends)
    return tuple(backends)


def _builder_spec(build, folder):
    if isinstance(build, str):
        module, colon, name = build.partition(":")
        if not colon or not module or not name.isidentifier():
            raise _validation.invalid("build", 'an importable "module:function" or a callable', build)
        return {"build": build}
    if not callable(build):
        raise _validation.wrong_type("build", 'an importable "module:function" or a callable', build)
    try:
        pickled = pickle.dumps(build)
    except (pickle.PicklingError, AttributeError, TypeError) as error:
        raise _validation.invalid(
            "build", "a picklable callable (a function defined at the top of an importable module)",
            build, f"Pickling failed: {error}. Or pass it as \"module:function\"",
        ) from None
    path = folder / "build.pickle"
    path.write_bytes(pickled)
    return {"pickled": str(path)}


def _as_arrays(inputs):
    import numpy as np

    if isinstance(inputs, (list, tuple)):
        arrays = [np.asarray(array) for array in inputs]
    else:
        arrays = [np.asarray(inputs)]
    if not arrays or any(array.dtype == object for array in arrays):
        raise _validation.wrong_type("inputs", "an array, or a list of arrays, of numbers", inputs)
    return arrays


def _run(backend, spec, folder, timeout):
    out = folder / backend
    out.mkdir()
    spec_path = folder / f"{backend}.json"
    spec_path.write_text(json.dumps(dict(spec, out=str(out))), encoding="utf-8")
    environment = dict(os.environ, KERAS_BACKEND=backend)
    environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # The builder's module may be importable only through this process's
    # path (a test folder that conftest.py put on sys.path).
    path = [entry for entry in sys.path if entry and os.path.isdir(entry)]
    environment["PYTHONPATH"] = os.pathsep.join(path)
    result = subprocess.run(
        [sys.executable, "-m", "keras_recipes.testing._parity_worker", str(spec_path)],
        env=environment, capture_output=True, text=True, timeout=timeout, check=False,
    )
    if result.returncode != 0:
        raise AssertionError(
            f"Building and running the model on {backend} failed (exit status "
            f"{result.returncode}):\n{result.stderr[-4000:]}"
        )
    return out


def assert_same_on_backends(
    build, inputs, backends=BACKENDS, *, rtol=1e-5, atol=1e-5, timeout=300
):
    """Check that a model computes the same on each installed Keras backend.

    Each backend runs in a subprocess of its own (`KERAS_BACKEND` is read
    once per process): the first builds the model and saves its weights,
    the others build it and load those weights; each predicts on `inputs`
    and counts the model's per-layer table. The outputs must agree within
    the tolerances and the tables exactly. A backend whose package is not
    installed is skipped, and the result says so. Compare deterministic
    models only: a layer that draws random numbers when predicting (a VAE's
    sampling) draws different ones on each backend.

    Args:
        build: a function of no arguments that returns a built
            `keras.Model`: an importable `"module:function"` string, or a
            picklable callable (a function defined at the top of an
            importable module, or a `functools.partial` of one).
        inputs: a numpy array, or a list of arrays for a model with
            several inputs.
        backends: the backends to compare, the first the reference: names
            among `"tensorflow"`, `"jax"` and `"torch"`. Defaults to all
            three.
        rtol: relative tolerance of the outputs. Defaults to `1e-5`.
        atol: absolute tolerance of the outputs. Defaults to `1e-5`.
        timeout: seconds each subprocess may take. Defaults to `300`.

    Returns:
        A `BackendRun`: the backends compared and those skipped, with why.

    Raises:
        AssertionError: a backend fails to build or run the model, or its
            outputs or table differ from the first backend's; the message
            names the backend, the output or layer, and both values.
        TypeError: `build`, `inputs` or `backends` is of the wrong type.
        ValueError: a backend name is unknown or repeated, `build` is not
            `"module:function"` or does not pickle, or a tolerance or the
            timeout is out of range.

    Example:

    `my_models.py` defines `build_classifier()`; in a test beside it:

    ```python
    run = assert_same_on_backends("my_models:build_classifier", images[:4])
    ```

    The builder is checked before any process starts:

    >>> import numpy as np
    >>> assert_same_on_backends("my_models.build_classifier", np.ones((2, 3)))
    Traceback (most recent call last):
    ...
    ValueError: Invalid value for argument `build`: expected an importable "module:function" or a callable. Received: build='my_models.build_classifier'
    """
    import numpy as np

    backends = _check_backends(backends)
    rtol = _validation.check_real_number("rtol", rtol)
    atol = _validation.check_real_number("atol", atol)
    timeout = _validation.check_positive_int("timeout", timeout)
    arrays = _as_arrays(inputs)
    # One installed backend is compared with nothing: the result says so.
    installed = [backend for backend in backends if importlib.util.find_spec(backend) is not None]
    skipped = {backend: f"{backend} is not installed" for backend in backends
               if backend not in installed}
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        spec = _builder_spec(build, folder)
        np.savez(folder / "inputs.npz", **{f"input_{i}": array for i, array in enumerate(arrays)})
        spec.update(inputs=str(folder / "inputs.npz"), weights=str(folder / "model.weights.h5"))
        results = {}
        for index, backend in enumerate(installed):
            results[backend] = _run(backend, dict(spec, save=index == 0), folder, timeout)
        _compare(results, rtol, atol)
    return BackendRun(compared=tuple(installed), skipped=skipped)


def _compare(results, rtol, atol):
    import numpy as np

    from keras_recipes.testing import _snapshot

    if len(results) < 2:
        return  # nothing to compare with: the caller reports what was skipped
    problems = []
    reference, *others = results
    with np.load(results[reference] / "outputs.npz") as data:
        expected = {key: data[key] for key in data.files}
    table = _snapshot.read(results[reference] / "table.json")
    for backend in others:
        with np.load(results[backend] / "outputs.npz") as data:
            actual = {key: data[key] for key in data.files}
        if sorted(actual) != sorted(expected):
            problems.append(f"{backend}: {len(actual)} outputs, {reference}: {len(expected)}")
            continue
        for key, value in expected.items():
            other = actual[key]
            if value.shape != other.shape:
                problems.append(f"{backend}: {key} has shape {other.shape}, {reference}: {value.shape}")
            elif not np.allclose(value, other, rtol=rtol, atol=atol):
                worst = np.unravel_index(np.argmax(np.abs(value - other)), value.shape)
                problems.append(
                    f"{backend}: {key} differs by up to {np.max(np.abs(value - other)):.3g} "
                    f"(at {tuple(int(i) for i in worst)}: {reference} {float(value[worst])!r}, "
                    f"{backend} {float(other[worst])!r})"
                )
        lines = _snapshot.diff(table, _snapshot.read(results[backend] / "table.json"))
        problems.extend(f"{backend} table: {line}" for line in lines)
    if problems:
        raise AssertionError(
            f"The model differs between backends ({reference} is the reference):\n"
            + "\n".join(f"  - {problem}" for problem in problems)
        )

