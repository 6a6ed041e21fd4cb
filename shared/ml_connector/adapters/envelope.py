"""Envelope encryption of sensitive payloads (tax ids, bank data): AES-256-GCM under a KMS data key.

One data key is generated per execution environment and reused for a few minutes (as the AWS Encryption SDK's
caching does), so sealing a page of records costs one KMS call, not one per record.
"""

from __future__ import annotations

import base64
import json
import os
import time
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_FORMAT_VERSION = "1"


class EnvelopeSealer:
    def __init__(self, kms: Any, key_arn: str, *, data_key_max_age_seconds: float = 300.0) -> None:
        self._kms = kms
        self._key_arn = key_arn
        self._max_age = data_key_max_age_seconds
        self._data_key: tuple[bytes, bytes, float] | None = None  # plaintext, encrypted, created (monotonic)
        self._opened_keys: dict[bytes, bytes] = {}

    def seal(self, payload: Any, context: dict[str, str]) -> dict[str, str]:
        plaintext_key, encrypted_key = self._current_data_key()
        nonce = os.urandom(12)
        ciphertext = AESGCM(plaintext_key).encrypt(nonce, json.dumps(payload).encode(), _aad(context))
        return {
            "v": _FORMAT_VERSION,
            "key": base64.b64encode(encrypted_key).decode(),
            "nonce": base64.b64encode(nonce).decode(),
            "ciphertext": base64.b64encode(ciphertext).decode(),
        }

    def open(self, sealed: dict[str, str], context: dict[str, str]) -> Any:
        if sealed.get("v") != _FORMAT_VERSION:
            raise ValueError(f"sealed payload has unknown format version {sealed.get('v')!r}")
        encrypted_key = base64.b64decode(sealed["key"])
        plaintext_key = self._opened_keys.get(encrypted_key)
        if plaintext_key is None:
            plaintext_key = self._kms.decrypt(CiphertextBlob=encrypted_key, KeyId=self._key_arn)["Plaintext"]
            self._opened_keys[encrypted_key] = plaintext_key
        plaintext = AESGCM(plaintext_key).decrypt(
            base64.b64decode(sealed["nonce"]), base64.b64decode(sealed["ciphertext"]), _aad(context)
        )
        return json.loads(plaintext)

    def _current_data_key(self) -> tuple[bytes, bytes]:
        if self._data_key is None or time.monotonic() - self._data_key[2] > self._max_age:
            response = self._kms.generate_data_key(KeyId=self._key_arn, KeySpec="AES_256")
            self._data_key = (response["Plaintext"], response["CiphertextBlob"], time.monotonic())
        return self._data_key[0], self._data_key[1]


def _aad(context: dict[str, str]) -> bytes:
    """The context (customer, kind, key) is authenticated: a payload cannot be replayed under another record."""
    return json.dumps(context, sort_keys=True).encode()
