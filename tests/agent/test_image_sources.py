"""Scanned invoices kept as files: patterns, case-insensitive matching, types from bytes, the file-name rule."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest

from sage_agent.config import ConfigError, load_config
from sage_agent.images import FolderImageSource, InvoiceRef, content_type_of, file_name_safe
from sage_agent.simulated.images import make_pdf, make_png, make_tiff, scanned_page

INVOICE = InvoiceRef("01", "ACME", "4471/B", dt.date(2026, 11, 20))
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64


@pytest.mark.parametrize(
    ("value", "safe"),
    [("10045", "10045"), ("4471/B", "4471_B"), ('a\\b:c*d?"<>|', "a_b_c_d_____"), ("..", "__"), ("A. ", "A__")],
)
def test_the_file_name_rule(value: str, safe: str) -> None:
    assert file_name_safe(value) == safe


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (make_pdf(["x"]), "application/pdf"),
        (make_png(scanned_page("1", 1)), "image/png"),
        (make_tiff(scanned_page("1", 1)), "image/tiff"),
        (JPEG, "image/jpeg"),
        (b"GIF89a", None),
        (b"", None),
    ],
)
def test_the_type_comes_from_the_bytes(data: bytes, content_type: str | None) -> None:
    assert content_type_of(data[:16]) == content_type


def test_placeholders_are_filled_and_matched_case_insensitively(tmp_path: Path) -> None:
    folder = tmp_path / "Scans" / "div01" / "acme"
    folder.mkdir(parents=True)
    data = make_tiff(scanned_page("4471", 3))
    (folder / "4471_b-20261120.IMG").write_bytes(data)
    source = FolderImageSource([str(tmp_path / "scans/DIV{APDivisionNo}/{VendorNo}/{InvoiceNo}-{InvoiceDate}.*")])
    assert source.has_image(INVOICE)
    image = source.image(INVOICE)
    assert image is not None
    assert (image.content_type, image.size, image.sha256) == ("image/tiff", len(data), hashlib.sha256(data).hexdigest())
    assert b"".join(image.chunks()) == data


def test_a_file_that_is_no_image_does_not_count_and_later_patterns_are_tried(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "4471_B.pdf").write_bytes(b"not really a pdf")
    (tmp_path / "b" / "4471_B.jpg").write_bytes(JPEG)
    source = FolderImageSource([str(tmp_path / "a/{InvoiceNo}.*"), str(tmp_path / "b/{InvoiceNo}.*")])
    image = source.image(INVOICE)
    assert image is not None and image.content_type == "image/jpeg"
    assert not FolderImageSource([str(tmp_path / "a/{InvoiceNo}.*")]).has_image(INVOICE)


def test_an_invoice_number_cannot_climb_out_of_the_folder(tmp_path: Path) -> None:
    (tmp_path / "scans").mkdir()
    (tmp_path / "secret.pdf").write_bytes(make_pdf(["secret"]))
    source = FolderImageSource([str(tmp_path / "scans/{InvoiceNo}/../secret.pdf")])
    assert not source.has_image(InvoiceRef("01", "ACME", "..", dt.date(2026, 1, 1)))


def test_glob_characters_in_an_invoice_number_match_only_themselves(tmp_path: Path) -> None:
    (tmp_path / "1[2].pdf").write_bytes(make_pdf(["x"]))
    (tmp_path / "12.pdf").write_bytes(make_pdf(["y"]))
    source = FolderImageSource([str(tmp_path / "{InvoiceNo}.pdf")])
    image = source.image(InvoiceRef("01", "ACME", "1[2]", dt.date(2026, 1, 1)))
    assert image is not None and b"".join(image.chunks()) == make_pdf(["x"])


def test_an_unknown_placeholder_is_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "agent.toml"
    config.write_text(
        '[auth]\nagent_keys = ["a-long-enough-agent-key"]\n[companies.RCC]\nkind = "simulated"\n'
        "sqlite_path = \"RCC.sqlite\"\nimage_patterns = ['scans/{Vendor}/{InvoiceNo}.pdf']\n",
        "utf-8",
    )
    with pytest.raises(ConfigError, match=r"companies\.RCC\.simulated\.image_patterns\[0\].*\{Vendor\}"):
        load_config(config)
