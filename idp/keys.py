"""Signing-key material: private JWKs, their validation, and the snapshot that signs.

RFC 7517 (JWK; §7 encrypted JWK), RFC 7638 (thumbprint as kid), RFC 7518 §3 (algorithms).
Keys live sealed in the database (`kek.py`, `keyring.py`); the key-file functions here remain
for the legacy keys/ directory that `idp init` moves into the database.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from joserfc import jwe, jwk, jwt
from joserfc.errors import JoseError
from joserfc.jwk import Key, OctKey, import_key

# Registry: JWS alg -> (kty, crv) of the key it signs with (RFC 7518 §3.1); RSA takes rsa_bits.
# RS256 first: OIDC Core §15.1 requires it. Ed25519 (RFC 9864) would be ("OKP", "Ed25519");
# it is left out because few relying parties accept it yet.
ALGORITHMS: dict[str, tuple[str, str | None]] = {
    "RS256": ("RSA", None),
    "ES256": ("EC", "P-256"),
    "PS256": ("RSA", None),
}
DEFAULT_ALGORITHMS = ("RS256", "ES256")
RSA_BITS = (2048, 3072, 4096)
# RFC 7517 §7: a private JWK at rest may be a JWE with password-based key wrapping.
FILE_ENCRYPTION = {"alg": "PBES2-HS512+A256KW", "enc": "A256GCM", "cty": "jwk+json"}


class KeyStoreError(Exception):
    """A key file is unsafe or unreadable; the message names the file."""


class InvalidSignature(Exception):
    """A token is malformed, signed by an unknown key, or its signature does not verify."""


def _write_private(path: Path, content: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    fd = os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def generate_private_jwk(alg: str, *, rsa_bits: int = 2048) -> tuple[str, str]:
    """Make one private signing JWK; return its kid and its JSON document."""
    if alg not in ALGORITHMS:
        raise KeyStoreError(f"unsupported algorithm {alg!r}; use one of {', '.join(ALGORITHMS)}")
    kty, crv = ALGORITHMS[alg]
    if kty == "RSA" and rsa_bits not in RSA_BITS:
        raise KeyStoreError(f"unsupported RSA size {rsa_bits}; use one of {RSA_BITS}")
    key = jwk.generate_key(kty, crv or rsa_bits, private=True)
    kid = key.thumbprint()
    return kid, json.dumps(key.as_dict(private=True) | {"kid": kid, "alg": alg, "use": "sig"})


def generate_key(directory: Path, alg: str, *, rsa_bits: int = 2048, passphrase: str = "") -> str:
    """Create one legacy signing key file atomically with mode 0600; return its kid."""
    kid, document = generate_private_jwk(alg, rsa_bits=rsa_bits)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    if passphrase:
        wrapping = OctKey.import_key(passphrase)
        algorithms = [FILE_ENCRYPTION["alg"], FILE_ENCRYPTION["enc"]]
        header = FILE_ENCRYPTION | {"kid": kid}
        document = jwe.encrypt_compact(header, document, wrapping, algorithms=algorithms)
    _write_private(directory / f"{kid}.json", document)
    return kid


def check_permissions(path: Path) -> None:
    """Refuse a key file that group or others may read or write (security invariant 6)."""
    mode = path.stat().st_mode
    if mode & 0o077:
        raise KeyStoreError(
            f"{path}: key file is accessible to group or others (mode {oct(mode & 0o777)});"
            f" run: chmod 600 {path}"
        )


def _decrypt(path: Path, text: str, passphrase: str) -> str:
    if not passphrase:
        raise KeyStoreError(f"{path}: key file is encrypted; set [keys] passphrase")
    algorithms = [FILE_ENCRYPTION["alg"], FILE_ENCRYPTION["enc"]]
    try:
        return jwe.decrypt_compact(
            text, OctKey.import_key(passphrase), algorithms=algorithms
        ).plaintext.decode()
    except (JoseError, ValueError) as error:
        raise KeyStoreError(f"{path}: cannot decrypt key file (wrong passphrase?)") from error


def parse_private_jwk(text: str, origin: str) -> tuple[str, Key]:
    """Accept only a private signing JWK whose kid is its RFC 7638 thumbprint."""
    try:
        document = json.loads(text)
        alg = document["alg"]
        key = import_key(document)
    except (ValueError, KeyError, TypeError, JoseError) as error:
        raise KeyStoreError(f"{origin}: not a valid JWK ({error!r})") from error
    if alg not in ALGORITHMS:
        raise KeyStoreError(f"{origin}: unsupported algorithm {alg!r}")
    if (document.get("kty"), document.get("crv")) != ALGORITHMS[alg]:
        raise KeyStoreError(f"{origin}: key type does not fit algorithm {alg}")
    if document.get("use", "sig") != "sig":
        raise KeyStoreError(f"{origin}: not a signing key (use {document['use']!r})")
    if not key.is_private:
        raise KeyStoreError(f"{origin}: holds no private key")
    if document.get("kid") != key.thumbprint():
        raise KeyStoreError(f"{origin}: kid must equal the RFC 7638 thumbprint")
    return alg, key


def load_key_file(path: Path, passphrase: str = "") -> tuple[str, Key]:
    """Read one key file, refusing unsafe permissions and anything but a private signing JWK."""
    try:
        check_permissions(path)
        text = path.read_text().strip()
    except (OSError, UnicodeDecodeError) as error:
        raise KeyStoreError(f"{path}: cannot read key file ({error})") from error
    if text.count(".") == 4 and not text.startswith("{"):  # RFC 7516 §7.1 compact JWE
        text = _decrypt(path, text, passphrase)
    alg, key = parse_private_jwk(text, str(path))
    if path.stem != key.kid:
        raise KeyStoreError(f"{path}: kid must equal the RFC 7638 thumbprint and the file name")
    return alg, key


@dataclass(frozen=True)
class KeyEntry:
    alg: str
    key: Key
    signing: bool = True  # the active key of its algorithm
    published: bool = True  # in the JWKS, and accepted when verifying our own tokens


def _alg_order(alg: str) -> tuple[bool, str]:
    return alg != "RS256", alg


class KeyStore:
    """Immutable snapshot of the keys in force: who signs, what is published."""

    def __init__(self, entries: Iterable[KeyEntry]) -> None:
        entries = sorted(entries, key=lambda e: (_alg_order(e.alg), e.key.kid))
        self._published = {e.key.kid: e for e in entries if e.published}
        self._signing = {e.alg: e.key for e in entries if e.signing}
        self.algorithms: list[str] = sorted(self._signing, key=_alg_order)
        self._jwks = {
            "keys": [
                e.key.as_dict(private=False) | {"kid": e.key.kid, "alg": e.alg, "use": "sig"}
                for e in self._published.values()
            ]
        }

    def __len__(self) -> int:
        return len(self._published)

    def signing_key(self, alg: str) -> Key:
        return self._signing[alg]

    def kid_for(self, alg: str) -> str:
        return self._signing[alg].kid

    def sign(self, claims: dict, *, alg: str = "RS256", typ: str | None = None) -> str:
        key = self._signing[alg]
        header = {"alg": alg, "kid": key.kid} | ({"typ": typ} if typ else {})
        return jwt.encode(header, claims, key, algorithms=[alg], default_type=None)

    def verify(self, token: str, *, algorithms: list[str] | None = None) -> tuple[dict, dict]:
        """Check the signature only; callers check exp, iss and aud with their own clock."""
        header = _protected_header(token)
        kid = header.get("kid")
        entry = self._published.get(kid) if isinstance(kid, str) else None
        if entry is None:
            raise InvalidSignature(f"unknown kid {kid!r}")
        # RFC 8725 §3.1: the key fixes the algorithm; the header may not choose another one.
        allowed = [entry.alg] if algorithms is None else algorithms
        if header.get("alg") != entry.alg or entry.alg not in allowed:
            raise InvalidSignature(f"algorithm {header.get('alg')!r} not allowed")
        try:
            decoded = jwt.decode(token, entry.key, algorithms=[entry.alg])
        except (ValueError, JoseError) as error:
            raise InvalidSignature(f"signature or payload invalid ({error!r})") from error
        return dict(decoded.header), dict(decoded.claims)

    def jwks(self) -> dict:
        return self._jwks


def _protected_header(token: str) -> dict:
    try:
        header = json.loads(_b64decode(token.split(".")[0]))
    except (AttributeError, TypeError, ValueError) as error:
        raise InvalidSignature("malformed token") from error
    if not isinstance(header, dict):
        raise InvalidSignature("malformed token")
    return header


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
