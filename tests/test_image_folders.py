"""Folders of images as data: what is listed and skipped, the seeded split, shards, decoding, streaming, memory."""

import os
import shutil
import tracemalloc

import numpy as np
import pytest
import skimage.data
from PIL import Image

from keras_recipes._image_folders import listing as folder_listing
from keras_recipes._image_folders.dataset import ImageFolderDataset
from keras_recipes._image_folders.listing import (
    ImageListing,
    list_images,
    read_image,
    split_files,
)


def save(path, array):
    """Writes a uint8 RGB array with Pillow, in the format the suffix names."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(array).save(path)
    return str(path)


def noise(seed, size=24):
    return np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype="uint8")


@pytest.fixture(scope="module")
def hostile_folder(tmp_path_factory):
    """A folder of good images in every format and case, nested, beside files that are not images.

    Returns the folder, the images a listing must find, and the files it
    must skip while listing (the truncated JPEG passes the listing and
    fails to decode).
    """
    root = tmp_path_factory.mktemp("hostile") / "photos"
    good = []
    # scikit-image's bundled photographs, cropped, as JPEG and PNG.
    for number, name in enumerate(("astronaut", "chelsea", "coffee")):
        photograph = getattr(skimage.data, name)()[:120, :160, :3]
        good.append(save(root / f"{name}.jpg", photograph))
        good.append(save(root / "nested" / "deeper" / f"{name}.PNG", photograph[::2, ::2]))
    good.append(save(root / "upper.JPEG", noise(1)))
    good.append(save(root / "nested" / "noise.png", noise(2)))
    good.append(save(root / "bitmap.BMP", noise(3)))
    good.append(save(root / "animation.gif", noise(4)))
    # Grey and palette images become RGB.
    Image.fromarray(noise(5)[..., 0]).save(root / "grey.png")
    good.append(str(root / "grey.png"))
    Image.fromarray(noise(6)).convert("P").save(root / "palette.png")
    good.append(str(root / "palette.png"))
    truncated = root / "truncated.jpg"
    full = (root / "astronaut.jpg").read_bytes()
    truncated.write_bytes(full[: len(full) // 2])
    good.append(str(truncated))
    (root / "empty.png").write_bytes(b"")
    (root / "nested" / "notes.png").write_text("not an image, whatever its name says")
    (root / "README.txt").write_text("ignored: not an image suffix")
    # A loop (a link to an ancestor) and a second link to a folder already read.
    os.symlink("..", root / "nested" / "deeper" / "loop")
    os.symlink(root / "nested", root / "again")
    os.symlink(root / "missing.png", root / "dangling.png")
    skipped = {str(root / "empty.png"): "empty", str(root / "nested" / "notes.png"): "not a PNG"}
    return str(root), sorted(good), skipped


def test_suffixes_are_those_keras_image_loading_reads():
    """IMAGE_SUFFIXES is the allow-list of the installed Keras's image_dataset_from_directory."""
    from keras.src.utils import image_dataset_utils

    assert folder_listing.IMAGE_SUFFIXES == tuple(sorted(image_dataset_utils.ALLOWLIST_FORMATS))


def test_listing_finds_every_image_once_and_skips_what_is_not_one(hostile_folder):
    """Nested, upper-case and linked images are found once each, in sorted order; empty and mislabelled files are skipped with a reason; a link loop ends."""
    root, good, skipped = hostile_folder
    found = list_images(root)
    real = [os.path.realpath(path) for path in found.paths]
    assert sorted(real) == sorted(os.path.realpath(path) for path in good)
    assert len(set(real)) == len(real)
    relative = [os.path.relpath(path, root) for path in found.paths]
    assert relative == sorted(relative)
    assert {path: reason for path, reason in found.skipped}.keys() == skipped.keys()
    for path, reason in found.skipped:
        assert skipped[path] in reason


@pytest.mark.parametrize("make, message", [
    (lambda root: root, "found none; skipped 1"),
    (lambda root: os.path.join(root, "missing"), "no such folder"),
    (lambda root: os.path.join(root, "empty.png"), "not a folder"),
])
def test_a_folder_without_images_is_one_clear_error(tmp_path, make, message):
    """A folder with no image, a missing folder or a file gives one ValueError naming the argument."""
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("no images here")
    with pytest.raises(ValueError, match=f"argument `--data`.*{message}"):
        list_images(make(str(tmp_path)), argument="--data")


def test_labelled_listing_numbers_the_classes_with_images(tmp_path):
    """Each top-level sub-folder with images is a class, in sorted order; empty ones and loose files are left out."""
    save(tmp_path / "zebra" / "a.png", noise(0))
    save(tmp_path / "zebra" / "nested" / "b.png", noise(1))
    save(tmp_path / "ant" / "c.png", noise(2))
    (tmp_path / "empty").mkdir()
    save(tmp_path / "loose.png", noise(3))
    found = list_images(tmp_path, labelled=True)
    assert found.classes == ("ant", "zebra")
    assert [(os.path.relpath(p, tmp_path), label) for p, label in zip(found.paths, found.labels)] == [
        ("ant/c.png", 0), ("zebra/a.png", 1), ("zebra/nested/b.png", 1)]
    shutil.rmtree(tmp_path / "ant")
    with pytest.raises(ValueError, match="at least two classes"):
        list_images(tmp_path, labelled=True)


def listing_of(count, directory="/data"):
    return ImageListing(directory, tuple(f"{directory}/{i:04d}.png" for i in range(count)))


def test_split_depends_on_the_seed_and_the_files_not_on_the_listing_order(tmp_path):
    """The same files, created in another order in another folder, split the same way; another seed splits otherwise."""
    for name, order in (("first", range(12)), ("second", reversed(range(12)))):
        for i in order:
            save(tmp_path / name / f"{i:02d}.png", noise(i, size=8))
    first = split_files(list_images(tmp_path / "first"), seed=3)
    second = split_files(list_images(tmp_path / "second"), seed=3)
    names = lambda part: [os.path.basename(path) for path in part.paths]  # noqa: E731
    assert names(first.train) == names(second.train)
    assert names(first.held_out) == names(second.held_out)
    assert len(first.held_out) == round(12 * 0.2)
    assert sorted(names(first.train) + names(first.held_out)) == [f"{i:02d}.png" for i in range(12)]
    other = split_files(list_images(tmp_path / "first"), seed=4)
    assert names(other.held_out) != names(first.held_out)


def test_shards_are_disjoint_equal_and_cover_each_part_but_a_remainder():
    """Each process's shard, computed alone, is disjoint from the others, as long, and drawn from the same split."""
    whole = split_files(listing_of(23), seed=1)
    shards = [split_files(listing_of(23), seed=1, shard=(index, 3)) for index in range(3)]
    for part in ("train", "held_out"):
        pieces = [getattr(shard, part).paths for shard in shards]
        assert len({len(piece) for piece in pieces}) == 1
        union = [path for piece in pieces for path in piece]
        assert len(set(union)) == len(union)
        assert set(union) <= set(getattr(whole, part).paths)
        assert len(getattr(whole, part)) - len(union) < 3


@pytest.mark.parametrize("arguments, error, message", [
    ({"listing": listing_of(1)}, ValueError, "at least 2 images"),
    ({"shard": (2, 2)}, ValueError, "0 <= process_index < process_count"),
    ({"shard": (0, 9)}, ValueError, "a process count of at most 8"),
    ({"shard": 3}, TypeError, "a pair"),
    ({"shard": (0.5, 2)}, TypeError, "a pair"),
    ({"fraction": 1.0}, ValueError, "between 0 and 1"),
    ({"seed": -1}, ValueError, "seed"),
])
def test_split_refuses_bad_arguments(arguments, error, message):
    """Too few files, a bad shard, fraction or seed each give an error naming the argument."""
    arguments = {"listing": listing_of(10), "seed": 0, **arguments}
    with pytest.raises(error, match=message):
        split_files(arguments.pop("listing"), **arguments)


def test_read_image_crops_the_centre_or_resizes_the_whole(tmp_path):
    """`crop` keeps the aspect ratio and takes the centre (or a seeded random square); `resize` squeezes the whole image in."""
    wide = np.zeros((20, 60, 3), "uint8")
    wide[:, :20] = (255, 0, 0)
    wide[:, 20:40] = (0, 255, 0)
    wide[:, 40:] = (0, 0, 255)
    path = save(tmp_path / "wide.png", wide)
    centre = read_image(path, 20)
    assert centre.shape == (20, 20, 3) and centre.dtype == np.float32
    assert np.array_equal(centre, np.broadcast_to([0, 1, 0], (20, 20, 3)))  # the green third
    squeezed = read_image(path, 12, fit="resize")
    assert squeezed[:, 0, 0].min() > 0.9 and squeezed[:, -1, 2].min() > 0.9
    crops = [read_image(path, 10, rng=np.random.default_rng(seed)) for seed in range(8)]
    assert len({crop.tobytes() for crop in crops}) > 1
    again = read_image(path, 10, rng=np.random.default_rng(5))
    assert np.array_equal(again, crops[5])


def test_dataset_streams_lab_batches_and_skips_a_file_that_fails_to_decode(hostile_folder):
    """Every batch is full Lab images; the truncated JPEG is recorded once and replaced; labels stay aligned when left out."""
    root, good, _ = hostile_folder
    found = list_images(root)
    dataset = ImageFolderDataset(found, image_size=16, batch_size=4, training=False)
    batches = [dataset[index][0] for index in range(dataset.num_batches)]
    assert all(batch.shape == (4, 16, 16, 3) for batch in batches[:-1])
    assert sum(len(batch) for batch in batches) == len(good)
    lightness = np.concatenate(batches)[..., 0]
    assert lightness.min() >= -1e-3 and lightness.max() <= 100 + 1e-3
    assert [path for path, _ in dataset.failed] == [os.path.join(root, "truncated.jpg")]
    assert "truncated" in dataset.failed[0].reason
    labelled = ImageListing(found.directory, found.paths, tuple(range(len(found))), ("x",) * len(found))
    exact = ImageFolderDataset(labelled, image_size=16, batch_size=4, training=False,
                               with_labels=True, replace_failed=False)
    labels = np.concatenate([exact[index][1] for index in range(exact.num_batches)])
    assert found.paths[labels.tolist().index(labels[0])] == found.paths[labels[0]]
    assert len(labels) == len(good) - 1
    assert found.paths.index(os.path.join(root, "truncated.jpg")) not in labels.tolist()


def test_training_order_is_seeded_per_epoch_and_held_out_order_is_fixed(tmp_path):
    """Training batches change from epoch to epoch and repeat for the same (seed, epoch); held-out batches never change."""
    for i in range(10):
        save(tmp_path / f"{i}.png", noise(i, size=12))
    found = list_images(tmp_path)
    make = lambda training: ImageFolderDataset(  # noqa: E731
        found, image_size=8, batch_size=10, training=training, seed=7)
    train, again, held_out = make(True), make(True), make(False)
    first = train[0][0]
    train.on_epoch_end()
    second = train[0][0]
    assert not np.array_equal(first, second)
    again.epoch = 1
    assert np.array_equal(again[0][0], second)
    fixed = held_out[0][0]
    held_out.on_epoch_end()
    assert np.array_equal(held_out[0][0], fixed)


@pytest.mark.parametrize("arguments, error", [
    ({"image_size": 0}, ValueError),
    ({"batch_size": 2.5}, TypeError),
    ({"fit": "stretch"}, ValueError),
    ({"with_labels": True}, ValueError),
    ({"training": "yes"}, TypeError),
])
def test_dataset_refuses_bad_arguments(arguments, error):
    """A bad size, choice or flag is refused before anything is read."""
    arguments = {"image_size": 8, "batch_size": 2, **arguments}
    with pytest.raises(error):
        ImageFolderDataset(listing_of(4), **arguments)


def _peak_while_streaming(found):
    """Peak traced memory while a dataset of a listing is made and every batch read, above the listing's."""
    # Warm up Keras's and the backend's own caches before measuring.
    ImageFolderDataset(found, image_size=16, batch_size=BATCH)[0]
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        dataset = ImageFolderDataset(found, image_size=16, batch_size=BATCH, training=True)
        for index in range(dataset.num_batches):
            dataset[index]
        return tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()


BATCH = 250


def test_streaming_memory_does_not_grow_with_the_number_of_files(tmp_path):
    """Reading 5,000 images batch by batch peaks no higher than reading 1,000 of them: a batch's worth, not the set's."""
    image = tmp_path / "image.png"
    Image.fromarray(noise(0, size=16)).save(image)
    data = image.read_bytes()
    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(5000):
        (folder / f"{i:04d}.png").write_bytes(data)
    large = list_images(folder)
    peak_small = _peak_while_streaming(folder_listing.first_files(large, 1000))
    peak_large = _peak_while_streaming(large)
    batch_bytes = BATCH * 16 * 16 * 3 * 4
    # Holding the decoded set would take 5,000 * 3 KiB = 15 MiB for the large folder.
    assert peak_small >= batch_bytes  # the measurement sees a batch
    assert peak_large < 1.5 * peak_small + 256 * 1024, (peak_small, peak_large)
