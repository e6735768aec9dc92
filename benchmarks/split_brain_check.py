"""Faithfulness check of `split_brain_ae`: does the small variant learn what the paper says?

Not a test (tests never take minutes): a script that pre-trains the small
architecture on `colored_shapes` images and prints

1. the label-free check: on held-out images, each head's cross-entropy
   against the entropy of the held-out targets' bin histogram, which is the
   best a constant predictor can do (a head below it predicts from its
   input, not from the prior);
2. linear probes: a logistic regression on the frozen, concatenated features
   of several layers, for the pre-trained split-brain network and for the
   same architecture with random weights;
3. the paper-style ablation: split-brain (both towers) against each tower
   alone and against a single L -> ab tower of the same total width (the
   paper's "L -> ab" rows), pre-trained for the same number of steps.

Run from the repository root (about 6 minutes on 2 CPU cores with the
defaults):

    python benchmarks/split_brain_check.py

Every figure it prints is recorded in docs/split_brain.md.
"""

import argparse
import math
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_recipes  # noqa: E402
from keras_recipes import color, data  # noqa: E402

PROBED = ("conv1", "conv3", "conv5", "fc7")


def _lab(images):
    return keras.ops.convert_to_numpy(color.rgb_to_lab(images))


def _entropy(labels, num_bins):
    """Entropy (nats) of the empirical histogram of `labels`: a constant predictor's best cross-entropy."""
    counts = np.bincount(labels.ravel(), minlength=num_bins).astype("float64")
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


def _cross_entropy(logits, labels):
    """Mean softmax cross-entropy (nats) of integer `labels` under `logits`."""
    logits = logits - logits.max(axis=-1, keepdims=True)
    log_p = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    return float(-np.take_along_axis(log_p, labels[..., None], axis=-1).mean())


def _pooled(features, grid=2):
    """Average-pool `(n, h, w, c)` features to a `grid` x `grid` map and flatten: the paper's resize, small."""
    n, height, width, channels = features.shape
    features = features[:, : height // grid * grid, : width // grid * grid]
    features = features.reshape(n, grid, height // grid, grid, width // grid, channels)
    return features.mean(axis=(2, 4)).reshape(n, -1)


def _probe(train_x, train_y, test_x, test_y, num_classes, seed):
    """Test accuracy of a logistic regression on standardised features (the paper's BN-then-linear probe)."""
    mean, std = train_x.mean(axis=0), train_x.std(axis=0) + 1e-6
    train_x, test_x = (train_x - mean) / std, (test_x - mean) / std
    keras.utils.set_random_seed(seed)
    probe = keras.Sequential(
        [
            keras.Input((train_x.shape[1],)),
            keras.layers.Dense(
                num_classes, kernel_regularizer=keras.regularizers.L2(1e-3)
            ),
        ]
    )
    probe.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    probe.fit(train_x, train_y, epochs=60, batch_size=128, verbose=0)
    return probe.evaluate(test_x, test_y, verbose=0)[1]


def _tower_features(model, towers, layers, images):
    """Pooled features of `towers` (1, 2 or both) at each of `layers`, computed in inference mode."""
    result = {}
    for layer in layers:
        tapped = layer if layer.startswith("pool") else f"relu{layer[-1]}"
        outputs = [model.get_layer(f"{model.name}_tower_{t}_{tapped}").output for t in towers]
        extractor = keras.Model(model.inputs[0], outputs)
        values = extractor.predict(images, batch_size=256, verbose=0)
        values = values if isinstance(values, list) else [values]
        result[layer] = np.concatenate([_pooled(v) for v in values], axis=-1)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=3000, help="pre-training images")
    parser.add_argument("--test", type=int, default=1000, help="held-out labelled images")
    parser.add_argument("--probe-train", type=int, default=1000, help="labelled images for the probes")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--width", type=float, default=0.25, help="width_multiplier")
    parser.add_argument("--classes", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    start = time.perf_counter()
    keras.utils.set_random_seed(args.seed)

    train_rgb, train_labels = data.colored_shapes(
        args.train, size=32, num_classes=args.classes, seed=args.seed
    )
    test_rgb, test_labels = data.colored_shapes(
        args.test, size=32, num_classes=args.classes, seed=args.seed + 1
    )
    train_lab, test_lab = _lab(train_rgb), _lab(test_rgb)
    probe_lab, probe_labels = train_lab[: args.probe_train], train_labels[: args.probe_train]
    print(
        f"data: {args.train} pre-training and {args.test} held-out colored_shapes "
        f"images, 32x32, {args.classes} classes; small architecture, "
        f"width_multiplier={args.width}, {args.epochs} epochs, batch 64, Adam 1e-3"
    )

    # === Pre-training: the split-brain autoencoder, from images alone ===
    settings = {"architecture": "small", "width_multiplier": args.width, "seed": args.seed}
    model = keras_recipes.split_brain_ae((32, 32, 3), **settings)
    random_model = keras_recipes.split_brain_ae((32, 32, 3), **settings)
    model.fit(train_lab, epochs=args.epochs, batch_size=64, verbose=0)
    pretrain_seconds = time.perf_counter() - start
    print(f"pre-training: {pretrain_seconds:.0f} s")

    # === 1. Label-free check: held-out cross-entropy against the prior ===
    print("\n1. held-out cross-entropy (nats) vs the entropy of the bin histogram")
    predictions = model.predict(test_lab, batch_size=256, verbose=0)
    targets = keras_recipes.split_brain_targets(test_lab, model)
    for title, logits, labels in zip(("ab from L", "L from ab"), predictions, targets):
        num_bins = logits.shape[-1]
        entropy = _entropy(labels, num_bins)
        cross_entropy = _cross_entropy(logits, labels)
        print(
            f"   {title}: cross-entropy {cross_entropy:.3f}, histogram entropy "
            f"{entropy:.3f} (ratio {cross_entropy / entropy:.2f}), log(bins) "
            f"{math.log(num_bins):.3f}"
        )

    # === 2 and 3. Linear probes and the ablation ===
    # A single L -> ab tower as wide as both towers together: tower 1 of a
    # split-brain network at twice the width, trained on its own loss only.
    wide = keras_recipes.split_brain_ae(
        (32, 32, 3), **{**settings, "width_multiplier": 2 * args.width}
    )
    single = keras.Model(wide.inputs[0], wide.outputs[0], name=wide.name)
    single.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    single_targets = keras_recipes.split_brain_targets(train_lab, wide)[0]
    single.fit(train_lab, single_targets, epochs=args.epochs, batch_size=64, verbose=0)

    rows = [
        ("random weights, both towers", random_model, (1, 2)),
        ("split-brain, L->ab tower only", model, (1,)),
        ("split-brain, ab->L tower only", model, (2,)),
        ("single L->ab tower, same total width", wide, (1,)),
        ("split-brain, both towers (the method)", model, (1, 2)),
    ]
    print(
        f"\n2-3. linear probe: top-1 accuracy on {args.test} held-out images, "
        f"trained on {args.probe_train} labelled ones (chance {1 / args.classes:.3f})"
    )
    print("   " + f"{'features':40s}" + "".join(f"{layer:>8s}" for layer in PROBED))
    for title, network, towers in rows:
        train_features = _tower_features(network, towers, PROBED, probe_lab)
        test_features = _tower_features(network, towers, PROBED, test_lab)
        accuracies = [
            _probe(
                train_features[layer],
                probe_labels,
                test_features[layer],
                test_labels,
                args.classes,
                args.seed,
            )
            for layer in PROBED
        ]
        print("   " + f"{title:40s}" + "".join(f"{value:8.3f}" for value in accuracies))
    print(f"\ntotal: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
