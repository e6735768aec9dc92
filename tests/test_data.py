"""Tests of `keras_recipes.data`: coloured shapes and patches of bundled photographs."""

import colorsys

import numpy as np
import pytest

from keras_recipes import data

# === colored_shapes ===


def test_colored_shapes_shapes_types_and_range():
    """Images are float32 (n, size, size, 3) in [0, 1]; labels int32 in [0, num_classes)."""
    images, labels = data.colored_shapes(50, size=20, num_classes=5, seed=0)
    assert images.shape == (50, 20, 20, 3) and images.dtype == np.float32
    assert labels.shape == (50,) and labels.dtype == np.int32
    assert images.min() >= 0.0 and images.max() <= 1.0
    assert set(labels.tolist()) == set(range(5))


def test_colored_shapes_seed_decides_the_images():
    """The same seed gives the same images and labels; another seed different ones."""
    first = data.colored_shapes(8, seed=3)
    again = data.colored_shapes(8, seed=3)
    other = data.colored_shapes(8, seed=4)
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[0], other[0])


def test_every_class_has_its_own_shape():
    """At one position and size, the masks of the eight classes differ pairwise."""
    pixels = np.arange(32, dtype="float32") + 0.5 - 16.0
    x, y = pixels[None, None, :], pixels[None, :, None]
    masks = data._shape_masks(np.arange(8), x, y, np.full((8, 1, 1), 10.0))
    assert masks.shape == (8, 32, 32)
    for first in range(8):
        assert masks[first].sum() > 20
        for second in range(first + 1, 8):
            assert (masks[first] != masks[second]).sum() > 10, (first, second)


def _shape_hue_errors(images, labels, num_classes):
    """Per image, the distance (in turns) from its shape's hue to its class's hue."""
    errors = []
    for image, label in zip(images, labels):
        hsv = np.array([colorsys.rgb_to_hsv(*pixel) for pixel in image.reshape(-1, 3)])
        shape = hsv[hsv[:, 1] > 0.5]  # the background's saturation is at most 0.35
        angle = 2 * np.pi * shape[:, 0]
        hue = np.arctan2(np.sin(angle).mean(), np.cos(angle).mean()) / (2 * np.pi)
        errors.append(abs((hue - label / num_classes + 0.5) % 1.0 - 0.5))
    return np.array(errors)


def test_hue_tells_the_class():
    """With the default spread, the shape's hue lies within half a gap of its class's hue in most images."""
    images, labels = data.colored_shapes(300, size=24, num_classes=4, seed=1)
    # A spread of a third of the gap keeps about 87 % within half a gap (0.125).
    assert (_shape_hue_errors(images, labels, 4) < 0.125).mean() > 0.75


def test_hue_spread_sets_how_far_hues_stray():
    """hue_spread=0 puts every shape at its class's hue; hue_spread=1 strays past half a gap often."""
    images, labels = data.colored_shapes(60, size=16, num_classes=8, hue_spread=0, seed=2)
    assert _shape_hue_errors(images, labels, 8).max() < 0.01
    images, labels = data.colored_shapes(200, size=16, num_classes=8, hue_spread=1.0, seed=2)
    # Half a gap is half a standard deviation: about 62 % stray past it.
    assert (_shape_hue_errors(images, labels, 8) > 1 / 16).mean() > 0.45


@pytest.mark.parametrize(
    ("kwargs", "argument", "error"),
    [
        ({"n": 0}, "n", ValueError),
        ({"n": 2.0}, "n", TypeError),
        ({"size": 7}, "size", ValueError),
        ({"num_classes": 1}, "num_classes", ValueError),
        ({"num_classes": 9}, "num_classes", ValueError),
        ({"hue_spread": -0.1}, "hue_spread", ValueError),
        ({"hue_spread": float("nan")}, "hue_spread", ValueError),
        ({"hue_spread": "1"}, "hue_spread", TypeError),
        ({"hue_spread": 10**400}, "hue_spread", ValueError),
        ({"hue_spread": 2**1024}, "hue_spread", ValueError),
        ({"n": 10**400}, "n", ValueError),
        ({"n": 2**40}, "n", ValueError),
        ({"size": 10**400}, "size", ValueError),
        ({"seed": -1}, "seed", ValueError),
        ({"seed": "1"}, "seed", TypeError),
    ],
)
def test_colored_shapes_refuses_bad_arguments(kwargs, argument, error):
    """Each bad argument raises, naming it and the value received."""
    with pytest.raises(error, match=rf"`{argument}`.*Received: {argument}="):
        data.colored_shapes(**{"n": 2, **kwargs})


def test_colored_shapes_accepts_the_range_ends():
    """size 8 and 2 or 8 classes are valid."""
    assert data.colored_shapes(1, size=8, num_classes=2)[0].shape == (1, 8, 8, 3)
    assert data.colored_shapes(3, num_classes=8)[1].max() < 8


# === photo_patches ===


def test_photo_patches_are_varied_natural_colour_crops():
    """Patches are float32 (n, size, size, 3) in [0, 1], seeded, and differ from one another."""
    patches = data.photo_patches(20, size=40, seed=0)
    assert patches.shape == (20, 40, 40, 3) and patches.dtype == np.float32
    assert patches.min() >= 0.0 and patches.max() <= 1.0
    np.testing.assert_array_equal(patches, data.photo_patches(20, size=40, seed=0))
    assert patches.reshape(20, -1).mean(axis=1).std() > 0.02
    # Colour photographs: the channels are not all equal.
    assert np.abs(patches[..., 0] - patches[..., 2]).mean() > 0.02


def _is_crop(patch, photograph):
    """Whether `patch` equals some window of `photograph` (8-bit arrays)."""
    size = patch.shape[0]
    rows, columns = np.nonzero(np.all(photograph == patch[0, 0], axis=-1))
    return any(
        np.array_equal(photograph[row : row + size, column : column + size], patch)
        for row, column in zip(rows, columns)
    )


def test_photo_patches_are_crops_of_the_bundled_photographs():
    """Every patch is, pixel for pixel, a crop (or mirrored crop) of a scikit-image photograph."""
    import skimage.data

    photographs = [getattr(skimage.data, name)()[..., :3] for name in data.PHOTOGRAPHS]
    patches = np.round(data.photo_patches(4, size=8, seed=5) * 255).astype("uint8")
    for patch in patches:
        assert any(
            _is_crop(candidate, photograph)
            for photograph in photographs
            for candidate in (patch, patch[:, ::-1])
        )


@pytest.mark.parametrize(
    ("kwargs", "argument", "error"),
    [({"n": -1}, "n", ValueError), ({"size": 300}, "size", ValueError), ({"size": "8"}, "size", TypeError),
     # Beyond what numpy can allocate, and beyond any number.
     ({"n": 2**63}, "n", ValueError), ({"n": 10**400}, "n", ValueError),
     ({"n": 2**31 // (8 * 8 * 3) + 1, "size": 8}, "n", ValueError),
     ({"size": 10**400}, "size", ValueError)],
)
def test_photo_patches_refuses_bad_arguments(kwargs, argument, error):
    """Each bad argument raises, naming it and the value received."""
    with pytest.raises(error, match=rf"`{argument}`.*Received: {argument}="):
        data.photo_patches(**{"n": 2, **kwargs})


def test_numpy_scalar_arguments_act_like_python_ones():
    """numpy scalars (np.int64 sizes, an np.float32 hue_spread) give the same images as Python numbers."""
    expected = data.colored_shapes(3, size=8, hue_spread=0.5, seed=4)
    received = data.colored_shapes(np.int64(3), size=np.int64(8), hue_spread=np.float32(0.5), seed=np.int64(4))
    for want, got in zip(expected, received):
        np.testing.assert_array_equal(got, want)
