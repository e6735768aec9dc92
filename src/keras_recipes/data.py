"""Small image data for examples and tests, generated or shipped in a package, never downloaded.

- `colored_shapes(n, ...)`: synthetic labelled images in which the class
  decides the shape and, through a class-conditional hue, the colour; the
  luminance is textured at random and the background is random. Predicting
  colour from lightness therefore needs the shape, and predicting lightness
  from colour needs the colour silhouette: what a split-brain autoencoder
  must learn, at a size a CPU can train on.
- `photo_patches(n, ...)`: random square crops of the colour photographs
  that scikit-image ships inside its wheel (no network access).

Both return sRGB float32 images in [0, 1], channels-last; convert them with
`keras_recipes.color.rgb_to_lab` for the split-brain autoencoder. Plain
numpy: importing this module loads no Keras.
"""


import numpy as np

from keras_recipes import _validation

SHAPES = ("disc", "square", "triangle", "ring", "cross", "diamond", "bar", "frame")
"""The shape of each class of `colored_shapes`, in class order."""

# scikit-image's bundled colour photographs (in the wheel's data folder, not
# fetched): an astronaut, a cat, a cup of coffee and a rocket.
PHOTOGRAPHS = ("astronaut", "chelsea", "coffee", "rocket")
"""The scikit-image photographs `photo_patches` crops, by their `skimage.data` names."""


def _hsv_to_rgb(hue, saturation, value):
    """Vectorised HSV -> RGB for arrays of equal shape in [0, 1]; returns `(..., 3)`."""
    sector = np.floor(hue * 6.0)
    fraction = hue * 6.0 - sector
    p = value * (1.0 - saturation)
    q = value * (1.0 - saturation * fraction)
    t = value * (1.0 - saturation * (1.0 - fraction))
    sector = sector.astype("int64") % 6
    red = np.choose(sector, [value, q, p, p, t, value])
    green = np.choose(sector, [t, value, value, q, p, p])
    blue = np.choose(sector, [p, p, t, value, value, q])
    return np.stack([red, green, blue], axis=-1)


def _shape_masks(labels, x, y, radius):
    """Boolean masks `(n, size, size)` of each image's shape, chosen by its label.

    `x` and `y` are pixel coordinates relative to each image's shape centre,
    `radius` the shape's size, all broadcastable to `(n, size, size)`.
    """
    u, v = x / radius, y / radius
    candidates = np.stack(
        [
            u**2 + v**2 <= 1.0,  # disc
            np.maximum(abs(u), abs(v)) <= 0.8,  # square
            (v <= 0.7) & (v >= 1.7 * abs(u) - 0.9),  # triangle, apex up
            (u**2 + v**2 <= 1.0) & (u**2 + v**2 >= 0.35),  # ring
            (np.minimum(abs(u), abs(v)) <= 0.3) & (np.maximum(abs(u), abs(v)) <= 1.0),
            abs(u) + abs(v) <= 1.0,  # diamond
            (abs(u) <= 1.0) & (abs(v) <= 0.35),  # horizontal bar
            (np.maximum(abs(u), abs(v)) <= 0.9) & (np.maximum(abs(u), abs(v)) >= 0.6),
        ]
    )
    return np.take_along_axis(candidates, labels[None, :, None, None], axis=0)[0]


def _texture(rng, n, size, num_waves=3):
    """Smooth random fields `(n, size, size)` in about [-1, 1]: sums of random plane waves."""
    coords = np.arange(size, dtype="float32") / size
    x, y = coords[None, None, :], coords[None, :, None]
    field = np.zeros((n, size, size), dtype="float32")
    for _ in range(num_waves):
        frequency = rng.uniform(1.0, 4.0, (n, 1, 1)) * 2 * np.pi
        angle = rng.uniform(0, 2 * np.pi, (n, 1, 1))
        phase = rng.uniform(0, 2 * np.pi, (n, 1, 1))
        field += np.cos(frequency * (np.cos(angle) * x + np.sin(angle) * y) + phase)
    return field / num_waves


def colored_shapes(n, size=32, num_classes=4, hue_spread=1 / 3, seed=None):
    """Generates labelled images of coloured shapes on textured backgrounds.

    Each image holds one shape whose class decides the shape (`SHAPES[label]`:
    disc, square, triangle, ring, cross, diamond, bar, frame) and the hue:
    class `k` draws its hue from a normal distribution around
    `k / num_classes` of the colour wheel, whose standard deviation is
    `hue_spread` times the gap between class hues, and a saturation in
    [0.6, 1]. With the default spread of a third of the gap, hue alone tells
    the class in about 87 % of images; with a spread of one gap, neighbouring
    classes overlap and the shape is needed. Position and size vary at random. The shape's brightness is
    a random smooth texture; the background has its own texture, a random
    hue, a low saturation (at most 0.35) and a random mean brightness, so
    neither colour nor lightness alone gives the class away everywhere.

    Args:
        n: number of images, at least 1; the `n * size * size * 3` numbers
            of the set at most 2**31 - 1 (8 GiB as float32).
        size: side of the square images in pixels, at least 8. Defaults to
            `32`.
        num_classes: number of classes, from 2 to 8. Defaults to `4`.
        hue_spread: standard deviation of a class's hue, in gaps between
            class hues; a non-negative number. Defaults to `1 / 3`.
        seed: seed of numpy's random generator; the same seed gives the same
            images. Defaults to `None` (fresh randomness).

    Returns:
        A tuple `(images, labels)`: float32 sRGB images in [0, 1] of shape
        `(n, size, size, 3)`, and int32 labels of shape `(n,)` in
        `[0, num_classes)`.

    Raises:
        ValueError: a size is out of range, or `seed` is negative.
        TypeError: an argument is not an integer.

    Example:

    >>> images, labels = colored_shapes(6, size=16, seed=0)
    >>> images.shape, images.dtype.name, labels.dtype.name
    ((6, 16, 16, 3), 'float32', 'int32')
    >>> bool(images.min() >= 0.0 and images.max() <= 1.0)
    True
    """
    n = _validation.check_positive_int("n", n)
    size = _validation.check_positive_int("size", size)
    if size < 8:
        raise _validation.invalid("size", "an integer of at least 8", size)
    # The whole set is one float32 array: held to the size of one sample of
    # the builders, before numpy is asked for terabytes (or fails to
    # convert a 400-digit size).
    _validation.check_sample_size("size", size, (size, size, 3))
    _validation.check_sample_size("n", n, (n, size, size, 3), what="data set")
    num_classes = _validation.check_positive_int("num_classes", num_classes)
    if not 2 <= num_classes <= len(SHAPES):
        raise _validation.invalid(
            "num_classes", f"an integer from 2 to {len(SHAPES)}", num_classes
        )
    hue_spread = _validation.check_real_number("hue_spread", hue_spread)
    seed = _validation.check_seed(seed)
    rng = np.random.default_rng(seed)

    labels = rng.integers(0, num_classes, n).astype("int32")
    # === The shape ===
    radius = rng.uniform(0.22, 0.36, (n, 1, 1)) * size
    centre = rng.uniform(0.38, 0.62, (n, 2, 1, 1)) * size
    pixels = np.arange(size, dtype="float32") + 0.5
    x = pixels[None, None, :] - centre[:, 0]
    y = pixels[None, :, None] - centre[:, 1]
    mask = _shape_masks(labels, x, y, radius)

    hue = labels / num_classes + rng.normal(0.0, hue_spread / num_classes, n)
    shape_rgb = _hsv_to_rgb(
        np.broadcast_to((hue % 1.0)[:, None, None], (n, size, size)),
        np.broadcast_to(rng.uniform(0.6, 1.0, (n, 1, 1)), (n, size, size)),
        np.clip(rng.uniform(0.45, 0.95, (n, 1, 1)) + 0.25 * _texture(rng, n, size), 0, 1),
    )

    # === The background ===
    background_rgb = _hsv_to_rgb(
        np.broadcast_to(rng.uniform(0.0, 1.0, (n, 1, 1)), (n, size, size)),
        np.broadcast_to(rng.uniform(0.0, 0.35, (n, 1, 1)), (n, size, size)),
        np.clip(rng.uniform(0.15, 0.85, (n, 1, 1)) + 0.2 * _texture(rng, n, size), 0, 1),
    )
    images = np.where(mask[..., None], shape_rgb, background_rgb)
    return images.astype("float32"), labels


def photo_patches(n, size=32, seed=None):
    """Crops random square patches from scikit-image's bundled colour photographs.

    The photographs (`PHOTOGRAPHS`: astronaut, chelsea, coffee, rocket) ship
    inside scikit-image's wheel, so nothing is downloaded. Each patch comes
    from a photograph, position and left-right flip drawn at random. The
    patches carry no labels: they suit pretext losses (colour from
    lightness) on natural images.

    Args:
        n: number of patches, at least 1; the `n * size * size * 3` numbers
            of the set at most 2**31 - 1 (8 GiB as float32).
        size: side of the square patches in pixels, from 8 to 256. Defaults
            to `32`.
        seed: seed of numpy's random generator. Defaults to `None`.

    Returns:
        A float32 array of shape `(n, size, size, 3)`: sRGB in [0, 1].

    Raises:
        ValueError: a size is out of range, or `seed` is negative.
        TypeError: an argument is not an integer.

    Example:

    >>> photo_patches(3, size=24, seed=0).shape
    (3, 24, 24, 3)
    """
    n = _validation.check_positive_int("n", n)
    size = _validation.check_positive_int("size", size)
    if not 8 <= size <= 256:
        raise _validation.invalid("size", "an integer from 8 to 256", size)
    # One float32 array, held to the builders' sample size as in
    # `colored_shapes`, before numpy is asked for it.
    _validation.check_sample_size("n", n, (n, size, size, 3), what="data set")
    seed = _validation.check_seed(seed)
    # Imported here: scikit-image is only needed for the photographs.
    import skimage.data

    photographs = [getattr(skimage.data, name)() for name in PHOTOGRAPHS]
    rng = np.random.default_rng(seed)
    patches = np.empty((n, size, size, 3), dtype="float32")
    for index, choice in enumerate(rng.integers(0, len(photographs), n)):
        photograph = photographs[choice]
        top = rng.integers(0, photograph.shape[0] - size + 1)
        left = rng.integers(0, photograph.shape[1] - size + 1)
        patch = photograph[top : top + size, left : left + size, :3]
        if rng.random() < 0.5:
            patch = patch[:, ::-1]
        patches[index] = patch / 255.0
    return patches
