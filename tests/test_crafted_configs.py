"""Saved files whose configs of our classes were edited: each is refused as the builder refuses.

Every file is a real `.keras` save of a recipe whose `config.json` has one
key of one of our classes (`SplitBrainAutoencoder`, `VariationalAutoencoder`,
`SelectChannels`, `Sampling`, `ReconstructionError`, and the autoencoders'
saved `steps_per_execution`) set to a value the builder would refuse, or
removed. `keras_recipes.saving.load_model` must raise `ValueError` or
`TypeError` naming that key, never load the file, and never raise a bare
`OverflowError` or `KeyError`.
"""

import json
import math
import zipfile

import pytest

import keras_recipes
from keras_recipes import saving

MISSING = object()
"""An edit that removes the key."""

BASES = {
    "split_brain": lambda: keras_recipes.split_brain_ae(
        (16, 16, 3), architecture="small", width_multiplier=0.125, seed=0
    ),
    "vae": lambda: keras_recipes.vae((6,), 2, hidden_units=(4,), seed=0),
    "autoencoder": lambda: keras_recipes.autoencoder((6,), 2, hidden_units=(4,), seed=0),
}

# (file, class, key, value, the name the error must give). The class's own
# config is found by class name; the first object of that class is edited.
CASES = [
    *[("split_brain", "SplitBrainAutoencoder", "num_l_bins", value, "num_l_bins")
      for value in (-5, 1, math.inf, math.nan, 10**400, 2**24 + 1, 2.5, "50", None, 3, MISSING)],
    *[("split_brain", "SplitBrainAutoencoder", "channel_groups", value, "channel_groups")
      for value in ([[0], [5]], [[0], [0, 1]], [[-1], [1, 2]], [[0], [1, 10**400]], [[0]], None,
                    MISSING)],
    # Valid groups alone, but not for the saved classification losses: the
    # builder names `loss` there, the file's key is `losses`.
    ("split_brain", "SplitBrainAutoencoder", "channel_groups", [[0], [1]], "losses"),
    *[("split_brain", "SplitBrainAutoencoder", "losses", value, "losses")
      for value in (["nope", "classification"], ["classification"], [None, None], 5,
                    ["regression", "regression"], MISSING)],
    *[("split_brain", "SplitBrainAutoencoder", "ab_bin_centers", value, "ab_bin_centers")
      for value in ([[0, math.nan], [1, 1]], [[0, math.inf], [1, 1]], [[10**400, 0], [1, 1]],
                    [[0, 0], [0, 0]], [[0, 0]], "ab", MISSING)],
    *[("split_brain", "SelectChannels", "channels", value, "channels")
      for value in ([7], [-1], [], [10**400], [0.5], "0")],
    *[("vae", "VariationalAutoencoder", "beta", value, "beta")
      for value in (-1, math.nan, math.inf, 10**400, -(2**1024), "1", None, MISSING)],
    *[("vae", "VariationalAutoencoder", "reconstruction_loss", value, "reconstruction_loss")
      for value in ("nope", None, 3, MISSING)],
    *[("vae", "Sampling", "seed", value, "seed") for value in (-1, 10**400, 0.5, "1")],
    *[("autoencoder", "ReconstructionError", "reconstruction_loss", value, "reconstruction_loss")
      for value in ("nope", None)],
    *[(base, "compile_config", "steps_per_execution", value, "steps_per_execution")
      for base in ("vae", "autoencoder") for value in (0, 10**400, 2**31, 1.5)],
]


def _find_class(node, class_name):
    if isinstance(node, dict):
        if node.get("class_name") == class_name and isinstance(node.get("config"), dict):
            return node["config"]
        values = node.values()
    elif isinstance(node, list):
        values = node
    else:
        return None
    for value in values:
        found = _find_class(value, class_name)
        if found is not None:
            return found
    return None


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """One saved file per base recipe."""
    directory = tmp_path_factory.mktemp("saved")
    paths = {}
    for name, build in BASES.items():
        paths[name] = directory / f"{name}.keras"
        build().save(paths[name])
    return paths


def _craft(source, target, class_name, key, value):
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w") as crafted:
        for item in original.infolist():
            data = original.read(item)
            if item.filename == "config.json":
                config = json.loads(data)
                holder = (
                    config["compile_config"]
                    if class_name == "compile_config"
                    else _find_class(config, class_name)
                )
                assert holder is not None and key in holder, (class_name, key)
                if value is MISSING:
                    del holder[key]
                else:
                    holder[key] = value
                data = json.dumps(config)
            crafted.writestr(item, data)
    return target


@pytest.mark.parametrize(
    ("base", "class_name", "key", "value", "named"),
    CASES,
    ids=[f"{c[1]}-{c[2]}-{'missing' if c[3] is MISSING else repr(c[3])[:24]}" for c in CASES],
)
def test_an_edited_key_of_our_classes_is_refused_naming_it(saved, tmp_path, base, class_name,
                                                           key, value, named):
    """A saved file with one key of our classes out of the builder's range (or removed) is
    refused by the library's loader with ValueError/TypeError naming the key."""
    path = _craft(saved[base], tmp_path / "crafted.keras", class_name, key, value)
    with pytest.raises((ValueError, TypeError)) as info:
        saving.load_model(path)
    assert f"`{named}`" in str(info.value), str(info.value)[:2000]


@pytest.mark.parametrize("base", sorted(BASES))
def test_the_unedited_files_load(saved, base):
    """The files the cases edit load as saved: each refusal above is the edit's doing."""
    assert saving.load_model(saved[base]).count_params() > 0
