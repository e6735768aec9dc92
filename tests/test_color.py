"""Tests of `keras_recipes.color`: sRGB <-> Lab against scikit-image, and the quantisers."""

import itertools
import math
import warnings

import helpers  # tests/helpers.py, on `sys.path` through tests/conftest.py
import keras
import numpy as np
import pytest
import skimage.color
from hypothesis import given
from hypothesis import strategies as st

from keras_recipes import color
from keras_recipes._recipes.split_brain import spec as _split_brain_spec


def _numpy(tensor):
    return keras.ops.convert_to_numpy(tensor)


# The 8 corners of the sRGB cube, and 2000 random colours.
CORNERS = np.array(list(itertools.product([0.0, 1.0], repeat=3)), dtype="float32")
RANDOM_RGB = np.random.default_rng(0).uniform(size=(2000, 3)).astype("float32")


# === sRGB <-> Lab ===


@pytest.mark.parametrize("rgb", [CORNERS, RANDOM_RGB], ids=["corners", "random"])
def test_rgb_to_lab_matches_scikit_image(rgb):
    """rgb_to_lab equals skimage.color.rgb2lab (D65) to within 1e-3."""
    expected = skimage.color.rgb2lab(rgb.astype("float64"))
    np.testing.assert_allclose(_numpy(color.rgb_to_lab(rgb)), expected, atol=1e-3, rtol=0)


@pytest.mark.parametrize("rgb", [CORNERS, RANDOM_RGB], ids=["corners", "random"])
def test_lab_to_rgb_matches_scikit_image_on_srgb_colours(rgb):
    """lab_to_rgb equals skimage's lab2rgb on the Lab of sRGB colours, and inverts rgb_to_lab."""
    lab = skimage.color.rgb2lab(rgb.astype("float64"))
    result = _numpy(color.lab_to_rgb(lab.astype("float32")))
    np.testing.assert_allclose(result, skimage.color.lab2rgb(lab), atol=1e-3, rtol=0)
    np.testing.assert_allclose(result, rgb, atol=1e-3, rtol=0)


def test_lab_to_rgb_clips_out_of_gamut_colours_as_scikit_image_does():
    """On random Lab colours, many outside the sRGB gamut, lab_to_rgb equals skimage's clipped lab2rgb."""
    rng = np.random.default_rng(1)
    lab = np.stack(
        [rng.uniform(0, 100, 2000), rng.uniform(-110, 110, 2000), rng.uniform(-110, 110, 2000)],
        axis=-1,
    )
    with warnings.catch_warnings():
        # skimage warns when it clips a negative Z; clipping is what we compare.
        warnings.simplefilter("ignore", UserWarning)
        expected = skimage.color.lab2rgb(lab)
    outside = np.any((expected == 0.0) | (expected == 1.0), axis=-1)
    assert outside.mean() > 0.5
    np.testing.assert_allclose(
        _numpy(color.lab_to_rgb(lab.astype("float32"))), expected, atol=1e-3, rtol=0
    )


def test_reference_colours():
    """White is (100, 0, 0) and pure red (53.24, 80.09, 67.20), as the notes' reference values say."""
    lab = _numpy(color.rgb_to_lab([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0]]))
    np.testing.assert_allclose(lab[0], [100.0, 0.0, 0.0], atol=1e-2)
    np.testing.assert_allclose(lab[1], [53.24, 80.09, 67.20], atol=1e-2)


@pytest.mark.backend(
    "tensorflow", "torch", reason="JAX computes float64 in float32 without jax_enable_x64"
)
def test_float64_input_stays_float64_both_ways():
    """rgb_to_lab and lab_to_rgb of float64 input return float64 and match scikit-image to 1e-9."""
    lab = color.rgb_to_lab(CORNERS.astype("float64"))
    assert keras.backend.standardize_dtype(lab.dtype) == "float64"
    np.testing.assert_allclose(
        _numpy(lab), skimage.color.rgb2lab(CORNERS.astype("float64")), atol=1e-9
    )
    rgb = color.lab_to_rgb(lab)
    assert keras.backend.standardize_dtype(rgb.dtype) == "float64"
    np.testing.assert_allclose(_numpy(rgb), CORNERS, atol=1e-9)


def test_conversions_run_inside_a_functional_model_with_finite_gradients():
    """rgb_to_lab and lab_to_rgb build into a keras.Model; the gradient at black and white is finite."""
    inputs = keras.Input((3,))
    model = keras.Model(inputs, color.lab_to_rgb(color.rgb_to_lab(inputs)))
    np.testing.assert_allclose(model.predict(CORNERS, verbose=0), CORNERS, atol=1e-3)

    rgb = keras.Variable(CORNERS)
    _, (gradient,) = helpers.gradients(lambda: keras.ops.sum(color.rgb_to_lab(rgb)), [rgb])
    assert np.isfinite(gradient).all()


def test_integer_input_is_not_rescaled():
    """An integer array is cast to float but read as values in [0, 1], as documented."""
    np.testing.assert_allclose(
        _numpy(color.rgb_to_lab(np.array([[1, 1, 1]]))), [[100.0, 0.0, 0.0]], atol=1e-2
    )


# === Quantising L ===


def test_l_end_points_go_to_the_end_bins():
    """L = 0 is bin 0 and L = 100 is bin 49 of 50; values outside [0, 100] go to the end bins."""
    bins = _numpy(color.quantize_l([0.0, 100.0, -5.0, 130.0]))
    assert bins.tolist() == [0, 49, 0, 49]
    assert bins.dtype == np.int32


@given(st.integers(2, 120), st.floats(0.0, 100.0))
def test_l_bins_have_equal_width(num_bins, lightness):
    """Bin i holds [i, i + 1) * 100 / num_bins, so its centre lies within half a bin of L."""
    index = int(_numpy(color.quantize_l(np.float32(lightness), num_bins)))
    assert 0 <= index < num_bins
    centre = float(_numpy(color.dequantize_l(index, num_bins)))
    assert abs(centre - lightness) <= 50.0 / num_bins + 1e-4


@pytest.mark.parametrize("num_bins", [2, 50, 100])
def test_l_decode_then_encode_is_the_identity(num_bins):
    """quantize_l(dequantize_l(i)) == i for every bin."""
    indices = np.arange(num_bins)
    assert _numpy(color.quantize_l(color.dequantize_l(indices, num_bins), num_bins)).tolist() == list(indices)


@pytest.mark.parametrize(
    ("num_bins", "error"), [(1, ValueError), (0, ValueError), (2.5, TypeError), (True, TypeError)]
)
def test_l_bins_refuse_a_bad_num_bins(num_bins, error):
    """num_bins below 2 is a ValueError and a non-integer a TypeError, naming num_bins."""
    with pytest.raises(error, match=r"`num_bins`.*Received: num_bins="):
        color.quantize_l([50.0], num_bins)
    with pytest.raises(error, match=r"`num_bins`.*Received: num_bins="):
        color.dequantize_l([0], num_bins)


# === Quantising ab ===


def test_default_ab_bins_are_the_grid_cells_srgb_colours_reach():
    """The shipped 261 bins are the size-10 grid cells that the 8-bit sRGB cube (every 3rd level) reaches."""
    centres = color.ab_bin_centers()
    assert centres.shape == (_split_brain_spec.NUM_DEFAULT_AB_BINS, 2) == (261, 2)
    assert np.all(centres % 10 == 0)
    np.testing.assert_array_equal(color._reachable_ab_bins(step=3), centres)


def test_every_srgb_colour_maps_to_its_grid_cell():
    """Every colour of a 52^3 sampling of the sRGB cube maps to a valid bin: the nearest multiple of 10."""
    levels = np.linspace(0.0, 1.0, 52, dtype="float32")
    rgb = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), -1).reshape(-1, 3)
    ab = _numpy(color.rgb_to_lab(rgb))[:, 1:]
    indices = _numpy(color.quantize_ab(ab))
    assert indices.dtype == np.int32
    assert indices.min() >= 0 and indices.max() < 261
    decoded = _numpy(color.dequantize_ab(indices))
    # The nearest grid point, except for the few colours within float error
    # of a cell edge, where either neighbour is nearest (the bin scores are
    # float32 sums of about 1e3, which a matmul on another backend rounds
    # differently: PyTorch puts a = -34.999996 in the cell of -40).
    assert np.all(np.abs(decoded - ab) <= 5.0 + 1e-3)
    on_an_edge = np.abs(np.abs(ab / 10.0 - np.round(ab / 10.0)) - 0.5) < 1e-4
    assert on_an_edge.mean() < 1e-3
    np.testing.assert_array_equal(
        decoded[~on_an_edge], (np.round(ab / 10.0) * 10.0)[~on_an_edge]
    )


def test_ab_decode_then_encode_is_the_identity():
    """quantize_ab(dequantize_ab(i)) == i for every default bin and for custom centres."""
    indices = np.arange(261)
    assert _numpy(color.quantize_ab(color.dequantize_ab(indices))).tolist() == list(indices)
    custom = [[0.0, 0.0], [7.5, -3.0], [-40.0, 60.0]]
    assert _numpy(color.quantize_ab(color.dequantize_ab([2, 0, 1], custom), custom)).tolist() == [2, 0, 1]


def test_ab_indices_past_255_do_not_wrap():
    """With 300 bins, bins 256 to 299 come back as themselves, in int32."""
    centres = np.stack([np.arange(300, dtype="float32"), np.zeros(300, "float32")], axis=-1)
    indices = _numpy(color.quantize_ab(centres[250:], centres))
    assert indices.dtype == np.int32
    assert indices.tolist() == list(range(250, 300))


def test_ab_bin_centers_returns_a_fresh_array():
    """Changing the returned centres does not change the quantiser's default."""
    centres = color.ab_bin_centers()
    centres[:] = 0.0
    assert _numpy(color.quantize_ab([[100.0, -50.0]])).tolist() == [260]


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: color.quantize_ab(np.zeros((2, 2)), np.zeros((3, 3))), "bin_centers"),
        (lambda: color.dequantize_ab([0], np.zeros(4)), "bin_centers"),
        (lambda: color.quantize_ab(np.zeros((2, 3))), "ab"),
    ],
    ids=["centres-of-3", "flat-centres", "ab-of-3"],
)
def test_ab_quantisers_refuse_arrays_that_are_not_pairs(call, argument):
    """ab or bin centres whose last axis is not (a, b) raise ValueError naming the argument and its shape."""
    with pytest.raises(ValueError, match=rf"`{argument}`.*Received: {argument}.shape="):
        call()


# === Values outside the bins ===


def test_quantize_l_clips_out_of_range_lightness_and_gives_nan_no_bin():
    """L below 0 or above 100 (infinities included) goes to the end bins; NaN to -1, never -2**31."""
    lightness = [-1e30, -math.inf, -5.0, 105.0, 1e30, math.inf, math.nan]
    assert _numpy(color.quantize_l(lightness)).tolist() == [0, 0, 0, 49, 49, 49, -1]
    assert _numpy(color.quantize_l([100.0, math.nan], num_bins=2**24)).tolist() == [2**24 - 1, -1]


def test_dequantize_l_gives_nan_for_indices_that_are_not_bins():
    """Indices below 0 or from `num_bins` up dequantise to NaN, so NaN survives a round trip."""
    values = _numpy(color.dequantize_l([-1, 0, 49, 50, 2**31 - 1]))
    assert np.isnan(values[[0, 3, 4]]).all() and values[1:3].tolist() == [1.0, 99.0]
    assert np.isnan(_numpy(color.dequantize_l(color.quantize_l([math.nan]))))[0]


def test_ab_quantisers_give_no_bin_for_non_finite_pairs_and_nan_for_non_bins():
    """A pair with NaN or an infinity quantises to -1; an index outside the centres dequantises
    to (NaN, NaN), not a wrapped or clamped bin."""
    ab = [[0.0, 0.0], [math.nan, 0.0], [0.0, math.inf], [-math.inf, 5.0], [1e6, -1e6]]
    indices = _numpy(color.quantize_ab(ab)).tolist()
    assert indices[1:4] == [-1, -1, -1]
    assert indices[0] >= 0 and indices[4] >= 0
    centers = [[0.0, 0.0], [10.0, -10.0]]
    values = _numpy(color.dequantize_ab([-1, 1, 2, 2**31 - 1], centers))
    assert values[1].tolist() == [10.0, -10.0]
    assert np.isnan(values[[0, 2, 3]]).all()
