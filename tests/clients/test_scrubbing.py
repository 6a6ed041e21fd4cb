from __future__ import annotations

import pytest

from ml_connector.adapters.scrubbing import Scrubber

KEY = "agent-key-9f8e7d"
TOKEN = "company/token+1"


@pytest.mark.parametrize(
    "text",
    [
        f"refused key {KEY}",
        "url ?t=company%2Ftoken%2B1",
        f"headers: {{'x-company-token': '{TOKEN}', 'accept': 'json'}}",
        '{"X-Company-Token": "some-rotated-token"}',
        "X-Agent-Key: an-older-key\r\nAccept: */*",
    ],
)
def test_secrets_and_secret_headers_are_replaced(text: str) -> None:
    scrubbed = Scrubber([KEY, TOKEN], ["X-Agent-Key", "X-Company-Token"]).scrub(text)
    for secret in (KEY, TOKEN, "company%2Ftoken%2B1", "some-rotated-token", "an-older-key"):
        assert secret not in scrubbed
    assert "***" in scrubbed


def test_other_text_is_left_alone() -> None:
    text = "vendor 01-ACME: Name is required; accept: application/json"
    assert Scrubber([KEY], ["X-Agent-Key"]).scrub(text) == text


def test_very_short_secrets_are_not_scrubbed_by_value() -> None:
    assert Scrubber(["ab"]).scrub("abc") == "abc"
