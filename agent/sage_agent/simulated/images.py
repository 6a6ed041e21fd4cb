"""Small, valid scanned-invoice files made with the standard library: PDF, PNG and baseline TIFF."""

from __future__ import annotations

import random
import struct
import zlib
from collections.abc import Sequence

# 3x5 bitmap digits, so raster "scans" show the invoice number.
_GLYPHS = {
    "0": "111101101101111",
    "1": "010110010010111",
    "2": "111001111100111",
    "3": "111001111001111",
    "4": "101101111001001",
    "5": "111100111001111",
    "6": "111100111101111",
    "7": "111001001001001",
    "8": "111101111101111",
    "9": "111101111001111",
    "-": "000000111000000",
}


def make_pdf(lines: Sequence[str]) -> bytes:
    """A one-page PDF showing ``lines`` in Helvetica, with a correct cross-reference table."""
    text_ops = ["BT", "/F1 14 Tf", "72 720 Td", "18 TL"]
    for line in lines:
        escaped = line.encode("latin-1", "replace").decode("latin-1")
        escaped = escaped.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        text_ops.append(f"({escaped}) '")
    text_ops.append("ET")
    content = "\n".join(text_ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref_at = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref_at}\n%%EOF\n".encode()
    return bytes(out)


def scanned_page(label: str, seed: int, width: int = 160, height: int = 200) -> list[bytearray]:
    """8-bit grey rows of a page: the label in block digits, then ruled "text" lines of varying length."""
    if width < 40 or height < 40:
        raise ValueError(f"a scanned page needs at least 40x40 pixels, not {width}x{height}")
    rng = random.Random(seed)  # noqa: S311 - shapes on a page, not secrets
    rows = [bytearray(b"\xf4" * width) for _ in range(height)]
    x = 8
    for char in label[:12]:
        glyph = _GLYPHS.get(char)
        if glyph is not None:
            for index, bit in enumerate(glyph):
                if bit == "1":
                    gx, gy = index % 3, index // 3
                    for dy in range(3):
                        for dx in range(3):
                            rows[8 + gy * 3 + dy][x + gx * 3 + dx] = 0x20
        x += 12
        if x + 9 >= width:
            break
    for top in range(34, height - 10, 9):
        length = rng.randint(width // 4, width - 16)
        for y in (top, top + 1, top + 2):
            rows[y][8 : 8 + length] = b"\x50" * length
    return rows


def make_png(rows: Sequence[bytes | bytearray]) -> bytes:
    """Greyscale 8-bit PNG of equally long ``rows``."""
    height, width = len(rows), len(rows[0])

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + bytes(row) for row in rows)
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")


def make_tiff(rows: Sequence[bytes | bytearray]) -> bytes:
    """Baseline uncompressed greyscale TIFF (little-endian, one strip) of equally long ``rows``."""
    height, width = len(rows), len(rows[0])
    pixels = b"".join(bytes(row) for row in rows)
    entry_count = 12
    ifd_size = 2 + entry_count * 12 + 4
    resolution_at = 8 + ifd_size
    pixels_at = resolution_at + 16
    short, long_, rational = 3, 4, 5
    entries = [
        (256, long_, 1, width),
        (257, long_, 1, height),
        (258, short, 1, 8),
        (259, short, 1, 1),
        (262, short, 1, 1),
        (273, long_, 1, pixels_at),
        (277, short, 1, 1),
        (278, long_, 1, height),
        (279, long_, 1, len(pixels)),
        (282, rational, 1, resolution_at),
        (283, rational, 1, resolution_at + 8),
        (296, short, 1, 2),
    ]
    out = bytearray(b"II*\x00" + struct.pack("<I", 8))
    out += struct.pack("<H", entry_count)
    for tag, kind, count, value in entries:
        packed_value = struct.pack("<HH", value, 0) if kind == short else struct.pack("<I", value)
        out += struct.pack("<HHI", tag, kind, count) + packed_value
    out += struct.pack("<I", 0)
    out += struct.pack("<IIII", 200, 1, 200, 1)
    out += pixels
    return bytes(out)


def invoice_image(kind: str, invoice_no: str, lines: Sequence[str], seed: int) -> tuple[bytes, str]:
    """A scanned invoice of ``kind`` (``pdf``, ``png`` or ``tiff``) and its content type."""
    if kind == "pdf":
        return make_pdf(lines), "application/pdf"
    page = scanned_page(invoice_no, seed)
    if kind == "png":
        return make_png(page), "image/png"
    return make_tiff(page), "image/tiff"
