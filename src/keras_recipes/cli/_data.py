"""Training data for `keras-recipes train`: the bundled sets and a user's array file.

Plain numpy, no Keras: every check here runs before TensorFlow is imported,
so bad data fails in a fraction of a second with one line, not after the
framework's start-up.

A user's `--data PATH` is a `.npy` file holding the samples, or a `.npz`
file holding them under the key `x` and, optionally, integer class labels
under the key `y` (one per sample; they colour the latent plot and train the
split-brain linear probe). Files are read with `allow_pickle=False`, so an
object array is refused rather than unpickled.
"""

import math
import os
import zipfile

import numpy as np

# The keys read from a `.npz` file.
SAMPLES_KEY = "x"
LABELS_KEY = "y"

# The first bytes of a .npy file and of a .npz file (a zip archive).
_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK"

# The fraction of the samples held out for validation, after a seeded
# shuffle: big enough that the validation loss picks the best checkpoint
# reliably (360 digits), small enough to leave most data for training.
VALIDATION_FRACTION = 0.2


def _data_error(path, problem, hint=""):
    """A `ValueError` naming `--data`, the file and what is wrong with it."""
    message = f"Invalid value for argument `--data`: {problem}. Received: --data={path!r}"
    if hint:
        message += f". {hint}"
    return ValueError(message)


def load_array_file(path):
    """Reads samples and optional labels from a `.npy` or `.npz` file.

    Returns:
        A tuple `(x, y)`: the samples as read, and the labels or `None`.

    Raises:
        ValueError: the file is missing, is not a numpy array file, holds
            an object array, or is an `.npz` without an `x` array.
    """
    if not os.path.exists(path):
        raise _data_error(path, "no such file")
    if os.path.isdir(path):
        raise _data_error(path, "expected a .npy or .npz file, not a directory")
    if not path.endswith((".npy", ".npz")):
        raise _data_error(path, "expected a .npy or .npz file (numpy's array formats)")
    # A named pipe or a device would be opened and read until a writer
    # closes it: a command that never answers.
    if not os.path.isfile(path):
        raise _data_error(path, "expected a .npy or .npz file; this is not a regular file")
    with open(path, "rb") as file:
        start = file.read(len(_NPY_MAGIC))
    # Without its magic bytes numpy takes a file for a pickle, and with
    # `allow_pickle=False` says it "contains pickled (object) data", which
    # misleads about a text or CSV file named `.npy`.
    if not start.startswith(_ZIP_MAGIC if path.endswith(".npz") else _NPY_MAGIC):
        kind = ".npz (zip)" if path.endswith(".npz") else ".npy"
        raise _data_error(path, f"not a numpy array file: it lacks the {kind} header")
    if path.endswith(".npy"):
        _check_npy_size(path)
    try:
        loaded = np.load(path, allow_pickle=False)
    except MemoryError as error:
        raise _data_error(path, f"too large to load into memory ({error})") from None
    except ValueError as error:
        # An object array ("Object arrays cannot be loaded when
        # allow_pickle=False") or a truncated file.
        raise _data_error(path, f"cannot read the arrays ({error})") from None
    except (OSError, EOFError, zipfile.BadZipFile) as error:
        # A truncated .npz still starts with the zip magic, and numpy lets
        # zipfile's BadZipFile through.
        raise _data_error(path, f"not a readable numpy array file ({error})") from None
    if isinstance(loaded, np.ndarray):
        return loaded, None
    with loaded:
        keys = sorted(loaded.files)
        if SAMPLES_KEY not in keys:
            raise _data_error(
                path,
                f"a .npz file needs the samples under the key {SAMPLES_KEY!r}; "
                f"it holds {keys}",
                f"Save it with numpy.savez(path, {SAMPLES_KEY}=samples, "
                f"{LABELS_KEY}=labels), labels optional",
            )
        _check_npz_sizes(path, loaded, [key for key in (SAMPLES_KEY, LABELS_KEY) if key in keys])
        try:
            x = loaded[SAMPLES_KEY]
            y = loaded[LABELS_KEY] if LABELS_KEY in keys else None
        except MemoryError as error:
            raise _data_error(path, f"too large to load into memory ({error})") from None
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
            raise _data_error(path, f"cannot read the arrays ({error})") from None
    return x, y


def _read_header(file):
    """`(shape, dtype)` from the header of a `.npy` stream, without reading the data."""
    version = np.lib.format.read_magic(file)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(file)
    else:
        shape, _, dtype = np.lib.format.read_array_header_2_0(file)
    return shape, dtype


def _memory_bytes():
    """The machine's physical memory in bytes, or `None` where it cannot be read."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _check_fits_in_memory(path, what, shape, dtype):
    """Refuses an array that, with its float32 copy, needs more than the machine's memory.

    A compressed `.npz` of 40 MB can hold 40 GB of zeros, and numpy would
    try to unpack all of it: the machine, not just the command, would run
    out of memory.
    """
    memory = _memory_bytes()
    needed = math.prod(shape) * (dtype.itemsize + 4)
    if memory is not None and needed > memory:
        raise _data_error(
            path,
            f"too large to load into memory: {what} of shape {shape} and dtype "
            f"{dtype} needs {needed / 1e9:.1f} GB with its float32 copy; this "
            f"machine has {memory / 1e9:.1f} GB",
        )


def _check_npz_sizes(path, loaded, keys):
    """`_check_fits_in_memory` for each array the command reads from an `.npz`."""
    archive = getattr(loaded, "zip", None)
    for key in keys if archive is not None else ():
        try:
            with archive.open(f"{key}.npy") as member:
                shape, dtype = _read_header(member)
        except (KeyError, ValueError, OSError, EOFError):
            continue  # reading it reports the problem
        if not dtype.hasobject:
            _check_fits_in_memory(path, f"{key!r}", shape, dtype)


def _check_npy_size(path):
    """Refuses a `.npy` whose header declares more data than the file holds.

    numpy allocates what the header declares before reading, so a small
    file claiming terabytes would fail with a `MemoryError` (or, claiming a
    few gigabytes, take them) before finding the data missing.
    """
    try:
        with open(path, "rb") as file:
            shape, dtype = _read_header(file)
            offset = file.tell()
    except (ValueError, OSError, EOFError) as error:
        raise _data_error(path, f"cannot read the .npy header ({error})") from None
    if dtype.hasobject:
        return  # np.load refuses it without reading the data
    declared = math.prod(shape) * dtype.itemsize
    held = os.path.getsize(path) - offset
    if declared > held:
        raise _data_error(
            path,
            f"cannot read the arrays: the file is truncated or its header is wrong: "
            f"it declares shape "
            f"{shape} of {dtype}, {declared:,} bytes, but holds {held:,}",
        )
    _check_fits_in_memory(path, "the array", shape, dtype)


def check_samples(path, x, *, min_rank, max_rank, what, unit_interval=True):
    """Checks a sample array and returns it as float32.

    Args:
        path: the `--data` value, for messages.
        x: the array read from the file.
        min_rank: the least rank, counting the sample axis.
        max_rank: the greatest rank, counting the sample axis.
        what: a description of the expected shape, for messages.
        unit_interval: whether every value must lie in [0, 1].

    Raises:
        ValueError: wrong dtype, rank or size, no samples, a NaN or an
            infinity, or a value outside [0, 1].
    """
    if x.dtype.kind not in "fiub":
        raise _data_error(
            path,
            f"expected real numbers ({what}); the array has dtype {x.dtype}",
        )
    if not min_rank <= x.ndim <= max_rank:
        raise _data_error(path, f"expected {what}; the array has shape {x.shape}")
    if 0 in x.shape:
        raise _data_error(path, f"expected {what}; the array is empty, shape {x.shape}")
    if x.shape[0] < 2:
        raise _data_error(
            path,
            f"expected at least 2 samples (one to train on, one to validate); "
            f"the array has shape {x.shape}",
        )
    # Values beyond float32's range become infinities, refused just below;
    # numpy's overflow warning would be noise beside that one line.
    with np.errstate(over="ignore", invalid="ignore"):
        x = x.astype("float32")
    finite = np.isfinite(x)
    if not finite.all():
        bad = int(x.size - np.count_nonzero(finite))
        raise _data_error(
            path,
            f"expected finite values; {bad} are NaN or infinite "
            "(or too large for float32)",
        )
    if unit_interval:
        low, high = float(x.min()), float(x.max())
        if low < 0.0 or high > 1.0:
            raise _data_error(
                path,
                f"expected values in [0, 1]; they range from {low:g} to {high:g}",
                "Scale the data first, e.g. divide 8-bit images by 255",
            )
    return x


def check_labels(path, y, num_samples):
    """Checks optional class labels and returns them as int32 (or `None`)."""
    if y is None:
        return None
    if y.dtype.kind not in "iub" or y.shape != (num_samples,):
        raise _data_error(
            path,
            f"expected {LABELS_KEY!r} to hold one integer label per sample, shape "
            f"({num_samples},); it has dtype {y.dtype} and shape {y.shape}",
        )
    if y.dtype.kind == "i" and y.min() < 0:
        raise _data_error(path, f"expected non-negative labels in {LABELS_KEY!r}")
    if y.max() > np.iinfo("int32").max:
        # int32 would wrap them round onto other classes.
        raise _data_error(
            path, f"expected labels in {LABELS_KEY!r} below 2**31; the largest is {y.max()}"
        )
    return y.astype("int32")


def vae_data(data):
    """The VAE's samples and labels: scikit-learn's digits, or a user's array file.

    The digits are kept as (8, 8, 1) images scaled to [0, 1] (pixel / 16):
    the saved model then maps images to images, and a user's images train
    the same way, with their own shape. The dense VAE flattens them itself.

    Returns:
        A tuple `(x, y, description)`: float32 samples in [0, 1], int32
        labels or `None`, and a phrase naming the data.
    """
    if data == "digits":
        from keras_recipes.cli import require

        datasets = require("sklearn.datasets", purpose="the digits of `keras-recipes train vae`")
        digits = datasets.load_digits()
        x = (digits.images / 16.0).astype("float32")[..., None]
        return x, digits.target.astype("int32"), "scikit-learn's digits"
    x, y = load_array_file(data)
    x = check_samples(
        data,
        x,
        min_rank=2,
        max_rank=4,
        what="samples (n, features), grey images (n, height, width) or "
        "images (n, height, width, 1 or 3) with values in [0, 1]",
    )
    if x.ndim == 4 and x.shape[-1] not in (1, 3):
        raise _data_error(
            data, f"expected images with 1 or 3 channels; the array has shape {x.shape}"
        )
    return x, check_labels(data, y, len(x)), data


def split_brain_data(data, *, num_images, seed):
    """The split-brain pre-training images and labels: `colored_shapes`, or a user's file.

    Returns:
        A tuple `(rgb, y, description)`: float32 sRGB images `(n, height,
        width, 3)` in [0, 1], int32 labels or `None`, and a phrase naming
        the data.
    """
    if data == "shapes":
        from keras_recipes.data import colored_shapes

        # Eight classes whose hues overlap (a spread of one gap), so the
        # probe needs the shape, not just the colour: the setting of
        # benchmarks/split_brain_check.py.
        rgb, y = colored_shapes(num_images, size=32, num_classes=8, hue_spread=1.0, seed=seed)
        return rgb, y, "keras_recipes.data.colored_shapes (8 classes)"
    rgb, y = load_array_file(data)
    rgb = check_samples(
        data,
        rgb,
        min_rank=4,
        max_rank=4,
        what="sRGB images (n, height, width, 3) with values in [0, 1]",
    )
    height, width, channels = rgb.shape[1:]
    if channels != 3 or height % 4 or width % 4 or min(height, width) < 8:
        raise _data_error(
            data,
            "expected sRGB images (n, height, width, 3) whose height and width "
            f"are multiples of 4 and at least 8; the array has shape {rgb.shape}",
        )
    return rgb, check_labels(data, y, len(rgb)), data


def shuffle_split(x, y, *, seed, fraction=VALIDATION_FRACTION):
    """Shuffles with `seed`, then holds out `fraction` of the samples (at least one).

    Returns:
        `(x_train, y_train, x_val, y_val)`; the `y`s are `None` without labels.
    """
    order = np.random.default_rng(seed).permutation(len(x))
    held_out = max(1, round(len(x) * fraction))
    train, val = order[held_out:], order[:held_out]
    if y is None:
        return x[train], None, x[val], None
    return x[train], y[train], x[val], y[val]
