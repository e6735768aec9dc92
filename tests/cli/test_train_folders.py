"""`train split-brain --data DIR --probe-data DIR`: a folder of images, run as a user runs it."""

import json
import os
import shlex
from pathlib import Path

import keras
import numpy as np
import pytest
import skimage.data
from PIL import Image
from cli.test_main import run_cli

import keras_recipes  # noqa: F401  (registers the classes the saved model uses)
from keras_recipes.data import SHAPES, colored_shapes

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--epochs", "1", "--batch-size", "8", "--width-multiplier", "0.0625", "--image-size", "16"]


def _save(path, array):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(array).save(path)


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """An unlabelled folder of photograph crops and shapes with three bad files, and a labelled folder of shapes."""
    root = tmp_path_factory.mktemp("folders")
    photos = root / "photos"
    rng = np.random.default_rng(0)
    for name in ("astronaut", "chelsea", "coffee", "rocket"):
        photograph = getattr(skimage.data, name)()[..., :3]
        for number in range(3):
            top, left = rng.integers(0, 200, 2)
            suffix = ("jpg", "PNG", "JPEG")[number]
            _save(str(photos / name / f"{number}.{suffix}"),
                  photograph[top:top + 48, left:left + 64])
    rgb, labels = colored_shapes(36, size=16, num_classes=3, seed=0)
    for index, image in enumerate((rgb * 255).round().astype("uint8")):
        _save(str(photos / "shapes" / f"{index}.png"), image)
        _save(str(root / "labelled" / SHAPES[labels[index]] / f"{index}.png"), image)
    whole = (photos / "astronaut" / "0.jpg").read_bytes()
    (photos / "cut.jpg").write_bytes(whole[: len(whole) // 3])
    (photos / "empty.jpeg").write_bytes(b"")
    (photos / "notes.png").write_text("a text file named .png")
    os.symlink("..", photos / "shapes" / "loop")
    return str(photos), str(root / "labelled")


def documented_command():
    """The first command of the split-brain page's folder section, as arguments after `keras-recipes`."""
    page = (ROOT / "docs" / "recipes" / "split_brain_ae.md").read_text(encoding="utf-8")
    section = page.split("## Pre-training on a folder of images", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    words = shlex.split(block.splitlines()[0])
    assert words[:3] == ["keras-recipes", "train", "split-brain"]
    return words[1:]


@pytest.fixture(scope="module")
def folder_run(folders, tmp_path_factory):
    """The documented folder command, on the small folders, with tiny sizes appended."""
    photos, labelled = folders
    out = tmp_path_factory.mktemp("runs") / "folder"
    places = {"photos/": photos, "labelled/": labelled, "runs/photos": str(out)}
    command = [places.get(word, word) for word in documented_command()]
    assert set(places.values()) <= set(command)
    result = run_cli(*command, *TINY)
    return result, str(out)


def test_folder_run_counts_used_and_skipped_files_and_lists_them(folder_run, folders):
    """49 files found, 48 used: the empty and text files skipped while listing, the cut JPEG at decode time, each in skipped.txt."""
    result, out = folder_run
    photos, _ = folders
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert (f"images: 48 used of 49 found in {photos}; skipped 3: 2 not images (found while "
            "listing), 1 that failed to decode (listed in skipped.txt)") in result.stdout
    with open(os.path.join(out, "skipped.txt"), encoding="utf-8") as file:
        skipped = dict(line.rstrip("\n").split("\t") for line in file)
    assert sorted(skipped) == sorted(os.path.join(photos, name)
                                     for name in ("cut.jpg", "empty.jpeg", "notes.png"))
    assert "truncated" in skipped[os.path.join(photos, "cut.jpg")].lower()
    assert sorted(os.listdir(out)) == sorted(
        ["model.keras", "history.csv", "colorized.png", "probe.json", "skipped.txt",
         "arguments.json"])


def test_folder_run_saves_a_model_of_the_image_size_that_reloads_safely(folder_run):
    """model.keras loads with safe_mode=True and takes 16x16 Lab images (--image-size 16)."""
    _, out = folder_run
    model = keras.saving.load_model(os.path.join(out, "model.keras"), safe_mode=True)
    assert tuple(model.inputs[0].shape) == (None, 16, 16, 3)
    assert tuple(model.outputs[0].shape[:3]) == (None, 4, 4)


def test_probe_data_gives_every_layer_before_and_after_with_counts(folder_run):
    """probe.json has conv1..fc7 with feature counts, accuracies in [0, 1] before and after, and the report prints the table."""
    result, out = folder_run
    with open(os.path.join(out, "probe.json"), encoding="utf-8") as file:
        probe = json.load(file)
    layers = ["conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7"]
    assert list(probe["accuracy"]) == list(probe["accuracy_before_pretraining"]) == layers
    # Both towers at width 0.0625: conv1 is 96 / 2 * 0.0625 = 3 filters a tower.
    assert probe["num_features"]["conv1"] == 6 and probe["num_features"]["fc7"] == 64
    assert probe["classes"] == 3 and probe["class_names"] == sorted(probe["class_names"])
    assert probe["train_images"] + probe["test_images"] == 36
    assert probe["test_images"] == round(36 * 0.2)
    assert all(0.0 <= value <= 1.0 for value in probe["accuracy"].values())
    assert "| held-out accuracy | " + " | ".join(layers) + " |" in result.stdout
    assert "| split-brain, epoch 1 |" in result.stdout


@pytest.mark.parametrize("extra, message", [
    (["--image-size", "30"], "Invalid value for argument `--image-size`: expected an image side"),
    (["--architecture", "alexnet", "--image-size", "100"],
     "the alexnet network's prediction side divides evenly (e.g. 180; near 100: 90, 96, 98, 105)"),
    (["--architecture", "alexnet", "--image-size", "32", "--image-fit", "squash"],
     "argument --image-fit: invalid choice"),
    (["--probe-data", "ASTRONAUT"],
     "`--probe-data`: expected a folder holding one sub-folder of images per class"),
])
def test_bad_folder_options_fail_with_one_line_and_status_2(folders, tmp_path, extra, message):
    """A bad image size, fit or probe folder is one line on stderr, exit status 2, and no run directory."""
    photos, _ = folders
    extra = [os.path.join(photos, "astronaut") if value == "ASTRONAUT" else value
             for value in extra]
    out = tmp_path / "run"
    result = run_cli("train", "split-brain", "--data", photos, "--out", str(out), *extra)
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 or "usage:" in result.stderr
    assert not out.exists()


def test_a_folder_without_images_and_folder_options_without_a_folder_are_refused(tmp_path):
    """An empty folder is one clear error; --image-size with generated shapes is refused."""
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no images")
    result = run_cli("train", "split-brain", "--data", str(empty), "--out", str(tmp_path / "a"))
    assert result.returncode == 2
    assert "expected a folder holding images" in result.stderr and "found none" in result.stderr
    result = run_cli("train", "split-brain", "--image-size", "32", "--out", str(tmp_path / "b"))
    assert result.returncode == 2
    assert "`--image-size`: it applies to a folder of images" in result.stderr
