"""`keras-recipes train vae` and `train split-brain`: train a recipe, keep the run, draw what it learned.

Both subcommands share one life cycle:

1. check the arguments and the data, and prepare the run directory, all
   before Keras is imported, so mistakes fail at once with one line;
2. shuffle with the seed and hold out `VALIDATION_FRACTION` of the samples;
3. train with Keras's progress bar (`verbose=1`) on a terminal, one line per
   epoch (`verbose=2`) when the output goes to a file or a pipe; the best
   model on `val_loss` is checkpointed to `model.keras` after every
   improving epoch, atomically, and `history.csv` grows by one row per epoch;
4. reload the best model from `model.keras` (`safe_mode=True`, which also
   proves the saved file loads) and draw the pictures from it;
5. print where the run is, the losses and the files.

Ctrl-C during training stops it and goes on with steps 4 and 5 on what is
there (the best checkpoint so far and the history), then exits with status
130, even when the interrupt lands where Python would swallow it (a
garbage-collection callback; see `_Interrupts`). A second Ctrl-C stops at
once.
"""

import functools
import json
import os
import signal
import statistics
import sys
import threading

import numpy as np

from keras_recipes.cli import (
    EXIT_INTERRUPTED,
    PROG,
    CommandError,
    _builder_options,
    _data,
    _distribute,
    _runs,
    import_keras,
    require,
)

# Two hidden layers (512, 256) separate the digit clusters in a 2-D latent
# space more cleanly than the builder's default (256,), at a held-out loss
# of 24.2 against 24.8 after 60 epochs, in about 35 s on 2 shared cores.
VAE_DEFAULTS = {"epochs": 60, "batch_size": 32, "latent_dim": 2, "hidden_units": (512, 256)}
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

# samples.png for latent_dim 2: a SAMPLE_GRID x SAMPLE_GRID grid of points
# at evenly spaced quantiles of N(0, 1) in each dimension.
SAMPLE_GRID = 15


def _images(text):
    import argparse

    try:
        value = int(text)
    except ValueError:
        value = -1
    if not MIN_IMAGES <= value <= MAX_IMAGES:
        raise argparse.ArgumentTypeError(
            f"expected an integer from {MIN_IMAGES} to {MAX_IMAGES:,}. Received: --images={text!r}"
        )
    return value


def _non_negative_int(text):
    import argparse

    try:
        value = int(text)
    except ValueError:
        value = -1
    # keras.utils.set_random_seed seeds numpy's legacy generator, which takes
    # seeds below 2**32 only.
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(
            f"expected a non-negative integer below 2**32. Received: --seed={text!r}"
        )
    return value


def _positive_float(text):
    import argparse

    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 < value < float("inf"):
        raise argparse.ArgumentTypeError(
            f"expected a positive number. Received: --width-multiplier={text!r}"
        )
    return value


def _units(text):
    import argparse

    try:
        units = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        units = (0,)
    if not all(1 <= unit <= _builder_options.MAX_OPTION_INT for unit in units):
        raise argparse.ArgumentTypeError(
            "expected comma-separated positive integers, e.g. 256 or 512,256, each at most "
            f"{_builder_options.MAX_OPTION_INT:,}. Received: --hidden-units={text!r}"
        )
    return units


# === Ctrl-C ===


class _Interrupts:
    """Remembers Ctrl-C during a run, so that no interrupt is lost.

    Python raises `KeyboardInterrupt` from its SIGINT handler wherever the
    main thread is. When that is a garbage-collection callback (JAX
    registers one, and Keras imports JAX even on TensorFlow), the
    interpreter reports "Exception ignored in: gc callback" and the run
    goes on to its end, exit status 0. So, while a run lasts, the handler
    also records the interrupt, `check()` (after every batch and epoch, and
    before the report) raises it again, and the swallowed one's report is
    not printed. Off the main thread, or where SIGINT is not Python's
    default handler (ignored in a background job, or a program's own),
    nothing is changed.
    """

    def __init__(self):
        self.requested = False
        self._previous = None

    def _handler(self, signum, frame):
        self.requested = True
        raise KeyboardInterrupt

    def _unraisable(self, unraisable):
        if self.requested and isinstance(unraisable.exc_value, KeyboardInterrupt):
            return  # recorded: check() raises it where it can stop the run
        self._previous_hook(unraisable)

    def __enter__(self):
        if (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler
        ):
            self._previous = signal.signal(signal.SIGINT, self._handler)
            self._previous_hook = sys.unraisablehook
            sys.unraisablehook = self._unraisable
        return self

    def __exit__(self, *exc_info):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            sys.unraisablehook = self._previous_hook

    def check(self):
        """Raises `KeyboardInterrupt` if Ctrl-C was pressed, even if it was swallowed."""
        if self.requested:
            raise KeyboardInterrupt

    def callback(self, keras):
        """A Keras callback that calls `check()` after every batch and epoch."""
        interrupts = self

        class StopOnInterrupt(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                interrupts.check()

            def on_test_batch_end(self, batch, logs=None):
                interrupts.check()

            def on_epoch_end(self, epoch, logs=None):
                interrupts.check()

        return StopOnInterrupt()


# === Shared steps ===


def _start(args, kind):
    """Resolves `--out`, prepares the run directory and makes stdout line-buffered."""
    # Line by line, so that a log file or a pipe sees each epoch as it ends.
    if hasattr(sys.stdout, "reconfigure"):  # not on a replaced stdout, e.g. io.StringIO
        sys.stdout.reconfigure(line_buffering=True)
    args.out = args.out or _runs.default_directory(kind)
    args.run_directory = _runs.prepare_directory(args.out, force=args.force)
    args.previous_model = args.run_directory.previous_model


def _owning_the_run_directory(run):
    """`run(args)`, then the run directory `_start` took is released, however `run` ends,
    and removed if the run made it and was refused with it still empty."""

    @functools.wraps(run)
    def owning(args):
        refused = True
        try:
            with _Interrupts() as args.interrupts:
                status = run(args)
            refused = False
            return status
        except (KeyboardInterrupt, OSError, MemoryError):
            refused = False
            raise
        finally:
            if getattr(args, "run_directory", None) is not None:
                # A check that needs the backend (the replicas there are)
                # refused the run: the directory it made goes too.
                args.run_directory.release(refused=refused)

    return owning


def _sets(train, held_out):
    """The sizes of the training and held-out sets, by description, for messages."""
    return {
        f"the training set ({1 - _data.VALIDATION_FRACTION:.0%} of the data)": len(train),
        f"the held-out set ({_data.VALIDATION_FRACTION:.0%} of the data)": len(held_out),
    }


def _verbosity():
    """Keras's progress bar on a terminal; one line per epoch in a log or a pipe."""
    return 1 if sys.stdout.isatty() else 2


def _fit(keras, model, x_train, x_val, args):
    """Trains with the checkpoint and the CSV history; returns `(checkpoint, interrupted)`."""
    checkpoint = _runs.best_checkpoint(keras, args.out)
    callbacks = [
        checkpoint,
        keras.callbacks.CSVLogger(os.path.join(args.out, _runs.HISTORY_FILE)),
        # Last, so that the epoch's checkpoint and history row are written first.
        args.interrupts.callback(keras),
    ]
    print(
        f"training for {args.epochs} epochs; Ctrl-C stops it and keeps the best "
        f"model so far in {args.out}"
    )
    interrupted = False
    try:
        model.fit(
            x_train,
            validation_data=(x_val,),
            epochs=args.epochs,
            batch_size=args.batch_size,
            shuffle=True,
            callbacks=callbacks,
            verbose=_verbosity(),
        )
        args.interrupts.check()  # one swallowed after the last check
    except KeyboardInterrupt:
        interrupted = True
        print()
    except OSError as error:
        # A full disk or a lost permission while checkpointing or logging:
        # one line (main() prints it) that says what the run directory keeps.
        if checkpoint.best_epoch is None:
            kept = "no model was saved" + _previous_model_kept(args)
        else:
            kept = f"its model.keras is the best of epoch {checkpoint.best_epoch}"
        raise OSError(f"{error}; while writing the run in {args.out}: {kept}") from None
    finally:
        checkpoint.discard_partial()
    return checkpoint, interrupted


def _draw(args, draw):
    """Runs `draw()`, the pictures from the best model; returns whether Ctrl-C stopped it.

    The model and history are complete by then, so Ctrl-C here keeps them
    and the pictures already drawn (a picture cut short is deleted), and
    the report says so, as after Ctrl-C during training.
    """
    try:
        draw()
    except KeyboardInterrupt:
        print()
        _runs.discard_partial_files(args.out)
        return True
    return False


def _previous_model_kept(args):
    """`; the previous run's model.keras is kept` when `--force` found one, else `""`."""
    if getattr(args, "previous_model", False):
        return f"; {args.out} keeps the previous run's model.keras as it was"
    return ""


def _load_best(keras, args, checkpoint):
    """This run's best checkpoint, loaded with `safe_mode=True`, or `None` if no epoch ended.

    With `--force`, a `model.keras` there before the first checkpoint is the
    previous run's, not this one's.
    """
    path = os.path.join(args.out, _runs.MODEL_FILE)
    if checkpoint.best_epoch is None or not os.path.exists(path):
        return None
    return keras.saving.load_model(path, safe_mode=True)


def _format_logs(logs, keys):
    return ", ".join(f"{key} {logs[key]:.4g}" for key in keys if key in logs)


def _report(args, checkpoint, history, interrupted, loss_keys, extra_lines=()):
    """Prints where the run is, the losses and the files; returns the exit status."""
    files = _runs.written_files(args.out)
    if checkpoint.best_epoch is None:
        # A model.keras there is the previous run's (`--force`), not written now.
        files = [name for name in files if name != _runs.MODEL_FILE]
    epochs_done = len(history.get("epoch", []))
    lines = [f"run: {args.out}"]
    if checkpoint.best_epoch is not None:
        lines.append(
            f"best epoch {checkpoint.best_epoch} of {epochs_done} (model.keras): "
            + _format_logs(checkpoint.best_logs, loss_keys)
        )
    if epochs_done:
        last = {key: values[-1] for key, values in history.items()}
        lines.append(f"last epoch {epochs_done}: " + _format_logs(last, loss_keys))
    lines.extend(extra_lines)
    lines.append("wrote: " + (", ".join(files) if files else "nothing"))
    print("\n".join(lines))
    interrupted = interrupted or args.interrupts.requested
    if not interrupted:
        return 0
    if checkpoint.best_epoch is None:
        kept = (
            f"no epoch had ended, so this run saved no model{_previous_model_kept(args)}"
            if getattr(args, "previous_model", False)
            else f"no epoch had ended, so {args.out} holds no model"
        )
    else:
        named = [
            f"{name} (the best, epoch {checkpoint.best_epoch})" if name == _runs.MODEL_FILE
            else name
            for name in files
        ]
        kept = f"kept in {args.out}: " + ", ".join(named)
    print(
        f"{PROG} {args.command}: interrupted after {epochs_done} "
        f"epoch{'' if epochs_done == 1 else 's'}; {kept}",
        file=sys.stderr,
    )
    return EXIT_INTERRUPTED


# === train vae ===


@_owning_the_run_directory
def run_vae(args):
    if args.data != "digits" and not os.path.exists(args.data) and "." not in args.data:
        raise CommandError(
            f"Invalid value for argument `--data`: expected 'digits' or the path of a "
            f".npy or .npz file. Received: --data={args.data!r}"
        )
    _distribute.check(args)
    x, labels, description = _data.vae_data(args.data)
    _builder_options.check_buildable(
        "vae",
        {"input_shape": x.shape[1:], "latent_dim": args.latent_dim,
         "hidden_units": args.hidden_units},
    )
    require("matplotlib", purpose="the pictures of `keras-recipes train`")
    x_train, _, x_val, labels_val = _data.shuffle_split(x, labels, seed=args.seed)
    sets = _sets(x_train, x_val)
    _distribute.check_sample_counts(args, sets)
    _start(args, "vae")

    _distribute.prepare(args)
    keras = import_keras()
    import keras_recipes

    keras.utils.set_random_seed(args.seed)
    with _distribute.scope(args) as distribution:
        _distribute.check_sample_counts(args, sets, _distribute.replicas(args))
        model = keras_recipes.vae(
            x.shape[1:],
            latent_dim=args.latent_dim,
            hidden_units=args.hidden_units,
            seed=args.seed,
        )
        x_train = _distribute.even_split(x_train, args)
        x_fit_val = _distribute.even_split(x_val, args)
        print(
            f"data: {description}, {len(x)} samples of shape {x.shape[1:]}, "
            f"{len(x_train)} to train on, {len(x_val)} held out\n"
            f"model: dense VAE, hidden units {args.hidden_units}, latent_dim "
            f"{args.latent_dim}, {model.count_params():,} parameters"
            + (f"\ndistribute: {distribution}" if distribution else "")
        )
        checkpoint, interrupted = _fit(keras, model, x_train, x_fit_val, args)
    history = _runs.read_history(args.out)
    best = _load_best(keras, args, checkpoint)
    if best is not None:
        interrupted = _draw(
            args, lambda: _vae_pictures(keras, best, x_val, labels_val, history, args)
        ) or interrupted
    return _report(
        args,
        checkpoint,
        history,
        interrupted,
        ("loss", "reconstruction_loss", "kl_loss", "val_loss"),
    )


def _reconstruction_indices(labels, num_samples, count):
    """Which held-out samples `reconstructions.png` shows: the first of each label
    in label order (one of each digit), topped up with the first unused ones;
    the first `count` when there are no labels."""
    if labels is None:
        return np.arange(min(count, num_samples))
    chosen = []
    for label in np.unique(labels)[:count]:
        chosen.append(int(np.flatnonzero(labels == label)[0]))
    rest = [index for index in range(num_samples) if index not in set(chosen)]
    chosen.extend(rest[: count - len(chosen)])
    return np.array(chosen)


def _vae_pictures(keras, model, x_val, labels_val, history, args):
    from keras_recipes.cli import _figures

    encoder, decoder = model.get_layer("encoder"), model.get_layer("decoder")
    z_mean, _, _ = encoder.predict(x_val, batch_size=256, verbose=0)
    # Reconstructions decode z_mean, the most likely code, not a noisy draw.
    chosen = _reconstruction_indices(labels_val, len(x_val), _figures.NUM_RECONSTRUCTIONS)
    shown = x_val[chosen]
    reconstructed = decoder.predict(z_mean[chosen], verbose=0)
    _figures.reconstructions(args.out, shown, reconstructed)
    _figures.latent(args.out, z_mean, labels_val)
    if args.latent_dim == 2:
        # As keras.io's VAE example: a grid over the Gaussian's quantiles, so
        # each cell covers equal prior probability; row 0 at the top is the
        # largest z[1].
        quantiles = np.array(
            [
                statistics.NormalDist().inv_cdf(p)
                for p in np.linspace(0.05, 0.95, SAMPLE_GRID)
            ]
        )
        z0, z1 = np.meshgrid(quantiles, quantiles[::-1])
        points = np.stack([z0.ravel(), z1.ravel()], axis=-1)
        title = (
            f"Decoded from a {SAMPLE_GRID}x{SAMPLE_GRID} grid of N(0, 1) quantiles, "
            "5% to 95%:\nz[0] grows left to right, z[1] bottom to top"
        )
    else:
        points = np.random.default_rng(args.seed).standard_normal(
            (SAMPLE_GRID * SAMPLE_GRID, args.latent_dim)
        )
        title = f"Decoded from {SAMPLE_GRID * SAMPLE_GRID} draws of the prior N(0, I)"
    decoded = decoder.predict(points.astype("float32"), batch_size=256, verbose=0)
    _figures.samples(args.out, decoded, SAMPLE_GRID, SAMPLE_GRID, title)
    _figures.loss(args.out, history)


# === train split-brain ===


@_owning_the_run_directory
def run_split_brain(args):
    if args.data != "shapes" and not os.path.exists(args.data) and "." not in args.data:
        raise CommandError(
            f"Invalid value for argument `--data`: expected 'shapes' or the path of a "
            f".npy or .npz file. Received: --data={args.data!r}"
        )
    _distribute.check(args)
    rgb, labels, description = _data.split_brain_data(
        args.data, num_images=args.images, seed=args.seed
    )
    _builder_options.check_buildable(
        "split_brain_ae",
        {"input_shape": rgb.shape[1:], "architecture": "small",
         "width_multiplier": args.width_multiplier},
    )
    require("matplotlib", purpose="the pictures of `keras-recipes train`")
    rgb_train, labels_train, rgb_val, labels_val = _data.shuffle_split(
        rgb, labels, seed=args.seed
    )
    sets = _sets(rgb_train, rgb_val)
    _distribute.check_sample_counts(args, sets)
    _start(args, "split-brain")

    _distribute.prepare(args)
    keras = import_keras()
    import keras_recipes
    from keras_recipes import color

    keras.utils.set_random_seed(args.seed)
    lab_train = keras.ops.convert_to_numpy(color.rgb_to_lab(rgb_train))
    lab_val = keras.ops.convert_to_numpy(color.rgb_to_lab(rgb_val))
    with _distribute.scope(args) as distribution:
        _distribute.check_sample_counts(args, sets, _distribute.replicas(args))
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
        checkpoint, interrupted = _fit(
            keras, model, _distribute.even_split(lab_train, args),
            _distribute.even_split(lab_val, args), args,
        )
    history = _runs.read_history(args.out)
    best = _load_best(keras, args, checkpoint)
    extra = []

    def draw():
        # The trained model takes the best checkpoint's weights (the same
        # architecture), so the functions traced before training serve again.
        model.set_weights(best.get_weights())
        _colorized_picture(keras, model, rgb_val, lab_val, args)
        if labels is not None:
            probe_after = _probe(extractor, lab_train, labels_train, lab_val, labels_val)
            extra.extend(_write_probe(args, probe_before, probe_after, labels, len(rgb_train),
                                      len(rgb_val), checkpoint.best_epoch))

    if best is not None:
        interrupted = _draw(args, draw) or interrupted
    loss_keys = (
        "loss",
        f"{model.name}_x2_from_x1_loss",
        f"{model.name}_x1_from_x2_loss",
        "val_loss",
    )
    return _report(args, checkpoint, history, interrupted, loss_keys, extra)


def _colorized_picture(keras, model, rgb_val, lab_val, args):
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


# === Parsers ===


def _add_common(parser, *, epochs, batch_size, kind):
    parser.add_argument(
        "--epochs", type=_builder_options.positive_int("--epochs"), default=epochs,
        help=f"training epochs (default: {epochs})",
    )
    parser.add_argument(
        "--batch-size", type=_builder_options.positive_int("--batch-size"), default=batch_size,
        help=f"samples per batch (default: {batch_size})",
    )
    parser.add_argument(
        "--out", metavar="DIR", default=None,
        help=f"the run directory (default: runs/{kind}-<date>-<time>)",
    )
    parser.add_argument(
        "--seed", type=_non_negative_int, default=0,
        help="seed of the shuffle, the split, the weights and the noise, 0 to "
        "2**32 - 1 (default: 0)",
    )
    parser.add_argument(
        "--force", action="store_true",
        help="replace the run in an existing --out: delete the files a run writes "
        "there first (refused if it holds other files)",
    )
    _distribute.add_arguments(parser)


def add_parsers(subparsers):
    train = subparsers.add_parser(
        "train",
        help="train a recipe and draw what it learned",
        description="Train a recipe on data that ships with the install (or your "
        "own .npy/.npz array) and write the model, its history and pictures into "
        "a run directory.",
    )
    recipes = train.add_subparsers(title="recipes", metavar="RECIPE", dest="recipe",
                                   required=True)

    vae = recipes.add_parser(
        "vae",
        help="the variational autoencoder, on scikit-learn's digits by default",
        description="Train the variational autoencoder (keras_recipes.vae, dense) "
        "and write model.keras (the best model on the validation loss), "
        "history.csv, reconstructions.png, latent.png, samples.png and loss.png. "
        f"{_data.VALIDATION_FRACTION:.0%} of the samples, shuffled with --seed, "
        "are held out for validation.",
        epilog="PATH: a .npy array of samples in [0, 1], shaped (n, features), "
        "(n, height, width) or (n, height, width, 1 or 3); or a .npz holding it "
        "under 'x' and, optionally, integer labels under 'y' (they colour "
        "latent.png).",
    )
    vae.add_argument(
        "--data", default="digits", metavar="digits|PATH",
        help="'digits' (scikit-learn's 8x8 digits, no download) or a .npy/.npz "
        "file (default: digits)",
    )
    _add_common(vae, epochs=VAE_DEFAULTS["epochs"], batch_size=VAE_DEFAULTS["batch_size"],
                kind="vae")
    vae.add_argument(
        "--latent-dim", type=_builder_options.positive_int("--latent-dim"), default=VAE_DEFAULTS["latent_dim"],
        help="latent dimensions; above 2, latent.png shows the first two principal "
        f"components (default: {VAE_DEFAULTS['latent_dim']})",
    )
    vae.add_argument(
        "--hidden-units", type=_units, default=VAE_DEFAULTS["hidden_units"],
        metavar="N[,N...]",
        help="Dense widths of the encoder; the decoder mirrors them (default: "
        + ",".join(map(str, VAE_DEFAULTS["hidden_units"])) + ")",
    )
    vae.set_defaults(run=run_vae, command="train vae")

    split_brain = recipes.add_parser(
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
    split_brain.add_argument(
        "--data", default="shapes", metavar="shapes|PATH",
        help="'shapes' (keras_recipes.data.colored_shapes, generated) or a "
        ".npy/.npz file (default: shapes)",
    )
    _add_common(split_brain, epochs=SPLIT_BRAIN_DEFAULTS["epochs"],
                batch_size=SPLIT_BRAIN_DEFAULTS["batch_size"], kind="split-brain")
    split_brain.add_argument(
        "--images", type=_images, default=SPLIT_BRAIN_DEFAULTS["images"],
        help=f"number of generated images with --data shapes, {MIN_IMAGES} to "
        f"{MAX_IMAGES:,} (default: {SPLIT_BRAIN_DEFAULTS['images']})",
    )
    split_brain.add_argument(
        "--width-multiplier", type=_positive_float,
        default=SPLIT_BRAIN_DEFAULTS["width_multiplier"],
        help="scales every layer's width (default: "
        f"{SPLIT_BRAIN_DEFAULTS['width_multiplier']})",
    )
    split_brain.set_defaults(run=run_split_brain, command="train split-brain")
