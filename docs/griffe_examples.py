"""A Griffe extension that reads the library's Keras-style examples as Examples sections.

The docstrings follow Keras: a line `Example:`, a blank line, then doctest
lines at the docstring's own indentation. Griffe's Google-style parser wants
a section's body indented under its title, so it would take those lines for
prose, and Markdown would render `>>>` as nested block quotes and a doctest
output such as `['mlp_input', 'mlp_dense_0']` as a link reference. This
extension indents the body before Griffe parses the docstring, so the example
renders as code, and the source docstrings keep the form that `pytest
--doctest-modules` and Keras readers expect.

`mkdocs.yml` loads it by path (`extensions: [docs/griffe_examples.py]`).
"""

import re

try:
    import griffe
except ImportError:  # tests/test_docs.py checks indent_examples without the docs extra.
    griffe = None

_TITLE = re.compile(r"^Examples?:\s*$")
# A Google-style section title at the left margin ends the example.
_NEXT_SECTION = re.compile(r"^[A-Z][A-Za-z ]*:\s*$")


def indent_examples(text):
    """`text` with each unindented `Example:` body indented under an `Examples:` title."""
    lines = text.split("\n")
    out = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if not _TITLE.match(line):
            out.append(line)
            index += 1
            continue
        body_start = index + 1
        while body_start < len(lines) and not lines[body_start].strip():
            body_start += 1
        if body_start == len(lines) or lines[body_start].startswith((" ", "\t")):
            # Already indented (or empty): Griffe reads it as it is.
            out.append(line)
            index += 1
            continue
        out.append("Examples:")
        index = body_start
        while index < len(lines) and not _NEXT_SECTION.match(lines[index]):
            out.append(f"    {lines[index]}" if lines[index].strip() else "")
            index += 1
    return "\n".join(out)


if griffe is not None:

    class KerasExamples(griffe.Extension):
        """Indents the bodies of Keras-style `Example:` sections before parsing."""

        def on_instance(self, *, obj, **kwargs):
            if obj.docstring is not None:
                obj.docstring.value = indent_examples(obj.docstring.value)
