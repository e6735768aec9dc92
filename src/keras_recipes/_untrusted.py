"""Reading untrusted files: `shown` makes their text safe to print, `zip_errors` names
what their archives can raise.

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
    if len(value) <= limit and value.isascii() and value.isprintable():
        # Most names: nothing to escape or cut. Three calls per layer made
        # this loop a fifth of `count_config`'s time on a 2,000-layer file.
        return value
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


def zip_errors():
    """The exceptions `zipfile` and its decompressors raise for a broken or crafted archive.

    zipfile's own `BadZipFile` and `LargeZipFile`, `RuntimeError` for an
    encrypted entry, `NotImplementedError` for an unknown compression
    method, `EOFError` for a cut stream, `zlib.error`, `OSError` from bz2,
    `LZMAError`, and `ValueError`, `struct.error` or `OverflowError` for
    impossible offsets and sizes. A function, not a constant, so that
    importing this module imports no zipfile (a third of
    `import keras_recipes.param_count`'s time).

    Returns:
        A tuple of exception classes, for an `except` clause.

    Example:

    >>> import zipfile
    >>> zipfile.BadZipFile in zip_errors()
    True
    """
    import struct
    import zipfile
    import zlib

    errors = [zipfile.BadZipFile, zipfile.LargeZipFile, RuntimeError, NotImplementedError,
              EOFError, OSError, ValueError, OverflowError, struct.error, zlib.error]
    try:
        import lzma

        errors.append(lzma.LZMAError)
    except ImportError:  # Python built without lzma: zipfile cannot use it either.
        pass
    return tuple(errors)
