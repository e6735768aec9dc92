"""Architecture diagrams of the recipes, drawn from the builders themselves.

Each recipe is built with the configuration of the first example the
documentation gives for it, and drawn with `keras.utils.plot_model` into
`docs/diagrams/<recipe>.png`. The pictures are never committed: MkDocs runs
this file as a hook (`hooks:` in `mkdocs.yml`) before every build, so a page
always shows what the builder makes today. Run it on its own with

    python docs/diagrams.py [OUT_DIR]

`plot_model` needs pydot (`pip install ".[docs]"`) and Graphviz's `dot`
program (`apt-get install graphviz`, `brew install graphviz`).

Importing this file does not import Keras: `tests/test_docs.py` reads
`DIAGRAMS` to check the pages' links to `diagrams/<name>.png`.
"""

import shutil
import sys
import tempfile
from pathlib import Path

# Recipe name -> the builder's arguments, by keyword. Each is the first
# builder call on the recipe's page, docs/recipes/<recipe>.md, so the picture
# matches the notation and code beside it; tests/test_docs.py checks that
# the two agree, argument for argument.
DIAGRAMS = {
    # The lecture's Sequential model.
    "mlp": {"input_dim": 2, "units": [3, 2, 3], "activation": None, "output_activation": "sigmoid"},
    # x -f-> u -g-> v -f-> y, one f.
    "shared_mlp": {"input_dim": 2, "shared_units": 3, "bridge_units": [2]},
    # The lecture's branch-and-merge example.
    "branch_merge": {
        "input_dim": 2,
        "trunk_units": [1],
        "branch_units": [[], [2]],
        "head_units": [1],
        "output_activation": "sigmoid",
    },
    # The lecture's averaging layer, on three features.
    "averaging_layer": {"input_dim": 3},
    # A denoising autoencoder of 8x8 digits through a 2-dimensional code.
    "autoencoder": {
        "input_shape": (64,),
        "latent_dim": 2,
        "hidden_units": (32,),
        "noise_stddev": 0.2,
        "seed": 0,
    },
    # The keras.io configuration.
    "vae": {
        "input_shape": (28, 28, 1),
        "latent_dim": 2,
        "architecture": "conv",
        "filters": (32, 64),
        "intermediate_dim": 16,
        "reconstruction_loss": "binary_crossentropy",
    },
    # The small variant at a sixteenth of its width.
    "split_brain_ae": {
        "input_shape": (16, 16, 3),
        "architecture": "small",
        "width_multiplier": 0.0625,
        "seed": 0,
    },
}

DOCS_DIR = Path(__file__).resolve().parent
DEFAULT_OUT_DIR = DOCS_DIR / "diagrams"

# Small enough to sit in a page's column, sharp enough to read the shapes.
_DPI = 72


def draw(name, path):
    """Builds recipe `name` with its `DIAGRAMS` arguments and draws it to `path`."""
    import keras_recipes
    from keras_recipes.cli import import_keras

    # Imported the command line's way, which keeps TensorFlow's start-up
    # lines out of the build log.
    keras = import_keras()

    model = getattr(keras_recipes, name)(**DIAGRAMS[name])
    # Nested sub-models (the autoencoders' encoder and decoder) are drawn
    # expanded: their insides are the point of the picture.
    keras.utils.plot_model(
        model,
        to_file=str(path),
        show_shapes=True,
        show_layer_names=True,
        show_layer_activations=True,
        expand_nested=True,
        dpi=_DPI,
    )


def write_all(out_dir=DEFAULT_OUT_DIR):
    """Draws every recipe into `out_dir/<recipe>.png`; returns the paths written.

    A file whose picture has not changed is left alone, so that `mkdocs
    serve`, which watches `docs/`, does not rebuild for ever.
    """
    if shutil.which("dot") is None:
        raise RuntimeError(
            "Graphviz's `dot` program is needed to draw the architecture diagrams "
            "and is not on PATH; install it with `apt-get install graphviz` "
            "(Debian, Ubuntu) or `brew install graphviz` (macOS)."
        )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory() as scratch:
        for name in DIAGRAMS:
            drawn = Path(scratch) / f"{name}.png"
            draw(name, drawn)
            target = out_dir / f"{name}.png"
            if not target.exists() or target.read_bytes() != drawn.read_bytes():
                shutil.copyfile(drawn, target)
                written.append(target)
    return written


def on_pre_build(config, **kwargs):
    """MkDocs hook: draws the diagrams into `<docs_dir>/diagrams` before the pages are read."""
    write_all(Path(config["docs_dir"]) / "diagrams")


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT_DIR
    for path in write_all(out):
        print(path)
