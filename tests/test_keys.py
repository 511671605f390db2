"""Signing keys: legacy files of mode 0600, kid = RFC 7638 thumbprint, public-only JWKS."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import stat

import jwt as pyjwt
import pytest
from joserfc import jwt as jose_jwt
from joserfc.jwk import RSAKey

from idp.keys import (
    DEFAULT_ALGORITHMS,
    InvalidSignature,
    KeyEntry,
    KeyStore,
    KeyStoreError,
    generate_key,
    load_key_file,
)

PRIVATE = {"d", "p", "q", "dp", "dq", "qi", "oth"}
REQUIRED_MEMBERS = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y")}


def _load(directory) -> KeyStore:
    """Every key file of a legacy keys/ directory (as `idp init` reads them); newest signs."""
    if not directory.is_dir():
        return KeyStore([])
    paths = sorted(directory.glob("*.json"), key=lambda p: (p.stat().st_mtime_ns, p.name))
    loaded = [load_key_file(path) for path in paths]
    newest = {alg: key.kid for alg, key in loaded}
    return KeyStore(KeyEntry(alg, key, signing=newest[alg] == key.kid) for alg, key in loaded)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _thumbprint(jwk: dict) -> str:
    # RFC 7638 §3: required members only, lexicographic order, no whitespace, SHA-256.
    members = {name: jwk[name] for name in REQUIRED_MEMBERS[jwk["kty"]]}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return _b64(hashlib.sha256(canonical).digest())


def _modulus_bits(jwk: dict) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(jwk["n"] + "==")).bit_length()


@pytest.fixture(scope="module")
def key_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("keys") / "keys"
    for alg in DEFAULT_ALGORITHMS:
        generate_key(directory, alg)
    return directory


@pytest.fixture(scope="module")
def store(key_dir):
    return _load(key_dir)


def _documents(directory) -> dict[str, dict]:
    return {d["alg"]: d for d in (json.loads(p.read_text()) for p in directory.glob("*.json"))}


def test_default_keys_are_rs256_2048_and_es256_p256(key_dir):
    by_alg = _documents(key_dir)
    assert set(by_alg) == {"RS256", "ES256"}
    assert by_alg["RS256"]["kty"] == "RSA" and _modulus_bits(by_alg["RS256"]) == 2048
    assert by_alg["ES256"]["kty"] == "EC" and by_alg["ES256"]["crv"] == "P-256"
    assert all(d["use"] == "sig" and "d" in d for d in by_alg.values())


def test_key_files_are_private_and_named_by_thumbprint(key_dir):
    assert stat.S_IMODE(key_dir.stat().st_mode) & 0o077 == 0
    paths = list(key_dir.glob("*.json"))
    assert len(paths) == 2
    for path in paths:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        document = json.loads(path.read_text())
        assert document["kid"] == _thumbprint(document) == path.stem


def test_rsa_size_is_configurable(tmp_path):
    kid = generate_key(tmp_path, "RS256", rsa_bits=3072)
    assert _modulus_bits(json.loads((tmp_path / f"{kid}.json").read_text())) == 3072


@pytest.mark.parametrize(
    ("alg", "bits", "message"),
    [("HS256", 2048, "HS256"), ("none", 2048, "none"), ("RS256", 1024, "1024")],
)
def test_unsupported_key_is_refused(tmp_path, alg, bits, message):
    with pytest.raises(KeyStoreError, match=message):
        generate_key(tmp_path / "keys", alg, rsa_bits=bits)
    assert not list(tmp_path.glob("keys/*"))


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620])
def test_load_refuses_key_files_open_to_others(key_dir, tmp_path, mode):
    source = next(key_dir.glob("*.json"))
    target = tmp_path / source.name
    target.write_text(source.read_text())
    target.chmod(mode)
    with pytest.raises(KeyStoreError, match=f"{source.name}.*mode {oct(mode)}"):
        _load(tmp_path)


def _public(document: dict) -> dict:
    return {k: v for k, v in document.items() if k not in PRIVATE}


def _other_rsa_kid(document: dict) -> dict:
    return document | {"kid": RSAKey.generate_key(2048).thumbprint()}


@pytest.mark.parametrize(
    ("alg", "mutate", "file_name", "message"),
    [
        ("RS256", lambda d: "{not json", None, "not a valid JWK"),
        ("RS256", lambda d: "[]", None, "not a valid JWK"),
        ("RS256", lambda d: {k: v for k, v in d.items() if k != "alg"}, None, "not a valid JWK"),
        ("RS256", lambda d: d | {"alg": "HS256"}, None, "unsupported algorithm"),
        ("RS256", lambda d: d | {"alg": "ES256"}, None, "does not fit"),
        ("ES256", lambda d: d | {"alg": "RS256"}, None, "does not fit"),
        ("RS256", lambda d: d | {"use": "enc"}, None, "not a signing key"),
        ("RS256", _public, None, "no private key"),
        ("ES256", _public, None, "no private key"),
        ("RS256", _other_rsa_kid, None, "thumbprint"),
        ("RS256", lambda d: d, "wrong-name.json", "file name"),
    ],
)
def test_load_refuses_bad_key_files(key_dir, tmp_path, alg, mutate, file_name, message):
    document = _documents(key_dir)[alg]
    content = mutate(document)
    path = tmp_path / (file_name or f"{document['kid']}.json")
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    path.chmod(0o600)
    with pytest.raises(KeyStoreError, match=message) as refused:
        _load(tmp_path)
    assert str(path) in str(refused.value)


@pytest.mark.parametrize("make", [lambda p: p / "absent", lambda p: p])
def test_missing_or_empty_directory_loads_empty(tmp_path, make):
    store = _load(make(tmp_path))
    assert len(store) == 0 and store.algorithms == [] and store.jwks() == {"keys": []}
    with pytest.raises(KeyError):
        store.signing_key("RS256")


def test_algorithms_put_rs256_first(tmp_path):
    for alg in ("PS256", "ES256", "RS256"):
        generate_key(tmp_path, alg)
    store = _load(tmp_path)
    assert store.algorithms == ["RS256", "ES256", "PS256"] and len(store) == 3


def test_newest_key_file_signs(tmp_path):
    older, newer = generate_key(tmp_path, "RS256"), generate_key(tmp_path, "RS256")
    os.utime(tmp_path / f"{older}.json", ns=(2_000_000_000 * 10**9,) * 2)
    os.utime(tmp_path / f"{newer}.json", ns=(1_000_000_000 * 10**9,) * 2)
    store = _load(tmp_path)
    assert store.kid_for("RS256") == older and store.signing_key("RS256").kid == older
    # The other key stays published so tokens it signed still verify.
    assert {k["kid"] for k in store.jwks()["keys"]} == {older, newer}


def test_jwks_is_public_only(store, key_dir):
    keys = store.jwks()["keys"]
    assert [k["alg"] for k in keys] == ["RS256", "ES256"]
    assert {k["kid"] for k in keys} == {p.stem for p in key_dir.glob("*.json")}
    for key in keys:
        assert not PRIVATE & key.keys()
        assert key["use"] == "sig" and key["kid"] == _thumbprint(key)
    assert _load(key_dir).jwks() == store.jwks()


@pytest.fixture(scope="module")
def ps256_store(tmp_path_factory):
    directory = tmp_path_factory.mktemp("ps256")
    generate_key(directory, "PS256")
    return _load(directory)


@pytest.mark.parametrize("alg", ["RS256", "ES256", "PS256"])
def test_sign_verifies_with_an_independent_library(store, ps256_store, alg):
    signer = ps256_store if alg == "PS256" else store
    claims = {"sub": "abc", "aud": "rp", "exp": 1}  # exp in the past: verify checks signatures only
    token = signer.sign(claims, alg=alg, typ="at+jwt")
    header, verified = signer.verify(token)
    assert header == {"alg": alg, "kid": signer.kid_for(alg), "typ": "at+jwt"}
    assert verified == claims
    public = next(k for k in signer.jwks()["keys"] if k["kid"] == header["kid"])
    decoded = pyjwt.decode(
        token,
        pyjwt.PyJWK(public).key,
        algorithms=[alg],
        options={"verify_exp": False},
        audience="rp",
    )
    assert decoded == claims


def test_sign_adds_typ_only_when_asked(store):
    header, _ = store.verify(store.sign({"sub": "abc"}))
    assert header == {"alg": "RS256", "kid": store.kid_for("RS256")}


def _token(header: dict, claims: dict, signature: bytes = b"") -> str:
    parts = (json.dumps(header).encode(), json.dumps(claims).encode())
    return ".".join([*(_b64(p) for p in parts), _b64(signature)])


def test_verify_refuses_forgeries(store):
    token = store.sign({"sub": "abc"})
    kid = store.kid_for("RS256")
    header, _, signature = token.split(".")
    tampered = f"{header}.{_b64(json.dumps({'sub': 'admin'}).encode())}.{signature}"
    foreign = RSAKey.generate_key(2048)
    impostor = jose_jwt.encode({"alg": "RS256", "kid": kid}, {"sub": "x"}, foreign)
    unknown = jose_jwt.encode({"alg": "RS256", "kid": "unknown"}, {"sub": "x"}, foreign)
    # RFC 8725 §2.1: HMAC keyed with our public key must not pass for RS256.
    public_pem = store.signing_key("RS256").as_pem(private=False)
    signing_input = _token({"alg": "HS256", "kid": kid}, {"sub": "admin"}).rstrip(".")
    confused = hmac.new(public_pem, signing_input.encode(), "sha256").digest()
    forgeries = [
        tampered,
        impostor,
        unknown,
        f"{signing_input}.{_b64(confused)}",
        _token({"alg": "none", "kid": kid}, {"sub": "admin"}),
        _token({"alg": "none"}, {"sub": "admin"}),
        _token({"alg": "ES256", "kid": kid}, {"sub": "admin"}, b"x" * 64),
        _token({"alg": "RS256", "kid": ["list"]}, {}),
        "garbage",
        "",
        "a.b.c",
        "W10.e30.",
        None,
    ]
    for forgery in forgeries:
        with pytest.raises(InvalidSignature):
            store.verify(forgery)


@pytest.mark.parametrize(
    ("alg", "allowed"), [("RS256", ["ES256"]), ("ES256", ["RS256"]), ("RS256", [])]
)
def test_verify_refuses_algorithms_not_allowed(store, alg, allowed):
    token = store.sign({"sub": "abc"}, alg=alg)
    with pytest.raises(InvalidSignature, match="not allowed"):
        store.verify(token, algorithms=allowed)
    assert store.verify(token, algorithms=[alg])[1] == {"sub": "abc"}
