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
4. folders: `keras-recipes train split-brain --data DIR --probe-data DIR`
   pre-training on a folder of generated shapes and on a folder of crops of
   the photographs scikit-image ships (written to a temporary folder), each
   with its probe table on the same labelled folder of shapes, and the
   streamed folder's throughput (images decoded, cropped and converted to
   Lab per second, one process, one and two decoding threads).

Run from the repository root (about 6 minutes on 2 CPU cores with the
defaults):

    python benchmarks/split_brain_check.py
    python benchmarks/split_brain_check.py --part folders   # 4. alone

Every figure it prints is recorded in docs/recipes/split_brain_ae.md.
"""

import argparse
import contextlib
import io
import math
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_recipes  # noqa: E402
from keras_recipes import color, data  # noqa: E402

PROBED = ("conv1", "conv3", "conv5", "fc7")


def _lab(images):
    return keras.ops.convert_to_numpy(color.rgb_to_lab(images))


def _below_prior(logits, labels):
    """How far the head's cross-entropy lies below the best constant predictor's, on held-out images.

    The constant predictor outputs the held-out targets' own bin histogram
    `p`, the best any constant can do: its cross-entropy is the histogram's
    entropy. Returns `(cross_entropy, entropy, standard_error)` in nats; the
    standard error is that of the per-image difference of the two, over
    images.
    """
    num_bins = logits.shape[-1]
    counts = np.bincount(labels.ravel(), minlength=num_bins).astype("float64")
    log_prior = np.log(np.maximum(counts / counts.sum(), 1e-300))
    logits = logits - logits.max(axis=-1, keepdims=True)
    log_p = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    head = -np.take_along_axis(log_p, labels[..., None], axis=-1)[..., 0]
    constant = -log_prior[labels]
    per_image = (head - constant).reshape(len(labels), -1).mean(axis=1)
    return (
        float(head.mean()),
        float(constant.mean()),
        float(per_image.std(ddof=1) / np.sqrt(len(per_image))),
    )


def _pooled(features, grid=1):
    """Average-pool `(n, h, w, c)` features to a `grid` x `grid` map and flatten.

    The paper resizes each layer to about 9k features; on 32x32 shapes a
    random network's features keep so much spatial layout that a linear
    probe on them already reads the shape, so the check pools globally
    (grid 1), the protocol of the split-brain remote-sensing port.
    """
    n, height, width, channels = features.shape
    features = features[:, : height // grid * grid, : width // grid * grid]
    features = features.reshape(n, grid, height // grid, grid, width // grid, channels)
    return features.mean(axis=(2, 4)).reshape(n, -1)


def _probe(train_x, train_y, test_x, test_y, num_classes, steps=300):
    """Test accuracy of a logistic regression on standardised features (the paper's BN-then-linear probe).

    Full-batch Adam on the softmax cross-entropy with a small L2 penalty, in
    numpy: a few hundred steps on a thousand examples take well under a
    second, where a Keras model would spend longer tracing than training.
    """
    mean, std = train_x.mean(axis=0), train_x.std(axis=0) + 1e-6
    train_x, test_x = (train_x - mean) / std, (test_x - mean) / std
    weights = np.zeros((train_x.shape[1] + 1, num_classes))
    inputs = np.concatenate([train_x, np.ones((len(train_x), 1))], axis=1)
    one_hot = np.eye(num_classes)[train_y]
    first, second = np.zeros_like(weights), np.zeros_like(weights)
    for step in range(1, steps + 1):
        logits = inputs @ weights
        probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        gradient = inputs.T @ (probabilities - one_hot) / len(inputs) + 1e-3 * weights
        first = 0.9 * first + 0.1 * gradient
        second = 0.999 * second + 0.001 * gradient**2
        weights -= 0.01 * (first / (1 - 0.9**step)) / (
            np.sqrt(second / (1 - 0.999**step)) + 1e-8
        )
    test_logits = np.concatenate([test_x, np.ones((len(test_x), 1))], axis=1) @ weights
    return float((test_logits.argmax(axis=1) == test_y).mean())


def _tower_features(model, towers, layers, images):
    """Pooled features of `towers` (1, 2 or both) at each of `layers`, computed in inference mode."""
    names = [
        [
            f"{model.name}_tower_{t}_{layer if layer.startswith('pool') else 'relu' + layer[-1]}"
            for t in towers
        ]
        for layer in layers
    ]
    extractor = keras.Model(
        model.inputs[0],
        [model.get_layer(name).output for group in names for name in group],
    )
    values = extractor.predict(images, batch_size=256, verbose=0)
    values = values if isinstance(values, list) else [values]
    result, index = {}, 0
    for layer, group in zip(layers, names):
        pooled = [_pooled(value) for value in values[index : index + len(group)]]
        result[layer] = np.concatenate(pooled, axis=-1)
        index += len(group)
    return result


def _write_shape_folders(root, count, labelled_count, classes, hue_spread, seed):
    """`root/shapes` (unlabelled) and `root/shapes-labelled/<shape>/` as PNG files."""
    from PIL import Image

    shapes = {"size": 32, "num_classes": classes, "hue_spread": hue_spread}
    for folder, number, offset in (("shapes", count, 0), ("shapes-labelled", labelled_count, 1)):
        rgb, labels = data.colored_shapes(number, seed=seed + offset, **shapes)
        for index, (image, label) in enumerate(zip(rgb, labels)):
            parent = os.path.join(root, folder, data.SHAPES[label] if offset else "")
            os.makedirs(parent, exist_ok=True)
            Image.fromarray((image * 255).round().astype("uint8")).save(
                os.path.join(parent, f"{index:05d}.png")
            )


def _write_photo_folder(root, count, seed):
    """`root/photos`: JPEG crops, 64x64 to 128x128, of the photographs scikit-image ships."""
    import skimage.data
    from PIL import Image

    rng = np.random.default_rng(seed)
    photographs = [getattr(skimage.data, name)()[..., :3] for name in data.PHOTOGRAPHS]
    os.makedirs(os.path.join(root, "photos"))
    for index in range(count):
        photograph = photographs[index % len(photographs)]
        side = int(rng.integers(64, 129))
        top = int(rng.integers(0, photograph.shape[0] - side + 1))
        left = int(rng.integers(0, photograph.shape[1] - side + 1))
        Image.fromarray(photograph[top : top + side, left : left + side]).save(
            os.path.join(root, "photos", f"{index:05d}.jpg"), quality=90
        )


def _throughput(folder, image_size, batch_size, workers):
    """Images per second the streamed dataset delivers over one epoch (decode, crop, Lab), no training."""
    from keras_recipes._image_folders.dataset import ImageFolderDataset
    from keras_recipes._image_folders.listing import list_images

    dataset = ImageFolderDataset(
        list_images(folder), image_size=image_size, batch_size=batch_size, workers=workers
    )
    dataset[0]  # the first Lab conversion builds the backend's functions
    adapter = keras.src.trainers.data_adapters.py_dataset_adapter.PyDatasetAdapter(dataset)
    start = time.perf_counter()
    adapter.on_epoch_begin()
    count = sum(len(batch[0]) for batch in adapter.get_numpy_iterator())
    adapter.on_epoch_end()
    return count / (time.perf_counter() - start)


def _folders(args):
    """4. The command line on a folder of shapes and a folder of photograph crops, and the throughput."""
    from keras_recipes import cli

    print(
        f"\n4. folders: keras-recipes train split-brain --data DIR --probe-data DIR, "
        f"{args.folder_images} unlabelled and {args.folder_labelled} labelled images a folder, "
        f"32x32 crops, {args.folder_epochs} epochs, width_multiplier {args.width}"
    )
    with tempfile.TemporaryDirectory() as root:
        _write_shape_folders(root, args.folder_images, args.folder_labelled, args.classes,
                             args.hue_spread, args.seed)
        _write_photo_folder(root, args.folder_images, args.seed)
        for kind in ("shapes", "photos"):
            folder = os.path.join(root, kind)
            for workers in (1, 2):
                rate = _throughput(folder, 32, 64, workers)
                print(f"   {kind}: streamed {rate:.0f} images/s, one process, {workers} "
                      f"decoding thread{'s' if workers > 1 else ''}, load {os.getloadavg()[0]:.1f}")
        for kind in ("shapes", "photos"):
            output = io.StringIO()
            started = time.perf_counter()
            with contextlib.redirect_stdout(output):
                status = cli.main([
                    "train", "split-brain", "--data", os.path.join(root, kind),
                    # Both probed on the labelled shapes: what pre-training
                    # on each source gives the same downstream task.
                    "--probe-data", os.path.join(root, "shapes-labelled"),
                    "--out", os.path.join(root, f"run-{kind}"), "--image-size", "32",
                    "--epochs", str(args.folder_epochs), "--batch-size", "64",
                    "--width-multiplier", str(args.width), "--seed", str(args.seed),
                ])
            lines = output.getvalue().splitlines()
            table = [line for line in lines if line.startswith(("linear probe:", "|", "images:"))]
            print(f"\n   {kind} (exit status {status}, {time.perf_counter() - started:.0f} s):")
            print("\n".join("   " + line for line in table))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("all", "arrays", "folders"), default="all",
                        help="arrays: checks 1-3; folders: check 4 (default: all)")
    parser.add_argument("--folder-images", type=int, default=2000,
                        help="unlabelled images a folder (check 4)")
    parser.add_argument("--folder-labelled", type=int, default=800,
                        help="labelled shapes the probes read (check 4)")
    parser.add_argument("--folder-epochs", type=int, default=5, help="epochs (check 4)")
    parser.add_argument("--train", type=int, default=3000, help="pre-training images")
    parser.add_argument("--test", type=int, default=1000, help="held-out labelled images")
    parser.add_argument("--probe-train", type=int, default=1000, help="labelled images for the probes")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--width", type=float, default=0.25, help="width_multiplier")
    parser.add_argument("--classes", type=int, default=8)
    parser.add_argument(
        "--hue-spread",
        type=float,
        default=1.0,
        help="class hue spread in gaps: at 1, hue alone no longer gives the class away",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    start, cpu_start = time.perf_counter(), time.process_time()
    if args.part != "folders":
        _arrays(args)
    if args.part != "arrays":
        _folders(args)
    # CPU time counts every thread: on 2 otherwise idle cores the wall time
    # is about half of it; on a shared machine the wall time is longer.
    print(
        f"\ntotal: {time.perf_counter() - start:.0f} s wall, "
        f"{time.process_time() - cpu_start:.0f} s CPU, load {os.getloadavg()[0]:.1f}"
    )


def _arrays(args):
    """Checks 1 to 3, on arrays of generated shapes."""
    start = time.perf_counter()
    keras.utils.set_random_seed(args.seed)

    shapes = {"size": 32, "num_classes": args.classes, "hue_spread": args.hue_spread}
    train_rgb, train_labels = data.colored_shapes(args.train, seed=args.seed, **shapes)
    test_rgb, test_labels = data.colored_shapes(args.test, seed=args.seed + 1, **shapes)
    train_lab, test_lab = _lab(train_rgb), _lab(test_rgb)
    probe_lab, probe_labels = train_lab[: args.probe_train], train_labels[: args.probe_train]
    print(
        f"data: {args.train} pre-training and {args.test} held-out colored_shapes "
        f"images, 32x32, {args.classes} classes, hue spread {args.hue_spread}; "
        "small architecture, "
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
    print(
        "\n1. held-out cross-entropy (nats) against the entropy of the bin "
        "histogram (the best constant predictor)"
    )
    predictions = model.predict(test_lab, batch_size=256, verbose=0)
    targets = keras_recipes.split_brain_targets(test_lab, model)
    for title, logits, labels in zip(("ab from L", "L from ab"), predictions, targets):
        cross_entropy, entropy, error = _below_prior(logits, labels)
        margin = entropy - cross_entropy
        # "Clearly below": more than 5 standard errors; the ratio says by how much.
        verdict = "PASS" if margin > 5 * error else "FAIL"
        print(
            f"   {title}: cross-entropy {cross_entropy:.3f}, histogram entropy "
            f"{entropy:.3f}, ratio {cross_entropy / entropy:.3f}, below by "
            f"{margin:.3f} = {margin / error:.0f} standard errors, log(bins) "
            f"{math.log(logits.shape[-1]):.3f}: {verdict} (needs > 5 standard "
            "errors)"
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
    results = {}
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
            )
            for layer in PROBED
        ]
        print("   " + f"{title:40s}" + "".join(f"{value:8.3f}" for value in accuracies))
        results[title] = accuracies
    # A clear margin: 5 points of accuracy, over three binomial standard
    # errors at these accuracies on 1000 test images.
    best = max(range(len(PROBED)), key=lambda i: results[rows[-1][0]][i])
    method, random = results[rows[-1][0]][best], results[rows[0][0]][best]
    verdict = "PASS" if method - random >= 0.05 else "FAIL"
    print(
        f"   best layer of the method: {PROBED[best]}, {method:.3f} against "
        f"{random:.3f} with random weights: {verdict} (needs +0.05)"
    )


if __name__ == "__main__":
    main()
