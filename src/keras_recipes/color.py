"""Colour maths in `keras.ops`: sRGB <-> CIE Lab, and the split-brain quantisers.

Everything here runs on numpy arrays and on backend tensors alike, so the
same functions convert a dataset ahead of time and run inside a model on
any backend. Images are channels-last.

- `rgb_to_lab` and `lab_to_rgb` convert sRGB in [0, 1] to and from CIE Lab
  under the D65 white point, with the constants of scikit-image's
  `rgb2lab`/`lab2rgb`, which the split-brain authors used. L lies in
  [0, 100]; over the sRGB cube a lies in about [-86.2, 98.2] and b in about
  [-107.9, 94.5].
- `quantize_l`/`dequantize_l`: L in `num_bins` bins of equal width over
  [0, 100] (the paper: 50 bins of width 2).
- `quantize_ab`/`dequantize_ab`: the nearest of a set of ab bin centres,
  by default `ab_bin_centers()`, the 10x10 grid cells that sRGB colours
  reach (see its docstring for how the set is made and why it is not the
  paper's 313).

Indices are always `int32`: the split-brain reimplementation that stored
them as `uint8` silently wrapped every bin past 255.
"""

import keras
import numpy as np
from keras import ops

from keras_recipes import _validation

# The sRGB (D65) to CIE XYZ matrix and the D65 white point of scikit-image's
# `rgb2lab`; a matrix differing in the fourth digit would move Lab values by
# about 1e-2.
_XYZ_FROM_RGB = np.array(
    [
        [0.412453, 0.357580, 0.180423],
        [0.212671, 0.715160, 0.072169],
        [0.019334, 0.119193, 0.950227],
    ]
)
_RGB_FROM_XYZ = np.linalg.inv(_XYZ_FROM_RGB)
_D65_WHITE = np.array([0.95047, 1.0, 1.08883])

# CIE Lab's cube-root knee: f(t) = t ** (1/3) above (6/29) ** 3, and the
# tangent line t / (3 * (6/29) ** 2) + 4/29 below it.
_DELTA = 6.0 / 29.0

AB_GRID_SIZE = 10
"""Side of the ab grid cells, in Lab units: the paper's grid of size 10."""

# The ab grid points (multiples of 10) whose 10x10 cell [a - 5, a + 5) x
# [b - 5, b + 5) holds the ab of at least one of the 2 ** 24 8-bit sRGB
# colours, at any lightness, as `_reachable_ab_bins(step=1)` finds them
# (tests/test_color.py checks a 86 ** 3 subsample of the cube gives the same
# set). For each a, the reached b form one run, written here as
# a: (lowest b, highest b).
_AB_RUNS = {
    -90: (80, 80), -80: (40, 80), -70: (20, 90), -60: (0, 90), -50: (-20, 90),
    -40: (-30, 90), -30: (-40, 90), -20: (-40, 90), -10: (-50, 90), 0: (-60, 90),
    10: (-70, 80), 20: (-70, 80), 30: (-80, 80), 40: (-90, 80), 50: (-90, 70),
    60: (-100, 70), 70: (-110, 70), 80: (-110, 70), 90: (-90, 0), 100: (-70, -50),
}  # fmt: skip
_AB_BINS_IN_GAMUT = np.array(
    [
        (a, b)
        for a, (low, high) in _AB_RUNS.items()
        for b in range(low, high + AB_GRID_SIZE, AB_GRID_SIZE)
    ],
    dtype="int64",
)


def _as_float(x):
    x = ops.convert_to_tensor(x)
    if "float" not in keras.backend.standardize_dtype(x.dtype):
        x = ops.cast(x, "float32")
    return x


# Keras 3.15's PyTorch `maximum` and `matmul` return float32 for float64
# input (their dtype promotion does not know torch's float64), so the
# conversions use `where` and `einsum`, which keep float64 on every backend.


def _at_least(x, floor):
    """`max(x, floor)` element-wise, in `x`'s dtype."""
    return ops.where(x > floor, x, ops.cast(floor, x.dtype))


def _matmul_channels(x, matrix):
    """Multiply every pixel's 3 channels by `matrix` (`y = M x` per pixel)."""
    return ops.einsum("...i,ji->...j", x, ops.convert_to_tensor(matrix, dtype=x.dtype))


def rgb_to_lab(rgb):
    """Converts sRGB images with values in [0, 1] to CIE Lab (D65).

    The standard chain: undo the sRGB gamma, go to CIE XYZ with the sRGB
    matrix, divide by the D65 white, and apply Lab's cube-root law:

        linear = rgb / 12.92                 if rgb <= 0.04045
                 ((rgb + 0.055) / 1.055) ** 2.4   otherwise
        x, y, z = (M @ linear) / white_d65
        f(t) = t ** (1/3) if t > (6/29) ** 3 else t / (3 * (6/29) ** 2) + 4/29
        L = 116 f(y) - 16;  a = 500 (f(x) - f(y));  b = 200 (f(y) - f(z))

    Args:
        rgb: array or tensor of shape `(..., 3)`, sRGB in [0, 1]. Integer
            input is cast to float32 but not rescaled: divide 8-bit images
            by 255 first.

    Returns:
        A float tensor of the same shape holding (L, a, b): L in [0, 100].

    Example:

    >>> lab = rgb_to_lab([[1.0, 0.0, 0.0]])  # pure red
    >>> ops.convert_to_numpy(lab).astype("float64").round(2).tolist()
    [[53.24, 80.09, 67.2]]
    """
    rgb = _as_float(rgb)
    # The power is taken of a value kept above the knee, so that the branch
    # `where` discards never produces a NaN (or a NaN gradient).
    curved = ops.power((_at_least(rgb, 0.04045) + 0.055) / 1.055, 2.4)
    linear = ops.where(rgb > 0.04045, curved, rgb / 12.92)
    xyz = _matmul_channels(linear, _XYZ_FROM_RGB) / ops.convert_to_tensor(
        _D65_WHITE, dtype=rgb.dtype
    )
    root = ops.power(_at_least(xyz, _DELTA**3), 1.0 / 3.0)
    f = ops.where(xyz > _DELTA**3, root, xyz / (3 * _DELTA**2) + 4.0 / 29.0)
    fx, fy, fz = f[..., 0], f[..., 1], f[..., 2]
    return ops.stack(
        [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], axis=-1
    )


def lab_to_rgb(lab):
    """Converts CIE Lab (D65) images to sRGB in [0, 1], the inverse of `rgb_to_lab`.

    Lab colours outside the sRGB gamut are clipped to [0, 1] per channel,
    after a negative f(z) = (L + 16) / 116 - b / 200 is set to 0, exactly as
    scikit-image's `lab2rgb` does.

    Args:
        lab: array or tensor of shape `(..., 3)` holding (L, a, b).

    Returns:
        A float tensor of the same shape, sRGB in [0, 1].

    Example:

    >>> rgb = lab_to_rgb([[53.24, 80.09, 67.2]])
    >>> ops.convert_to_numpy(rgb).astype("float64").round(3).tolist()
    [[1.0, 0.0, 0.0]]
    """
    lab = _as_float(lab)
    fy = (lab[..., 0] + 16.0) / 116.0
    # scikit-image sets a negative f(z) to 0 (a b far above the gamut);
    # doing the same keeps the two equal outside the gamut too.
    fz = _at_least(fy - lab[..., 2] / 200.0, 0.0)
    f = ops.stack([fy + lab[..., 1] / 500.0, fy, fz], axis=-1)
    xyz = ops.where(f > _DELTA, f**3, 3 * _DELTA**2 * (f - 4.0 / 29.0))
    xyz = xyz * ops.convert_to_tensor(_D65_WHITE, dtype=lab.dtype)
    linear = _matmul_channels(xyz, _RGB_FROM_XYZ)
    curved = 1.055 * ops.power(_at_least(linear, 0.0031308), 1.0 / 2.4) - 0.055
    rgb = ops.where(linear > 0.0031308, curved, linear * 12.92)
    return ops.clip(rgb, 0.0, 1.0)


def _check_num_bins(num_bins):
    return _validation.check_bin_count("num_bins", num_bins)


def quantize_l(lightness, num_bins=50):
    """Maps lightness values to the indices of `num_bins` equal bins over [0, 100].

        index = clip(floor(L * num_bins / 100), 0, num_bins - 1)

    With the paper's 50 bins of width 2, L = 0 is bin 0 and L = 100 bin 49
    (the top edge belongs to the last bin); values outside [0, 100], the
    infinities included, are clipped to the end bins. NaN is in no bin: it
    gives index -1, which `dequantize_l` maps back to NaN, and which a
    classification loss does not take for a class.

    Args:
        lightness: array or tensor of L values, any shape.
        num_bins: number of bins, from 2 to 2**24. Defaults to `50`.

    Returns:
        An `int32` tensor of the same shape.

    Raises:
        ValueError, TypeError: when `num_bins` is not such an integer.

    Example:

    >>> ops.convert_to_numpy(quantize_l([0.0, 1.9, 2.0, 99.0, 100.0, -5.0, float("nan")])).tolist()
    [0, 0, 1, 49, 49, 0, -1]
    """
    num_bins = _check_num_bins(num_bins)
    lightness = _as_float(lightness)
    # Clipped before the cast: a float beyond int32 has no defined cast
    # (x86 gives -2**31), and the clip keeps the bin count's bound.
    index = ops.clip(ops.floor(lightness * (num_bins / 100.0)), 0, num_bins - 1)
    # NaN survives floor and clip; the cast would make it -2**31 or 0.
    return ops.where(ops.isnan(lightness), -1, ops.cast(index, "int32"))


def dequantize_l(indices, num_bins=50):
    """Maps L bin indices to their bin centres: `(index + 0.5) * 100 / num_bins`.

    An index that is not a bin (negative, such as `quantize_l`'s -1 for NaN,
    or `num_bins` and above) gives NaN.

    Args:
        indices: integer array or tensor of bin indices, any shape.
        num_bins: number of bins, from 2 to 2**24. Defaults to `50`.

    Returns:
        A float32 tensor of the same shape.

    Raises:
        ValueError, TypeError: when `num_bins` is not such an integer.

    Example:

    >>> ops.convert_to_numpy(dequantize_l([0, 49, -1])).tolist()
    [1.0, 99.0, nan]
    """
    num_bins = _check_num_bins(num_bins)
    indices = ops.convert_to_tensor(indices)
    centers = (ops.cast(indices, "float32") + 0.5) * (100.0 / num_bins)
    return ops.where((indices >= 0) & (indices < num_bins), centers, float("nan"))


def ab_bin_centers():
    """The default ab bin centres: the 10x10 grid cells that sRGB colours reach.

    The paper keeps "the 313 bins that are within the ab gamut" of a grid of
    size 10, a set its authors shipped as a file but never defined precisely
    enough to recompute. This set is defined and recomputable: the grid
    points (a, b), multiples of 10, whose cell [a - 5, a + 5) x [b - 5, b + 5)
    contains the ab of at least one of the 2 ** 24 8-bit sRGB colours (at any
    lightness, converted by `rgb_to_lab`). Those are exactly the bins a
    nearest-bin quantiser can ever assign to an sRGB pixel, so no class is
    dead. The set has 261 bins, with a from -90 to 100 and b from -110 to 90.

    Returns:
        A new float32 numpy array of shape `(261, 2)`, rows (a, b) sorted by
        a, then b.

    Example:

    >>> centers = ab_bin_centers()
    >>> centers.shape, centers.dtype.name
    ((261, 2), 'float32')
    """
    return _AB_BINS_IN_GAMUT.astype("float32")


def _bin_centers(bin_centers):
    if bin_centers is None:
        return _AB_BINS_IN_GAMUT.astype("float32")
    expected = "an array of shape (num_bins, 2) of finite float32 numbers"
    try:
        # float64 first: the cast to float32 would make a too-large centre
        # infinity without a word.
        centers = np.asarray(bin_centers, dtype="float64")
    except OverflowError:
        raise _validation.invalid("bin_centers", expected, bin_centers) from None
    except (TypeError, ValueError):
        raise _validation.wrong_type("bin_centers", expected, bin_centers) from None
    if centers.ndim != 2 or centers.shape[0] < 1 or centers.shape[1] != 2:
        raise ValueError(
            f"Invalid value for argument `bin_centers`: expected {expected}. "
            f"Received: bin_centers.shape={centers.shape}"
        )
    # NaN fails the comparison too.
    finite = np.abs(centers) <= _validation.FLOAT32_MAX
    if not finite.all():
        row = int(np.argwhere(~finite)[0, 0])
        raise ValueError(
            f"Invalid value for argument `bin_centers`: expected {expected}. "
            f"Received: bin_centers[{row}]={centers[row].tolist()}"
        )
    return centers.astype("float32")


def quantize_ab(ab, bin_centers=None):
    """Maps (a, b) pairs to the index of the nearest bin centre (hard, one-hot encoding).

    The split-brain paper encodes its targets 1-hot by the nearest bin, not
    the soft Gaussian encoding of its colorization predecessor. A pair with
    a NaN or an infinity has no nearest bin: it gives index -1, which
    `dequantize_ab` maps back to NaN, as `quantize_l` does for NaN.

    Args:
        ab: array or tensor of shape `(..., 2)`.
        bin_centers: array of shape `(num_bins, 2)` of finite float32
            numbers. Defaults to `None`, for `ab_bin_centers()`.

    Returns:
        An `int32` tensor of shape `ab.shape[:-1]`.

    Raises:
        ValueError: when `ab` or `bin_centers` has another shape, or a
            centre is not a finite float32.
        TypeError: when `bin_centers` is not numeric.

    Example:

    >>> ops.convert_to_numpy(quantize_ab([[0.0, 0.0], [3.0, -4.0]], [[0, 0], [10, -10]])).tolist()
    [0, 0]
    """
    ab = _as_float(ab)
    if not ab.shape or ab.shape[-1] not in (2, None):
        raise ValueError(
            "Invalid value for argument `ab`: expected an array of shape "
            f"(..., 2). Received: ab.shape={tuple(ab.shape)}"
        )
    centers = ops.convert_to_tensor(_bin_centers(bin_centers), dtype=ab.dtype)
    # |x - c|^2 = |x|^2 - 2 x.c + |c|^2; |x|^2 is the same for every bin.
    scores = ops.sum(centers**2, axis=-1) - 2.0 * ops.matmul(ab, ops.transpose(centers))
    nearest = ops.cast(ops.argmin(scores, axis=-1), "int32")
    return ops.where(ops.all(ops.isfinite(ab), axis=-1), nearest, -1)


def dequantize_ab(indices, bin_centers=None):
    """Maps ab bin indices to their bin centres.

    An index that is not a bin (negative, such as `quantize_ab`'s -1, or
    `num_bins` and above) gives (NaN, NaN), where `take` would wrap or clamp
    it to some bin, depending on the backend.

    Args:
        indices: integer array or tensor of bin indices, any shape.
        bin_centers: array of shape `(num_bins, 2)` of finite float32
            numbers. Defaults to `None`, for `ab_bin_centers()`.

    Returns:
        A float32 tensor of shape `indices.shape + (2,)`.

    Raises:
        ValueError, TypeError: as `quantize_ab`, for `bin_centers`.

    Example:

    >>> ops.convert_to_numpy(dequantize_ab([1, -1], [[0, 0], [10, -10]])).tolist()
    [[10.0, -10.0], [nan, nan]]
    """
    centers = _bin_centers(bin_centers)
    indices = ops.cast(ops.convert_to_tensor(indices), "int32")
    valid = (indices >= 0) & (indices < len(centers))
    found = ops.take(ops.convert_to_tensor(centers), ops.where(valid, indices, 0), axis=0)
    return ops.where(ops.expand_dims(valid, -1), found, float("nan"))


def _reachable_ab_bins(step=1, grid_size=AB_GRID_SIZE, chunk=1 << 20):
    """The grid points whose cell holds the ab of some 8-bit sRGB colour.

    Colours are taken every `step` levels of 0..255 per channel (`step=1`
    is the whole cube, a few seconds). Returns an int array `(num_bins, 2)`
    sorted by a, then b.
    """
    levels = np.arange(0, 256, step, dtype="float32") / 255.0
    grid = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), axis=-1)
    grid = grid.reshape(-1, 3)
    cells = set()
    for start in range(0, len(grid), chunk):
        lab = ops.convert_to_numpy(rgb_to_lab(grid[start : start + chunk]))
        index = np.floor(lab[:, 1:] / grid_size + 0.5).astype("int64")
        cells.update(map(tuple, np.unique(index, axis=0).tolist()))
    return np.array(sorted(cells), dtype="int64") * grid_size
