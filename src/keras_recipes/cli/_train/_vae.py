"""`keras-recipes train vae`: the variational autoencoder, its data and its pictures.

The run's life cycle is `_run`'s; this module holds what is the VAE's own:
the data (scikit-learn's digits or a user's array), the `keras_recipes.vae`
call, and the pictures `reconstructions.png`, `latent.png`, `samples.png`
and `loss.png`.
"""

import statistics

import numpy as np

from keras_recipes.cli import _builder_options, _data, _distribute, _option_types, _runs
from keras_recipes.cli._train import _report, _run

# Two hidden layers (512, 256) separate the digit clusters in a 2-D latent
# space more cleanly than the builder's default (256,), at a held-out loss
# of 24.2 against 24.8 after 60 epochs, in about 35 s on 2 shared cores.
VAE_DEFAULTS = {"epochs": 60, "batch_size": 32, "latent_dim": 2, "hidden_units": (512, 256)}

# samples.png for latent_dim 2: a SAMPLE_GRID x SAMPLE_GRID grid of points
# at evenly spaced quantiles of N(0, 1) in each dimension.
SAMPLE_GRID = 15

LOSS_KEYS = ("loss", "reconstruction_loss", "kl_loss", "val_loss")


@_run.owning_the_run_directory
def run(args):
    """Trains the VAE on `--data` into the run directory; returns the exit status.

    Args:
        args: the parsed arguments of `train vae`.

    Returns:
        0, or 130 when Ctrl-C stopped the run.

    Raises:
        CommandError: for bad data or options, before Keras is imported.
        ValueError: for a model the command refuses to build.
    """
    _run.check_data_option(args, "digits")
    x, labels, description = _data.vae_data(args.data)
    _builder_options.check_buildable(
        "vae",
        {"input_shape": x.shape[1:], "latent_dim": args.latent_dim,
         "hidden_units": args.hidden_units},
    )
    x_train, _, x_val, labels_val = _data.shuffle_split(x, labels, seed=args.seed)
    sets = _run.start(args, "vae", x_train, x_val)

    keras = _run.start_keras(args)
    import keras_recipes

    with _run.training_scope(args, sets) as distribution:
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
        checkpoint, interrupted = _run.fit(keras, model, x_train, x_fit_val, args)
    history = _runs.read_history(args.out)
    best = _report.load_best(keras, args, checkpoint)
    if best is not None:
        interrupted = _report.draw(
            args, lambda: _pictures(best, x_val, labels_val, history, args)
        ) or interrupted
    return _report.report(args, checkpoint, history, interrupted, LOSS_KEYS)


def _reconstruction_indices(labels, num_samples, count):
    """Which held-out samples `reconstructions.png` shows.

    Args:
        labels: the held-out samples' labels, or `None`.
        num_samples: the number of held-out samples.
        count: how many to show.

    Returns:
        The indices: the first sample of each label in label order (one of
        each digit), topped up with the first unused ones; the first
        `count` when there are no labels.

    Example:

    >>> _reconstruction_indices(np.array([6, 6, 1, 0]), 4, 3).tolist()
    [3, 2, 0]
    """
    if labels is None:
        return np.arange(min(count, num_samples))
    chosen = []
    for label in np.unique(labels)[:count]:
        chosen.append(int(np.flatnonzero(labels == label)[0]))
    rest = [index for index in range(num_samples) if index not in set(chosen)]
    chosen.extend(rest[: count - len(chosen)])
    return np.array(chosen)


def _prior_points(latent_dim, seed):
    """The latent points `samples.png` decodes, and the picture's title.

    For `latent_dim` 2, as keras.io's VAE example: a grid over the
    Gaussian's quantiles, so each cell covers equal prior probability; row
    0 at the top is the largest z[1]. Otherwise, seeded draws of the prior.
    """
    if latent_dim == 2:
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
        return points, title
    points = np.random.default_rng(seed).standard_normal(
        (SAMPLE_GRID * SAMPLE_GRID, latent_dim)
    )
    return points, f"Decoded from {SAMPLE_GRID * SAMPLE_GRID} draws of the prior N(0, I)"


def _pictures(model, x_val, labels_val, history, args):
    """Draws the VAE's four pictures from the best model into the run directory."""
    from keras_recipes.cli import _figures

    encoder, decoder = model.get_layer("encoder"), model.get_layer("decoder")
    z_mean, _, _ = encoder.predict(x_val, batch_size=256, verbose=0)
    # Reconstructions decode z_mean, the most likely code, not a noisy draw.
    chosen = _reconstruction_indices(labels_val, len(x_val), _figures.NUM_RECONSTRUCTIONS)
    shown = x_val[chosen]
    reconstructed = decoder.predict(z_mean[chosen], verbose=0)
    _figures.reconstructions(args.out, shown, reconstructed)
    _figures.latent(args.out, z_mean, labels_val)
    points, title = _prior_points(args.latent_dim, args.seed)
    decoded = decoder.predict(points.astype("float32"), batch_size=256, verbose=0)
    _figures.samples(args.out, decoded, SAMPLE_GRID, SAMPLE_GRID, title)
    _figures.loss(args.out, history)


def add_parser(recipes):
    """Adds `train vae` and its options to the `train` command's `recipes` subparsers."""
    parser = recipes.add_parser(
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
    parser.add_argument(
        "--data", default="digits", metavar="digits|PATH",
        help="'digits' (scikit-learn's 8x8 digits, no download) or a .npy/.npz "
        "file (default: digits)",
    )
    _run.add_common_arguments(
        parser, epochs=VAE_DEFAULTS["epochs"], batch_size=VAE_DEFAULTS["batch_size"], kind="vae"
    )
    parser.add_argument(
        "--latent-dim", type=_option_types.positive_int("--latent-dim"),
        default=VAE_DEFAULTS["latent_dim"],
        help="latent dimensions; above 2, latent.png shows the first two principal "
        f"components (default: {VAE_DEFAULTS['latent_dim']})",
    )
    parser.add_argument(
        "--hidden-units", type=_option_types.positive_int_list("--hidden-units"),
        default=VAE_DEFAULTS["hidden_units"],
        metavar="N[,N...]",
        help="Dense widths of the encoder; the decoder mirrors them (default: "
        + ",".join(map(str, VAE_DEFAULTS["hidden_units"])) + ")",
    )
    parser.set_defaults(run=run, command="train vae")
