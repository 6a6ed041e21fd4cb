"""Content hashes: an unchanged record is recognised by the hash of what would be sent, never re-sent."""

from __future__ import annotations

import hashlib

from pydantic import BaseModel


def content_hash(model: BaseModel) -> str:
    """SHA-256 of the model's canonical JSON (field order fixed by the model; aliases as sent)."""
    return hashlib.sha256(model.model_dump_json(by_alias=True).encode()).hexdigest()
