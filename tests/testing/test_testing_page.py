"""docs/testing.md: its worked example runs with pytest's `pytester` and fails as the page shows."""

import re
from importlib.util import find_spec
from pathlib import Path

import keras

PAGE = Path(__file__).resolve().parents[2] / "docs" / "testing.md"
_TITLED_BLOCK = re.compile(r'^```python title="([\w.]+)"\n(.*?)^```', re.DOTALL | re.MULTILINE)
_OUTPUT_BLOCK = re.compile(r"^```text\n(.*?)^```", re.DOTALL | re.MULTILINE)


def test_the_worked_example_runs_as_the_page_says(pytester):
    """The page's two files: the snapshot is missing, then written, then passes, then a wider layer fails with the page's diff."""
    text = PAGE.read_text(encoding="utf-8")
    files = dict(_TITLED_BLOCK.findall(text))
    assert sorted(files) == ["my_model.py", "test_my_model.py"]
    missing, changed = (block.strip() for block in _OUTPUT_BLOCK.findall(text)[:2])
    for name, source in files.items():
        (pytester.path / name).write_text(source, encoding="utf-8")
    plugin = ("-p", "keras_recipes.pytest_plugin", "-s")
    # The backend-parity test starts its own process per backend, whatever
    # backend this suite runs on: CI runs it once, on the TensorFlow leg.
    parity = keras.backend.backend() == "tensorflow"
    deselect = () if parity else ("--deselect", "test_my_model.py::test_same_on_every_backend")

    result = pytester.runpytest(*plugin, *deselect)
    result.assert_outcomes(passed=3 if parity else 2, failed=1, deselected=0 if parity else 1)
    assert missing in result.stdout.str()
    if parity:
        installed = tuple(name for name in ("tensorflow", "jax", "torch") if find_spec(name))
        assert f"compared {installed!r} skipped" in result.stdout.str()

    pytester.runpytest(*plugin, "-k", "architecture", "--architecture-snapshot-update").assert_outcomes(
        passed=1
    )
    pytester.runpytest(*plugin, "-k", "architecture").assert_outcomes(passed=1)

    model = pytester.path / "my_model.py"
    model.write_text(model.read_text().replace("width=16", "width=32"), encoding="utf-8")
    result = pytester.runpytest(*plugin, "-k", "architecture")
    result.assert_outcomes(failed=1)
    lines = result.stdout.lines
    assert all(line in lines for line in changed.splitlines()), result.stdout.str()
