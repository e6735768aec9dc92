"""Every recipe on whichever backend the suite runs on: seeds decide everything, and files cross backends.

Run the suite with `KERAS_BACKEND=tensorflow`, `jax` or `torch`; these tests
hold on each. The cross-backend test loads the files saved here in one
subprocess per other backend (skipped for a backend that is not installed).
"""

import importlib.util
import inspect
import json
import os
import subprocess
import sys
import textwrap
import warnings

import keras
import numpy as np
import pytest
from test_recipes import RECIPES, TRAINS_WITHOUT_TARGETS, _id, _inputs, _targets

import keras_recipes

BACKENDS = ("tensorflow", "jax", "torch")


def _takes_seed(name):
    return "seed" in inspect.signature(getattr(keras_recipes, name)).parameters


def _build(row, seed):
    """The row's model, with `seed` in place of the row's own (builders without one ignore it)."""
    name, args, kwargs, _ = row
    kwargs = {**kwargs, "seed": seed} if _takes_seed(name) else kwargs
    return getattr(keras_recipes, name)(*args, **kwargs)


def _numpy_list(outputs):
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return [keras.ops.convert_to_numpy(output) for output in outputs]


def _fit_a_little(model, name):
    """Two steps of `fit` on fixed data, in order; returns the losses."""
    targets = None if name in TRAINS_WITHOUT_TARGETS else _targets(model, batch_size=8)
    with warnings.catch_warnings():
        # The averaging model has no weights to train, and Keras says so.
        warnings.filterwarnings("ignore", "The model does not have any trainable weights")
        history = model.fit(
            _inputs(model, batch_size=8), targets, epochs=1, batch_size=4, shuffle=False, verbose=0
        )
    return history.history["loss"]


# === Seeds ===


@pytest.mark.parametrize("row", RECIPES, ids=[_id(row) for row in RECIPES])
def test_same_seed_gives_the_same_weights_outputs_and_training(row):
    """Two builds with one seed have equal weights, predict the same, and train to equal weights and losses."""
    name = row[0]
    first, second = _build(row, seed=11), _build(row, seed=11)
    for before, after in zip(first.get_weights(), second.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)
    # `predict`, not a direct call: the VAE samples its z even when predicting,
    # from a stream its seed decides.
    x = _inputs(first, batch_size=3)
    for a, b in zip(_numpy_list(first.predict(x, verbose=0)), _numpy_list(second.predict(x, verbose=0)), strict=True):
        np.testing.assert_array_equal(a, b)
    assert _fit_a_little(first, name) == _fit_a_little(second, name)
    for before, after in zip(first.get_weights(), second.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)


@pytest.mark.parametrize(
    "row",
    [row for row in RECIPES if _takes_seed(row[0])],
    ids=[_id(row) for row in RECIPES if _takes_seed(row[0])],
)
def test_different_seeds_give_different_weights(row):
    """Builds with seeds 11 and 12 differ in every random weight (biases, BatchNorm's ones and zeros are constants)."""
    first, second = _build(row, seed=11), _build(row, seed=12)
    kernels = [
        (a, b)
        for a, b in zip(first.get_weights(), second.get_weights(), strict=True)
        if np.ptp(a) > 0 or np.ptp(b) > 0
    ]
    assert kernels
    assert all(not np.array_equal(a, b) for a, b in kernels)


# === Files across backends ===

# Run in a fresh interpreter with another KERAS_BACKEND: load every file
# under safe_mode=True and save what `outputs_for` gives on the saved inputs.
_LOAD_ELSEWHERE = textwrap.dedent(
    """
    import json, sys
    import keras
    import numpy as np
    import keras_recipes  # registers the library's classes
    sys.path.insert(0, sys.argv[2])
    from test_backends import outputs_for
    cases = json.loads(sys.argv[1])
    results = {}
    for key, case in cases.items():
        model = keras.saving.load_model(case["file"], safe_mode=True)
        inputs = np.load(case["inputs"], allow_pickle=False)
        feed = [inputs[f"x{i}"] for i in range(len(inputs.files))]
        outputs = outputs_for(model, feed[0] if len(feed) == 1 else feed)
        np.savez(case["answer"], *outputs)
        results[key] = keras.backend.backend()
    print(json.dumps(results))
    """
)


def outputs_for(model, x):
    """What a model computes from `x` that no random draw decides, as numpy arrays.

    The VAE samples z with the backend's own generator, so its
    reconstruction differs across backends by design; compared instead are
    z_mean, z_log_var and the decoder's output at z_mean.
    """
    if type(model).__name__ == "VariationalAutoencoder":
        _, z_mean, z_log_var = model.predict(x, verbose=0)
        decoded = model.get_layer("decoder").predict(z_mean, verbose=0)
        return [keras.ops.convert_to_numpy(t) for t in (z_mean, z_log_var, decoded)]
    return _numpy_list(model.predict(x, verbose=0))


def _other_backends():
    here = keras.backend.backend()
    return [
        pytest.param(
            backend,
            marks=pytest.mark.skipif(
                importlib.util.find_spec(backend) is None, reason=f"{backend} is not installed"
            ),
        )
        for backend in BACKENDS
        if backend != here
    ]


@pytest.mark.parametrize("backend", _other_backends())
def test_files_saved_here_load_on_another_backend_and_predict_the_same(backend, tmp_path):
    """Every recipe's .keras file saved on this backend loads under safe_mode=True on `backend` and predicts the same."""
    cases, expected = {}, {}
    for index, row in enumerate(RECIPES):
        key = f"{index}-{row[0]}"
        model = _build(row, seed=5)
        x = _inputs(model, batch_size=3, seed=index)
        arrays = x if isinstance(x, list) else [x]
        cases[key] = {
            "file": str(tmp_path / f"{key}.keras"),
            "inputs": str(tmp_path / f"{key}-inputs.npz"),
            "answer": str(tmp_path / f"{key}-{backend}.npz"),
        }
        model.save(cases[key]["file"])
        np.savez(cases[key]["inputs"], **{f"x{i}": array for i, array in enumerate(arrays)})
        expected[key] = outputs_for(model, x)
    environment = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run(
        [sys.executable, "-c", _LOAD_ELSEWHERE, json.dumps(cases), os.path.dirname(__file__)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    loaded_on = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded_on == {key: backend for key in cases}
    for key, outputs in expected.items():
        with np.load(cases[key]["answer"]) as answer:
            elsewhere = [answer[f"arr_{i}"] for i in range(len(answer.files))]
        assert len(elsewhere) == len(outputs), key
        for here, there in zip(outputs, elsewhere):
            np.testing.assert_allclose(there, here, rtol=1e-5, atol=1e-5, err_msg=key)
