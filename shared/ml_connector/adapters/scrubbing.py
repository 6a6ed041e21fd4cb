"""Removes secrets (agent key, AvidXchange tokens) from any text before it is raised, logged or stored."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote

REDACTED = "***"
# Secrets shorter than this are not scrubbed by value: replacing "a" everywhere would shred every message.
MIN_SECRET_LENGTH = 4


class Scrubber:
    """Replaces every known secret value, and the value of every known secret header, with ``***``.

    Values are matched as given and URL-encoded; headers are matched by name in the shapes servers echo them
    (``Name: value``, ``"Name": "value"``, ``'name': 'value'``), so a token rotated since this process started
    is still hidden.
    """

    def __init__(self, secrets: Iterable[str], header_names: Iterable[str] = ()) -> None:
        values = {s for secret in secrets if len(secret) >= MIN_SECRET_LENGTH for s in (secret, quote(secret, ""))}
        # Longest first, so a secret containing another is replaced whole.
        self._values = sorted(values, key=len, reverse=True)
        names = "|".join(re.escape(name) for name in header_names)
        self._headers = (
            re.compile(rf"""(?i)(["']?(?:{names})["']?\s*[:=]\s*["']?)([^"'\s,;}}\]]+)""") if names else None
        )

    def scrub(self, text: str) -> str:
        for value in self._values:
            text = text.replace(value, REDACTED)
        if self._headers is not None:
            text = self._headers.sub(rf"\g<1>{REDACTED}", text)
        return text
