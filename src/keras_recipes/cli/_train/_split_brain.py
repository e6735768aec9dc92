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
from keras_recipes.cli._train import _split_brain_folder as _folder

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
    """Pre-trains a split-brain autoencoder on `--data`; returns the exit status.

    Args:
        args: the parsed arguments of `train split-brain`.

    Returns:
        0, or 130 when Ctrl-C stopped the run.

    Raises:
        CommandError: for bad data or options, before Keras is imported.
        ValueError: for a model the command refuses to build.
    """
    _run.check_data_option(args, "shapes")
    is_folder = os.path.isdir(args.data)
    _folder.check_options(args, is_folder)
    probe_data = _folder.probe_split(args)
    if is_folder:
        data = _folder.folder_data(args)
        input_shape = (args.image_size, args.image_size, 3)
        train_part, held_out_part = data.split
        labels = labels_train = labels_val = None
        description = (
            f"{len(data.listing):,} images in {data.listing.directory} fitted to "
            f"{args.image_size}x{args.image_size} ({args.image_fit})"
        )
    else:
        rgb, labels, description = _data.split_brain_data(
            args.data, num_images=args.images, seed=args.seed, architecture=args.architecture
        )
        input_shape = rgb.shape[1:]
        description = f"{description}, {len(rgb)} images of shape {input_shape}"
        rgb_train, labels_train, rgb_val, labels_val = _data.shuffle_split(
            rgb, labels, seed=args.seed
        )
        train_part, held_out_part = rgb_train, rgb_val
    _builder_options.check_buildable(
        "split_brain_ae",
        {"input_shape": input_shape, "architecture": args.architecture,
         "width_multiplier": args.width_multiplier},
    )
    sets = _run.start(args, "split-brain", train_part, held_out_part)

    keras = _run.start_keras(args)
    import keras_recipes
    from keras_recipes import color
    from keras_recipes.cli import _figures

    failed = {}  # files that failed to decode outside the datasets, path -> reason
    if is_folder:
        x_train, x_val = _folder.datasets(args, data)
        rgb_val = _folder.preview(args, held_out_part, _figures.NUM_COLORIZED, failed)
    else:
        lab_train = keras.ops.convert_to_numpy(color.rgb_to_lab(rgb_train))
        lab_val = keras.ops.convert_to_numpy(color.rgb_to_lab(rgb_val))
        x_train, x_val = _distribute.even_split(lab_train, args), _distribute.even_split(lab_val, args)
    lab_preview = keras.ops.convert_to_numpy(color.rgb_to_lab(rgb_val[:_figures.NUM_COLORIZED]))
    with _run.training_scope(args, sets) as distribution:
        model = keras_recipes.split_brain_ae(
            input_shape,
            architecture=args.architecture,
            width_multiplier=args.width_multiplier,
            seed=args.seed,
        )
        print(
            f"data: {description}, {len(train_part)} to train on, {len(held_out_part)} held out\n"
            f"model: {args.architecture} split-brain autoencoder, width_multiplier "
            f"{args.width_multiplier:g}, {model.count_params():,} parameters"
            + (f"\ndistribute: {distribution}" if distribution else "")
        )
        probe_before = None
        if probe_data is not None:
            extractor = _feature_extractor(keras, model, _folder.PAPER_PROBED_LAYERS)
            with _distribute.paused(args):
                probe_before = _folder_probe(extractor, args, probe_data)
        elif labels is not None:
            # The same network before pre-training: the baseline the paper's
            # "Gaussian (random)" row stands for.
            extractor = _feature_extractor(keras, model, PROBED_LAYERS)
            with _distribute.paused(args):
                probe_before = _probe(extractor, lab_train, labels_train, lab_val, labels_val)
        checkpoint, interrupted = _run.fit(keras, model, x_train, x_val, args)
    history = _runs.read_history(args.out)
    best = _report.load_best(keras, args, checkpoint)
    extra, probe_skipped = [], []

    def draw_pictures():
        # The trained model takes the best checkpoint's weights (the same
        # architecture), so the functions traced before training serve again.
        model.set_weights(best.get_weights())
        _colorized_picture(keras, model, rgb_val, lab_preview, args)
        if probe_data is not None:
            probe_after = _folder_probe(extractor, args, probe_data)
            probe_skipped.extend(probe_after.skipped)
            extra.extend(_write_folder_probe(args, probe_before, probe_after, probe_data,
                                             checkpoint.best_epoch))
        elif labels is not None:
            probe_after = _probe(extractor, lab_train, labels_train, lab_val, labels_val)
            extra.extend(_write_probe(args, probe_before, probe_after, labels, len(rgb_train),
                                      len(rgb_val), checkpoint.best_epoch))

    if best is not None:
        interrupted = _report.draw(args, draw_pictures) or interrupted
    extra.extend(_folder.account(
        args, data if is_folder else None, (x_train, x_val) if is_folder else (), failed,
        probe_skipped,
    ))
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


def _feature_extractor(keras, model, layers):
    """A model from the Lab image to each of `layers`' features, averaged over positions.

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
            for layer in layers
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


def _folder_probe(extractor, args, probe_data):
    """The `--probe-data` linear probe on every layer of `PAPER_PROBED_LAYERS`.

    Returns:
        A `_probe.FolderProbe`: the accuracy per layer, the number of
        features per layer, and the images used and skipped.
    """
    from keras_recipes.cli import _probe

    train_features, train_labels, train_set = _folder.probe_features(
        extractor, args, probe_data.split.train)
    test_features, test_labels, test_set = _folder.probe_features(
        extractor, args, probe_data.split.held_out)
    num_classes = len(probe_data.listing.classes)
    accuracy = {
        layer: _probe.accuracy(train, train_labels, test, test_labels, num_classes)
        for layer, train, test in zip(_folder.PAPER_PROBED_LAYERS, train_features, test_features)
    }
    return _probe.FolderProbe(
        accuracy=accuracy,
        features={layer: int(values.shape[1])
                  for layer, values in zip(_folder.PAPER_PROBED_LAYERS, train_features)},
        train_images=len(train_labels),
        test_images=len(test_labels),
        skipped=(*probe_data.listing.skipped, *train_set.failed, *test_set.failed),
    )


def _write_folder_probe(args, before, after, probe_data, best_epoch):
    """Writes `probe.json` for `--probe-data`; returns the report's lines (the table)."""
    from keras_recipes.cli import _probe

    classes = probe_data.listing.classes
    result = {
        "task": "classify the held-out images of --probe-data from frozen features with a "
        "logistic regression trained on its training images' labels",
        "features": "both towers concatenated, globally average-pooled, standardised",
        "data": probe_data.listing.directory,
        "image_size": args.image_size,
        "train_images": after.train_images,
        "test_images": after.test_images,
        "skipped_images": len(set(after.skipped)),
        "classes": len(classes),
        "class_names": list(classes),
        "chance": 1.0 / len(classes),
        "model_epoch": best_epoch,
        "num_features": after.features,
        "accuracy": after.accuracy,
        "accuracy_before_pretraining": before.accuracy,
    }
    with open(os.path.join(args.out, "probe.json"), "w", encoding="utf-8") as file:
        json.dump(result, file, indent=2)
        file.write("\n")
    return _probe.table(result)


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
        "--architecture", choices=("small", "alexnet"), default="small",
        help="small (for 32x32 and 64x64 images) or alexnet (the paper's, 180x180 -> "
        "12x12 predictions) (default: small)",
    )
    _folder.add_arguments(parser)
    parser.add_argument(
        "--width-multiplier", type=_option_types.positive_number("--width-multiplier"),
        default=SPLIT_BRAIN_DEFAULTS["width_multiplier"],
        help="scales every layer's width (default: "
        f"{SPLIT_BRAIN_DEFAULTS['width_multiplier']})",
    )
    parser.set_defaults(run=run, command="train split-brain")
