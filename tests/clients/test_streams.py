from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

from ml_connector.adapters.streams import IterableReader


def test_reader_returns_the_chunks_in_order_across_uneven_reads() -> None:
    reader = IterableReader([b"abc", b"", b"defgh", b"i"])
    assert reader.read(2) == b"ab"
    assert reader.read(100) == b"c"
    assert reader.read(3) == b"def"
    assert reader.read() == b"ghi"
    assert reader.read(1) == b""


def test_multipart_upload_pulls_the_iterator_lazily() -> None:
    pulled: list[int] = []

    def chunks() -> Iterator[bytes]:
        for number in range(3):
            pulled.append(number)
            yield bytes([number]) * 10

    files: dict[str, Any] = {"file": ("a.pdf", IterableReader(chunks()), "application/pdf")}
    request = httpx.Request("POST", "https://x.test/", files=files)
    assert request.headers["Transfer-Encoding"] == "chunked"
    assert pulled == []
    body = b"".join(request.stream)  # type: ignore[arg-type]
    assert pulled == [0, 1, 2]
    assert b"\x00" * 10 + b"\x01" * 10 + b"\x02" * 10 in body
