"""param_count on keras.applications: architectures nobody here wrote.

Each builder is built once (module-scoped cache) with `weights=None`, so
nothing is downloaded. Three keep the default config (include_top and the
default input size), for the published totals; the others are built with
`include_top=False` on the smallest input they accept, which changes no
convolution's count and builds faster. Builders that take several seconds on
2 cores and add no layer kind the others lack are skipped by default; set
`KERAS_RECIPES_ALL_APPLICATIONS=1` to run every builder (all 40 of Keras 3.15
matched when this file was written).
"""

import inspect
import json
import math
import os
import subprocess
import sys
import textwrap

import keras
import pytest

from keras_recipes.param_count import ParamCount, count_model

# Builder name -> keyword arguments besides weights=None.
DEFAULT_CONFIG = {"ResNet50": {}, "EfficientNetB0": {}, "MobileNet": {}}
SMALL = {
    "VGG16": 32, "VGG19": 32, "Xception": 71, "MobileNetV2": 32, "MobileNetV3Small": 32,
    "MobileNetV3Large": 32, "ResNet50V2": 32, "InceptionV3": 75, "ConvNeXtTiny": 32,
    "EfficientNetV2B0": 32, "DenseNet121": 32, "NASNetMobile": 32, "InceptionResNetV2": 75,
}
APPLICATIONS = {
    **DEFAULT_CONFIG,
    **{name: {"include_top": False, "input_shape": (size, size, 3)} for name, size in SMALL.items()},
}

_SLOW = "builds in 3 to 15 s on 2 cores"
SKIPPED = {
    **{name: f"{_SLOW}; same blocks as DenseNet121" for name in ("DenseNet169", "DenseNet201")},
    **{f"EfficientNetB{i}": f"{_SLOW}; same blocks as EfficientNetB0" for i in range(1, 8)},
    **{
        f"EfficientNetV2{size}": f"{_SLOW}; same blocks as EfficientNetV2B0"
        for size in ("B1", "B2", "B3", "S", "M", "L")
    },
    **{name: f"{_SLOW}; same blocks as ResNet50" for name in ("ResNet101", "ResNet152")},
    **{name: f"{_SLOW}; same blocks as ResNet50V2" for name in ("ResNet101V2", "ResNet152V2")},
    **{
        f"ConvNeXt{size}": f"{_SLOW} (up to 350M parameters); same blocks as ConvNeXtTiny"
        for size in ("Small", "Base", "Large", "XLarge")
    },
    "NASNetLarge": f"{_SLOW}; same blocks as NASNetMobile",
}

if os.environ.get("KERAS_RECIPES_ALL_APPLICATIONS"):
    APPLICATIONS.update({name: {} for name in SKIPPED})
    SKIPPED = {}

# Builders Keras itself refuses on a backend: NASNetMobile raises "not
# available with the torch backend at this time due to an outstanding bug".
_NOT_ON_TORCH = "Keras 3.15 refuses to build NASNetMobile on PyTorch (an outstanding Keras bug)"
BACKEND_MARKS = {"NASNetMobile": pytest.mark.backend("tensorflow", "jax", reason=_NOT_ON_TORCH)}
UNAVAILABLE = {"torch": {"NASNetMobile"}}.get(keras.backend.backend(), set())


def _applications():
    """The tested builders as pytest params, marked where a backend cannot build them."""
    return [pytest.param(name, marks=BACKEND_MARKS.get(name, ())) for name in sorted(APPLICATIONS)]


BUILDERS = sorted(
    name
    for name, value in vars(keras.applications).items()
    if inspect.isfunction(value) and name[:1].isupper()
)


def keras_count(model):
    """The `ParamCount` Keras reports, from the model's weights."""
    return ParamCount(
        sum(math.prod(weight.shape) for weight in model.trainable_weights),
        sum(math.prod(weight.shape) for weight in model.non_trainable_weights),
    )


@pytest.fixture(scope="module")
def built():
    """A cache of built application models, each built on first use."""
    models = {}

    def get(name):
        if name not in models:
            models[name] = getattr(keras.applications, name)(weights=None, **APPLICATIONS[name])
        return models[name]

    yield get
    models.clear()
    keras.backend.clear_session()


def test_every_builder_is_tested_or_skipped_with_a_reason():
    """Each keras.applications builder is in the tested table or the skip list, never neither."""
    assert sorted({*APPLICATIONS, *SKIPPED}) == BUILDERS


@pytest.mark.parametrize("name", _applications())
def test_count_model_equals_count_params(name, built):
    """The walker's total and split equal Keras's, and no built-in layer falls back."""
    model = built(name)
    table = count_model(model)
    assert table.total == keras_count(model)
    assert table.total.total == model.count_params()
    assert [row.path for row in table.rows if row.status == "fallback"] == []


@pytest.mark.parametrize(
    "name, expected",
    [
        ("ResNet50", ParamCount(25_583_592, 53_120)),
        ("EfficientNetB0", ParamCount(5_288_548, 42_023)),
    ],
)
def test_published_totals(name, expected, built):
    """The default ResNet50 and EfficientNetB0 match their published totals and splits."""
    assert count_model(built(name)).total == expected


_COUNT_FILES = textwrap.dedent(
    """
    import json, sys
    from keras_recipes.param_count import count_config
    totals = {}
    rows = {}
    for name, path in json.loads(sys.argv[1]).items():
        table = count_config(path)
        total = table.total
        totals[name] = [total.trainable, total.non_trainable]
        rows[name] = [[r.path, r.count.trainable, r.count.non_trainable, r.status]
                      for r in table.rows]
    heavy = sorted(m for m in ("keras", "tensorflow", "jax", "torch") if m in sys.modules)
    print(json.dumps({"totals": totals, "rows": rows, "imported": heavy}))
    """
)


def count_files_in_fresh_python(paths):
    """Run count_config on each saved file in a new interpreter; return its totals and heavy imports."""
    result = subprocess.run(
        [sys.executable, "-c", _COUNT_FILES, json.dumps({k: str(v) for k, v in paths.items()})],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_count_config_from_saved_files_without_keras(built, tmp_path):
    """From each saved .keras file, count_config gives Keras's split, and count_model's rows, without Keras."""
    paths = {}
    for name in sorted(set(APPLICATIONS) - UNAVAILABLE):
        paths[name] = tmp_path / f"{name}.keras"
        built(name).save(paths[name])
    answer = count_files_in_fresh_python(paths)
    assert answer["imported"] == []
    assert answer["totals"] == {
        name: [keras_count(built(name)).trainable, keras_count(built(name)).non_trainable]
        for name in paths
    }
    # Row by row, the saved file and the live model give the same table.
    for name in paths:
        live = [[r.path, r.count.trainable, r.count.non_trainable, r.status]
                for r in count_model(built(name)).rows]
        assert answer["rows"][name] == live, name
