"""The pytest plugin's `architecture_snapshot` fixture, run in inner pytest sessions (`pytester`)."""

import json
import subprocess
import sys

import pytest

from keras_recipes.testing import _snapshot

PLUGIN = ("-p", "keras_recipes.pytest_plugin")

# A user's test file: one model whose hidden width comes from a file beside
# it, so that a test can change the architecture between two runs.
TEST_FILE = """
import json, pathlib
import keras
import pytest

def build(width):
    return keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(width, name="hidden"),
         keras.layers.Dense(2, name="logits")],
        name="classifier",
    )

def width():
    return json.loads((pathlib.Path(__file__).parent / "width.json").read_text())

def test_classifier(architecture_snapshot):
    architecture_snapshot(build(width()))

@pytest.mark.parametrize("name", ["a/b", "a_b", "ünï [x]", "long" * 60])
def test_odd_ids(architecture_snapshot, name):
    architecture_snapshot(build(3))
"""


@pytest.fixture
def project(pytester):
    pytester.makepyfile(test_model=TEST_FILE)
    (pytester.path / "width.json").write_text("8")
    return pytester


def snapshot_path(pytester, name="test_classifier"):
    return pytester.path / "__snapshots__" / "test_model" / f"{name}.json"


def test_missing_snapshot_fails_with_how_to_create_it(project):
    """Without a snapshot the test fails, names the file, and gives the update command; nothing is written."""
    result = project.runpytest(*PLUGIN, "-k", "classifier")
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    assert "No architecture snapshot __snapshots__/test_model/test_classifier.json" in output
    assert "`pytest --architecture-snapshot-update test_model.py::test_classifier`" in output
    assert not (project.path / "__snapshots__").exists()


def test_create_pass_fail_on_change_and_update(project):
    """Update writes the snapshot; it then passes; a wider layer fails naming the layer and both counts; update accepts it."""
    project.runpytest(*PLUGIN, "--architecture-snapshot-update").assert_outcomes(passed=5)
    path = snapshot_path(project)
    stored = json.loads(path.read_text())
    assert (stored["format"], stored["version"]) == (_snapshot.FORMAT, _snapshot.VERSION)
    assert [row["path"] for row in stored["layers"]] == ["hidden", "logits"]
    assert stored["totals"]["total"] == 4 * 8 + 8 + 8 * 2 + 2
    assert list(stored["layers"][0]) == list(_snapshot.COLUMNS)
    project.runpytest(*PLUGIN).assert_outcomes(passed=5)

    (project.path / "width.json").write_text("16")
    result = project.runpytest(*PLUGIN, "-k", "classifier")
    result.assert_outcomes(failed=1)
    lines = result.stdout.lines
    start = lines.index(
        "The architecture differs from its snapshot __snapshots__/test_model/test_classifier.json:"
    )
    assert lines[start + 1:start + 4] == [
        "  changed  hidden (Dense): trainable: snapshot 40, now 80; macs: snapshot 32, now 64; "
        "output_bytes: snapshot 32, now 64",
        "  changed  logits (Dense): build_shape: snapshot [null, 8], now [null, 16]; "
        "trainable: snapshot 18, now 34; macs: snapshot 16, now 32",
        "  totals: trainable: snapshot 58, now 114; total: snapshot 58, now 114; "
        "macs: snapshot 48, now 96",
    ]
    project.runpytest(*PLUGIN, "--architecture-snapshot-update").assert_outcomes(passed=5)
    assert json.loads(path.read_text())["totals"]["total"] == 114
    project.runpytest(*PLUGIN).assert_outcomes(passed=5)


def test_parametrized_ids_get_distinct_safe_file_names(project):
    """Ids with slashes, brackets, spaces, non-ASCII letters or 240 characters each get their own safe file."""
    project.runpytest(*PLUGIN, "--architecture-snapshot-update").assert_outcomes(passed=5)
    names = sorted(path.name for path in (project.path / "__snapshots__" / "test_model").iterdir())
    assert len(names) == 5
    for name in names:
        assert len(name) <= _snapshot.MAX_NAME + len(".json")
        assert all(character.isascii() and (character.isalnum() or character in "_.=+-[]")
                   for character in name), name


@pytest.mark.parametrize(
    "content, message",
    [
        ("{ not json", "is not valid JSON"),
        ('{"format": "something else"}', "is not a keras_recipes architecture snapshot"),
        (json.dumps({"format": _snapshot.FORMAT, "version": 0, "layers": [], "totals": {}}),
         "has format version 0; this keras_recipes reads version 1"),
        (json.dumps({"format": _snapshot.FORMAT, "version": 1, "layers": [{"path": "x"}],
                     "totals": {}}), "has \"layers\" or \"totals\" of the wrong shape"),
    ],
    ids=["corrupt", "foreign", "older-format", "wrong-shape"],
)
def test_unreadable_snapshot_fails_naming_the_file(project, content, message):
    """A corrupt, foreign, older-format or misshapen file fails with its name and the fix; update replaces it."""
    path = snapshot_path(project)
    path.parent.mkdir(parents=True)
    path.write_text(content)
    result = project.runpytest(*PLUGIN, "-k", "classifier")
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    assert f"Architecture snapshot {path} {message}" in output
    assert "--architecture-snapshot-update" in output
    project.runpytest(*PLUGIN, "-k", "classifier", "--architecture-snapshot-update").assert_outcomes(
        passed=1
    )
    project.runpytest(*PLUGIN, "-k", "classifier").assert_outcomes(passed=1)


def test_works_under_xdist(pytester, tmp_path):
    """Under `-n 2` each worker writes its own tests' files atomically, and the snapshots then pass.

    The inner tests snapshot saved `.keras` files, which `count_config` reads
    without Keras, so that the two worker processes start in a second.
    """
    pytest.importorskip("xdist")
    import keras

    for width in (2, 3):
        keras.Sequential([keras.Input((3,)), keras.layers.Dense(width, name="d")]).save(
            tmp_path / f"w{width}.keras"
        )
    pytester.makepyfile(test_saved=f"""
        import pytest

        @pytest.mark.parametrize("case", range(8))
        def test_saved(architecture_snapshot, case):
            architecture_snapshot({str(tmp_path)!r} + f"/w{{2 + case % 2}}.keras")
    """)
    result = pytester.runpytest_subprocess(*PLUGIN, "-n", "2", "--architecture-snapshot-update")
    result.assert_outcomes(passed=8)
    folder = pytester.path / "__snapshots__" / "test_saved"
    files = sorted(folder.iterdir())
    assert len(files) == 8  # no temporary file left behind
    assert {json.loads(path.read_text())["totals"]["total"] for path in files} == {8, 12}
    pytester.runpytest(*PLUGIN).assert_outcomes(passed=8)


def test_second_call_uses_a_second_file_and_a_path_works(pytester):
    """A second call in one test compares with `<test>.2.json`; a `.keras` path snapshots as its live model does."""
    pytester.makepyfile(test_two="""
        import keras

        def test_two(architecture_snapshot, tmp_path):
            model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="d")], name="m")
            model.save(tmp_path / "m.keras")
            first = architecture_snapshot(model)
            second = architecture_snapshot(str(tmp_path / "m.keras"))
            assert first.name == "test_two.json" and second.name == "test_two.2.json"
            assert first.read_text() == second.read_text()
    """)
    pytester.runpytest(*PLUGIN, "--architecture-snapshot-update").assert_outcomes(passed=1)
    pytester.runpytest(*PLUGIN).assert_outcomes(passed=1)


def test_not_a_model_is_a_type_error():
    """`architecture_snapshot(3)` is refused with a TypeError naming the argument."""
    with pytest.raises(TypeError, match="`model`"):
        _snapshot.snapshot_of(3)


def test_loading_the_plugin_imports_no_keras():
    """Importing and registering the plugin, and its option, import neither Keras nor any backend."""
    code = (
        "import sys, pytest\n"
        "import keras_recipes.pytest_plugin\n"
        "assert pytest.main(['-p', 'keras_recipes.pytest_plugin', '--co', '-q', '-p', 'no:cacheprovider', "
        "'--rootdir', sys.argv[1], sys.argv[1]]) in (0, 5)\n"
        "heavy = sorted(name for name in ('keras', 'tensorflow', 'jax', 'torch') if name in sys.modules)\n"
        "print('imported:', heavy)\n"
    )
    import os
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        result = subprocess.run([sys.executable, "-c", code, folder], capture_output=True,
                                text=True, check=False, env=dict(os.environ))
    assert result.returncode == 0, result.stderr
    assert "imported: []" in result.stdout
