"""A folder of images: the files found, the files skipped, a seeded split and a shard.

Plain Python, numpy and Pillow: no Keras, so `keras-recipes train
split-brain --data DIR` refuses an empty or missing folder before Keras is
imported. The files are read by `read_image`, the batches made by
`keras_recipes._image_folders.dataset.ImageFolderDataset`.

Which files are images: those whose suffix, in any case, is one Keras's
own image loading reads (`IMAGE_SUFFIXES`, Keras 3.15's
`image_dataset_from_directory` allow-list) and whose first bytes are that
format's signature. The signature check costs one 16-byte read per file
while listing and catches the cheap mistakes (a zero-byte file, a text file
named `.png`); a file that passes it and still fails to decode (a truncated
JPEG) is found when it is first read, skipped there, and counted by the
dataset.
"""

import os
import stat
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

from keras_recipes import _validation

# Keras 3.15's allow-list (keras/src/utils/image_dataset_utils.py,
# ALLOWLIST_FORMATS), which tests/test_image_folders.py compares with the
# installed Keras. WebP is not on it, so it is not read here either.
IMAGE_SUFFIXES = (".bmp", ".gif", ".jpeg", ".jpg", ".png")

# The first bytes of each format: what `list_images` checks before it
# takes a file for an image.
_SIGNATURES = {
    ".bmp": (b"BM",),
    ".gif": (b"GIF87a", b"GIF89a"),
    ".jpeg": (b"\xff\xd8\xff",),
    ".jpg": (b"\xff\xd8\xff",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
}

# How an image meets the model's square input: `crop` scales the shorter side
# to the size, keeping the aspect ratio, then crops a square (at random for
# training, the centre for held-out images); `resize` scales the whole image
# to the square, changing its aspect ratio, as image_dataset_from_directory
# does by default.
IMAGE_FITS = ("crop", "resize")

# The held-out fraction of a file-level split, as the array data's
# (keras_recipes.cli._data.VALIDATION_FRACTION).
HELD_OUT_FRACTION = 0.2


class SkippedFile(NamedTuple):
    """A file that is not used, and why (one line)."""

    path: str
    reason: str


@dataclass(frozen=True)
class ImageListing:
    """The image files of a folder, in sorted order, and the files skipped.

    `paths` are absolute; `labels[i]` is the class index of `paths[i]` (its
    top-level sub-folder, in `classes`) for a labelled folder, else
    `labels` and `classes` are `None`. `skipped` holds the files with an
    image suffix that are not images (empty, or another format).
    """

    directory: str
    paths: tuple
    labels: tuple | None = None
    classes: tuple | None = None
    skipped: tuple = ()

    def __len__(self):
        return len(self.paths)


class FileSplit(NamedTuple):
    """The training and held-out files of `split_files`, each an `ImageListing`."""

    train: ImageListing
    held_out: ImageListing


def _folder_error(argument, directory, problem):
    return ValueError(
        f"Invalid value for argument `{argument}`: {problem}. Received: {argument}={directory!r}"
    )


def _walk(directory):
    """Yields every regular file under `directory`, following symbolic links once.

    A folder is entered once, by its device and inode, so a symbolic link
    back to an ancestor (a loop) or two links to one folder neither hang
    nor read a file twice. Folders that cannot be read are passed over.
    """
    seen = set()
    pending = [directory]
    while pending:
        folder = pending.pop()
        try:
            info = os.stat(folder)
        except OSError:
            continue
        if (info.st_dev, info.st_ino) in seen:
            continue
        seen.add((info.st_dev, info.st_ino))
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError:
            continue
        for entry in entries:
            try:
                mode = os.stat(entry.path).st_mode  # follows a link
            except OSError:
                continue  # a dangling link
            if stat.S_ISDIR(mode):
                pending.append(entry.path)
            elif stat.S_ISREG(mode):
                yield entry.path


def _signature_problem(path, suffix):
    """`None` if the file starts as its suffix's format does, else why it is skipped."""
    try:
        with open(path, "rb") as file:
            start = file.read(16)
    except OSError as error:
        return f"cannot be read ({error.strerror or error})"
    if not start:
        return "empty (0 bytes)"
    if not start.startswith(_SIGNATURES[suffix]):
        return f"not a {suffix[1:].upper()} image (its first bytes are not that format's)"
    return None


def list_images(directory, *, labelled=False, argument="directory"):
    """Finds the images under `directory`, recursively, in sorted order.

    Files are matched by suffix (`IMAGE_SUFFIXES`, in any case) and their
    first bytes; other files (a `README`, a `.txt`) are ignored, image-named
    files that are not images are listed in `skipped`. Symbolic links are
    followed, each folder entered once.

    Args:
        directory: the folder to read.
        labelled: whether each top-level sub-folder is a class (the layout
            of `keras.utils.image_dataset_from_directory`); images directly
            in `directory` are then ignored. Defaults to `False`.
        argument: the option or argument named in errors. Defaults to
            `"directory"`.

    Returns:
        An `ImageListing`, paths sorted by their path relative to
        `directory`, so the order (and any split of it) does not depend on
        the order the file system lists them in.

    Raises:
        ValueError: `directory` is not a folder, holds no image, or (when
            `labelled`) has fewer than two classes with images.
        TypeError: `directory` is not a string or path.

    Example:

    >>> import tempfile
    >>> from PIL import Image
    >>> folder = tempfile.mkdtemp()
    >>> Image.new("RGB", (8, 8)).save(f"{folder}/a.PNG")
    >>> listing = list_images(folder)
    >>> [os.path.basename(path) for path in listing.paths], listing.skipped
    (['a.PNG'], ())
    """
    if not isinstance(directory, (str, os.PathLike)):
        raise _validation.wrong_type(argument, "the path of a folder of images", directory)
    directory = os.path.abspath(os.fspath(directory))
    if not os.path.isdir(directory):
        problem = "no such folder" if not os.path.exists(directory) else "not a folder"
        raise _folder_error(argument, directory, f"expected a folder of images; {problem}")
    found, skipped = [], []
    if labelled:
        classes = sorted(
            entry.name for entry in os.scandir(directory) if entry.is_dir()
        )
        roots = [(index, os.path.join(directory, name)) for index, name in enumerate(classes)]
    else:
        classes, roots = None, [(None, directory)]
    for label, root in roots:
        for path in _walk(root):
            suffix = os.path.splitext(path)[1].lower()
            if suffix not in _SIGNATURES:
                continue
            problem = _signature_problem(path, suffix)
            if problem is None:
                found.append((os.path.relpath(path, directory), label))
            else:
                skipped.append(SkippedFile(path, problem))
    found.sort()
    skipped.sort()
    if not found:
        layout = "one sub-folder of images per class" if labelled else "images"
        described = f"; skipped {len(skipped)} not readable as images" if skipped else ""
        raise _folder_error(
            argument, directory,
            f"expected a folder holding {layout} ({', '.join(IMAGE_SUFFIXES)}, any case, "
            f"in any sub-folder); found none{described}",
        )
    paths = tuple(os.path.join(directory, relative) for relative, _ in found)
    if not labelled:
        return ImageListing(directory, paths, skipped=tuple(skipped))
    labels = tuple(label for _, label in found)
    used = sorted(set(labels))
    if len(used) < 2:
        raise _folder_error(
            argument, directory,
            "expected one sub-folder of images per class, at least two classes with images; "
            f"found images in {len(used)}",
        )
    # Classes without images are dropped, and the labels renumbered 0..k-1.
    renumber = {old: new for new, old in enumerate(used)}
    return ImageListing(
        directory, paths, tuple(renumber[label] for label in labels),
        tuple(classes[index] for index in used), tuple(skipped),
    )


def _take(listing, indices):
    labels = None if listing.labels is None else tuple(listing.labels[i] for i in indices)
    return replace(
        listing, paths=tuple(listing.paths[i] for i in indices), labels=labels, skipped=()
    )


def first_files(listing, count):
    """The first `count` files of `listing` (all of them if it has fewer), with their labels.

    Example:

    >>> listing = ImageListing("/data", ("/data/a.png", "/data/b.png", "/data/c.png"))
    >>> first_files(listing, 2).paths
    ('/data/a.png', '/data/b.png')
    """
    return _take(listing, range(min(count, len(listing))))


def split_files(listing, *, seed, fraction=HELD_OUT_FRACTION, shard=None):
    """Holds out a seeded `fraction` of the files, then keeps one process's shard of each part.

    The split permutes the sorted paths with numpy's generator seeded by
    `seed`, so it depends on the seed and the set of files, not on how they
    were listed: the same folder elsewhere, or copied in another order,
    splits the same way. At least one file is held out and one kept.

    Args:
        listing: an `ImageListing` of at least two files.
        seed: the seed of the split, a non-negative integer.
        fraction: the fraction held out, in (0, 1). Defaults to
            `HELD_OUT_FRACTION`.
        shard: `None`, or `(process_index, process_count)`: each part is
            then cut into `process_count` strided shards of equal length
            (the last `len % process_count` files of the permuted order are
            left out, so that every process runs the same number of
            batches) and the `process_index`-th is returned. Defaults to
            `None`, all files.

    Returns:
        A `FileSplit(train, held_out)` of `ImageListing`s (their `skipped`
        empty; the original listing keeps it).

    Raises:
        ValueError: fewer than two files, a fraction outside (0, 1), a bad
            shard, or a shard too small to hold a file of each part.

    Example:

    >>> listing = ImageListing("/data", tuple(f"/data/{i}.png" for i in range(10)))
    >>> split = split_files(listing, seed=0)
    >>> len(split.train), len(split.held_out)
    (8, 2)
    >>> len(split_files(listing, seed=0, shard=(1, 2)).train)
    4
    """
    if len(listing) < 2:
        raise _folder_error(
            "--data", listing.directory,
            f"expected at least 2 images (one to train on, one to hold out); found {len(listing)}",
        )
    seed = _validation.check_seed(seed)
    fraction = _validation.check_real_number("fraction", fraction)
    if not 0.0 < fraction < 1.0:
        raise _validation.invalid("fraction", "a number between 0 and 1", fraction)
    order = np.random.default_rng(seed).permutation(len(listing))
    held_out = min(len(listing) - 1, max(1, round(len(listing) * fraction)))
    parts = [order[held_out:], order[:held_out]]
    if shard is not None:
        index, count = _check_shard(shard)
        for number, part in enumerate(parts):
            per_process = len(part) // count
            if per_process == 0:
                raise _validation.invalid(
                    "shard", f"a process count of at most {len(part)}, the files in "
                    f"the {'training' if number == 0 else 'held-out'} part", shard,
                )
            parts[number] = part[: per_process * count][index::count]
    return FileSplit(_take(listing, parts[0]), _take(listing, parts[1]))


def _check_shard(shard):
    expected = "a pair (process_index, process_count), 0 <= process_index < process_count"
    if not _validation.is_sequence(shard) or len(shard) != 2:
        raise _validation.wrong_type("shard", expected, shard)
    index, count = shard
    if not (_validation.is_int(index) and _validation.is_int(count)):
        raise _validation.wrong_type("shard", expected, shard)
    if not 0 <= index < count:
        raise _validation.invalid("shard", expected, shard)
    return int(index), int(count)


def read_image(path, size, *, fit="crop", rng=None):
    """Decodes one image file to a float32 sRGB array `(size, size, 3)` in [0, 1].

    Any mode Pillow reads (grey, palette, RGBA, CMYK; a GIF's first frame)
    becomes RGB; a JPEG is decoded at the smallest DCT scale that still
    covers `size` (Pillow's `draft`), which makes large photographs cheap.

    Args:
        path: the image file.
        size: the side of the square output, a positive integer.
        fit: `"crop"` or `"resize"` (`IMAGE_FITS`). Defaults to `"crop"`.
        rng: a `numpy.random.Generator` that places the crop, or `None`
            for the centre. Defaults to `None`.

    Returns:
        A float32 array `(size, size, 3)`.

    Raises:
        Whatever Pillow raises for a file it cannot decode (`OSError` for a
        truncated or unknown file, and others for crafted ones): the
        dataset catches them and skips the file.

    Example:

    >>> import tempfile
    >>> from PIL import Image
    >>> path = tempfile.mkdtemp() + "/wide.png"
    >>> Image.new("RGB", (40, 20), (255, 0, 0)).save(path)
    >>> image = read_image(path, 16)
    >>> image.shape, image.dtype.name, float(image[..., 0].min())
    ((16, 16, 3), 'float32', 1.0)
    """
    from PIL import Image

    with Image.open(path) as image:
        image.draft("RGB", (size, size))
        image = image.convert("RGB")
    if fit == "resize":
        image = image.resize((size, size), Image.Resampling.BILINEAR)
    else:
        width, height = image.size
        scale = size / min(width, height)
        scaled = (max(size, round(width * scale)), max(size, round(height * scale)))
        if scaled != image.size:
            image = image.resize(scaled, Image.Resampling.BILINEAR)
        spare_x, spare_y = scaled[0] - size, scaled[1] - size
        if rng is None:
            left, top = spare_x // 2, spare_y // 2
        else:
            left, top = int(rng.integers(0, spare_x + 1)), int(rng.integers(0, spare_y + 1))
        image = image.crop((left, top, left + size, top + size))
    return np.asarray(image, dtype="float32") / 255.0
