"""`shown`: text from an untrusted file, made safe to print.

A `.keras` file is anyone's JSON: its layer names, class names and shapes
can hold terminal escape sequences (ESC, OSC), carriage returns and
newlines that rewrite a table, bidirectional overrides and zero-width
characters that hide text, lone surrogates that cannot be encoded, or a
megabyte in one name. Every string taken from a file passes through `shown`
before it reaches a table, a JSON document or an error message.
"""

import unicodedata

MAX_SHOWN = 80
"""Default most characters of one shown value, the `...` included."""

_CUT = "..."


def _escape(character):
    """`character` itself if it prints in exactly one terminal column, else a Python escape.

    Kept: what `str.isprintable()` accepts (no control, format, surrogate,
    private-use, unassigned or separator character but the ASCII space),
    less the combining marks (zero columns) and the East Asian wide and
    full-width characters (two columns), so that a shown string is as many
    columns wide as it has characters and a table of them stays aligned.
    """
    if character.isprintable() and (
        character.isascii()
        or (
            not unicodedata.category(character).startswith("M")
            and unicodedata.east_asian_width(character) not in ("W", "F")
        )
    ):
        return character
    code = ord(character)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def shown(value, limit=MAX_SHOWN):
    """`value` as one line of printable text, at most `limit` characters.

    Characters that are not printable, or not one column wide, are written
    as Python escapes (`\\x1b`, `\\u202e`); text longer than `limit` is cut
    and ends in `...`. Only the first `limit` characters of `value` are
    read, so a megabyte-long name costs no more than a short one. The
    result is ASCII-printable or narrow Unicode, and `shown(shown(x)) ==
    shown(x)`.

    Args:
        value: a string; anything else is shown by its `repr()`.
        limit: the most characters returned, at least 4. Defaults to
            `MAX_SHOWN`.

    Returns:
        The safe text.

    Example:

    >>> shown("dense\\x1b[2J")
    'dense\\\\x1b[2J'
    >>> shown("x" * 1000, limit=10)
    'xxxxxxx...'
    """
    if not isinstance(value, str):
        try:
            value = repr(value)
        except ValueError:  # an int of more digits than Python prints
            value = f"<{type(value).__name__}>"
    pieces = []
    length = 0
    for character in value[:limit + 1]:
        piece = _escape(character)
        pieces.append(piece)
        length += len(piece)
        if length > limit:
            break
    else:
        if len(value) <= limit:
            return "".join(pieces)
    # Cut between whole escapes, never inside one.
    while pieces and length > limit - len(_CUT):
        length -= len(pieces.pop())
    return "".join(pieces) + _CUT
