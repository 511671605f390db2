"""Key-encryption keys: private signing JWKs sealed at rest in the shared database.

RFC 7516 (JWE compact serialization), RFC 7518 §4.4 (A256KW key wrapping) and §5.3 (A256GCM),
RFC 7517 §7 (an encrypted JWK has content type "jwk+json"). The first configured KEK seals;
every configured KEK unseals, so a KEK is rotated by putting a new one first, running
`idp keys rewrap`, then dropping the old one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass

from joserfc import jwe
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

from .keys import KeyStoreError

SEALING = {"alg": "A256KW", "enc": "A256GCM", "cty": "jwk+json"}


@dataclass(frozen=True)
class Kek:
    id: str  # a short fingerprint: names the KEK in the JWE header without revealing it
    key: OctKey


def new_kek() -> str:
    """A fresh KEK for [keys] encryption_keys: 32 random bytes, URL-safe base64."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def parse_keks(values: list[str]) -> list[Kek]:
    """Configured KEKs (validated by config.py), the sealing one first."""
    keks = []
    for value in values:
        raw = base64.urlsafe_b64decode(value.encode("ascii"))
        fingerprint = hashlib.sha256(b"idp-kek:" + raw).hexdigest()[:16]
        keks.append(Kek(fingerprint, OctKey.import_key(raw)))
    return keks


def seal(document: str, kek: Kek) -> str:
    """Encrypt a private JWK document with one KEK."""
    header = SEALING | {"kid": kek.id}
    return jwe.encrypt_compact(
        header, document, kek.key, algorithms=[SEALING["alg"], SEALING["enc"]]
    )


def sealed_with(sealed: str) -> str:
    """The id of the KEK that sealed a document (from its protected header)."""
    try:
        segment = sealed.split(".")[0]
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
        return str(header["kid"])
    except (ValueError, KeyError, TypeError) as error:
        raise KeyStoreError("sealed key is malformed") from error


def unseal(sealed: str, keks: list[Kek], *, kid: str) -> str:
    """Decrypt a sealed private JWK with whichever configured KEK sealed it."""
    wanted = sealed_with(sealed)
    kek = next((k for k in keks if k.id == wanted), None)
    if kek is None:
        raise KeyStoreError(
            f"signing key {kid}: sealed with KEK {wanted}, which is not in [keys] encryption_keys"
        )
    try:
        plaintext = jwe.decrypt_compact(
            sealed, kek.key, algorithms=[SEALING["alg"], SEALING["enc"]]
        ).plaintext
    except (JoseError, ValueError) as error:
        raise KeyStoreError(f"signing key {kid}: cannot decrypt it with KEK {wanted}") from error
    return plaintext.decode()
