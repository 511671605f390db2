"""Typed settings: TOML file (BENEFITS_CONFIG or --config), then BENEFITS_<SECTION>_<KEY>.

Unknown keys and invalid values stop start-up with a message that names the key. With no file
at all the app runs on development defaults beside `idp demo` (issuer http://127.0.0.1:5000).
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_type_hints
from urllib.parse import urlsplit

DEV_SECRET_KEY = "dev-insecure-benefits-secret-key-do-not-use-in-production"


class ConfigError(Exception):
    """A setting is unknown or invalid; the message names it."""


@dataclass(frozen=True)
class OidcSettings:
    issuer: str = "http://127.0.0.1:5000"
    client_id: str = "benefits-demo"
    client_secret: str = ""
    # A private key (JWK file) instead of the secret: private_key_jwt, PAR and DPoP.
    key_file: str = ""
    timeout: float = 10.0


@dataclass(frozen=True)
class ServerSettings:
    base_url: str = "http://127.0.0.1:5001"
    secret_key: str = DEV_SECRET_KEY
    session_lifetime: int = 28800
    workers: int = 2
    threads: int = 4


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = ""


@dataclass(frozen=True)
class MailSettings:
    backend: str = "outbox"  # outbox (one .eml file per message) or smtp
    outbox_dir: str = ""
    from_address: str = "Benefits Service <benefits@localhost>"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_security: str = "none"  # none, starttls or tls
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_timeout: float = 10.0


@dataclass(frozen=True)
class DocumentSettings:
    dir: str = ""
    max_bytes: int = 5 * 1024 * 1024


@dataclass(frozen=True)
class PlanningSettings:
    """Retirement planning parameters; their sources are in config.example.toml."""

    pension_age: int = 59
    yearly_return_bp: int = 550
    jht_rate_bp: int = 570
    jp_rate_bp: int = 300
    jp_accrual_bp: int = 100
    jp_min_months: int = 180
    jp_min_pension: int = 300_000
    jp_max_pension: int = 3_600_000
    jp_wage_cap: int = 7_000_000


@dataclass(frozen=True)
class Settings:
    oidc: OidcSettings = field(default_factory=OidcSettings)
    server: ServerSettings = field(default_factory=ServerSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    mail: MailSettings = field(default_factory=MailSettings)
    documents: DocumentSettings = field(default_factory=DocumentSettings)
    planning: PlanningSettings = field(default_factory=PlanningSettings)
    base_dir: Path = field(default_factory=Path.cwd, compare=False)

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{self.base_dir / 'instance' / 'benefits.sqlite3'}"

    @property
    def oidc_key_path(self) -> Path:
        path = Path(self.oidc.key_file).expanduser()
        return path if path.is_absolute() else self.base_dir / path

    @property
    def instance_dir(self) -> Path:
        return self.base_dir / "instance"

    @property
    def mail_outbox_dir(self) -> Path:
        return Path(self.mail.outbox_dir) if self.mail.outbox_dir else self.instance_dir / "outbox"

    @property
    def documents_dir(self) -> Path:
        """Uploaded claim documents: outside the web root (static/), under the instance dir."""
        if self.documents.dir:
            return Path(self.documents.dir)
        return self.instance_dir / "data" / "documents"

    @property
    def redirect_uri(self) -> str:
        return f"{self.server.base_url}/auth/callback"

    @property
    def post_logout_redirect_uri(self) -> str:
        return f"{self.server.base_url}/"

    @property
    def is_https(self) -> bool:
        return urlsplit(self.server.base_url).scheme == "https"


SECTIONS: dict[str, type] = {
    f.name: get_type_hints(Settings)[f.name] for f in fields(Settings) if f.name != "base_dir"
}
PARSERS: dict[Any, type] = {str: str, int: int, float: float}


def _types(section: str) -> dict[str, Any]:
    return get_type_hints(SECTIONS[section])


def _accepts(kind: Any, value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int | float) if kind is float else isinstance(value, kind)


def _merge(values: dict, source: Mapping[str, Any], origin: str) -> None:
    for section, entries in source.items():
        if section not in SECTIONS or not isinstance(entries, Mapping):
            raise ConfigError(f"[{section}]: unknown section ({origin})")
        types = _types(section)
        for key, value in entries.items():
            if key not in types:
                raise ConfigError(f"[{section}] {key}: unknown setting ({origin})")
            if not _accepts(types[key], value):
                raise ConfigError(f"[{section}] {key}: must be {types[key].__name__} ({origin})")
            values.setdefault(section, {})[key] = types[key](value)


def _from_environment(environ: Mapping[str, str]) -> dict:
    values: dict = {}
    for name, raw in environ.items():
        if not name.startswith("BENEFITS_") or name == "BENEFITS_CONFIG":
            continue
        rest = name.removeprefix("BENEFITS_").lower()
        section = next((s for s in SECTIONS if rest.startswith(s + "_")), None)
        key = rest[len(section) + 1 :] if section else ""
        if section is None or key not in _types(section):
            raise ConfigError(f"{name}: unknown setting")
        try:
            values.setdefault(section, {})[key] = PARSERS[_types(section)[key]](raw)
        except ValueError as error:
            raise ConfigError(f"{name}: [{section}] {key} must be a number") from error
    return values


def _read(path: Path) -> dict:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as error:
        raise ConfigError(f"config file {path}: not found") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"config file {path}: invalid TOML: {error}") from error


def _is_loopback(host: str | None) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def _check(condition: bool, key: str, message: str) -> None:
    if not condition:
        raise ConfigError(f"{key}: {message}")


def _check_url(url: str, key: str) -> None:
    parts = urlsplit(url)
    _check(parts.scheme in ("http", "https") and bool(parts.netloc), key,
           "must be an absolute http(s) URL")  # fmt: skip
    _check(not (parts.query or parts.fragment or url.endswith("/")), key,
           "must have no query, fragment or trailing slash")  # fmt: skip
    _check(parts.scheme == "https" or _is_loopback(parts.hostname), key,
           "must use https (http only on loopback)")  # fmt: skip


def _validate(s: Settings) -> None:
    _check_url(s.oidc.issuer, "[oidc] issuer")
    _check_url(s.server.base_url, "[server] base_url")
    _check(bool(s.oidc.client_id), "[oidc] client_id", "must not be empty")
    for key, value in {
        "[oidc] timeout": s.oidc.timeout,
        "[server] session_lifetime": s.server.session_lifetime,
        "[server] workers": s.server.workers,
        "[server] threads": s.server.threads,
        "[mail] smtp_port": s.mail.smtp_port,
        "[mail] smtp_timeout": s.mail.smtp_timeout,
        "[documents] max_bytes": s.documents.max_bytes,
        "[planning] pension_age": s.planning.pension_age,
        "[planning] jht_rate_bp": s.planning.jht_rate_bp,
        "[planning] jp_rate_bp": s.planning.jp_rate_bp,
        "[planning] jp_accrual_bp": s.planning.jp_accrual_bp,
        "[planning] jp_min_months": s.planning.jp_min_months,
        "[planning] jp_max_pension": s.planning.jp_max_pension,
        "[planning] jp_wage_cap": s.planning.jp_wage_cap,
    }.items():
        _check(value > 0, key, "must be positive")
    _check(s.mail.backend in ("outbox", "smtp"), "[mail] backend", "must be outbox or smtp")
    _check(s.mail.smtp_security in ("none", "starttls", "tls"), "[mail] smtp_security",
           "must be none, starttls or tls")  # fmt: skip
    _check("@" in s.mail.from_address, "[mail] from_address", "must be an email address")
    _check(0 <= s.planning.yearly_return_bp <= 5000, "[planning] yearly_return_bp",
           "must be between 0 and 5000 (50 %)")  # fmt: skip
    _check(0 <= s.planning.jp_min_pension <= s.planning.jp_max_pension,
           "[planning] jp_min_pension", "must be between 0 and jp_max_pension")  # fmt: skip
    if not _is_loopback(urlsplit(s.server.base_url).hostname):
        secret = s.server.secret_key
        _check(secret != DEV_SECRET_KEY and len(secret) >= 32, "[server] secret_key",
               "must be your own secret of 32 characters or more off loopback")  # fmt: skip


def load_settings(
    path: str | os.PathLike | None = None, *, environ: Mapping[str, str] | None = None
) -> Settings:
    """Load settings: defaults < file < environment; validate the result."""
    environ = os.environ if environ is None else environ
    path = path or environ.get("BENEFITS_CONFIG") or None
    values: dict = {}
    if path:
        _merge(values, _read(Path(path)), str(path))
    for section, entries in _from_environment(environ).items():
        values.setdefault(section, {}).update(entries)
    settings = Settings(**{name: cls(**values.get(name, {})) for name, cls in SECTIONS.items()})
    _validate(settings)
    return settings
