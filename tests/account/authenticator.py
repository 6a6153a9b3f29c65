"""A software WebAuthn authenticator for the tests: real P-256 keys, real CBOR,
real signatures, built the way a platform authenticator builds them (WebAuthn
Level 2, §6.1 authenticator data, §6.5.4 "none" attestation). Nothing in the
portal is mocked: py_webauthn verifies what this produces.
"""
from __future__ import annotations

import hashlib
import json
import os
import struct
from dataclasses import dataclass, field

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url

FLAG_UP, FLAG_UV, FLAG_AT = 0x01, 0x04, 0x40


@dataclass
class SoftAuthenticator:
    rp_id: str = "localhost"
    origin: str = "http://localhost:5000"
    user_verified: bool = True
    credential_id: bytes = field(default_factory=lambda: os.urandom(32))
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    sign_count: int = 0

    def _flags(self, extra: int = 0) -> int:
        return FLAG_UP | (FLAG_UV if self.user_verified else 0) | extra

    def _cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"),
                            -3: numbers.y.to_bytes(32, "big")})

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": origin or self.origin,
                           "crossOrigin": False}).encode()

    def create(self, options: dict | str, *, origin: str | None = None) -> dict:
        """navigator.credentials.create(): the registration response as JSON (dict)."""
        options = json.loads(options) if isinstance(options, str) else options
        rp_hash = hashlib.sha256(self.rp_id.encode()).digest()
        attested = (b"\x00" * 16 + struct.pack(">H", len(self.credential_id)) + self.credential_id
                    + self._cose_key())
        auth_data = rp_hash + bytes([self._flags(FLAG_AT)]) + struct.pack(">I", self.sign_count) + attested
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        raw_id = bytes_to_base64url(self.credential_id)
        return {"id": raw_id, "rawId": raw_id, "type": "public-key", "authenticatorAttachment": "platform",
                "clientExtensionResults": {},
                "response": {"clientDataJSON": bytes_to_base64url(client_data),
                             "attestationObject": bytes_to_base64url(attestation), "transports": ["internal"]}}

    def get(self, options: dict | str, *, origin: str | None = None, bump: bool = True,
            user_handle: bytes | None = None) -> dict:
        """navigator.credentials.get(): an assertion over the challenge, counter +1 unless bump=False."""
        options = json.loads(options) if isinstance(options, str) else options
        if bump:
            self.sign_count += 1
        rp_hash = hashlib.sha256(self.rp_id.encode()).digest()
        auth_data = rp_hash + bytes([self._flags()]) + struct.pack(">I", self.sign_count)
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        raw_id = bytes_to_base64url(self.credential_id)
        return {"id": raw_id, "rawId": raw_id, "type": "public-key", "authenticatorAttachment": "platform",
                "clientExtensionResults": {},
                "response": {"clientDataJSON": bytes_to_base64url(client_data),
                             "authenticatorData": bytes_to_base64url(auth_data),
                             "signature": bytes_to_base64url(signature),
                             "userHandle": bytes_to_base64url(user_handle) if user_handle else None}}


def challenge_of(options: dict | str) -> bytes:
    options = json.loads(options) if isinstance(options, str) else options
    return base64url_to_bytes(options["challenge"])
