"""`ImageFolderDataset`: a folder's images streamed to `fit` in batches, as Lab.

A `keras.utils.PyDataset` rather than `image_dataset_from_directory` or
tf.data: it is Keras's backend-neutral way to stream data (the same class
feeds TensorFlow, JAX and PyTorch, with no TensorFlow graph in the input
pipeline), it holds at most `max_queue_size` batches in memory, and its
`__getitem__` is plain Python, so a file that fails to decode can be
skipped, counted and replaced there instead of ending the epoch with an
error. docs/recipes/split_brain_ae.md, "Pre-training on a folder of
images", says more.
"""

import threading

import keras
import numpy as np

from keras_recipes import _validation, color
from keras_recipes._image_folders import listing as _listing


class ImageFolderDataset(keras.utils.PyDataset):
    """Batches of a folder's images, decoded, fitted to a square and converted to Lab.

    Each batch is `(lab,)`, or `(lab, labels)` with `with_labels=True`: a
    float32 array `(batch, image_size, image_size, 3)` of Lab images
    (`keras_recipes.color.rgb_to_lab`) and their int32 class indices. For
    training (`training=True`) the order is a fresh seeded permutation each
    epoch and crops are placed at random, both drawn from `(seed, epoch)`
    alone, so a run is reproducible and can be resumed at an epoch by
    setting `epoch`; held-out batches keep the listing's order and centre
    crops.

    A file that fails to decode (truncated, or not what its first bytes
    said) is recorded in `failed` once, never read again, and its place in
    the batch is taken by the next readable file of the epoch's order, so
    batches keep their size and training goes on (a listing with fewer
    readable files than a batch repeats them).

    Args:
        listing: an `ImageListing` (e.g. one part of `split_files`).
        image_size: side of the square images, a positive integer.
        batch_size: images per batch, a positive integer.
        fit: `"crop"` or `"resize"` (`listing.IMAGE_FITS`). Defaults to
            `"crop"`.
        training: whether to shuffle and crop at random. Defaults to
            `True`.
        seed: seed of the order and the crops. Defaults to `0`.
        with_labels: whether batches carry the listing's labels. Defaults
            to `False`.
        replace_failed: whether a file that fails to decode is replaced by
            the next readable one (batches keep their size, for training)
            or left out (the batch is shorter, for features that must match
            their labels one to one). Defaults to `True`.
        workers: threads decoding batches (Pillow releases the GIL while it
            decodes). Defaults to `1`.
        max_queue_size: batches prepared ahead, the bound on memory with
            `workers > 1`. Defaults to `4`.

    Raises:
        ValueError: a size or choice is out of range, or `with_labels`
            for a listing without labels.
        TypeError: an argument has the wrong type.

    Example:

    >>> import tempfile
    >>> from PIL import Image
    >>> from keras_recipes._image_folders.listing import list_images
    >>> folder = tempfile.mkdtemp()
    >>> for i in range(3):
    ...     Image.new("RGB", (20, 12), (80 * i, 0, 0)).save(f"{folder}/{i}.png")
    >>> dataset = ImageFolderDataset(list_images(folder), image_size=8, batch_size=2)
    >>> dataset.num_batches, dataset[0][0].shape
    (2, (2, 8, 8, 3))
    """

    def __init__(
        self,
        listing,
        *,
        image_size,
        batch_size,
        fit="crop",
        training=True,
        seed=0,
        with_labels=False,
        replace_failed=True,
        workers=1,
        max_queue_size=4,
    ):
        image_size = _validation.check_positive_int("image_size", image_size)
        batch_size = _validation.check_positive_int("batch_size", batch_size)
        fit = _validation.check_choice("fit", fit, _listing.IMAGE_FITS)
        training = _validation.check_boolean("training", training)
        seed = _validation.check_seed(seed)
        workers = _validation.check_positive_int("workers", workers)
        max_queue_size = _validation.check_positive_int("max_queue_size", max_queue_size)
        if with_labels and listing.labels is None:
            raise _validation.invalid(
                "with_labels", "False for a listing without labels", with_labels
            )
        super().__init__(workers=workers, max_queue_size=max_queue_size)
        self.listing = listing
        self.image_size = image_size
        self.batch_size = batch_size
        self.fit = fit
        self.training = training
        self.seed = seed
        self.with_labels = bool(with_labels)
        self.replace_failed = _validation.check_boolean("replace_failed", replace_failed)
        self.epoch = 0
        self._failed = {}
        self._lock = threading.Lock()

    @property
    def num_batches(self):
        return -(-len(self.listing) // self.batch_size)

    @property
    def failed(self):
        """The files that failed to decode so far, as sorted `SkippedFile`s."""
        with self._lock:
            return tuple(sorted(_listing.SkippedFile(path, reason)
                                for path, reason in self._failed.items()))

    def on_epoch_end(self):
        self.epoch += 1

    def _order(self):
        if not self.training:
            return np.arange(len(self.listing))
        return np.random.default_rng([self.seed, self.epoch]).permutation(len(self.listing))

    def _read(self, index):
        """The image of file `index`, or `None` (recorded) if it cannot be decoded."""
        path = self.listing.paths[index]
        with self._lock:
            if path in self._failed:
                return None
        rng = (
            np.random.default_rng([self.seed, self.epoch, index]) if self.training else None
        )
        try:
            return _listing.read_image(path, self.image_size, fit=self.fit, rng=rng)
        # Pillow answers a damaged or crafted file with OSError, SyntaxError,
        # ValueError, struct.error, DecompressionBombError and more, none
        # promised: whatever it raises, the file is skipped and counted.
        except Exception as error:  # noqa: BLE001
            reason = " ".join(str(error).split()) or type(error).__name__
            with self._lock:
                self._failed[path] = f"cannot be decoded ({reason})"
            return None

    def __getitem__(self, batch):
        if not 0 <= batch < self.num_batches:
            raise IndexError(f"batch {batch} of {self.num_batches}")
        order = self._order()
        start = batch * self.batch_size
        stop = min(start + self.batch_size, len(order))
        images, labels = [], []
        # The batch's own files, then, in place of those that fail, the
        # next files of the epoch's order (wrapping round).
        candidates = len(order) if self.replace_failed else stop - start
        for offset in range(candidates):
            if len(images) == stop - start:
                break
            index = int(order[(start + offset) % len(order)])
            image = self._read(index)
            if image is not None:
                images.append(image)
                if self.with_labels:
                    labels.append(self.listing.labels[index])
        if self.replace_failed and images and len(images) < stop - start:
            # Fewer readable files than a batch in the whole listing: the
            # readable ones are repeated, so the batch keeps its size.
            repeats = [i % len(images) for i in range(stop - start - len(images))]
            images += [images[i] for i in repeats]
            labels += [labels[i] for i in repeats] if self.with_labels else []
        if self.replace_failed and not images:
            # Every file of the listing was tried and failed.
            raise ValueError(
                f"Invalid value for argument `--data`: none of the {len(order)} image files "
                f"could be decoded. Received: --data={self.listing.directory!r}"
            )
        if not images:
            empty = np.zeros((0, self.image_size, self.image_size, 3), "float32")
            return (empty, np.zeros((0,), "int32")) if self.with_labels else (empty,)
        lab = keras.ops.convert_to_numpy(color.rgb_to_lab(np.stack(images)))
        if self.with_labels:
            return lab, np.asarray(labels, dtype="int32")
        return (lab,)
