"""The package as a whole: cheap imports, lazy builders, exports, registration."""

import importlib.metadata
import inspect
import os
import re
import subprocess
import sys
import textwrap

import pytest

import keras_recipes
from keras_recipes import param_count

BUILDERS = [
    "mlp",
    "shared_mlp",
    "branch_merge",
    "averaging_layer",
    "vae",
    "autoencoder",
    "split_brain_ae",
]


def _run(code, cwd=None):
    """Run `code` in a fresh interpreter and return its standard output."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_param_count_imports_neither_keras_nor_tensorflow():
    """`import keras_recipes.param_count` loads no Keras, TensorFlow, JAX or torch."""
    output = _run(
        """
        import sys
        import keras_recipes.param_count
        from keras_recipes import param_count
        param_count.mlp(2, [3, 2, 3]); param_count.conv(3, 8, 3)
        heavy = {"keras", "tensorflow", "jax", "torch", "numpy"}
        print(sorted(heavy & {name.split(".")[0] for name in sys.modules}))
        """
    )
    assert output.strip() == "[]"


def test_package_import_is_cheap_until_a_builder_is_touched():
    """`import keras_recipes` loads no Keras; touching a builder does."""
    output = _run(
        """
        import sys
        import keras_recipes
        print("keras" in sys.modules)
        keras_recipes.mlp
        print("keras" in sys.modules)
        """
    )
    assert output.split() == ["False", "True"]


@pytest.mark.parametrize("name", BUILDERS)
def test_builders_are_functions_even_after_their_module_is_imported(name):
    """`keras_recipes.<builder>` is the function, not the module that holds it."""
    importlib.import_module(keras_recipes._BUILDERS[name])
    builder = getattr(keras_recipes, name)
    assert inspect.isfunction(builder)
    assert builder.__name__ == name


def test_layers_is_the_layers_module():
    """`keras_recipes.layers` is the module holding the registered layers."""
    assert keras_recipes.layers.FeatureMean.__name__ == "FeatureMean"


def test_unknown_attribute_raises_attribute_error():
    """A name the package does not export raises AttributeError, naming it."""
    with pytest.raises(AttributeError, match="no_such_recipe"):
        keras_recipes.no_such_recipe  # noqa: B018


def test_dir_lists_every_export():
    """`dir(keras_recipes)` lists every builder, even before it is loaded."""
    assert set(keras_recipes.__all__) <= set(dir(keras_recipes))
    assert set(BUILDERS) <= set(keras_recipes.__all__)


@pytest.mark.parametrize("name", BUILDERS)
def test_param_count_takes_exactly_the_builders_arguments(name):
    """Each recipe count has the builder's parameters: names, kinds and defaults."""
    builder = inspect.signature(getattr(keras_recipes, name)).parameters
    counter = inspect.signature(getattr(param_count, name)).parameters
    assert [(p.name, p.kind, p.default) for p in counter.values()] == [
        (p.name, p.kind, p.default) for p in builder.values()
    ]


def test_version_matches_the_installed_metadata():
    """`__version__` is the version pip installed."""
    assert keras_recipes.__version__ == importlib.metadata.version("keras-recipes")


def test_py_typed_ships_with_the_package():
    """The package is marked as typed (PEP 561)."""
    package_dir = os.path.dirname(keras_recipes.__file__)
    assert os.path.isfile(os.path.join(package_dir, "py.typed"))


def test_importing_after_keras_registers_the_layers(tmp_path):
    """After `import keras`, `import keras_recipes` alone lets load_model find FeatureMean and the VAE's classes."""
    path = tmp_path / "average.keras"
    keras_recipes.averaging_layer(3).save(path)
    vae_path = tmp_path / "vae.keras"
    keras_recipes.vae(3, hidden_units=[2]).save(vae_path)
    output = _run(
        f"""
        import keras
        import keras_recipes
        model = keras.saving.load_model({str(path)!r})
        print(type(model.layers[-1]).__name__)
        vae = keras.saving.load_model({str(vae_path)!r})
        sampling = vae.get_layer("encoder").get_layer("vae_sampling")
        print(type(vae).__name__, type(sampling).__name__)
        """
    )
    assert output.strip().splitlines()[-2:] == [
        "FeatureMean",
        "VariationalAutoencoder Sampling",
    ]


def _registered_by_the_library():
    """Registered names of every class in the library's modules, all imported."""
    import pkgutil

    import keras

    for module in pkgutil.walk_packages(keras_recipes.__path__, "keras_recipes."):
        importlib.import_module(module.name)
    names = keras.saving.get_custom_objects()
    return sorted(name for name in names if name.startswith("keras_recipes>"))


def test_importing_layers_registers_every_class_of_the_library():
    """`import keras_recipes.layers` alone registers what every module of the library registers."""
    registered = _registered_by_the_library()
    # The classes a saved recipe refers to, so that the comparison is not vacuous.
    assert {
        "keras_recipes>FeatureMean",
        "keras_recipes>Sampling",
        "keras_recipes>SelectChannels",
        "keras_recipes>SplitBrainAutoencoder",
        "keras_recipes>VariationalAutoencoder",
        "keras_recipes>Autoencoder",
        "keras_recipes>ReconstructionError",
    } <= set(registered)
    output = _run(
        """
        import keras_recipes.layers
        import keras
        names = keras.saving.get_custom_objects()
        print(sorted(name for name in names if name.startswith("keras_recipes>")))
        """
    )
    assert output.strip().splitlines()[-1] == repr(registered)


# === The declared floors, as .ci/run's lowest-versions leg installs them ===

_REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _lowest_constraints():
    """.ci/lowest_constraints.py as a module (.ci/ is not a package)."""
    import importlib.util

    path = os.path.join(_REPOSITORY, ".ci", "lowest_constraints.py")
    spec = importlib.util.spec_from_file_location("lowest_constraints", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _pyproject(dependencies, test, build=(), docs=()):
    return {
        "build-system": {"requires": list(build)},
        "project": {"dependencies": dependencies,
                    "optional-dependencies": {"test": test, "docs": list(docs)}},
    }


def test_lowest_constraints_pin_every_declared_floor():
    """Each `>=` floor and `==` pin of the build system, the dependencies and every extra becomes
    `name==version`; unfloored ones are left to pip."""
    import tomllib

    with open(os.path.join(_REPOSITORY, "pyproject.toml"), "rb") as file:
        pyproject = tomllib.load(file)
    pins = _lowest_constraints().lowest_constraints(pyproject)
    project = pyproject["project"]
    declared = {
        requirement
        for requirement in (
            *pyproject["build-system"]["requires"],
            *project["dependencies"],
            *(item for extra in project["optional-dependencies"].values() for item in extra),
        )
        if ">=" in requirement or "==" in requirement
    }
    names = set()
    for requirement in declared:
        name, version = (part.strip() for part in re.split(">=|==", requirement))
        name = re.sub(r"\[.*\]", "", name).lower()
        names.add(name)
        assert f"{name}=={version}" in pins
    assert len(pins) == len(names) > 0
    assert {"keras", "setuptools", "mkdocstrings", "torch"} <= names
    assert _lowest_constraints().lowest_constraints(
        _pyproject(["Keras[extra] >= 3.15", "numpy"], ["pytest>=8"], build=["setuptools>=77"],
                   docs=["mkdocs==1.6.1", "pytest>=8"])
    ) == ["setuptools==77", "keras==3.15", "pytest==8", "mkdocs==1.6.1"]


@pytest.mark.parametrize(
    "requirement",
    ["keras>=3.15,<4", "keras<4", "keras>=3.15; python_version>'3.11'", "keras~=3.15", "keras!=3.14"],
)
def test_lowest_constraints_refuse_a_bound_they_cannot_pin(requirement):
    """A requirement other than `name`, `name>=floor` or `name==version` stops the script, so no stated bound goes untested unnoticed."""
    with pytest.raises(SystemExit, match="is not `name`, `name>=floor` or `name==version`"):
        _lowest_constraints().lowest_constraints(_pyproject([requirement], []))
