"""The builders' API page, written from the recipes' registry.

`docs/api/builders.md` names no module: its two markers,
`<!-- registry: recipes -->` and `<!-- registry: helpers -->`, are replaced
at build time (MkDocs runs this file as a hook, `hooks:` in `mkdocs.yml`)
by one mkdocstrings directive per row of `keras_recipes._recipes.registry`,
headed with the public name `keras_recipes.<name>`. A new recipe's row in
the registry is all the page needs.

Importing this file imports nothing of the package: `tests/test_docs.py`
calls `fill` to check the page.
"""

RECIPES_MARKER = "<!-- registry: recipes -->"
HELPERS_MARKER = "<!-- registry: helpers -->"
PAGE = "api/builders.md"


def directive(name, module):
    """The mkdocstrings directive that renders `module.name` under the heading `keras_recipes.name`."""
    return (
        f"::: {module}.{name}\n"
        "    options:\n"
        f'      heading: "keras_recipes.{name}"\n'
        f'      toc_label: "{name}"\n'
    )


def fill(markdown):
    """`markdown` with both markers replaced by the registry's directives."""
    from keras_recipes._recipes import registry

    recipes = "\n".join(directive(recipe.name, recipe.module) for recipe in registry.RECIPES)
    helpers = "\n".join(directive(helper.name, helper.module) for helper in registry.HELPERS)
    return markdown.replace(RECIPES_MARKER, recipes).replace(HELPERS_MARKER, helpers)


def on_page_markdown(markdown, page, **kwargs):
    """MkDocs hook: fill the builders' page; leave every other page as it is."""
    if page.file.src_uri == PAGE:
        return fill(markdown)
    return markdown
