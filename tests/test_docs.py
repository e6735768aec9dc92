"""The Python examples in the README and under docs/ run as written."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_python_examples_run(document, tmp_path, monkeypatch):
    """Every ```python block of the document runs, in order, in one namespace."""
    blocks = _PYTHON_BLOCK.findall(document.read_text(encoding="utf-8"))
    # Examples that save files write them to a temporary directory.
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": f"example_{document.stem}"}
    for block in blocks:
        exec(compile(block, str(document), "exec"), namespace)  # noqa: S102


def test_readme_opens_with_the_two_set_up_commands():
    """The README's first code block holds the main-job and the test commands."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = re.search(r"```\w*\n(.*?)```", text, re.DOTALL).group(1).splitlines()
    assert first_block == [
        "pip install -e . && python examples/param_counts.py",
        'pip install -e ".[test]" && pytest',
    ]
    assert (ROOT / "examples" / "param_counts.py").is_file()
