"""The generated scans are valid files: PDF cross-references, PNG chunks and CRCs, TIFF baseline tags."""

from __future__ import annotations

import re
import struct
import zlib

from sage_agent.simulated.images import invoice_image, make_pdf, make_png, make_tiff, scanned_page


def test_pdf_cross_reference_points_at_each_object() -> None:
    pdf = make_pdf(["Acme Concrete (Phoenix)", "INVOICE 10045", "Amount due: $1,250.00"])
    assert pdf.startswith(b"%PDF-1.4")
    assert pdf.rstrip().endswith(b"%%EOF")
    startxref = int(re.search(rb"startxref\n(\d+)", pdf).group(1))  # type: ignore[union-attr]
    assert pdf[startxref:].startswith(b"xref\n0 6\n")
    offsets = re.findall(rb"(\d{10}) 00000 n ", pdf[startxref:])
    assert len(offsets) == 5
    for number, offset in enumerate(offsets, start=1):
        assert pdf[int(offset) :].startswith(f"{number} 0 obj".encode())
    assert b"(INVOICE 10045) '" in pdf
    assert b"\\(Phoenix\\)" in pdf


def test_png_has_valid_chunks_and_pixels() -> None:
    page = scanned_page("10045", seed=1, width=40, height=50)
    png = make_png(page)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks = 8, {}
    while position < len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind = png[position + 4 : position + 8]
        data = png[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", png[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(kind + data) & 0xFFFFFFFF
        chunks[kind] = data
        position += 12 + length
    assert struct.unpack(">II", chunks[b"IHDR"][:8]) == (40, 50)
    raw = zlib.decompress(chunks[b"IDAT"])
    assert len(raw) == 50 * 41
    assert raw[1:41] == bytes(page[0])


def test_tiff_is_baseline_uncompressed_greyscale() -> None:
    page = scanned_page("10045", seed=2, width=44, height=40)
    tiff = make_tiff(page)
    assert tiff[:4] == b"II*\x00"
    (ifd,) = struct.unpack("<I", tiff[4:8])
    (count,) = struct.unpack("<H", tiff[ifd : ifd + 2])
    tags = {}
    for index in range(count):
        tag, kind, _n, value = struct.unpack("<HHII", tiff[ifd + 2 + 12 * index : ifd + 14 + 12 * index])
        tags[tag] = value & 0xFFFF if kind == 3 else value
    assert (tags[256], tags[257], tags[258], tags[259], tags[262]) == (44, 40, 8, 1, 1)
    assert tiff[tags[273] : tags[273] + tags[279]] == b"".join(bytes(row) for row in page)
    assert all(tag in tags for tag in (277, 278, 282, 283, 296))


def test_invoice_image_kinds_have_their_content_types() -> None:
    kinds = {kind: invoice_image(kind, "10045", ["INVOICE 10045"], seed=3) for kind in ("pdf", "png", "tiff")}
    assert kinds["pdf"][1] == "application/pdf"
    assert kinds["pdf"][0].startswith(b"%PDF")
    assert kinds["png"][1] == "image/png"
    assert kinds["png"][0].startswith(b"\x89PNG")
    assert kinds["tiff"][1] == "image/tiff"
    assert kinds["tiff"][0].startswith(b"II*\x00")
