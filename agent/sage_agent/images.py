"""Scanned invoices kept as files: configurable path patterns per company, shared by every backend.

Sage 100 keeps no invoice images of its own; customers keep scans in a folder (often one per vendor) or in
Paperless Office archives. A pattern such as ``D:/Scans/{VendorNo}/{InvoiceNo}.*`` is filled with the
invoice's ``{APDivisionNo}``, ``{VendorNo}``, ``{InvoiceNo}`` and ``{InvoiceDate}`` (YYYYMMDD) and matched
against the folder tree case-insensitively, one path component at a time (``*`` and ``?`` as in glob).
The first pattern with a matching file wins; among several matching files, the first in name order.
The type is taken from the bytes (PDF, TIFF, PNG, JPEG), never from the extension; a file of another kind
is not an image. The ETag is the SHA-256 of the bytes, computed while streaming and cached by
(path, size, mtime). Files are streamed in chunks, never read whole.

File-name rule: a value put into a pattern has each character a file name cannot hold (``\\ / : * ? " < > |``
and control characters) replaced by ``_``, and trailing dots and spaces replaced by ``_`` (Windows drops
them), so ``4471/B`` is looked up as ``4471_B`` and ``..`` as ``__``. Two invoice numbers that differ only
in such characters map to the same file name.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import os
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Protocol

from sage_agent.backend import InvoiceImage
from sage_agent.records import OpenInvoice
from sage_agent.sage_time import parse_sage_date

CHUNK_BYTES = 64 * 1024
PLACEHOLDERS = ("APDivisionNo", "VendorNo", "InvoiceNo", "InvoiceDate")
_FORBIDDEN = re.compile(r'[\\/:*?"<>|\x00-\x1f]')
_TRAILING = re.compile(r"[. ]+$")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class InvoiceRef:
    """What an image pattern can be filled with."""

    APDivisionNo: str
    VendorNo: str
    InvoiceNo: str
    InvoiceDate: dt.date


class ImageSource(Protocol):
    def image(self, invoice: InvoiceRef) -> InvoiceImage | None: ...

    def has_image(self, invoice: InvoiceRef) -> bool: ...


def file_name_safe(value: str) -> str:
    """``value`` as it appears in a file name (the documented file-name rule)."""
    safe = _FORBIDDEN.sub("_", value)
    return _TRAILING.sub(lambda found: "_" * len(found.group()), safe)


def content_type_of(head: bytes) -> str | None:
    """The image type from the first bytes of a file, or ``None`` when it is none of the contract's types."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "image/tiff"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    return None


def check_pattern(pattern: str) -> str:
    """``pattern`` unchanged, or ValueError naming an unknown placeholder."""
    for name in _PLACEHOLDER.findall(pattern):
        if name not in PLACEHOLDERS:
            raise ValueError(f"unknown placeholder {{{name}}} in {pattern!r}; use {', '.join(PLACEHOLDERS)}")
    return pattern


class FolderImageSource:
    """Image files found by path patterns (see the module documentation)."""

    def __init__(self, patterns: Sequence[str]) -> None:
        self._patterns = [check_pattern(p) for p in patterns]
        self._digests: dict[tuple[str, int, int], str] = {}
        self._guard = threading.Lock()

    def has_image(self, invoice: InvoiceRef) -> bool:
        return self._find(invoice) is not None

    def image(self, invoice: InvoiceRef) -> InvoiceImage | None:
        found = self._find(invoice)
        if found is None:
            return None
        path, content_type = found
        stat = path.stat()
        return InvoiceImage(content_type, stat.st_size, self._sha256(path, stat), lambda: _chunks(path))

    def _find(self, invoice: InvoiceRef) -> tuple[Path, str] | None:
        values = {
            "APDivisionNo": invoice.APDivisionNo,
            "VendorNo": invoice.VendorNo,
            "InvoiceNo": invoice.InvoiceNo,
            "InvoiceDate": invoice.InvoiceDate.strftime("%Y%m%d"),
        }
        for pattern in self._patterns:
            filled = _PLACEHOLDER.sub(lambda m: file_name_safe(values[m.group(1)]).replace("[", "[[]"), pattern)
            for candidate in _matches(PurePath(filled)):
                content_type = _sniff(candidate)
                if content_type is not None:
                    return candidate, content_type
        return None

    def _sha256(self, path: Path, stat: os.stat_result) -> str:
        cache_key = (str(path), stat.st_size, stat.st_mtime_ns)
        with self._guard:
            cached = self._digests.get(cache_key)
        if cached is not None:
            return cached
        digest = hashlib.sha256()
        for chunk in _chunks(path):
            digest.update(chunk)
        with self._guard:
            self._digests[cache_key] = digest.hexdigest()
        return digest.hexdigest()


def invoice_ref(invoice: OpenInvoice) -> InvoiceRef:
    return InvoiceRef(invoice.APDivisionNo, invoice.VendorNo, invoice.InvoiceNo, parse_sage_date(invoice.InvoiceDate))


def _matches(pattern: PurePath) -> Iterator[Path]:
    """Files matching ``pattern`` component by component, case-insensitively, in name order."""
    anchor, parts = pattern.anchor, pattern.parts[1:] if pattern.anchor else pattern.parts
    folders = [Path(anchor or ".")]
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        wanted = part.casefold()
        next_level: list[Path] = []
        for folder in folders:
            try:
                entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
            except OSError:
                continue
            for entry in entries:
                if fnmatch.fnmatchcase(entry.name.casefold(), wanted) and (entry.is_file() if last else entry.is_dir()):
                    next_level.append(Path(entry.path))
        folders = next_level
    yield from folders


def _sniff(path: Path) -> str | None:
    try:
        with path.open("rb") as file:
            return content_type_of(file.read(16))
    except OSError:
        return None


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as file:
        while chunk := file.read(CHUNK_BYTES):
            yield chunk
