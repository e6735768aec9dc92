"""The `ParamCount` value: trainable and non-trainable parameter counts."""

from dataclasses import dataclass

from keras_recipes import _validation


@dataclass(frozen=True)
class ParamCount:
    """Numbers of trainable and non-trainable parameters, as Keras counts them.

    `total` is what `model.count_params()` returns; `trainable` and
    `non_trainable` are the sums of the weight sizes in
    `model.trainable_weights` and `model.non_trainable_weights`. Counts add
    with `+` (and with the built-in `sum`), and scale with `*` by an integer:
    `3 * dense(4, 4)` is three separate layers of that shape.

    Args:
        trainable: number of trainable parameters. Defaults to `0`.
        non_trainable: number of non-trainable parameters, such as the
            moving statistics of batch normalisation. Defaults to `0`.

    Example:

    >>> ParamCount(10, 4) + ParamCount(2)
    ParamCount(trainable=12, non_trainable=4)
    >>> (ParamCount(10, 4) + ParamCount(2)).total
    16
    >>> ParamCount(6, 2).frozen()
    ParamCount(trainable=0, non_trainable=8)
    """

    trainable: int = 0
    non_trainable: int = 0

    def __post_init__(self):
        # Stored as plain ints so that counts compare equal to Keras's and
        # never overflow, whatever integer type the caller passed in.
        object.__setattr__(
            self, "trainable", _validation.check_non_negative_int("trainable", self.trainable)
        )
        object.__setattr__(
            self,
            "non_trainable",
            _validation.check_non_negative_int("non_trainable", self.non_trainable),
        )

    @property
    def total(self):
        """All parameters, trainable or not: what `count_params()` returns."""
        return self.trainable + self.non_trainable

    def frozen(self):
        """The same parameters with every one non-trainable.

        This is what `layer.trainable = False` does to a layer's weights: the
        total does not change, the split does.
        """
        return ParamCount(0, self.total)

    def __add__(self, other):
        if not isinstance(other, ParamCount):
            return NotImplemented
        return ParamCount(
            self.trainable + other.trainable, self.non_trainable + other.non_trainable
        )

    def __radd__(self, other):
        # `sum()` starts from the integer 0.
        if _validation.is_int(other) and other == 0:
            return self
        return NotImplemented

    def __mul__(self, times):
        if not _validation.is_int(times):
            return NotImplemented
        times = _validation.check_non_negative_int("times", times)
        return ParamCount(self.trainable * times, self.non_trainable * times)

    __rmul__ = __mul__


ZERO = ParamCount()
"""The count of every layer without weights (activations, merges, pooling)."""
