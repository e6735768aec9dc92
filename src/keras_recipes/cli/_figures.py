"""The PNG pictures of `keras-recipes train`, drawn with matplotlib off screen.

Each picture has a fixed size in pixels (`SIZES`, width by height), whatever
the data, so a run's pictures line up and the tests can check them. The
figures are matplotlib `Figure` objects on the Agg canvas, never pyplot, so
no window, no display and no global state are involved. Every file is
written to `<name>.partial.png` first and renamed when complete.

The functions take numpy arrays; the Keras side (encoding, decoding,
predicting) stays in the `_train` package.
"""

import math
import os

import numpy as np

from keras_recipes.cli import require
from keras_recipes.cli._runs import PARTIAL_SUFFIX

DPI = 100

SIZES = {
    "reconstructions.png": (1000, 240),
    "latent.png": (700, 600),
    "samples.png": (600, 600),
    "traversals.png": (600, 700),
    "loss.png": (700, 450),
    "colorized.png": (800, 330),
}
"""Width and height in pixels of each picture."""

NUM_RECONSTRUCTIONS = 10
NUM_COLORIZED = 8


def _figure(name):
    require("matplotlib", purpose="the pictures of `keras-recipes train`")
    from matplotlib.figure import Figure

    width, height = SIZES[name]
    return Figure(figsize=(width / DPI, height / DPI), dpi=DPI)


def _save(figure, directory, name):
    path = os.path.join(directory, name)
    root, extension = os.path.splitext(path)
    partial = f"{root}{PARTIAL_SUFFIX}{extension}"
    # No bbox_inches="tight": it would change the size in pixels.
    figure.savefig(partial, dpi=DPI, format="png")
    os.replace(partial, path)
    return path


def as_pictures(samples):
    """Samples as `(n, height, width)` grey or `(n, height, width, 3)` colour images.

    Flat samples whose length is a square number are shown square (64
    features as 8x8, as the digits are); other flat samples as one row of
    pixels each.
    """
    samples = np.asarray(samples)
    if samples.ndim == 2:
        side = math.isqrt(samples.shape[1])
        if side * side == samples.shape[1]:
            return samples.reshape(-1, side, side)
        return samples[:, None, :]
    if samples.ndim == 4 and samples.shape[-1] == 1:
        return samples[..., 0]
    return samples


def _show(axes, picture):
    grey = picture.ndim == 2
    axes.imshow(
        np.clip(picture, 0.0, 1.0),
        cmap="gray_r" if grey else None,
        vmin=0.0,
        vmax=1.0,
        interpolation="nearest",
        aspect="auto" if picture.shape[0] == 1 else "equal",
    )
    axes.set_xticks([])
    axes.set_yticks([])


def reconstructions(directory, originals, reconstructed):
    """Originals in the top row, their reconstructions below, `NUM_RECONSTRUCTIONS` columns."""
    figure = _figure("reconstructions.png")
    originals, reconstructed = as_pictures(originals), as_pictures(reconstructed)
    count = min(NUM_RECONSTRUCTIONS, len(originals))
    grid = figure.subplots(2, NUM_RECONSTRUCTIONS, squeeze=False)
    for column in range(NUM_RECONSTRUCTIONS):
        for row, pictures in enumerate((originals, reconstructed)):
            axes = grid[row, column]
            if column < count:
                _show(axes, pictures[column])
            else:
                axes.set_axis_off()
    grid[0, 0].set_ylabel("original", fontsize=9)
    grid[1, 0].set_ylabel("reconstructed", fontsize=9)
    figure.suptitle("Held-out samples (top) and their reconstructions (bottom)", fontsize=10)
    figure.subplots_adjust(left=0.04, right=0.99, bottom=0.02, top=0.86, wspace=0.08, hspace=0.08)
    return _save(figure, directory, "reconstructions.png")


def project_2d(codes):
    """Codes reduced to two dimensions, and the axis labels.

    Two-dimensional codes are returned as they are; longer ones are
    projected on their first two principal components (centred, by SVD).
    """
    codes = np.asarray(codes, dtype="float64")
    if codes.shape[1] == 1:
        return np.concatenate([codes, np.zeros_like(codes)], axis=1), ("z[0]", "")
    if codes.shape[1] == 2:
        return codes, ("z[0]", "z[1]")
    centred = codes - codes.mean(axis=0)
    _, _, directions = np.linalg.svd(centred, full_matrices=False)
    return centred @ directions[:2].T, ("principal component 1", "principal component 2")


def latent(directory, codes, labels):
    """A scatter plot of held-out `z_mean`, coloured by label when there are labels."""
    figure = _figure("latent.png")
    axes = figure.subplots()
    points, (x_label, y_label) = project_2d(codes)
    if labels is None:
        axes.scatter(points[:, 0], points[:, 1], s=6, alpha=0.7, color="tab:blue")
    else:
        classes = np.unique(labels)
        import matplotlib

        palette = "tab10" if len(classes) <= 10 else "tab20"
        cmap = matplotlib.colormaps[palette]
        for index, label in enumerate(classes):
            chosen = labels == label
            axes.scatter(
                points[chosen, 0],
                points[chosen, 1],
                s=6,
                alpha=0.8,
                color=cmap(index % cmap.N),
                label=str(label),
            )
        if len(classes) <= 20:
            axes.legend(title="label", loc="center left", bbox_to_anchor=(1.0, 0.5),
                        markerscale=2.5, fontsize=8, title_fontsize=9, frameon=False)
    dimensions = np.asarray(codes).shape[1]
    title = "Held-out data in the latent space (z_mean)"
    if dimensions > 2:
        title += f",\nfirst two principal components of {dimensions} dimensions"
    axes.set_title(title, fontsize=10)
    axes.set_xlabel(x_label)
    axes.set_ylabel(y_label)
    figure.subplots_adjust(left=0.1, right=0.86, bottom=0.1, top=0.88)
    return _save(figure, directory, "latent.png")


def mosaic(pictures, rows, columns):
    """Tiles `rows * columns` pictures (grey or colour) into one image, row by row, 1-pixel gaps."""
    pictures = np.asarray(pictures)
    height, width = pictures.shape[1:3]
    shape = (rows * (height + 1) - 1, columns * (width + 1) - 1, *pictures.shape[3:])
    tiled = np.zeros(shape, dtype=pictures.dtype)
    for index in range(rows * columns):
        row, column = divmod(index, columns)
        top, left = row * (height + 1), column * (width + 1)
        tiled[top : top + height, left : left + width] = pictures[index]
    return tiled


def samples(directory, decoded, rows, columns, title):
    """The decoded grid of `rows * columns` samples, as one mosaic."""
    figure = _figure("samples.png")
    axes = figure.subplots()
    _show(axes, mosaic(as_pictures(decoded), rows, columns))
    axes.set_title(title, fontsize=10)
    figure.subplots_adjust(left=0.03, right=0.97, bottom=0.03, top=0.89)
    return _save(figure, directory, "samples.png")


def traversals(directory, decoded, rows, columns, value_range):
    """Latent traversals: row d decodes z[d] swept from -value_range to value_range, the others 0."""
    figure = _figure("traversals.png")
    axes = figure.subplots()
    _show(axes, mosaic(as_pictures(decoded), rows, columns))
    axes.set_title(
        f"Each row sweeps one latent dimension from {-value_range:g} to {value_range:g}, "
        "the others at 0", fontsize=10,
    )
    axes.set_ylabel("latent dimension (top: z[0])")
    figure.subplots_adjust(left=0.06, right=0.97, bottom=0.03, top=0.92)
    return _save(figure, directory, "traversals.png")


def loss(directory, history):
    """Training and validation loss per epoch, from `history.csv`'s columns."""
    figure = _figure("loss.png")
    axes = figure.subplots()
    epochs = [int(epoch) + 1 for epoch in history.get("epoch", [])]
    for key, style in (("loss", "-"), ("val_loss", "--")):
        if key in history:
            axes.plot(epochs, history[key], style, marker="." if len(epochs) < 30 else None,
                      label=key)
    axes.set_xlabel("epoch")
    axes.set_ylabel("loss (negative ELBO per sample)" if "kl_loss" in history else "loss")
    axes.set_title("Loss per epoch", fontsize=10)
    axes.legend()
    axes.grid(alpha=0.3)
    figure.subplots_adjust(left=0.12, right=0.97, bottom=0.12, top=0.9)
    return _save(figure, directory, "loss.png")


def colorized(directory, originals, grey, colorized_rgb):
    """Originals, their lightness alone, and the L -> ab tower's colourisation, in three rows."""
    figure = _figure("colorized.png")
    count = min(NUM_COLORIZED, len(originals))
    grid = figure.subplots(3, NUM_COLORIZED, squeeze=False)
    rows = (("original", originals), ("L only", grey), ("colourised", colorized_rgb))
    for row, (label, pictures) in enumerate(rows):
        for column in range(NUM_COLORIZED):
            axes = grid[row, column]
            if column < count:
                _show(axes, pictures[column])
            else:
                axes.set_axis_off()
        grid[row, 0].set_ylabel(label, fontsize=9)
    figure.suptitle(
        "Held-out images: original, lightness L only, and L with the ab predicted "
        "by the L -> ab tower (annealed mean)",
        fontsize=9,
    )
    figure.subplots_adjust(left=0.06, right=0.99, bottom=0.01, top=0.9, wspace=0.06, hspace=0.06)
    return _save(figure, directory, "colorized.png")
