"""Supporting documents of claims: PDF, JPEG or PNG recognised by their first bytes (never by
the file name or the browser's Content-Type), size-limited, stored outside the web root under
a random name, and read back only through the views that check who may see them."""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage

from .clock import utcnow
from .config import Settings
from .models import Claim, ClaimDocument

# File signatures: PDF 1.7 (ISO 32000-1 §7.5.2) header, PNG (RFC 2083 §3.1), JPEG SOI + marker.
SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


class DocumentError(ValueError):
    """An upload that is not accepted; the message is for the member's form."""


@dataclass(frozen=True)
class Upload:
    """A checked upload held in memory until the claim is saved."""

    name: str
    content_type: str
    data: bytes


def sniff(data: bytes) -> str | None:
    """The content type these bytes really have, or None when they are none we take."""
    return next((kind for magic, kind in SIGNATURES if data.startswith(magic)), None)


def _settings() -> Settings:
    return current_app.extensions["benefits.settings"]


def _clean_name(name: str) -> str:
    """A display name only (never a path): the last segment, safe characters, 100 at most."""
    base = re.split(r"[\\/]", name or "")[-1]
    return re.sub(r"[^\w.\- ]", "_", base).strip()[:100] or "document"


def check_upload(file: FileStorage | None) -> Upload:
    """Read and check one uploaded file; DocumentError names what is wrong."""
    limit = _settings().documents.max_bytes
    if file is None or not file.filename:
        raise DocumentError(_("Attach a supporting document (PDF, JPEG or PNG)."))
    data = file.stream.read(limit + 1)
    if not data:
        raise DocumentError(_("The file is empty."))
    if len(data) > limit:
        raise DocumentError(_("The file is larger than %(size)s.", size=size_limit()))
    kind = sniff(data)
    if kind is None:
        raise DocumentError(_("Only PDF, JPEG or PNG files are accepted."))
    return Upload(_clean_name(file.filename), kind, data)


def store(claim: Claim, upload: Upload) -> Path:
    """Write the bytes under a random name (temp file + rename) and attach the record."""
    directory = _settings().documents_dir
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    stored_name = secrets.token_urlsafe(32)
    temporary = directory / f".{stored_name}.tmp"
    with open(temporary, "wb") as handle:
        handle.write(upload.data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, directory / stored_name)
    claim.documents.append(
        ClaimDocument(
            stored_name=stored_name,
            original_name=upload.name,
            content_type=upload.content_type,
            size=len(upload.data),
            uploaded_at=utcnow(),
        )
    )
    return directory / stored_name


def discard(paths: list[Path]) -> None:
    """Remove files whose claim was not saved after all."""
    for path in paths:
        path.unlink(missing_ok=True)


def path_of(document: ClaimDocument) -> Path:
    return _settings().documents_dir / document.stored_name


def size_limit() -> str:
    """The upload limit as members read it: '5 MB', or '200 KB' under a megabyte."""
    limit = _settings().documents.max_bytes
    if limit >= 1024 * 1024:
        return f"{limit // (1024 * 1024)} MB"
    return f"{max(limit // 1024, 1)} KB"


def init_app(app: Flask) -> None:
    app.jinja_env.globals["document_size_limit"] = size_limit
