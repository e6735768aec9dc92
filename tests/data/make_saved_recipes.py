"""Writes `tests/data/saved_recipes/*.keras` and their expected outputs. Run once; do not re-run.

The files were written on 2026-12-07 with main at 0fd2972, before the recipes
moved into one folder per family, so that `tests/test_saved_recipes.py` proves
a model saved by an older keras-recipes loads under `safe_mode=True` and
predicts as it did. Re-running this script after a change to the library would
write files of the new code and make that test prove nothing.

    KERAS_BACKEND=tensorflow python tests/data/make_saved_recipes.py
"""

import pathlib
import zipfile

import keras
import numpy as np

import keras_recipes

FOLDER = pathlib.Path(__file__).parent / "saved_recipes"

# One small configuration of each recipe: (file stem, builder, positional
# arguments, keyword arguments, input shape without the batch axis).
CONFIGURATIONS = [
    ("mlp", "mlp", (2, [3, 2, 3]), {"seed": 1}, [(2,)]),
    ("shared_mlp", "shared_mlp", (2, 3, [2]), {"seed": 1}, [(2,)]),
    ("branch_merge", "branch_merge", ([4, 4], [5], [[5], []], [[1], [2, 3]]), {"seed": 1}, [(4,), (4,)]),
    ("averaging_layer", "averaging_layer", (3,), {}, [(3,)]),
    ("vae_dense", "vae", ((6,), 2), {"hidden_units": (5, 3), "seed": 1}, [(6,)]),
    (
        "vae_conv",
        "vae",
        ((8, 8, 2), 3),
        {"architecture": "conv", "filters": (2, 3), "intermediate_dim": 4, "seed": 1},
        [(8, 8, 2)],
    ),
    ("autoencoder_dense", "autoencoder", ((6,), 2), {"hidden_units": (4,), "seed": 2}, [(6,)]),
    (
        "autoencoder_conv",
        "autoencoder",
        ((4, 4, 3), 2),
        {"architecture": "conv", "filters": (2,), "intermediate_dim": 3, "noise_stddev": 0.1, "seed": 2},
        [(4, 4, 3)],
    ),
    (
        "split_brain_ae",
        "split_brain_ae",
        ((16, 16, 3),),
        {
            "architecture": "small",
            "width_multiplier": 0.125,
            "num_l_bins": 4,
            "ab_bin_centers": [[0.0, 0.0], [20.0, -20.0], [-20.0, 20.0]],
            "seed": 0,
        },
        [(16, 16, 3)],
    ),
]


def deterministic_outputs(stem, model, inputs):
    """The outputs a reload must reproduce: the VAE's sampled reconstruction is left out."""
    if stem.startswith("vae"):
        z_mean, z_log_var = model.get_layer("encoder").predict(inputs, verbose=0)[:2]
        reconstruction = model.get_layer("decoder").predict(z_mean, verbose=0)
        return [z_mean, z_log_var, reconstruction]
    outputs = model.predict(inputs, verbose=0)
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def deflated(path):
    """Rewrite the `.keras` archive at `path` with its members deflated, byte for byte the same.

    Keras stores the weights file uncompressed; an HDF5 file of many small
    weights is mostly padding, so deflating keeps the fixtures a fifth of the
    size. Keras reads deflated members as it reads stored ones.
    """
    with zipfile.ZipFile(path) as archive:
        members = [(info, archive.read(info.filename)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for info, data in members:
            archive.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)


def main():
    FOLDER.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    for stem, builder, args, kwargs, input_shapes in CONFIGURATIONS:
        model = getattr(keras_recipes, builder)(*args, **kwargs)
        inputs = [rng.uniform(size=(2, *shape)).astype("float32") for shape in input_shapes]
        inputs = inputs[0] if len(inputs) == 1 else inputs
        model.save(FOLDER / f"{stem}.keras")
        deflated(FOLDER / f"{stem}.keras")
        arrays = {f"input_{i}": x for i, x in enumerate(inputs if isinstance(inputs, list) else [inputs])}
        arrays.update({f"output_{i}": y for i, y in enumerate(deterministic_outputs(stem, model, inputs))})
        np.savez(FOLDER / f"{stem}.npz", **arrays)


if __name__ == "__main__":
    keras.utils.set_random_seed(0)
    main()
