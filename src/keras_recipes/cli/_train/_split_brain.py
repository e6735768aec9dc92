"""`keras-recipes train split-brain`: the small split-brain autoencoder, its data and pictures.

The run's life cycle is `_run`'s; this module holds what is the split-brain
autoencoder's own: the images (generated coloured shapes or a user's
array), the `keras_recipes.split_brain_ae` call, `colorized.png`, and the
linear probes of `probe.json`, before and after pre-training, when the data
has labels.
"""

import json
import os

import numpy as np

from keras_recipes.cli import _builder_options, _data, _distribute, _option_types, _runs
from keras_recipes.cli._train import _report, _run

SPLIT_BRAIN_DEFAULTS = {"epochs": 8, "batch_size": 64, "images": 2000, "width_multiplier": 0.25}
# The range of `--images`: one image to train on and one to validate, and at
# most 1.2 GB of generated 32x32 images (float32, before their Lab copies).
MIN_IMAGES, MAX_IMAGES = 2, 100_000

# The temperature of the annealed mean (Zhang, Isola and Efros, "Colorful
# Image Colorization", ECCV 2016, Sec. 2.3): between the mean of the bin
# distribution (T = 1, desaturated) and its mode (T -> 0, patchy).
ANNEALED_MEAN_TEMPERATURE = 0.38

# The layers the split-brain linear probe reads (as in
# benchmarks/split_brain_check.py), each globally average-pooled.
PROBED_LAYERS = ("conv1", "conv3", "conv5", "fc7")


@_run.owning_the_run_directory
def run(args):
    """Pre-trains the small split-brain autoencoder on `--data`; returns the exit status.

    Args:
        args: the parsed arguments of `train split-brain`.

    Returns:
        0, or 130 when Ctrl-C stopped the run.

    Raises:
        CommandError: for bad data or options, before Keras is imported.
        ValueError: for a model the command refuses to build.
    """
    _run.check_data_option(args, "shapes")
    rgb, labels, description = _data.split_brain_data(
        args.data, num_images=args.images, seed=args.seed
    )
    _builder_options.check_buildable(
        "split_brain_ae",
        {"input_shape": rgb.shape[1:], "architecture": "small",
         "width_multiplier": args.width_multiplier},
    )
    rgb_train, labels_train, rgb_val, labels_val = _data.shuffle_split(
        rgb, labels, seed=args.seed
    )
    sets = _run.start(args, "split-brain", rgb_train, rgb_val)

    keras = _run.start_keras(args)
    import keras_recipes
    from keras_recipes import color

    lab_train = keras.ops.convert_to_numpy(color.rgb_to_lab(rgb_train))
    lab_val = keras.ops.convert_to_numpy(color.rgb_to_lab(rgb_val))
    with _run.training_scope(args, sets) as distribution:
        model = keras_recipes.split_brain_ae(
            rgb.shape[1:],
            architecture="small",
            width_multiplier=args.width_multiplier,
            seed=args.seed,
        )
        print(
            f"data: {description}, {len(rgb)} images of shape {rgb.shape[1:]}, "
            f"{len(rgb_train)} to train on, {len(rgb_val)} held out\n"
            f"model: small split-brain autoencoder, width_multiplier "
            f"{args.width_multiplier:g}, {model.count_params():,} parameters"
            + (f"\ndistribute: {distribution}" if distribution else "")
        )
        probe_before = None
        if labels is not None:
            # The same network before pre-training: the baseline the paper's
            # "Gaussian (random)" row stands for.
            extractor = _feature_extractor(keras, model)
            with _distribute.paused(args):
                probe_before = _probe(extractor, lab_train, labels_train, lab_val, labels_val)
        checkpoint, interrupted = _run.fit(
            keras, model, _distribute.even_split(lab_train, args),
            _distribute.even_split(lab_val, args), args,
        )
    history = _runs.read_history(args.out)
    best = _report.load_best(keras, args, checkpoint)
    extra = []

    def draw_pictures():
        # The trained model takes the best checkpoint's weights (the same
        # architecture), so the functions traced before training serve again.
        model.set_weights(best.get_weights())
        _colorized_picture(keras, model, rgb_val, lab_val, args)
        if labels is not None:
            probe_after = _probe(extractor, lab_train, labels_train, lab_val, labels_val)
            extra.extend(_write_probe(args, probe_before, probe_after, labels, len(rgb_train),
                                      len(rgb_val), checkpoint.best_epoch))

    if best is not None:
        interrupted = _report.draw(args, draw_pictures) or interrupted
    loss_keys = (
        "loss",
        f"{model.name}_x2_from_x1_loss",
        f"{model.name}_x1_from_x2_loss",
        "val_loss",
    )
    return _report.report(args, checkpoint, history, interrupted, loss_keys, extra)


def _colorized_picture(keras, model, rgb_val, lab_val, args):
    """Draws `colorized.png`: held-out images, their lightness, and the model's colours."""
    from keras_recipes import color
    from keras_recipes.cli import _figures

    shown = slice(0, _figures.NUM_COLORIZED)
    lab = lab_val[shown]
    ab_logits, _ = model.predict(lab, verbose=0)
    centres = np.asarray(
        model.ab_bin_centers if model.ab_bin_centers is not None else color.ab_bin_centers(),
        dtype="float64",
    )
    # The annealed mean of the predicted ab distribution.
    logits = ab_logits.astype("float64") / ANNEALED_MEAN_TEMPERATURE
    logits -= logits.max(axis=-1, keepdims=True)
    weights = np.exp(logits)
    weights /= weights.sum(axis=-1, keepdims=True)
    ab = (weights @ centres).astype("float32")
    # Imported here: _building imports Keras, which this module must not do
    # before the data and the options are checked.
    from keras_recipes._building import IMAGE_FORMAT

    # The head predicts at a quarter of the resolution; the original L keeps
    # every detail, as in the colorization papers.
    ab = keras.ops.convert_to_numpy(
        keras.ops.image.resize(
            ab, lab.shape[1:3], interpolation="bilinear", data_format=IMAGE_FORMAT
        )
    )
    lightness = lab[..., :1]
    colorized = color.lab_to_rgb(np.concatenate([lightness, ab], axis=-1))
    grey = color.lab_to_rgb(np.concatenate([lightness, np.zeros_like(ab)], axis=-1))
    _figures.colorized(
        args.out,
        rgb_val[shown],
        np.clip(keras.ops.convert_to_numpy(grey), 0, 1),
        np.clip(keras.ops.convert_to_numpy(colorized), 0, 1),
    )


def _feature_extractor(keras, model):
    """A model from the Lab image to each probed layer's features, averaged over positions.

    The features are both towers' activations, concatenated
    (`split_brain_features`); the extractor shares `model`'s weights.
    """
    import keras_recipes

    return keras.Model(
        model.inputs[0],
        [
            keras.layers.GlobalAveragePooling2D()(
                keras_recipes.split_brain_features(model, layer)(model.inputs[0])
            )
            for layer in PROBED_LAYERS
        ],
    )


def _probe(extractor, lab_train, labels_train, lab_test, labels_test):
    """Held-out accuracy of a linear probe on each probed layer's features.

    `_probe.accuracy` fits the logistic regression on the training images'
    labels and scores it on the held-out ones. `None` when the training
    images have fewer than two classes.
    """
    from keras_recipes.cli import _probe

    if len(np.unique(labels_train)) < 2:
        return None
    # Labels as indices 0..k-1 of the classes present, whatever their values
    # (a user's labels may be 3, 17 and 1000).
    classes, indices = np.unique(np.concatenate([labels_train, labels_test]),
                                 return_inverse=True)
    labels_train, labels_test = indices[: len(labels_train)], indices[len(labels_train):]
    # One call for both sets: one traced function, whatever the sizes.
    features = extractor.predict(
        np.concatenate([lab_train, lab_test]), batch_size=256, verbose=0
    )
    return {
        layer: _probe.accuracy(
            values[: len(lab_train)], labels_train, values[len(lab_train):], labels_test,
            len(classes),
        )
        for layer, values in zip(PROBED_LAYERS, features)
    }


def _write_probe(args, before, after, labels, num_train, num_test, best_epoch):
    """Writes `probe.json`; returns the report's line about the probe."""
    if after is None:
        return ["linear probe: skipped, the training split has fewer than 2 classes"]
    classes = len(np.unique(labels))
    result = {
        "task": "classify the held-out images from frozen features with a "
        "logistic regression trained on the training images' labels",
        "features": "both towers concatenated, globally average-pooled, standardised",
        "train_images": num_train,
        "test_images": num_test,
        "classes": classes,
        "chance": 1.0 / classes,
        "model_epoch": best_epoch,
        "accuracy": after,
        "accuracy_before_pretraining": before,
    }
    path = os.path.join(args.out, "probe.json")
    with open(path, "w", encoding="utf-8") as file:
        json.dump(result, file, indent=2)
        file.write("\n")
    best_layer = max(after, key=after.get)
    line = (
        f"linear probe, held-out accuracy (chance {1 / classes:.3f}): "
        + ", ".join(f"{layer} {value:.3f}" for layer, value in after.items())
    )
    if before is not None:
        line += (
            f"; best {best_layer} {after[best_layer]:.3f} against "
            f"{before[best_layer]:.3f} before pre-training"
        )
    return [line]


def add_parser(recipes):
    """Adds `train split-brain` and its options to the `train` command's `recipes` subparsers."""
    parser = recipes.add_parser(
        "split-brain",
        help="pre-train the small split-brain autoencoder, on coloured shapes by default",
        description="Pre-train the small split-brain autoencoder "
        "(keras_recipes.split_brain_ae, architecture='small') and write "
        "model.keras (the best model on the validation loss), history.csv, "
        "colorized.png and, when the data has labels, probe.json with the "
        "accuracy of linear probes on its frozen features.",
        epilog="PATH: a .npy array of sRGB images in [0, 1] shaped (n, height, "
        "width, 3), height and width multiples of 4; or a .npz holding it under "
        "'x' and, optionally, integer labels under 'y' (for the linear probe).",
    )
    parser.add_argument(
        "--data", default="shapes", metavar="shapes|PATH",
        help="'shapes' (keras_recipes.data.colored_shapes, generated) or a "
        ".npy/.npz file (default: shapes)",
    )
    _run.add_common_arguments(
        parser, epochs=SPLIT_BRAIN_DEFAULTS["epochs"],
        batch_size=SPLIT_BRAIN_DEFAULTS["batch_size"], kind="split-brain",
    )
    parser.add_argument(
        "--images",
        type=_option_types.int_in_range(
            "--images", MIN_IMAGES, MAX_IMAGES,
            f"an integer from {MIN_IMAGES} to {MAX_IMAGES:,}",
        ),
        default=SPLIT_BRAIN_DEFAULTS["images"],
        help=f"number of generated images with --data shapes, {MIN_IMAGES} to "
        f"{MAX_IMAGES:,} (default: {SPLIT_BRAIN_DEFAULTS['images']})",
    )
    parser.add_argument(
        "--width-multiplier", type=_option_types.positive_number("--width-multiplier"),
        default=SPLIT_BRAIN_DEFAULTS["width_multiplier"],
        help="scales every layer's width (default: "
        f"{SPLIT_BRAIN_DEFAULTS['width_multiplier']})",
    )
    parser.set_defaults(run=run, command="train split-brain")
