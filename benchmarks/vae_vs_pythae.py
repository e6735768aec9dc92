"""`keras_recipes.vae()` side by side with Pythae's VAE and IWAE, in one run.

Pythae (clementchadebec/benchmark_VAE) is the PyTorch library researchers
use for VAE likelihoods. The library never imports it: this benchmark runs it
in a virtual environment of its own, made once with

    python3 -m venv /work/envs/pythae
    /work/envs/pythae/bin/pip install torch==2.13.0 pythae==0.1.2 scikit-learn

(on PyPI the default Linux torch wheel is the CUDA build; for the CPU one add
`--index-url https://download.pytorch.org/whl/cpu`, see README "Backends").
Then, from the repository root, with keras-recipes installed:

    python benchmarks/vae_vs_pythae.py --pythae-python /work/envs/pythae/bin/python
    python benchmarks/vae_vs_pythae.py --pythae-python ... --epochs 5 --nll-samples 500  # quick
    python benchmarks/vae_vs_pythae.py --pythae-python ... --seeds 0,1,2,3 \
        --initializers glorot_uniform,he_uniform,fan_in_uniform/fan_in_uniform
        # NLL seed by seed, three initialisations (KERNEL or KERNEL/BIAS)

Both libraries train on the same data and split (scikit-learn's digits,
divided by 16 and binarised at 0.5, 1437 training and 360 held-out samples,
one permutation per seed of `--seeds`), the same architecture (dense 64-512-256,
latent 2, the decoder mirrored, Bernoulli likelihood; Pythae with PyTorch's
default initialisation, `vae()` with each of `--initializers`, Keras's
Glorot uniform kernels and zero biases by default; `fan_in_uniform/fan_in_uniform`
is PyTorch's initialisation), Adam at 1e-3, batch 32, `--epochs` epochs,
shuffled. Each seed gives its own split, weights and noise; the NLLs are
compared seed by seed, on the same held-out samples.
Each library and each Keras backend runs in its own subprocess (Keras with
`KERAS_BACKEND` set; Pythae in `--pythae-python`), in turns, `--repeats`
times, so that load from other jobs hits all alike. Each subprocess prints one
JSON line; this script prints medians and same-run ratios. It asserts
nothing.

Per library it reports, for the ELBO objective and for IWAE with
`--iwae-samples` (k=5):

- training samples per second of wall time, the fit alone: Keras's
  `model.fit` (its first epoch traces the functions; fed the array, or with
  `--batchings array,padded` also `keras_recipes.batching.PaddedBatches`,
  batches of one size that train the same) and Pythae's
  `TrainingPipeline(...)(train_data)` (its trainer, which also deep-copies
  the model after each epoch that improves the training loss and saves the
  final one to a temporary folder) and, in brackets, Pythae's training loop
  alone (the sum of its `train_step` calls);
- the held-out negative ELBO in nats per sample (one formula for both,
  written below in NumPy, averaged over 10 draws of the noise);
- the held-out NLL in nats per sample with `--nll-samples` (5000)
  importance samples, each library's own estimator (`keras_recipes.vae_nll`,
  Pythae's `model.get_nll`), and, as a check of scale, ours applied to
  Pythae's trained weights (copied into a `vae()` of the same shape) on the
  first Keras backend.

Threads: Pythae runs with `torch.set_num_threads(--pythae-threads)`, 1 by
default: PyTorch's default of one thread per core stalls when another job
holds a core (20-57 s instead of 2.4-4.6 s for the fit here). Keras on
PyTorch stalls the same way (over 9 minutes for a 30-epoch fit at load
average 11), so it runs with `torch.set_num_threads(--keras-torch-threads)`,
also 1 by default. TensorFlow and JAX keep their own thread pools, which
size themselves to the cores.
"""

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

FEATURES = 64
HIDDEN_UNITS = (512, 256)
LATENT_DIM = 2
BACKENDS = ("tensorflow", "jax", "torch")

# === Shared by both sides (NumPy only: the Pythae environment has no Keras) ===


def binarised_digits(seed):
    """scikit-learn's digits binarised at 0.5: (train, held_out), 1437 and 360 rows."""
    from sklearn.datasets import load_digits

    pixels = load_digits().data.astype("float32") / 16.0
    binary = (pixels > 0.5).astype("float32")
    order = np.random.default_rng(seed).permutation(len(binary))
    return binary[order[:1437]], binary[order[1437:]]


def negative_elbo(x, z_mean, z_log_var, decode, draws, rng):
    """Mean over `x` of -(E_q[log p(x|z)] - KL(q || N(0, I))), one sample of z per draw.

    `decode` maps z (n, latent) to Bernoulli means (n, features). The KL is
    the closed form; the expectation is averaged over `draws` noise draws.
    """
    kl = -0.5 * np.sum(1.0 + z_log_var - z_mean**2 - np.exp(z_log_var), axis=1)
    reconstruction = []
    for _ in range(draws):
        z = z_mean + np.exp(0.5 * z_log_var) * rng.standard_normal(z_mean.shape)
        probabilities = np.clip(decode(z.astype("float32")), 1e-7, 1 - 1e-7)
        log_likelihood = x * np.log(probabilities) + (1 - x) * np.log1p(-probabilities)
        reconstruction.append(-np.sum(log_likelihood, axis=1))
    return float(np.mean(np.mean(reconstruction, axis=0) + kl))


# === Pythae side (runs in --pythae-python) ===


def pythae_worker(args):
    import logging

    import torch
    from pythae.models import IWAE, VAE, IWAEConfig, VAEConfig
    from pythae.models.base.base_utils import ModelOutput
    from pythae.models.nn import BaseDecoder, BaseEncoder
    from pythae.pipelines import TrainingPipeline
    from pythae.trainers import BaseTrainerConfig

    logging.getLogger("pythae").setLevel(logging.WARNING)
    for name in list(logging.root.manager.loggerDict):
        if name.startswith("pythae"):
            logging.getLogger(name).setLevel(logging.WARNING)
    torch.set_num_threads(args.pythae_threads)
    torch.manual_seed(args.seed)

    class Encoder(BaseEncoder):
        def __init__(self):
            super().__init__()
            self.body = torch.nn.Sequential(
                torch.nn.Linear(FEATURES, HIDDEN_UNITS[0]),
                torch.nn.ReLU(),
                torch.nn.Linear(HIDDEN_UNITS[0], HIDDEN_UNITS[1]),
                torch.nn.ReLU(),
            )
            self.embedding = torch.nn.Linear(HIDDEN_UNITS[1], LATENT_DIM)
            self.log_var = torch.nn.Linear(HIDDEN_UNITS[1], LATENT_DIM)

        def forward(self, x):
            hidden = self.body(x.reshape(-1, FEATURES))
            return ModelOutput(
                embedding=self.embedding(hidden), log_covariance=self.log_var(hidden)
            )

    class Decoder(BaseDecoder):
        def __init__(self):
            super().__init__()
            self.body = torch.nn.Sequential(
                torch.nn.Linear(LATENT_DIM, HIDDEN_UNITS[1]),
                torch.nn.ReLU(),
                torch.nn.Linear(HIDDEN_UNITS[1], HIDDEN_UNITS[0]),
                torch.nn.ReLU(),
                torch.nn.Linear(HIDDEN_UNITS[0], FEATURES),
                torch.nn.Sigmoid(),
            )

        def forward(self, z):
            return ModelOutput(reconstruction=self.body(z))

    x_train, x_test = binarised_digits(args.seed)
    common = {
        "input_dim": (FEATURES,),
        "latent_dim": LATENT_DIM,
        "reconstruction_loss": "bce",
    }
    if args.objective == "iwae":
        model = IWAE(
            IWAEConfig(number_samples=args.iwae_samples, **common), Encoder(), Decoder()
        )
    else:
        model = VAE(VAEConfig(**common), Encoder(), Decoder())
    with tempfile.TemporaryDirectory() as folder:
        config = BaseTrainerConfig(
            output_dir=folder,
            learning_rate=1e-3,
            per_device_train_batch_size=32,
            num_epochs=args.epochs,
            optimizer_cls="Adam",
            seed=args.seed,
            no_cuda=True,
        )
        pipeline = TrainingPipeline(model=model, training_config=config)
        loop_seconds = []

        # Time Pythae's training loop alone too: wrap the trainer's
        # `train_step` once the pipeline has made the trainer.
        from pythae.trainers import BaseTrainer

        plain_train_step = BaseTrainer.train_step

        def timed_train_step(self, epoch):
            start = time.perf_counter()
            loss = plain_train_step(self, epoch)
            loop_seconds.append(time.perf_counter() - start)
            return loss

        BaseTrainer.train_step = timed_train_step
        start = time.perf_counter()
        pipeline(train_data=x_train)
        fit_seconds = time.perf_counter() - start
        BaseTrainer.train_step = plain_train_step
        trained = pipeline.trainer._best_model
    trained.eval()
    result = {
        "library": "pythae",
        "objective": args.objective,
        "threads": torch.get_num_threads(),
        "fit_seconds": fit_seconds,
        "samples_per_second": args.epochs * len(x_train) / fit_seconds,
        "loop_samples_per_second": args.epochs * len(x_train) / sum(loop_seconds),
    }
    if args.evaluate:
        with torch.no_grad():
            encoded = trained.encoder(torch.from_numpy(x_test))
            z_mean = encoded.embedding.numpy().astype("float64")
            z_log_var = encoded.log_covariance.numpy().astype("float64")

            def decode(z):
                return trained.decoder(torch.from_numpy(z))["reconstruction"].numpy()

            result["elbo_loss"] = negative_elbo(
                x_test, z_mean, z_log_var, decode, 10, np.random.default_rng(args.seed)
            )
            start = time.perf_counter()
            result["nll"] = -float(
                trained.get_nll(
                    torch.from_numpy(x_test),
                    n_samples=args.nll_samples,
                    batch_size=min(args.nll_samples, 1000),
                )
            )
            result["nll_seconds"] = time.perf_counter() - start
        if args.export:
            # Weights for the cross-check; torch's Linear holds (out, in).
            linears = [
                trained.encoder.body[0],
                trained.encoder.body[2],
                trained.encoder.embedding,
                trained.encoder.log_var,
                trained.decoder.body[0],
                trained.decoder.body[2],
                trained.decoder.body[4],
            ]
            arrays = {}
            for index, layer in enumerate(linears):
                arrays[f"kernel_{index}"] = layer.weight.detach().numpy().T
                arrays[f"bias_{index}"] = layer.bias.detach().numpy()
            np.savez(args.export, **arrays)
    print(json.dumps(result))


# === Keras side (runs with KERAS_BACKEND set) ===


def dense_layers(model):
    """The Dense layers of a dense `vae()`: encoder body, z_mean, z_log_var, decoder."""
    import keras

    encoder = [
        layer
        for layer in model.get_layer("encoder").layers
        if isinstance(layer, keras.layers.Dense)
    ]
    decoder = [
        layer
        for layer in model.get_layer("decoder").layers
        if isinstance(layer, keras.layers.Dense)
    ]
    return encoder + decoder


def keras_worker(args):
    if args.keras_torch_threads and os.environ.get("KERAS_BACKEND") == "torch":
        import torch

        torch.set_num_threads(args.keras_torch_threads)
    import keras

    import keras_recipes

    x_train, x_test = binarised_digits(args.seed)

    def build(objective):
        options = {}
        if objective == "iwae":
            options = {"objective": "iwae", "num_samples": args.iwae_samples}
        return keras_recipes.vae(
            (FEATURES,),
            LATENT_DIM,
            hidden_units=HIDDEN_UNITS,
            kernel_initializer=args.kernel_initializer,
            bias_initializer=args.bias_initializer,
            optimizer=keras.optimizers.Adam(1e-3),
            seed=args.seed,
            **options,
        )

    model = build(args.objective)
    data, batch_size = x_train, 32
    if args.batching == "padded":
        # Batches of one size that train as the array does (one compilation on JAX).
        data = keras_recipes.batching.PaddedBatches(x_train, batch_size=32, seed=args.seed)
        batch_size = None
    start = time.perf_counter()
    model.fit(data, epochs=args.epochs, batch_size=batch_size, shuffle=True, verbose=0)
    fit_seconds = time.perf_counter() - start
    result = {
        "library": f"keras_recipes/{keras.backend.backend()}",
        "kernel_initializer": args.kernel_initializer,
        "bias_initializer": args.bias_initializer,
        "batching": args.batching,
        "objective": args.objective,
        "fit_seconds": fit_seconds,
        "samples_per_second": args.epochs * len(x_train) / fit_seconds,
    }
    if args.evaluate:
        result.update(evaluate_keras(model, x_test, args))
        if args.cross_check:
            # Ours applied to Pythae's trained model: its weights in a vae()
            # of the same architecture, then our estimator.
            weights = np.load(args.cross_check)
            copy = build("elbo")
            for index, layer in enumerate(dense_layers(copy)):
                layer.set_weights(
                    [weights[f"kernel_{index}"], weights[f"bias_{index}"]]
                )
            checked = evaluate_keras(copy, x_test, args)
            result["pythae_elbo_loss_by_ours"] = checked["elbo_loss"]
            result["pythae_nll_by_ours"] = checked["nll"]
    print(json.dumps(result))


def evaluate_keras(model, x_test, args):
    import keras_recipes

    encoder = model.get_layer("encoder")
    decoder = model.get_layer("decoder")
    z_mean, z_log_var, _ = encoder.predict(x_test, verbose=0)

    def decode(z):
        return decoder.predict(z, batch_size=len(z), verbose=0)

    elbo_loss = negative_elbo(
        x_test,
        z_mean.astype("float64"),
        z_log_var.astype("float64"),
        decode,
        10,
        np.random.default_rng(args.seed),
    )
    start = time.perf_counter()
    estimate = keras_recipes.vae_nll(
        model, x_test, num_samples=args.nll_samples, seed=args.seed
    )
    return {
        "elbo_loss": elbo_loss,
        "nll": float(estimate.nll),
        "nll_standard_error": float(estimate.standard_error),
        "nll_seconds": time.perf_counter() - start,
    }


# === The driver ===


def run_worker(command, env=None):
    completed = subprocess.run(
        command,
        check=False,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )
    if completed.returncode != 0:
        sys.exit(f"worker failed: {' '.join(command)}\n{completed.stderr[-3000:]}")
    row = json.loads(completed.stdout.strip().splitlines()[-1])
    # Each row as it comes, so that a long run interrupted keeps its figures.
    print("row:", json.dumps(row), f"load {os.getloadavg()[0]:.1f}", flush=True)
    return row


def median(rows, key):
    values = [row[key] for row in rows if key in row]
    return statistics.median(values) if values else float("nan")


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer, received {text!r}"
        )
    return value


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--pythae-python", help="the python of Pythae's virtual environment"
    )
    parser.add_argument(
        "--backends",
        default=",".join(BACKENDS),
        help="Keras backends, comma-separated; default all three",
    )
    parser.add_argument("--objectives", default="elbo,iwae", help="elbo, iwae or both")
    parser.add_argument("--epochs", type=positive_int, default=30)
    parser.add_argument(
        "--repeats",
        type=positive_int,
        default=3,
        help="fits per library and objective; only the first is evaluated",
    )
    parser.add_argument("--nll-samples", type=positive_int, default=5000)
    parser.add_argument("--iwae-samples", type=positive_int, default=5)
    parser.add_argument("--pythae-threads", type=positive_int, default=1)
    parser.add_argument("--keras-torch-threads", type=positive_int, default=1)
    parser.add_argument(
        "--seeds",
        default="0",
        help="comma-separated seeds: each gives its own data split, weights and "
        "noise, and one evaluated fit per library; NLLs are compared seed by seed",
    )
    parser.add_argument(
        "--initializers",
        default="glorot_uniform",
        help="comma-separated initialisations of vae() (a row each), each KERNEL "
        "or KERNEL/BIAS, initializer names vae() takes; default Keras's "
        "glorot_uniform (biases zeros)",
    )
    parser.add_argument(
        "--batchings",
        default="array",
        help="comma-separated ways to feed vae()'s fit (a row each): array (fit(x, "
        "batch_size=32)) and/or padded (keras_recipes.batching.PaddedBatches)",
    )
    # Internal: one worker's seed, initializer and batching.
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--kernel-initializer", default="glorot_uniform", help=argparse.SUPPRESS)
    parser.add_argument("--bias-initializer", default="zeros", help=argparse.SUPPRESS)
    parser.add_argument("--batching", choices=("array", "padded"), default="array", help=argparse.SUPPRESS)
    # Internal: the subprocesses.
    parser.add_argument("--worker", choices=("pythae", "keras"), help=argparse.SUPPRESS)
    parser.add_argument("--objective", choices=("elbo", "iwae"), help=argparse.SUPPRESS)
    parser.add_argument("--evaluate", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--export", help=argparse.SUPPRESS)
    parser.add_argument("--cross-check", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.backends = [name for name in args.backends.split(",") if name]
    for name in args.backends:
        if name not in BACKENDS:
            parser.error(
                f"--backends: expected names from {BACKENDS}, received {name!r}"
            )
    try:
        args.seeds = [int(text) for text in args.seeds.split(",") if text]
    except ValueError:
        parser.error(f"--seeds: expected comma-separated integers, received {args.seeds!r}")
    if not args.seeds or min(args.seeds) < 0:
        parser.error(f"--seeds: expected non-negative integers, received {args.seeds!r}")
    args.initializers = [
        tuple(entry.split("/")) if "/" in entry else (entry, "zeros")
        for entry in args.initializers.split(",")
        if entry
    ]
    if not args.initializers or any(
        len(pair) != 2 or not all(pair) for pair in args.initializers
    ):
        parser.error("--initializers: expected KERNEL or KERNEL/BIAS names, comma-separated")
    args.batchings = [name for name in args.batchings.split(",") if name]
    if not args.batchings or not set(args.batchings) <= {"array", "padded"}:
        parser.error(f"--batchings: expected array and/or padded, received {args.batchings!r}")
    args.objectives = [name for name in args.objectives.split(",") if name]
    for name in args.objectives:
        if name not in ("elbo", "iwae"):
            parser.error(f"--objectives: expected elbo and/or iwae, received {name!r}")
    if args.worker is None and args.pythae_python is None:
        parser.error("--pythae-python is required (the python of Pythae's environment)")
    return args


def main(argv=None):
    args = parse_arguments(argv)
    if args.worker == "pythae":
        return pythae_worker(args)
    if args.worker == "keras":
        return keras_worker(args)
    script = os.path.abspath(__file__)
    shared = [
        "--epochs",
        str(args.epochs),
        "--nll-samples",
        str(args.nll_samples),
        "--iwae-samples",
        str(args.iwae_samples),
        "--pythae-threads",
        str(args.pythae_threads),
    ]
    if args.keras_torch_threads:
        shared += ["--keras-torch-threads", str(args.keras_torch_threads)]
    print(f"load average at start: {os.getloadavg()}", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        for objective in args.objectives:
            # rows[label][seed] = the fits of that library on that seed.
            rows = {}
            for seed in args.seeds:
                exported = os.path.join(folder, f"pythae-{objective}-{seed}.npz")
                for repeat in range(args.repeats):
                    first = repeat == 0
                    extra = ["--objective", objective, "--seed", str(seed)]
                    extra += ["--evaluate"] if first else []
                    command = [args.pythae_python, script, "--worker", "pythae", *shared, *extra]
                    if first:
                        command += ["--export", exported]
                    rows.setdefault("pythae", {}).setdefault(seed, []).append(
                        run_worker(command)
                    )
                    for index, backend in enumerate(args.backends):
                        for (kernel, bias), batching in itertools.product(
                            args.initializers, args.batchings
                        ):
                            command = [
                                sys.executable,
                                script,
                                "--worker",
                                "keras",
                                *shared,
                                *extra,
                                "--kernel-initializer",
                                kernel,
                                "--bias-initializer",
                                bias,
                                "--batching",
                                batching,
                            ]
                            if (
                                first
                                and index == 0
                                and (kernel, bias) == args.initializers[0]
                                and batching == args.batchings[0]
                            ):
                                command += ["--cross-check", exported]
                            row = run_worker(command, {"KERAS_BACKEND": backend})
                            label = f"{backend}, {kernel}" + (f"/{bias}" if bias != "zeros" else "")
                            label += ", PaddedBatches" if batching == "padded" else ""
                            rows.setdefault(label, {}).setdefault(seed, []).append(row)
            report(objective, rows, args)
    print(f"load average at end: {os.getloadavg()}")


def report(objective, rows, args):
    """Print one objective's table: speeds over every fit, NLLs seed by seed against Pythae's."""
    def every_fit(group):
        return [row for fits in group.values() for row in fits]

    def evaluated(group, key):
        return {seed: fits[0][key] for seed, fits in group.items() if key in fits[0]}

    pythae_speed = median(every_fit(rows["pythae"]), "samples_per_second")
    pythae_nll = evaluated(rows["pythae"], "nll")
    title = objective if objective == "elbo" else f"iwae k={args.iwae_samples}"
    print(
        f"\n{title}: {args.epochs} epochs, batch 32, Adam 1e-3, NLL k={args.nll_samples}; "
        f"seeds {args.seeds}, {args.repeats} fit(s) per seed, the first evaluated; "
        f"Pythae on {args.pythae_threads} thread(s)"
    )
    print(
        "| library | samples/s (median fit) | / Pythae | held-out -ELBO (mean) "
        "| NLL (mean of seeds) | NLL / Pythae's (mean; per seed) |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for name, group in rows.items():
        speed = median(every_fit(group), "samples_per_second")
        label = "Pythae 0.1.2" if name == "pythae" else f"`vae()`, {name}"
        if name == "pythae":
            loop = median(every_fit(group), "loop_samples_per_second")
            label += f" (loop alone {loop:,.0f}/s)"
        nll = evaluated(group, "nll")
        elbo = evaluated(group, "elbo_loss")
        ratios = [nll[seed] / pythae_nll[seed] for seed in nll if seed in pythae_nll]
        mean = statistics.mean
        print(
            f"| {label} | {speed:,.0f} | {speed / pythae_speed:.2f}x | "
            f"{mean(elbo.values()) if elbo else float('nan'):.3f} | "
            f"{mean(nll.values()) if nll else float('nan'):.3f} | "
            f"{mean(ratios) if ratios else float('nan'):.4f}; "
            + " ".join(f"{ratio:.3f}" for ratio in ratios)
            + " |"
        )
    for name, group in rows.items():
        for seed, fits in group.items():
            if "pythae_nll_by_ours" in fits[0]:
                print(
                    f"cross-check, seed {seed}: Pythae's trained model evaluated by ours "
                    f"({name}): -ELBO {fits[0]['pythae_elbo_loss_by_ours']:.3f}, "
                    f"NLL {fits[0]['pythae_nll_by_ours']:.3f} "
                    f"(Pythae's own get_nll: {pythae_nll.get(seed, float('nan')):.3f})"
                )
    print("raw:", json.dumps(rows))


if __name__ == "__main__":
    main()
