"""`train split-brain --data DIR` and `--probe-data DIR`: folders of images as the run's data.

Before Keras: the options that only a folder takes, the listing, the seeded
file-level split and the labelled probe folder, all checked with one line
each. After Keras: the streamed datasets (`ImageFolderDataset`), the
held-out images of `colorized.png`, the probe's features, and
`skipped.txt`, the files a run did not use and why.
"""

import os
from typing import NamedTuple

import numpy as np

from keras_recipes._image_folders import listing as _listing
from keras_recipes._recipes.split_brain import spec
from keras_recipes.cli import CommandError, _distribute
from keras_recipes.cli._runs import SKIPPED_FILE

# The layers `--probe-data` probes: every convolution and fully connected
# layer the architectures have, the columns of the paper's Tables 2 and 3
# (conv1 to conv5) and its fc6 and fc7.
PAPER_PROBED_LAYERS = tuple(
    layer for layer in spec.FEATURE_LAYERS if layer.startswith(("conv", "fc"))
)


class FolderData(NamedTuple):
    """A folder's listing and its seeded split into training and held-out files."""

    listing: _listing.ImageListing
    split: _listing.FileSplit


def check_options(args, is_folder):
    """Resolves `--image-size` (the architecture's own by default) and refuses folder options without a folder.

    Raises:
        CommandError: `--image-size` or `--image-fit` without a folder.
        ValueError: an image size that does not suit the architecture.
    """
    if not is_folder:
        for option, value in (("--image-size", args.image_size), ("--image-fit", args.image_fit)):
            if value is not None:
                raise CommandError(
                    f"Invalid value for argument `{option}`: it applies to a folder of images "
                    f"(--data DIR); arrays and shapes keep their own size. "
                    f"Received: {option}={value!r} with --data={args.data!r}"
                )
    if args.image_size is None and (is_folder or args.probe_data is not None):
        args.image_size = spec.NATIVE_IMAGE_SIZES[args.architecture]
    if args.image_size is not None:
        spec.check_image_side("--image-size", args.image_size, args.architecture)
    args.image_fit = args.image_fit or "crop"


def folder_data(args):
    """The `--data` folder's images, split with `--seed` (one line if there are none)."""
    found = _listing.list_images(args.data, argument="--data")
    # Several processes: each reads its own shard of each part.
    shard = (args.process_id, args.num_processes) if args.num_processes > 1 else None
    return FolderData(found, _listing.split_files(found, seed=args.seed, shard=shard))


def probe_split(args):
    """The `--probe-data` folder's labelled images, split with `--seed`, or `None` without it."""
    if args.probe_data is None:
        return None
    found = _listing.list_images(args.probe_data, labelled=True, argument="--probe-data")
    if len(found) < 2:
        raise CommandError(
            "Invalid value for argument `--probe-data`: expected at least 2 images. "
            f"Received: --probe-data={args.probe_data!r}"
        )
    return FolderData(found, _listing.split_files(found, seed=args.seed))


def datasets(args, data):
    """The streamed training and held-out `ImageFolderDataset`s of a `FolderData`.

    Under `--distribute data-parallel` each part is cut to a multiple of the
    device count, as `_distribute.even_split` cuts arrays; with several
    processes, each process's shard is cut to whole batches of its rows of
    each global batch (`_distribute.process_batch_size`).
    """
    from keras_recipes._image_folders.dataset import ImageFolderDataset

    parts = []
    for part, training in ((data.split.train, True), (data.split.held_out, False)):
        if args.num_processes > 1:
            count = _distribute.process_batch_size(args)
            part = _listing.first_files(part, len(part) - len(part) % count)
        elif args.distribute == "data-parallel":
            count = _distribute.replicas(args)
            part = _listing.first_files(part, len(part) - len(part) % count)
        parts.append(ImageFolderDataset(
            part, image_size=args.image_size, batch_size=_distribute.process_batch_size(args),
            fit=args.image_fit,
            training=training, seed=args.seed, workers=args.workers,
        ))
    return parts


def preview(args, held_out, count, failed):
    """The first `count` readable held-out images (sRGB, centre crops) for `colorized.png`.

    Files that fail to decode are added to `failed` (a dict path -> reason).
    """
    images = []
    for path in held_out.paths:
        if len(images) == count:
            break
        try:
            images.append(_listing.read_image(path, args.image_size, fit=args.image_fit))
        except Exception as error:  # noqa: BLE001  (as the dataset: any failure skips)
            failed[path] = f"cannot be decoded ({' '.join(str(error).split())})"
    if not images:
        raise ValueError(
            f"Invalid value for argument `--data`: none of the {len(held_out)} held-out images "
            "could be decoded. "
            f"Received: --data={args.data!r}"
        )
    return np.stack(images)


def probe_features(extractor, args, part):
    """Each probed layer's features of a probe part's images, and their labels.

    Files that fail to decode are left out (features and labels stay one to
    one); the dataset's `failed` lists them.

    Returns:
        `(features, labels, dataset)`: a list of `(n, channels)` arrays, one
        per layer, the `(n,)` labels, and the dataset read.
    """
    from keras_recipes._image_folders.dataset import ImageFolderDataset

    dataset = ImageFolderDataset(
        part, image_size=args.image_size, batch_size=64, fit=args.image_fit,
        training=False, with_labels=True, replace_failed=False, workers=args.workers,
    )
    features, labels = [], []
    for batch in range(dataset.num_batches):
        lab, batch_labels = dataset[batch]
        if len(lab):
            outputs = extractor.predict_on_batch(lab)
            features.append([np.asarray(values) for values in outputs])
            labels.append(batch_labels)
    return (
        [np.concatenate(layer) for layer in zip(*features)],
        np.concatenate(labels),
        dataset,
    )


def account(args, data, datasets, preview_failures, probe_skipped):
    """Writes `skipped.txt`; returns the report's line on the `--data` folder's files.

    Args:
        args: the parsed arguments; `args.out` is the run directory.
        data: the `FolderData` of `--data`, or `None` for arrays or shapes.
        datasets: the run's `ImageFolderDataset`s (their `failed`).
        preview_failures: files that failed to decode for `colorized.png`,
            path -> reason.
        probe_skipped: `SkippedFile`s of `--probe-data`.

    Returns:
        A list of lines: one with a folder, none without.
    """
    undecoded = {path: reason for dataset in datasets for path, reason in dataset.failed}
    undecoded.update(preview_failures)
    listed = data.listing.skipped if data is not None else ()
    write_skipped(args, [
        *listed,
        *(_listing.SkippedFile(path, reason) for path, reason in undecoded.items()),
        *probe_skipped,
    ])
    if data is None:
        return []
    skipped = len(listed) + len(undecoded)
    line = (
        f"images: {len(data.listing) - len(undecoded):,} used of {len(data.listing):,} found "
        f"in {data.listing.directory}; skipped {skipped:,}: {len(listed):,} not images (found "
        f"while listing), {len(undecoded):,} that failed to decode"
    )
    return [line + (f" (listed in {SKIPPED_FILE})" if skipped else "")]


def write_skipped(args, skipped):
    """Writes `skipped.txt` (one `path<TAB>reason` line a file) when files were skipped.

    Args:
        args: the parsed arguments; `args.out` is the run directory.
        skipped: `SkippedFile`s.

    Returns:
        The number of files listed.
    """
    unique = sorted(set(skipped))
    if not unique:
        return 0
    with open(os.path.join(args.out, SKIPPED_FILE), "w", encoding="utf-8",
              errors="backslashreplace") as file:
        for path, reason in unique:
            file.write(f"{path}\t{reason}\n")
    return len(unique)


def add_arguments(parser):
    """Adds `--architecture`'s companions for folders: `--image-size`, `--image-fit`, `--workers`, `--probe-data`."""
    from keras_recipes.cli import _option_types

    parser.add_argument(
        "--image-size", type=_option_types.int_in_range(
            "--image-size", 8, 4096, "an integer from 8 to 4,096"),
        default=None, metavar="N",
        help="side of the square images a folder's files are fitted to; it must suit the "
        "architecture (small: multiples of 4; alexnet: e.g. 180) (default: 32 for small, "
        "180 for alexnet)",
    )
    parser.add_argument(
        "--image-fit", choices=_listing.IMAGE_FITS, default=None,
        help="crop: scale the shorter side to --image-size and crop a square (at random "
        "for training, the centre for held-out images); resize: scale the whole image to "
        "the square (default: crop)",
    )
    parser.add_argument(
        "--workers", type=_option_types.int_in_range("--workers", 1, 64, "an integer from 1 to 64"),
        default=1,
        help="threads decoding a folder's images (default: 1)",
    )
    parser.add_argument(
        "--probe-data", metavar="DIR", default=None,
        help="a folder with one sub-folder of images per class: linear probes on every "
        "frozen layer, before and after pre-training, into probe.json",
    )
