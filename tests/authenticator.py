"""A software WebAuthn authenticator for tests: real keys, real CBOR, real signatures.

It answers `navigator.credentials.create()` with a "none" attestation and `get()` with an
assertion, as a browser would send them, so the identity provider's checks run for real.
Every part a test may want wrong (origin, RP id, challenge, counter, user verification,
credential id) can be overridden.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

UP, UV, AT = 0x01, 0x04, 0x40  # authenticator data flags (WebAuthn §6.1)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SoftAuthenticator:
    """One credential on one authenticator; `alg` is ES256, RS256 or EdDSA."""

    def __init__(self, origin: str, alg: str = "ES256") -> None:
        self.origin = origin
        self.rp_id = origin.split("//", 1)[1].split(":", 1)[0]
        self.alg = alg
        self.credential_id = secrets.token_bytes(32)
        self.sign_count = 0
        self.user_handle: bytes | None = None
        if alg == "ES256":
            self.key = ec.generate_private_key(ec.SECP256R1())
        elif alg == "RS256":
            self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        else:
            self.key = ed25519.Ed25519PrivateKey.generate()

    def _cose_key(self) -> bytes:
        public = self.key.public_key()
        if self.alg == "ES256":
            numbers = public.public_numbers()
            return cbor2.dumps(
                {1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"),
                 -3: numbers.y.to_bytes(32, "big")}
            )  # fmt: skip
        if self.alg == "RS256":
            numbers = public.public_numbers()
            n = numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")
            return cbor2.dumps({1: 3, 3: -257, -1: n, -2: numbers.e.to_bytes(3, "big")})
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
        return cbor2.dumps({1: 1, 3: -8, -1: 6, -2: raw})

    def _sign(self, data: bytes) -> bytes:
        if self.alg == "ES256":
            return self.key.sign(data, ec.ECDSA(hashes.SHA256()))
        if self.alg == "RS256":
            return self.key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        return self.key.sign(data)

    @staticmethod
    def _client_data(kind: str, challenge: str, origin: str) -> bytes:
        return json.dumps(
            {"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False}
        ).encode()

    def create(
        self, options: str, *, origin: str | None = None, rp_id: str | None = None,
        challenge: str | None = None, verified: bool = True,
    ) -> str:  # fmt: skip
        """The JSON a browser posts after `navigator.credentials.create()`."""
        opts = json.loads(options)
        self.user_handle = unb64(opts["user"]["id"])
        client_data = self._client_data(
            "webauthn.create", challenge or opts["challenge"], origin or self.origin
        )
        rp_hash = hashlib.sha256((rp_id or opts["rp"]["id"]).encode()).digest()
        flags = UP | AT | (UV if verified else 0)
        auth_data = (
            rp_hash + bytes([flags]) + self.sign_count.to_bytes(4, "big") + bytes(16)
            + len(self.credential_id).to_bytes(2, "big") + self.credential_id + self._cose_key()
        )  # fmt: skip
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return json.dumps(
            {
                "id": b64(self.credential_id),
                "rawId": b64(self.credential_id),
                "type": "public-key",
                "response": {
                    "clientDataJSON": b64(client_data),
                    "attestationObject": b64(attestation),
                    "transports": ["internal", "hybrid"],
                },
                "clientExtensionResults": {},
            }
        )

    def get(
        self, options: str, *, origin: str | None = None, rp_id: str | None = None,
        challenge: str | None = None, verified: bool = True, counter: int | None = None,
        credential_id: bytes | None = None,
    ) -> str:  # fmt: skip
        """The JSON a browser posts after `navigator.credentials.get()`."""
        opts = json.loads(options)
        self.sign_count = self.sign_count + 1 if counter is None else counter
        client_data = self._client_data(
            "webauthn.get", challenge or opts["challenge"], origin or self.origin
        )
        rp_hash = hashlib.sha256((rp_id or opts["rpId"]).encode()).digest()
        flags = UP | (UV if verified else 0)
        auth_data = rp_hash + bytes([flags]) + self.sign_count.to_bytes(4, "big")
        signature = self._sign(auth_data + hashlib.sha256(client_data).digest())
        credential = credential_id or self.credential_id
        return json.dumps(
            {
                "id": b64(credential),
                "rawId": b64(credential),
                "type": "public-key",
                "response": {
                    "clientDataJSON": b64(client_data),
                    "authenticatorData": b64(auth_data),
                    "signature": b64(signature),
                    "userHandle": b64(self.user_handle or b""),
                },
                "clientExtensionResults": {},
            }
        )
