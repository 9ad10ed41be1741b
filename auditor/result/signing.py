"""Signed results: who produced a result, not only that it is whole.

The integrity hash proves a result was not truncated; anyone can recompute it after an
edit. An Ed25519 signature (the `cryptography` package) over the sealed document proves
that the holder of a private key produced it. The signature travels in the document
(`signature`: algorithm, public key, key fingerprint, value) outside the signed bytes;
`load_result` refuses a document whose signature does not verify, and `auditor verify
RESULT --key PUB` also checks that the key is the one expected.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path
from typing import Any

from auditor.core.hashing import canonical
from auditor.errors import AuditInputError, Problem, fail

ALGORITHM = "Ed25519"
PASSPHRASE_ENV = "AUDITOR_KEY_PASSPHRASE"  # for an encrypted private key file
INSTALL = 'pip install "release-auditor[sign]" (or pip install "cryptography>=42")'


def _crypto() -> Any:
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError as exc:
        raise fail("command line", "--sign", "needs the cryptography package", INSTALL) from exc
    return serialization, ed25519


def fingerprint(public_raw: bytes) -> str:
    """The key's fingerprint: SHA-256 of its 32 raw bytes, first 16 bytes in hex pairs."""
    digest = hashlib.sha256(public_raw).hexdigest()[:32]
    return ":".join(digest[i : i + 4] for i in range(0, 32, 4))


def _public_raw(key: Any) -> bytes:
    serialization, _ = _crypto()
    return bytes(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def public_key_path(private_path: Path) -> Path:
    """Where `generate_key` writes the public half of `private_path`."""
    return private_path.with_name(private_path.stem + ".pub.pem")


def generate_key(private_path: Path) -> tuple[Path, str]:
    """Write a new private key (PEM, PKCS#8, owner-only permissions; encrypted when
    $AUDITOR_KEY_PASSPHRASE is set) and its public key beside it (`.pub.pem`)."""
    serialization, ed25519 = _crypto()
    key = ed25519.Ed25519PrivateKey.generate()
    passphrase = os.environ.get(PASSPHRASE_ENV)
    encryption = (
        serialization.BestAvailableEncryption(passphrase.encode())
        if passphrase
        else serialization.NoEncryption()
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    public_path = public_key_path(private_path)
    private_path.parent.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    try:  # O_EXCL: neither half of an existing pair is ever replaced, even in a race
        for path, data, mode in ((private_path, pem, 0o600), (public_path, public_pem, 0o644)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
            written.append(path)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
    except FileExistsError as exc:
        for path in written:
            path.unlink(missing_ok=True)
        raise fail(
            str(exc.filename),
            "--out",
            "exists already (a key pair is never replaced)",
            "choose a new file name, or move the old pair away first",
        ) from exc
    return public_path, fingerprint(_public_raw(key.public_key()))


def _read_key(path: Path, *, private: bool, option: str) -> Any:
    serialization, ed25519 = _crypto()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise fail(str(path), option, exc.strerror or "cannot be read", "check the path") from exc
    try:
        if private:
            passphrase = os.environ.get(PASSPHRASE_ENV)
            key = serialization.load_pem_private_key(
                data, password=passphrase.encode() if passphrase else None
            )
        else:
            key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        kind = "private" if private else "public"
        fix = f"use the PEM {kind} key written by `auditor keygen`"
        if private:
            fix += f" (set ${PASSPHRASE_ENV} for an encrypted one)"
        raise fail(str(path), option, f"is not a readable {kind} key", fix) from exc
    wanted = ed25519.Ed25519PrivateKey if private else ed25519.Ed25519PublicKey
    if not isinstance(key, wanted):
        raise fail(str(path), option, f"is not an {ALGORITHM} key", "use `auditor keygen`")
    return key


def key_problems(private_key: Path) -> list[Problem]:
    """Why `private_key` cannot sign (checked before a run, so the run is not lost)."""
    try:
        _read_key(private_key, private=True, option="--sign")
    except AuditInputError as exc:
        return exc.problems
    return []


def signed_bytes(document: dict[str, Any]) -> bytes:
    """The bytes a signature covers: the sealed document's canonical text without the
    signature itself."""
    return canonical({k: v for k, v in document.items() if k != "signature"}).encode()


def sign(document: dict[str, Any], private_key: Path) -> dict[str, Any]:
    """`document` (sealed) with its signature by the key in `private_key`."""
    key = _read_key(private_key, private=True, option="--sign")
    public = _public_raw(key.public_key())
    value = key.sign(signed_bytes(document))
    return {
        **document,
        "signature": {
            "algorithm": ALGORITHM,
            "public_key": base64.b64encode(public).decode(),
            "fingerprint": fingerprint(public),
            "value": base64.b64encode(value).decode(),
        },
    }


def signature_problems(document: dict[str, Any], where: str) -> list[Problem]:
    """Why a signed document's signature does not verify (empty: unsigned, or valid)."""
    signature = document.get("signature")
    if signature is None:
        return []
    fix = "the result was edited after it was signed: re-run and re-sign the audit"
    try:
        _, ed25519 = _crypto()
        public = base64.b64decode(signature["public_key"], validate=True)
        value = base64.b64decode(signature["value"], validate=True)
        key = ed25519.Ed25519PublicKey.from_public_bytes(public)
        key.verify(value, signed_bytes(document))
    except AuditInputError:
        raise
    except Exception:  # InvalidSignature, a malformed field, a wrong key length
        return [Problem(where, "signature", "does not verify", fix)]
    if signature.get("algorithm") != ALGORITHM or signature.get("fingerprint") != fingerprint(
        public
    ):
        return [Problem(where, "signature", "names another algorithm or fingerprint", fix)]
    return []


def verify(document: dict[str, Any], public_key: Path) -> str | None:
    """None when `document` (already loaded, so its signature verifies) is signed by the key
    in `public_key`; otherwise why not."""
    key = _read_key(public_key, private=False, option="--key")
    expected = fingerprint(_public_raw(key))
    signature = document.get("signature")
    if signature is None:
        return "the result is not signed"
    if signature.get("fingerprint") != expected:
        return f"signed by key {signature.get('fingerprint')}, not by {expected}"
    return None
