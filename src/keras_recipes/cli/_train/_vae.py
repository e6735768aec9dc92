"""`keras-recipes train vae`: the variational autoencoder, its data and its pictures.

The run's life cycle is `_run`'s; this module holds what is the VAE's own:
the data (scikit-learn's digits or a user's array), the `keras_recipes.vae`
call, and the pictures `reconstructions.png`, `latent.png`, `samples.png`
and `loss.png`.
"""

import json
import os
import statistics
import time

import numpy as np

from keras_recipes._recipes.autoencoders import spec
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

# The held-out NLL's importance samples per digit unless `--nll-samples` says
# otherwise; papers report k = 5000.
NLL_SAMPLES = 1000

# traversals.png: each latent dimension swept over these values (the prior's
# -2.5 to 2.5 standard deviations) while the others stay at 0.
TRAVERSAL_STEPS = 11
TRAVERSAL_RANGE = 2.5
# At most this many dimensions (rows) are drawn.
MAX_TRAVERSAL_ROWS = 16

EVALUATION_FILE = "evaluation.json"

# `--kernel-initializer`'s choices: the Keras initializers of the variance
# scaling family and the orthogonal one, and PyTorch's default
# (`keras_recipes.initializers`), by name (checked without Keras; a test
# checks that `vae()` takes each). The first is Keras's and keras.io's.
KERNEL_INITIALIZERS = (
    "glorot_uniform",
    "glorot_normal",
    "he_uniform",
    "he_normal",
    "lecun_uniform",
    "lecun_normal",
    "orthogonal",
    "fan_in_uniform",
)

# `--bias-initializer`'s choices: Keras's default, and PyTorch's.
BIAS_INITIALIZERS = ("zeros", "fan_in_uniform")


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
    _builder_options.check_buildable("vae", _builder_arguments(args, x.shape[1:]))
    x_train, _, x_val, labels_val = _data.shuffle_split(x, labels, seed=args.seed)
    sets = _run.start(args, "vae", x_train, x_val)

    keras = _run.start_keras(args)
    import keras_recipes

    with _run.training_scope(args, sets) as distribution:
        arguments = _builder_arguments(args, x.shape[1:])
        if args.beta_schedule is not None:
            arguments["beta"] = args.beta_schedule.build(keras_recipes.losses)
        model = keras_recipes.vae(**arguments, seed=args.seed)
        x_train = _distribute.even_split(x_train, args)
        x_fit_val = _distribute.even_split(x_val, args)
        print(
            f"data: {description}, {len(x)} samples of shape {x.shape[1:]}, "
            f"{len(x_train)} to train on, {len(x_val)} held out\n"
            f"model: dense VAE, hidden units {args.hidden_units}, latent_dim "
            f"{args.latent_dim}, {model.count_params():,} parameters"
            + _objective_line(args)
            + (f"\ndistribute: {distribution}" if distribution else "")
        )
        checkpoint, interrupted = _run.fit(keras, model, x_train, x_fit_val, args)
    history = _runs.read_history(args.out)
    best = _report.load_best(keras, args, checkpoint)
    extra_lines = []
    if best is not None:
        interrupted = _report.draw(
            args, lambda: _pictures(best, x_val, labels_val, history, args)
        ) or interrupted
        if not interrupted:
            extra_lines.append(_evaluate(keras_recipes, best, x_val, args))
    return _report.report(args, checkpoint, history, interrupted, LOSS_KEYS, extra_lines)


def _builder_arguments(args, input_shape):
    """The `keras_recipes.vae` arguments the options give, but `seed` (the schedule as its option)."""
    arguments = {
        "input_shape": input_shape,
        "latent_dim": args.latent_dim,
        "hidden_units": args.hidden_units,
    }
    # Only what the options change: the defaults build the model as before.
    if args.objective != "elbo":
        arguments["objective"] = args.objective
    if args.num_samples != 1:
        arguments["num_samples"] = args.num_samples
    if args.beta_schedule is not None:
        arguments["beta"] = args.beta_schedule
    if args.free_bits:
        arguments["free_bits"] = args.free_bits
    if args.kernel_initializer != KERNEL_INITIALIZERS[0]:
        arguments["kernel_initializer"] = args.kernel_initializer
    if args.bias_initializer != BIAS_INITIALIZERS[0]:
        arguments["bias_initializer"] = args.bias_initializer
    return arguments


def _objective_line(args):
    """The model line's addition for a non-default objective, schedule, free bits or initializers."""
    parts = []
    if args.objective != "elbo" or args.num_samples != 1:
        parts.append(f"objective {args.objective}, {args.num_samples} samples")
    if args.beta_schedule is not None:
        parts.append(f"beta {args.beta_schedule.text}")
    if args.free_bits:
        parts.append(f"free bits {args.free_bits:g} nats per dimension")
    if args.kernel_initializer != KERNEL_INITIALIZERS[0]:
        parts.append(f"kernels {args.kernel_initializer}")
    if args.bias_initializer != BIAS_INITIALIZERS[0]:
        parts.append(f"biases {args.bias_initializer}")
    return (", " + ", ".join(parts)) if parts else ""


def _evaluate(keras_recipes, model, x_val, args):
    """Writes `evaluation.json` for the best model on the held-out samples; returns the report's line.

    The NLL is `keras_recipes.vae_nll` with `--nll-samples` draws (none with
    0), seeded with `--seed`; the ELBO is the same draws' estimate; the
    latent statistics are `keras_recipes.latent_diagnostics`, which warns
    when more than half the dimensions collapsed.
    """
    started = time.perf_counter()
    evaluation = {"split": f"held out: {len(x_val)} samples ({_data.VALIDATION_FRACTION:.0%})"}
    if args.nll_samples:
        estimate = keras_recipes.vae_nll(
            model, x_val, num_samples=args.nll_samples, seed=args.seed
        )
        evaluation.update(
            nll=estimate.nll,
            nll_standard_error=estimate.standard_error,
            negative_elbo=estimate.negative_elbo,
            nll_samples=estimate.num_samples,
            num_examples=estimate.num_examples,
            likelihood=estimate.likelihood,
            binary_data=estimate.binary_data,
            units="nats per sample",
        )
        if not estimate.binary_data and estimate.likelihood == "bernoulli":
            evaluation["note"] = (
                "the data are not binary: the Bernoulli NLL is a cross-entropy, "
                "comparable between models on these data, not with published "
                "(binarised) figures"
            )
    # The collapse warning goes on the report's line, not to stderr.
    report = keras_recipes.latent_diagnostics(model, x_val, warn=False)
    evaluation.update(
        active_units=report.active_units,
        latent_dim=report.latent_dim,
        kl_per_dimension=list(report.kl_per_dimension),
        activity=list(report.activity),
        seconds=round(time.perf_counter() - started, 2),
    )
    from keras_recipes._recipes.autoencoders import evaluation as evaluation_module

    path = os.path.join(args.out, EVALUATION_FILE)
    partial = path + ".partial"
    with open(partial, "w", encoding="utf-8") as file:
        json.dump(evaluation, file, indent=2)
        file.write("\n")
    os.replace(partial, path)
    nll = (
        f"held-out NLL {evaluation['nll']:.4g} ± {evaluation['nll_standard_error']:.2g} "
        f"nats (k={args.nll_samples}), -ELBO {evaluation['negative_elbo']:.4g}, "
        if args.nll_samples
        else ""
    )
    line = f"evaluation: {nll}{report.active_units} of {report.latent_dim} latent dimensions active"
    if report.collapsed:
        line += "\nwarning: " + evaluation_module.collapse_message(report)
    return line


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
    if args.latent_dim > 2:
        rows = min(args.latent_dim, MAX_TRAVERSAL_ROWS)
        decoded = decoder.predict(_traversal_points(args.latent_dim, rows), verbose=0)
        _figures.traversals(args.out, decoded, rows, TRAVERSAL_STEPS, TRAVERSAL_RANGE)
    _figures.loss(args.out, history)


def _traversal_points(latent_dim, rows):
    """The latent points of `traversals.png`: row d sweeps z[d] from -2.5 to 2.5, the rest 0.

    Example:

    >>> _traversal_points(3, 2)[[0, 10, 11]].tolist()
    [[-2.5, 0.0, 0.0], [2.5, 0.0, 0.0], [0.0, -2.5, 0.0]]
    """
    values = np.linspace(-TRAVERSAL_RANGE, TRAVERSAL_RANGE, TRAVERSAL_STEPS)
    points = np.zeros((rows, TRAVERSAL_STEPS, latent_dim), dtype="float32")
    for dimension in range(rows):
        points[dimension, :, dimension] = values
    return points.reshape(rows * TRAVERSAL_STEPS, latent_dim)


def add_parser(recipes):
    """Adds `train vae` and its options to the `train` command's `recipes` subparsers."""
    parser = recipes.add_parser(
        "vae",
        help="the variational autoencoder, on scikit-learn's digits by default",
        description="Train the variational autoencoder (keras_recipes.vae, dense) "
        "and write model.keras (the best model on the validation loss), "
        "history.csv, reconstructions.png, latent.png, samples.png, loss.png, "
        "traversals.png (latent sizes above 2) and evaluation.json (the best "
        "model's held-out NLL, ELBO, active units and per-dimension KL). "
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
    parser.add_argument(
        "--objective", choices=spec.OBJECTIVES, default="elbo",
        help="training objective: the negative ELBO, or the IWAE's importance-weighted "
        "bound of --num-samples draws (default: elbo)",
    )
    parser.add_argument(
        "--num-samples",
        type=_option_types.positive_int("--num-samples", maximum=spec.MAX_TRAINING_SAMPLES),
        default=1, metavar="K",
        help="posterior draws per sample in the training loss, the IWAE's k (default: 1)",
    )
    parser.add_argument(
        "--beta-schedule", type=_option_types.beta_schedule("--beta-schedule"),
        default=None, metavar="SCHEDULE",
        help="weight of the KL term per optimizer step, logged as beta: "
        + _option_types.BETA_SCHEDULE_SYNTAX + " (default: a constant 1, not logged)",
    )
    parser.add_argument(
        "--free-bits", type=_option_types.number_in_range("--free-bits", spec.MAX_FREE_BITS),
        default=0.0, metavar="NATS",
        help="floor of each latent dimension's KL in nats (Kingma et al. 2016); "
        "below it a dimension's KL gets no gradient (default: 0)",
    )
    parser.add_argument(
        "--kernel-initializer", choices=KERNEL_INITIALIZERS, default=KERNEL_INITIALIZERS[0],
        help="initializer of every kernel; he_uniform, lecun_uniform or fan_in_uniform "
        "(PyTorch's) reach a better held-out NLL than Keras's default "
        f"(default: {KERNEL_INITIALIZERS[0]})",
    )
    parser.add_argument(
        "--bias-initializer", choices=BIAS_INITIALIZERS, default=BIAS_INITIALIZERS[0],
        help="initializer of every bias; fan_in_uniform draws from "
        "U(-1/sqrt(fan_in), 1/sqrt(fan_in)) as PyTorch does "
        f"(default: {BIAS_INITIALIZERS[0]})",
    )
    parser.add_argument(
        "--nll-samples",
        type=_option_types.int_in_range(
            "--nll-samples", 0, 10**6, "an integer from 0 (no NLL) to 1,000,000"
        ),
        default=NLL_SAMPLES, metavar="K",
        help="importance samples per held-out sample for the NLL in evaluation.json; "
        f"0 skips it (default: {NLL_SAMPLES})",
    )
    parser.set_defaults(run=run, command="train vae")
