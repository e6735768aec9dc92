"""Training data in batches of one size, for `fit`.

`model.fit(x, batch_size=32)` ends each epoch with a short batch whenever 32
does not divide the number of samples (1437 digits: 44 batches of 32 and
one of 29). On JAX every new batch shape compiles the training step again,
so that short batch costs a second compilation, which at 30 epochs of a
small model is a third of the fit (docs/benchmarks.md). `PaddedBatches`
gives every batch the same shape without changing what the model trains on.
"""

import math

import keras
import numpy as np

from keras_recipes import _validation


class PaddedBatches(keras.utils.PyDataset):
    """Every sample once an epoch, in batches of exactly `batch_size`, the last one padded with weight 0.

    The last batch's free rows repeat samples of the epoch and have sample
    weight 0; its real rows have weight `batch_size / real_rows`, and every
    other row weight 1. A loss that averages over the batch, as Keras's
    losses do by default (`"sum_over_batch_size"`) and `vae()`'s loss does,
    then has exactly the value and gradient of the short batch `fit(x)`
    would train on. Not for models with batch statistics
    (`BatchNormalization` in training), which the padding rows would move.
    The epoch's logged losses weigh the last batch by `batch_size` instead
    of its real rows, as Keras weighs every batch by its length.

    Args:
        x: the inputs, an array of `(samples, ...)`.
        y: the targets, an array of the same length, or `None` for a model
            that trains on `fit(x)` alone (`vae()`, `autoencoder()`): each
            batch's inputs are then its targets too, which such a model
            reconstructs as it does on `fit(x)` (Keras on TensorFlow takes
            no `None` targets beside sample weights). Defaults to `None`.
        batch_size: rows per batch, a positive integer. Defaults to `32`.
        shuffle: a new order each epoch (seeded by `seed` and the epoch),
            or the samples' own order every epoch. Defaults to `True`.
        seed: seed of the orders, a non-negative integer, or `None` for a
            fresh one. Defaults to `None`.

    Raises:
        TypeError: `x` or `y` is not an array, or another argument has the
            wrong type.
        ValueError: `x` is empty or has no sample axis, or `y` has another
            length.

    Example:

    >>> x = np.zeros((45, 4), "float32")
    >>> batches = PaddedBatches(x, batch_size=32, seed=0)
    >>> len(batches), batches[1][0].shape, float(batches[1][2].sum())
    (2, (32, 4), 32.0)
    """

    def __init__(self, x, y=None, *, batch_size=32, shuffle=True, seed=None):
        self.x = _samples("x", x)
        self.y = None if y is None else _samples("y", y)
        if self.y is not None and len(self.y) != len(self.x):
            raise _validation.invalid(
                "y", f"an array of {len(self.x)} samples, as many as x", f"{len(self.y)} samples"
            )
        self.batch_size = _validation.check_positive_int("batch_size", batch_size)
        self.shuffle = _validation.check_boolean("shuffle", shuffle)
        seed = _validation.check_seed(seed)
        self.seed = int(np.random.SeedSequence().entropy % 2**63) if seed is None else seed
        super().__init__()
        self._epoch = 0
        self._order = self._order_of(0)

    def _order_of(self, epoch):
        count = len(self.x)
        if not self.shuffle:
            return np.arange(count)
        return np.random.default_rng([self.seed, epoch]).permutation(count)

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"batch index {index!r} out of range for {len(self)} batches")
        start = index * self.batch_size
        rows = self._order[start : start + self.batch_size]
        real = len(rows)
        weights = np.ones(self.batch_size, dtype="float32")
        if real < self.batch_size:
            # Pad with the epoch's first samples (there are always enough
            # when the epoch has a full batch; fewer samples than one batch
            # repeat cyclically), weighted 0.
            padding = np.resize(self._order, self.batch_size - real)
            rows = np.concatenate([rows, padding])
            weights[:real] = self.batch_size / real
            weights[real:] = 0.0
        inputs = self.x[rows]
        return inputs, inputs if self.y is None else self.y[rows], weights

    def on_epoch_end(self):
        self._epoch += 1
        self._order = self._order_of(self._epoch)


def _samples(argument, value):
    """Check an array of samples: a numpy array with a sample axis and at least one sample."""
    if not isinstance(value, np.ndarray):
        raise _validation.wrong_type(argument, "a numpy array of samples", value)
    if value.ndim < 1 or len(value) == 0:
        raise _validation.invalid(
            argument, "an array of at least one sample", f"an array of shape {value.shape}"
        )
    return value
