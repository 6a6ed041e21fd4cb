"""What Sage 100 can store: ASCII digits in numbers and dates, Windows-1252 printable text in string columns.

ProvideX string columns hold single-byte Windows-1252 text; a character outside it (an emoji, most of Unicode)
or a control character (NUL, tab, line breaks) would be mangled or cut, so the agent refuses it instead.
Python's ``\\d`` and ``str.isdigit`` accept every script's digits (Arabic-Indic, fullwidth...); Sage takes 0-9.
"""

from __future__ import annotations

ASCII_DIGITS = "0123456789"
SAGE_TEXT_ENCODING = "cp1252"


def is_ascii_digits(text: str) -> bool:
    return bool(text) and all(char in ASCII_DIGITS for char in text)


def unstorable_reason(text: str) -> str | None:
    """Why Sage 100 cannot store ``text`` in a string column, or ``None`` when it can."""
    for position, char in enumerate(text, start=1):
        code = ord(char)
        if code < 0x20 or code == 0x7F:
            return f"control character U+{code:04X} at position {position} cannot be stored in Sage 100"
        try:
            char.encode(SAGE_TEXT_ENCODING)
        except UnicodeEncodeError:
            return (
                f"character U+{code:04X} at position {position} cannot be stored in Sage 100 (Windows-1252 text only)"
            )
    return None


def require_storable(text: str) -> str:
    """A pydantic validator body: ``text`` unchanged, or ValueError naming the first character Sage refuses."""
    reason = unstorable_reason(text)
    if reason is not None:
        raise ValueError(reason)
    return text
