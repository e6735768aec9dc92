"""The numpy parts of `keras-recipes train`, in-process: data checks, run directories, figures, the probe."""

import os

import numpy as np
import pytest

from keras_recipes.cli import CommandError, _data, _figures, _probe, _runs


def test_digits_are_8x8_images_in_the_unit_interval_with_labels():
    """The default VAE data: 1797 float32 (8, 8, 1) digits in [0, 1] and their labels 0..9."""
    x, y, _ = _data.vae_data("digits")
    assert x.shape == (1797, 8, 8, 1) and x.dtype == np.float32
    assert x.min() == 0.0 and x.max() == 1.0
    assert sorted(set(y.tolist())) == list(range(10))


def test_shuffle_split_is_seeded_disjoint_and_holds_out_a_fifth():
    """The split holds out round(n / 5) samples, none also trained on, the same for the same seed."""
    x = np.arange(50)[:, None].astype("float32")
    y = np.arange(50)
    x_train, y_train, x_val, y_val = _data.shuffle_split(x, y, seed=3)
    assert len(x_val) == 10 and len(x_train) == 40
    assert sorted(np.concatenate([y_train, y_val]).tolist()) == list(range(50))
    assert (x_train[:, 0] == y_train).all() and (x_val[:, 0] == y_val).all()
    assert (_data.shuffle_split(x, y, seed=3)[3] == y_val).all()
    assert not (_data.shuffle_split(x, y, seed=4)[3] == y_val).all()


def test_a_valid_npz_gives_float32_samples_and_int32_labels(tmp_path):
    """A .npz with float64 samples in [0, 1] and int64 labels loads as float32 samples and int32 labels."""
    path = str(tmp_path / "data.npz")
    np.savez(path, x=np.full((4, 3), 0.5), y=np.array([0, 1, 1, 0]))
    x, y, description = _data.vae_data(path)
    assert x.dtype == np.float32 and x.shape == (4, 3)
    assert y.dtype == np.int32 and y.tolist() == [0, 1, 1, 0]
    assert description == path


def test_prepare_directory_creates_refuses_and_replaces(tmp_path):
    """A new --out is created; a used one is refused without force and emptied of run files with it."""
    out = str(tmp_path / "runs" / "a")
    _runs.prepare_directory(out, force=False).release()
    assert os.path.isdir(out) and os.listdir(out) == []
    _runs.prepare_directory(out, force=False).release()  # an empty directory holds no run
    for name in ("model.keras", "latent.png", "latent.partial.png"):
        open(os.path.join(out, name), "w").close()
    with pytest.raises(CommandError, match="already exists"):
        _runs.prepare_directory(out, force=False)
    assert len(os.listdir(out)) == 3
    # The older model.keras stays until the new run's first checkpoint replaces it.
    owned = _runs.prepare_directory(out, force=True)
    owned.release()
    assert owned.previous_model is True
    assert os.listdir(out) == ["model.keras"]


@pytest.mark.parametrize("force", [False, True])
def test_a_run_directory_owned_by_a_run_is_refused_to_another_until_released(force, tmp_path):
    """While one run owns --out, another is refused at once (--force too) and nothing in it changes."""
    out = str(tmp_path / "a")
    owned = _runs.prepare_directory(out, force=False)
    (tmp_path / "a" / "history.csv").write_text("epoch\n0\n")
    with pytest.raises(CommandError, match="another run is writing to the run directory"):
        _runs.prepare_directory(out, force=force)
    assert (tmp_path / "a" / "history.csv").read_text() == "epoch\n0\n"
    owned.release()
    _runs.prepare_directory(out, force=True).release()  # its run ended: --force may replace it
    assert os.listdir(out) == []


def test_prepare_directory_with_force_keeps_foreign_files(tmp_path):
    """--force on a directory holding a file no run writes deletes nothing and refuses."""
    (tmp_path / "model.keras").write_text("old")
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(CommandError, match="'notes.txt'"):
        _runs.prepare_directory(str(tmp_path), force=True)
    assert sorted(os.listdir(tmp_path)) == ["model.keras", "notes.txt"]


def test_as_pictures_shows_square_features_as_squares_and_others_as_rows():
    """64 features become 8x8 pictures, 10 features a 1x10 row, (n, h, w, 1) grey (n, h, w)."""
    assert _figures.as_pictures(np.zeros((2, 64))).shape == (2, 8, 8)
    assert _figures.as_pictures(np.zeros((2, 10))).shape == (2, 1, 10)
    assert _figures.as_pictures(np.zeros((2, 5, 6, 1))).shape == (2, 5, 6)
    assert _figures.as_pictures(np.zeros((2, 5, 6, 3))).shape == (2, 5, 6, 3)


def test_mosaic_places_each_picture_row_by_row_with_one_pixel_gaps():
    """Picture i of a rows x columns mosaic sits at row i // columns, column i % columns."""
    pictures = np.arange(6, dtype="float32")[:, None, None] * np.ones((6, 2, 3))
    tiled = _figures.mosaic(pictures, 2, 3)
    assert tiled.shape == (2 * 3 - 1, 3 * 4 - 1)
    for index in range(6):
        row, column = divmod(index, 3)
        assert (tiled[row * 3 : row * 3 + 2, column * 4 : column * 4 + 3] == index).all()


def test_project_2d_keeps_2d_codes_and_projects_longer_ones_on_principal_components():
    """2-D codes are unchanged; 3-D codes along one line project onto the first component only."""
    codes = np.random.default_rng(0).normal(size=(20, 2))
    assert np.array_equal(_figures.project_2d(codes)[0], codes)
    line = np.outer(np.linspace(-1, 1, 20), [1.0, 2.0, 2.0])
    points, labels = _figures.project_2d(line)
    assert points.shape == (20, 2)
    assert np.allclose(np.abs(points[:, 0]), 3 * np.abs(np.linspace(-1, 1, 20)))
    assert np.allclose(points[:, 1], 0, atol=1e-9)
    assert labels == ("principal component 1", "principal component 2")


def test_probe_reads_linearly_separable_classes_and_not_noise():
    """The probe classifies separable features almost perfectly, and shuffled labels near chance."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 400)
    features = rng.normal(size=(400, 16))
    features[np.arange(400), labels] += 4.0
    accuracy = _probe.accuracy(features[:300], labels[:300], features[300:], labels[300:], 4)
    assert accuracy >= 0.95
    noise = _probe.accuracy(
        features[:300], rng.permutation(labels[:300]), features[300:], labels[300:], 4
    )
    assert noise < 0.5


def _tiny_model():
    import keras

    inputs = keras.Input((2,))
    return keras.Model(inputs, keras.layers.Dense(1)(inputs))


def test_checkpoint_replaces_model_keras_only_with_a_better_complete_save(tmp_path):
    """An improving epoch replaces model.keras with a loadable model; a worse one leaves it alone."""
    import keras

    model = _tiny_model()
    checkpoint = _runs.best_checkpoint(keras, str(tmp_path))
    checkpoint.set_model(model)
    final = tmp_path / _runs.MODEL_FILE
    checkpoint.on_epoch_end(0, {"val_loss": 2.0})
    assert checkpoint.best_epoch == 1 and final.exists()
    first = final.read_bytes()
    checkpoint.on_epoch_end(1, {"val_loss": 3.0})
    assert checkpoint.best_epoch == 1 and final.read_bytes() == first
    checkpoint.on_epoch_end(2, {"val_loss": 1.0})
    assert checkpoint.best_epoch == 3 and checkpoint.best_logs == {"val_loss": 1.0}
    assert os.listdir(tmp_path) == [_runs.MODEL_FILE]
    keras.saving.load_model(final, safe_mode=True)


def test_a_save_cut_short_leaves_the_previous_model_keras_intact(tmp_path, monkeypatch):
    """A save interrupted half-way never touches model.keras, and discard_partial removes its remains."""
    import keras

    model = _tiny_model()
    checkpoint = _runs.best_checkpoint(keras, str(tmp_path))
    checkpoint.set_model(model)
    final = tmp_path / _runs.MODEL_FILE
    final.write_bytes(b"the previous best model")

    def interrupted_save(path, **kwargs):
        with open(path, "wb") as file:
            file.write(b"half a zip")
        raise KeyboardInterrupt

    monkeypatch.setattr(model, "save", interrupted_save)
    with pytest.raises(KeyboardInterrupt):
        checkpoint.on_epoch_end(0, {"val_loss": 1.0})
    assert final.read_bytes() == b"the previous best model"
    checkpoint.discard_partial()
    assert os.listdir(tmp_path) == [_runs.MODEL_FILE]


def test_reconstructions_show_one_sample_of_each_label_first():
    """With labels, the pictured samples are the first of each label in label order, then others."""
    from keras_recipes.cli._train._vae import _reconstruction_indices

    labels = np.array([6, 6, 1, 0, 6, 1, 2])
    assert _reconstruction_indices(labels, 7, 5).tolist() == [3, 2, 6, 0, 1]
    assert _reconstruction_indices(labels, 7, 2).tolist() == [3, 2]
    assert _reconstruction_indices(None, 7, 5).tolist() == [0, 1, 2, 3, 4]
    assert _reconstruction_indices(None, 3, 5).tolist() == [0, 1, 2]
