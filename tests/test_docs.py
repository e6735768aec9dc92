"""README.md and docs/**/*.md: their Python examples run as written, their links resolve."""

import importlib.util
import re
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))
DOCUMENTS = [ROOT / "README.md", *PAGES]
_PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)
_FENCED_BLOCK = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
# An mkdocstrings directive: `::: keras_recipes.layers` renders that object's
# reference, with anchors named after its dotted path and its members' paths.
_DIRECTIVE = re.compile(r"^:::\s+(\S+)", re.MULTILINE)


def _document_id(path):
    return str(path.relative_to(ROOT))


def _load_docs_module(name):
    """docs/<name>.py as a module (docs/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"docs_{name}", DOCS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# docs/diagrams.py imports Keras only when it draws.
DIAGRAMS = _load_docs_module("diagrams").DIAGRAMS


@pytest.mark.parametrize("document", DOCUMENTS, ids=_document_id)
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
        'pip install -e ".[examples]" && keras-recipes train vae',
        'pip install -e ".[test]" && pytest -n 2',
    ]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["scripts"]["keras-recipes"] == "keras_recipes.cli:console_main"
    assert {"examples", "test"} <= set(project["optional-dependencies"])


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


def _is_reference_anchor(anchor, document):
    """Whether `anchor` is the dotted path of an object an mkdocstrings directive of `document` renders."""
    return any(
        anchor == target or anchor.startswith(f"{target}.")
        for target in _DIRECTIVE.findall(_prose(document))
    )


def _link_problem(document, target):
    """Why the relative link `target` of `document` is broken, or None.

    Diagrams are drawn at build time and never committed: a link to
    `docs/diagrams/<name>.png` is good iff docs/diagrams.py draws `<name>`.
    """
    path, _, anchor = target.partition("#")
    linked = (document.parent / path).resolve() if path else document
    if linked.parent == (DOCS / "diagrams").resolve():
        if linked.suffix != ".png" or linked.stem not in DIAGRAMS:
            return f"{target}: docs/diagrams.py draws no {linked.name} (it draws {sorted(DIAGRAMS)})"
        return None
    if not linked.exists():
        return f"{target}: no file {linked}"
    if (
        anchor
        and linked.suffix == ".md"
        and anchor not in _anchors(linked)
        and not _is_reference_anchor(anchor, linked)
    ):
        return f"{target}: no heading with anchor #{anchor} in {linked.name}"
    return None


def test_links_to_diagrams_resolve_iff_drawn():
    """A link to docs/diagrams/<name>.png resolves iff DIAGRAMS has <name>, whether or not it was drawn."""
    page = DOCS / "page.md"
    assert _link_problem(page, "diagrams/mlp.png") is None
    assert _link_problem(DOCS / "recipes" / "mlp.md", "../diagrams/mlp.png") is None
    assert "draws no" in _link_problem(page, "diagrams/no_such_recipe.png")
    assert "draws no" in _link_problem(page, "diagrams/mlp.svg")
    assert "no file" in _link_problem(page, "no_such_page.md")


@pytest.mark.parametrize("document", DOCUMENTS, ids=_document_id)
def test_relative_links_resolve(document):
    """Every relative link names an existing file or a drawn diagram, and every anchor a heading of its page."""
    broken = [
        problem
        for problem in (_link_problem(document, target) for target in _relative_links(document))
        if problem is not None
    ]
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
        for page in PAGES
        if page.parent in (DOCS, DOCS / "recipes") and page != index
    }
    assert sorted(page.name for page in pages - linked) == []
    readme = ROOT / "README.md"
    assert index.resolve() in {
        (ROOT / target.partition("#")[0]).resolve() for target in _relative_links(readme)
    }


class _IgnoreTags(yaml.SafeLoader):
    """A safe loader that reads MkDocs's `!!python/name:...` and `!ENV` tags as None."""


_IgnoreTags.add_multi_constructor("", lambda loader, suffix, node: None)


def _nav_pages(entries):
    """The page paths of an mkdocs.yml nav, in order, from any nesting of lists and titles."""
    if isinstance(entries, str):
        return [] if re.match(r"[a-z][a-z0-9+.-]*:", entries) else [entries]
    if isinstance(entries, dict):
        return [page for value in entries.values() for page in _nav_pages(value)]
    return [page for entry in entries or [] for page in _nav_pages(entry)]


def _mkdocs_config():
    return yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_IgnoreTags)


def test_nav_reader_handles_titles_nesting_urls_and_tags():
    """The nav reader finds every page in titled, untitled and nested entries, skips URLs, survives tags."""
    config = yaml.load(
        "hook: !!python/name:os.path.join\nenv: !ENV HOME\nnav:\n  - index.md\n"
        "  - Guide:\n      - guide/index.md\n      - Part: guide/part.md\n"
        "  - Source: https://example.org/repo\n",
        Loader=_IgnoreTags,
    )
    assert config["hook"] is None
    assert _nav_pages(config["nav"]) == ["index.md", "guide/index.md", "guide/part.md"]


def test_every_page_is_in_the_site_nav_once():
    """mkdocs.yml's nav lists every page under docs/ exactly once, and nothing else."""
    config = _mkdocs_config()
    assert config["docs_dir"] == "docs"
    listed = _nav_pages(config["nav"])
    assert len(listed) == len(set(listed)), f"pages listed twice: {listed}"
    pages = {page.relative_to(DOCS).as_posix() for page in PAGES}
    assert sorted(set(listed) - pages) == [], "nav entries with no page"
    assert sorted(pages - set(listed)) == [], "pages missing from the nav"


def test_the_diagram_hook_is_configured():
    """mkdocs.yml runs docs/diagrams.py as a hook, so every build draws the diagrams it links."""
    assert "docs/diagrams.py" in _mkdocs_config()["hooks"]


def test_every_recipe_has_a_diagram():
    """docs/diagrams.py draws exactly the recipes the command line lists."""
    from keras_recipes.cli._inspect import RECIPES

    assert sorted(DIAGRAMS) == sorted(RECIPES)


@pytest.mark.parametrize("name", sorted(DIAGRAMS))
def test_diagram_arguments_are_valid_builder_arguments(name):
    """Each diagram's arguments are accepted by the recipe's analytic count, which checks them as the builder does."""
    from keras_recipes import param_count

    assert isinstance(getattr(param_count, name)(**DIAGRAMS[name]), param_count.ParamCount)


def test_api_reference_covers_every_public_name():
    """docs/api/ renders every builder from the module that defines it, and every public submodule."""
    import keras_recipes

    fill = _load_docs_module("builders_page").fill
    directives = {
        target
        for page in (DOCS / "api").glob("*.md")
        for target in _DIRECTIVE.findall(fill(_prose(page)))
    }
    builders = {f"{module}.{name}" for name, module in keras_recipes._BUILDERS.items()}
    modules = {f"keras_recipes.{name}" for name in ("param_count", *keras_recipes._SUBMODULES)}
    assert sorted((builders | modules) - directives) == []


def test_builders_page_lists_exactly_the_registry_by_public_name():
    """docs/api/builders.md names no private module; built, it renders every registry row once, headed keras_recipes.<name>."""
    import keras_recipes
    from keras_recipes._recipes import registry

    builders_page = _load_docs_module("builders_page")
    source = (DOCS / "api" / "builders.md").read_text(encoding="utf-8")
    assert "keras_recipes._" not in source
    assert builders_page.RECIPES_MARKER in source and builders_page.HELPERS_MARKER in source
    filled = builders_page.fill(source)
    names = [*(recipe.name for recipe in registry.RECIPES), *(helper.name for helper in registry.HELPERS)]
    assert re.findall(r'^      heading: "keras_recipes\.(\w+)"$', filled, re.MULTILINE) == names
    assert sorted(_DIRECTIVE.findall(filled)) == sorted(
        f"{module}.{name}" for name, module in keras_recipes._BUILDERS.items()
    )
    assert "docs/builders_page.py" in _mkdocs_config()["hooks"]


def test_keras_style_examples_become_indented_examples_sections():
    """An unindented `Example:` body is indented under `Examples:` up to the next section; indented ones are kept."""
    indent_examples = _load_docs_module("griffe_examples").indent_examples
    keras_style = "Sums.\n\nExample:\n\n>>> 1 + 1\n2\n\n>>> [1]\n[1]"
    assert indent_examples(keras_style) == (
        "Sums.\n\nExamples:\n    >>> 1 + 1\n    2\n\n    >>> [1]\n    [1]"
    )
    followed = "Example:\n\n>>> f()\nRaises:\n    ValueError: never."
    assert indent_examples(followed) == "Examples:\n    >>> f()\nRaises:\n    ValueError: never."
    google_style = "Examples:\n    >>> 1 + 1\n    2"
    assert indent_examples(google_style) == google_style
    assert indent_examples("Returns:\n    Example: a value.") == "Returns:\n    Example: a value."


def _first_builder_call(name):
    """The arguments of the first call of builder `name` in docs/recipes/<name>.md's code, by keyword.

    The call is found in the ```python blocks' syntax trees (`name(...)` or
    `keras_recipes.name(...)`), its arguments read as literals and bound to
    the builder's signature with the defaults filled in.
    """
    import ast

    import keras_recipes

    page = DOCS / "recipes" / f"{name}.md"
    for block in _PYTHON_BLOCK.findall(page.read_text(encoding="utf-8")):
        for node in ast.walk(ast.parse(block)):
            if not isinstance(node, ast.Call):
                continue
            called = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
            if called == name:
                args = [ast.literal_eval(arg) for arg in node.args]
                kwargs = {keyword.arg: ast.literal_eval(keyword.value) for keyword in node.keywords}
                return _bound_arguments(getattr(keras_recipes, name), args, kwargs)
    raise AssertionError(f"{page.name} has no call of {name}() in its python blocks")


def _as_lists(value):
    """`value` with every tuple turned into a list, at any depth: `(32,)` and `[32]` build the same model."""
    if isinstance(value, (list, tuple)):
        return [_as_lists(item) for item in value]
    return value


def _bound_arguments(builder, args, kwargs):
    """The builder's arguments for the call `builder(*args, **kwargs)`, by name, defaults included."""
    import inspect

    bound = inspect.signature(builder).bind(*args, **kwargs)
    bound.apply_defaults()
    return {argument: _as_lists(value) for argument, value in bound.arguments.items()}


@pytest.mark.parametrize("name", sorted(DIAGRAMS))
def test_diagram_is_the_model_of_the_pages_first_example(name):
    """docs/diagrams.py draws recipe `name` with exactly the arguments of the first builder call on its page."""
    import keras_recipes

    drawn = _bound_arguments(getattr(keras_recipes, name), [], DIAGRAMS[name])
    assert drawn == _first_builder_call(name)


def test_recipes_overview_counts_are_the_first_examples_counts():
    """docs/recipes.md's parameter column gives, for every recipe, the count of its page's first example."""
    from keras_recipes import param_count

    rows = re.findall(
        r"^\| \[(\w+)\]\(recipes/\1\.md\) \|.*\| ([\d,]+) \|$",
        (DOCS / "recipes.md").read_text(encoding="utf-8"),
        re.MULTILINE,
    )
    published = {name: int(count.replace(",", "")) for name, count in rows}
    assert sorted(published) == sorted(DIAGRAMS)
    for name, count in published.items():
        assert count == getattr(param_count, name)(**DIAGRAMS[name]).total, name


@pytest.mark.parametrize("name", sorted(DIAGRAMS))
def test_recipe_page_has_the_issues_parts_in_order(name):
    """docs/recipes/<name>.md: the notation beside the builder call, its own diagram, the worked count, an example, in order."""
    page = DOCS / "recipes" / f"{name}.md"
    headings = _HEADING.findall(_prose(page))
    parts = ["The model in the lecture's notation", "Architecture", "Parameters"]
    assert [heading for heading in headings if heading in parts] == parts
    examples = [index for index, heading in enumerate(headings) if heading.startswith("Example")]
    assert examples and examples[0] > headings.index("Parameters")
    sections = {
        section.split("\n", 1)[0]: section
        for section in re.split(r"^## ", page.read_text(encoding="utf-8"), flags=re.MULTILINE)
    }
    # The notation: maps written `R^2 -f-> R^3`, then the builder call that makes the model.
    notation = sections[parts[0]]
    assert re.search(r"^```text\n[^`]*R\^?\S* -\w+-> ", notation, re.MULTILINE), notation
    assert re.search(rf"^```python\n[^`]*\b{name}\(", notation, re.MULTILINE)
    assert f"](../diagrams/{name}.png)" in sections[parts[1]]
    assert "```text" in sections[parts[2]] and "```python" in sections[parts[2]]


def _documented_objects(obj):
    """`obj` and, recursively, its public members defined in keras_recipes (griffe objects, aliases skipped)."""
    yield obj
    for name, member in obj.members.items():
        if name.startswith("_") and not obj.is_module:
            continue
        if member.is_alias:
            continue
        if member.is_module or member.is_class or member.is_function:
            yield from _documented_objects(member)


def test_api_returns_paragraphs_are_not_split_into_a_type():
    """Parsed with mkdocs.yml's options, no Returns paragraph of the package loses its words before a colon to a name or type."""
    import griffe
    handler = next(
        plugin["mkdocstrings"] for plugin in _mkdocs_config()["plugins"] if isinstance(plugin, dict)
    )["handlers"]["python"]
    options = handler["options"]["docstring_options"]
    package = griffe.load("keras_recipes", search_paths=[str(ROOT / "src")])
    split = []
    checked = 0
    for obj in _documented_objects(package):
        if obj.docstring is None or "Returns:" not in obj.docstring.value:
            continue
        for section in griffe.parse_google(obj.docstring, warnings=False, **options):
            if section.kind.value == "returns":
                checked += 1
                split += [
                    f"{obj.path}: {item.name or item.annotation}"
                    for item in section.value
                    if item.name or item.annotation
                ]
    assert checked > 30
    assert split == []
