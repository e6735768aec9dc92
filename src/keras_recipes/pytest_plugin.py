"""The pytest plugin of keras_recipes: the `architecture_snapshot` fixture.

Installed with the library as a `pytest11` entry point, so every pytest run
in an environment that has keras_recipes loads it. Loading it costs one
command-line option and one fixture: it imports neither Keras nor any
backend, and the snapshot code only when a test asks for the fixture.

`pytest --architecture-snapshot-update` writes the snapshots that are
missing or differ instead of failing. The "Testing your architectures" page
of the docs shows a whole test file.
"""

from pathlib import Path

import pytest

UPDATE_OPTION = "--architecture-snapshot-update"


def pytest_addoption(parser):
    group = parser.getgroup("keras_recipes", "keras_recipes architecture snapshots")
    group.addoption(
        UPDATE_OPTION,
        action="store_true",
        default=False,
        help="write the architecture snapshots that are missing or differ, instead of failing",
    )


def _test_name(item):
    """The test's name below its file, class included: `TestModel::test_width[8]` -> `TestModel.test_width[8]`."""
    return ".".join(item.nodeid.split("::")[1:]) or item.name


class ArchitectureSnapshot:
    """What the `architecture_snapshot` fixture gives a test: call it with a model.

    `architecture_snapshot(model)` compares the per-layer table of `model`
    (a built `keras.Model`, or the path of a `.keras` file) with the file
    `__snapshots__/<test file stem>/<test name>.json` beside the test file.
    A second call in the same test compares with `<test name>.2.json`, and
    so on. Returns the path of the snapshot file.
    """

    def __init__(self, item, update):
        self._item = item
        self._update = update
        self._calls = 0

    def path_for(self, call):
        from keras_recipes.testing import _snapshot

        test_file = Path(str(self._item.path))
        suffix = "" if call == 1 else f".{call}"
        name = _snapshot.file_name(_test_name(self._item))
        return test_file.parent / "__snapshots__" / test_file.stem / f"{name}{suffix}.json"

    def __call__(self, model):
        from keras_recipes.testing import _snapshot

        current = _snapshot.snapshot_of(model)
        self._calls += 1
        path = self.path_for(self._calls)
        shown = _shown_path(path, self._item)
        how = f"pytest {UPDATE_OPTION} {self._item.nodeid}"
        if not path.exists():
            if self._update:
                _snapshot.write(path, current)
                return path
            pytest.fail(
                f"No architecture snapshot {shown} for this model "
                f"({len(current.rows)} layers, {current.totals['total']:,} parameters). "
                f"Create it with `{how}`, review it, and commit it.",
                pytrace=False,
            )
        try:
            stored = _snapshot.read(path)
        except _snapshot.SnapshotError as error:
            if self._update:
                _snapshot.write(path, current)
                return path
            pytest.fail(str(error), pytrace=False)
        lines = _snapshot.diff(stored, current)
        if lines:
            if self._update:
                _snapshot.write(path, current)
                return path
            body = "\n".join(f"  {line}" for line in lines)
            pytest.fail(
                f"The architecture differs from its snapshot {shown}:\n{body}\n"
                f"If the change is intended, rewrite the snapshot with `{how}` and commit it.",
                pytrace=False,
            )
        return path


def _shown_path(path, item):
    try:
        return path.relative_to(Path(str(item.config.rootpath)))
    except ValueError:
        return path


@pytest.fixture
def architecture_snapshot(request):
    """Compare a model's per-layer table with its snapshot file: `architecture_snapshot(model)`.

    See `ArchitectureSnapshot`. A missing snapshot fails with the command
    that creates it, a different one with a per-layer diff; with
    `--architecture-snapshot-update` both are written instead.
    """
    return ArchitectureSnapshot(request.node, request.config.getoption(UPDATE_OPTION))
