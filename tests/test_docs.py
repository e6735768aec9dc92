"""README.md and docs/*.md: their Python examples run as written, their links resolve."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
    *sorted((ROOT / "docs" / "recipes").glob("*.md")),
]
_PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)
_FENCED_BLOCK = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


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


def _prose(document):
    """The document's text without its fenced code blocks (whose `#` lines are comments)."""
    return _FENCED_BLOCK.sub("", document.read_text(encoding="utf-8"))


def _anchors(document):
    """The anchors GitHub gives the document's headings.

    GitHub lower-cases the heading's text, drops every character that is not
    a letter, digit, underscore, hyphen or space, turns spaces into hyphens,
    and numbers repeats: `## The plain autoencoder: `autoencoder()`` becomes
    `#the-plain-autoencoder-autoencoder`.
    """
    anchors = set()
    for heading in _HEADING.findall(_prose(document)):
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text only
        slug = re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")
        repeat, unique = 0, slug
        while unique in anchors:
            repeat += 1
            unique = f"{slug}-{repeat}"
        anchors.add(unique)
    return anchors


def _relative_links(document):
    """Targets of the document's Markdown links that are not URLs, outside code."""
    targets = _LINK.findall(_INLINE_CODE.sub("", _prose(document)))
    return [target for target in targets if not re.match(r"[a-z][a-z0-9+.-]*:", target)]


def test_anchor_rule_matches_github(tmp_path):
    """The anchor rule gives GitHub's anchors for headings with code, punctuation and repeats."""
    page = tmp_path / "page.md"
    page.write_text(
        "# Sub-models\n\n## The plain autoencoder: `autoencoder()`\n\n"
        "## Faithfulness and speed against keras.io\n\n### Notes\n\n### Notes\n\n"
        "```python\n# a comment, not a heading\n```\n",
        encoding="utf-8",
    )
    assert _anchors(page) == {
        "sub-models",
        "the-plain-autoencoder-autoencoder",
        "faithfulness-and-speed-against-kerasio",
        "notes",
        "notes-1",
    }


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_relative_links_resolve(document):
    """Every relative link names an existing file, and every anchor a heading of its page."""
    broken = []
    for target in _relative_links(document):
        path, _, anchor = target.partition("#")
        linked = (document.parent / path).resolve() if path else document
        if not linked.exists():
            broken.append(f"{target}: no file {linked}")
        elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
            broken.append(f"{target}: no heading with anchor #{anchor} in {linked.name}")
    assert not broken, f"broken links in {document.name}: {broken}"


def test_every_page_is_in_the_index():
    """docs/index.md links every other page and recipe page in rows that do not repeat; the README links it."""
    index = ROOT / "docs" / "index.md"
    rows = [line for line in _prose(index).splitlines() if line.startswith("|")]
    assert len(rows) > 2
    assert len(rows) == len(set(rows))
    linked = {
        (index.parent / target.partition("#")[0]).resolve() for target in _relative_links(index)
    }
    pages = {
        page.resolve()
        for page in DOCUMENTS
        if page.parent.name in ("docs", "recipes") and page != index
    }
    assert sorted(page.name for page in pages - linked) == []
    readme = ROOT / "README.md"
    assert index.resolve() in {
        (ROOT / target.partition("#")[0]).resolve() for target in _relative_links(readme)
    }
