"""Typed settings: TOML file (IDP_CONFIG or --config), then IDP_<SECTION>_<KEY> overrides.

Unknown keys, wrong types and unsafe production values stop start-up with one message that
names the key.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_type_hints
from urllib.parse import urlsplit

DEV_SECRET_KEY = "dev-insecure-secret-key-do-not-use-in-production"
DEV_NIK_HMAC_KEY = "dev-insecure-nik-hmac-key-do-not-use-in-production"
EXAMPLE_SECRET_KEY = "change-me-to-a-long-random-string-of-at-least-32-chars"
EXAMPLE_NIK_HMAC_KEY = "change-me-to-another-long-random-string-32-chars"
# Key-encryption keys for private signing keys in the database (32 bytes, URL-safe base64).
DEV_KEY_ENCRYPTION_KEY = "ZGV2LWluc2VjdXJlLWtlay1kby1ub3QtdXNlLWl0ISE="
EXAMPLE_KEY_ENCRYPTION_KEY = "Y2hhbmdlLW1lLXRoaXMtaXMtdGhlLWV4YW1wbGUta2U="
LOCALES = {"id", "en"}
SIGNING_ALGORITHMS = {"RS256", "ES256", "PS256"}  # idp.keys.ALGORITHMS


class ConfigError(Exception):
    """A setting is unknown, of the wrong type, or unsafe; the message names it."""


@dataclass(frozen=True)
class ServerSettings:
    issuer: str = "http://127.0.0.1:5000"
    secret_key: str = DEV_SECRET_KEY
    env: str = "development"
    debug: bool = False
    instance_dir: str = "instance"
    max_body_bytes: int = 65536
    trusted_proxy_hops: int = 0
    engine: str = "granian"
    workers: int = 2
    threads: int = 4


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = ""
    echo: bool = False


@dataclass(frozen=True)
class KeysSettings:
    dir: str = "keys"
    rsa_bits: int = 2048
    algorithms: list[str] = field(default_factory=lambda: ["RS256", "ES256"])
    passphrase: str = ""
    encryption_keys: list[str] = field(default_factory=list)
    jwks_max_age: int = 3600
    refresh_seconds: int = 5


@dataclass(frozen=True)
class MailSettings:
    backend: str = "outbox"
    outbox_dir: str = ""
    from_address: str = "BPJS Portal <no-reply@localhost>"
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_security: str = "starttls"
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_timeout: float = 10.0


@dataclass(frozen=True)
class SmsSettings:
    backend: str = "outbox"
    outbox_dir: str = ""
    webhook_url: str = ""
    webhook_token: str = ""
    webhook_timeout: float = 5.0
    webhook_retries: int = 2


@dataclass(frozen=True)
class DeliverySettings:
    mode: str = "serve"
    poll_seconds: float = 2.0
    retry_delays: list[int] = field(default_factory=lambda: [30, 120, 600, 1800, 3600])


@dataclass(frozen=True)
class MetricsSettings:
    allow_from: list[str] = field(default_factory=lambda: ["127.0.0.0/8", "::1/128"])
    bearer_token: str = ""


@dataclass(frozen=True)
class HealthSettings:
    queue_stuck_seconds: int = 900


@dataclass(frozen=True)
class LogSettings:
    format: str = ""
    level: str = "INFO"


@dataclass(frozen=True)
class RetentionSettings:
    audit_days: int = 400
    delivered_days: int = 7
    session_days: int = 30
    throttle_days: int = 2
    purge_interval: int = 3600


@dataclass(frozen=True)
class PasswordSettings:
    argon2_time_cost: int = 2
    argon2_memory_cost: int = 19456  # KiB: OWASP's minimum of 19 MiB
    argon2_parallelism: int = 1
    min_length: int = 12
    max_length: int = 128
    max_concurrent_hashes: int = 2
    hash_wait_seconds: float = 5.0


@dataclass(frozen=True)
class SessionSettings:
    cookie_name: str = "idp_session"
    absolute_lifetime: int = 43200
    idle_lifetime: int = 1800


@dataclass(frozen=True)
class TokenSettings:
    code_lifetime: int = 60
    access_token_lifetime: int = 300
    id_token_lifetime: int = 600
    refresh_token_lifetime: int = 2592000
    refresh_token_idle_lifetime: int = 604800
    refresh_for_confidential_clients: bool = False
    access_token_alg: str = "RS256"


@dataclass(frozen=True)
class DpopSettings:
    require_nonce: bool = False
    proof_max_age: int = 60
    nonce_lifetime: int = 300


@dataclass(frozen=True)
class LogoutSettings:
    backchannel_timeout: float = 5.0
    retry_delays: list[int] = field(default_factory=lambda: [10, 60, 300])


@dataclass(frozen=True)
class RegistrationSettings:
    enabled: bool = True
    initial_access_token_lifetime: int = 86400


@dataclass(frozen=True)
class LockoutSettings:
    max_failures: int = 5
    window: int = 900
    lock_seconds: int = 300
    max_lock_seconds: int = 86400
    ip_max_failures: int = 30
    ip_window: int = 900


@dataclass(frozen=True)
class MfaSettings:
    policy: str = "optional"
    secret_keys: list[str] = field(default_factory=list)
    totp_issuer: str = "Portal Jaminan Sosial"


@dataclass(frozen=True)
class MembersSettings:
    nik_hmac_key: str = DEV_NIK_HMAC_KEY
    employee_upload_max_bytes: int = 2_097_152  # the employer portal's CSV upload (issue 20)


@dataclass(frozen=True)
class I18nSettings:
    default_locale: str = "id"
    locales: list[str] = field(default_factory=lambda: ["id", "en"])
    timezone: str = "Asia/Jakarta"


@dataclass(frozen=True)
class OutboundSettings:
    # "public": only https to public addresses; "any": development; "auto": public in production.
    policy: str = "auto"
    allow: list[str] = field(default_factory=list)  # trusted internal hosts or CIDR ranges


@dataclass(frozen=True)
class HelpSettings:
    """Contact details shown on /help and in every page's footer."""

    helpdesk_phone: str = "1500 910"
    helpdesk_email: str = "care@example.id"
    helpdesk_hours: str = "08:00-17:00 WIB"  # on working days (Monday to Friday)
    portal_host: str = ""  # the address members should see in the address bar; "" = the issuer's


@dataclass(frozen=True)
class Settings:
    server: ServerSettings = field(default_factory=ServerSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    keys: KeysSettings = field(default_factory=KeysSettings)
    mail: MailSettings = field(default_factory=MailSettings)
    sms: SmsSettings = field(default_factory=SmsSettings)
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    health: HealthSettings = field(default_factory=HealthSettings)
    log: LogSettings = field(default_factory=LogSettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    passwords: PasswordSettings = field(default_factory=PasswordSettings)
    session: SessionSettings = field(default_factory=SessionSettings)
    tokens: TokenSettings = field(default_factory=TokenSettings)
    dpop: DpopSettings = field(default_factory=DpopSettings)
    logout: LogoutSettings = field(default_factory=LogoutSettings)
    registration: RegistrationSettings = field(default_factory=RegistrationSettings)
    lockout: LockoutSettings = field(default_factory=LockoutSettings)
    mfa: MfaSettings = field(default_factory=MfaSettings)
    members: MembersSettings = field(default_factory=MembersSettings)
    i18n: I18nSettings = field(default_factory=I18nSettings)
    outbound: OutboundSettings = field(default_factory=OutboundSettings)
    help: HelpSettings = field(default_factory=HelpSettings)

    base_dir: Path = field(default_factory=Path.cwd, compare=False)

    def _path(self, value: str) -> Path:
        path = Path(value).expanduser()
        return path if path.is_absolute() else (self.base_dir / path).resolve()

    @property
    def instance_path(self) -> Path:
        return self._path(self.server.instance_dir)

    @property
    def keys_path(self) -> Path:
        return self._path(self.keys.dir)

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{self.instance_path / 'idp.sqlite3'}"

    @property
    def mail_outbox_dir(self) -> Path:
        return self._path(self.mail.outbox_dir or str(self.instance_path / "outbox" / "mail"))

    @property
    def sms_outbox_dir(self) -> Path:
        return self._path(self.sms.outbox_dir or str(self.instance_path / "outbox" / "sms"))

    @property
    def key_encryption_keys(self) -> list[str]:
        """[keys] encryption_keys, or the published development KEK outside production."""
        return self.keys.encryption_keys or [DEV_KEY_ENCRYPTION_KEY]

    @property
    def log_format(self) -> str:
        """[log] format, or JSON in production and text in development."""
        return self.log.format or ("json" if self.is_production else "text")

    @property
    def is_production(self) -> bool:
        return self.server.env == "production"

    @property
    def issuer_is_https(self) -> bool:
        return urlsplit(self.server.issuer).scheme == "https"


SECTIONS: dict[str, type] = {
    f.name: get_type_hints(Settings)[f.name] for f in fields(Settings) if f.name != "base_dir"
}


# -- Type conversion: one entry per field type -----------------------------------------------

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def _from_env_bool(raw: str) -> bool:
    if raw.lower() in _TRUE | _FALSE:
        return raw.lower() in _TRUE
    raise ValueError("must be true or false")


ENV_PARSERS: dict[Any, Callable[[str], Any]] = {
    str: str,
    int: int,
    float: float,
    bool: _from_env_bool,
    list[str]: lambda raw: [item.strip() for item in raw.split(",") if item.strip()],
    list[int]: lambda raw: [int(item) for item in raw.split(",") if item.strip()],
}

TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true or false",
    list[int]: "a list of integers",
}


def _accepts(kind: Any, value: Any) -> bool:
    if kind is bool:
        return isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == list[str]:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if kind == list[int]:
        return isinstance(value, list) and all(_accepts(int, v) for v in value)
    return isinstance(value, kind)


def _field_types(section: str) -> dict[str, Any]:
    return get_type_hints(SECTIONS[section])


def _merge(values: dict, source: Mapping[str, Any], origin: str) -> None:
    for section, entries in source.items():
        if section not in SECTIONS:
            raise ConfigError(f"[{section}]: unknown section ({origin})")
        if not isinstance(entries, Mapping):
            raise ConfigError(f"[{section}]: must be a table ({origin})")
        types = _field_types(section)
        for key, value in entries.items():
            if key not in types:
                raise ConfigError(f"[{section}] {key}: unknown setting ({origin})")
            kind = types[key]
            if not _accepts(kind, value):
                expected = TYPE_NAMES.get(kind, "a list of strings")
                raise ConfigError(
                    f"[{section}] {key}: must be {expected}, got {value!r} ({origin})"
                )
            values.setdefault(section, {})[key] = float(value) if kind is float else value


def _environment_values(environ: Mapping[str, str]) -> dict:
    values: dict = {}
    for name, raw in environ.items():
        if not name.startswith("IDP_") or name == "IDP_CONFIG":
            continue
        rest = name[4:].lower()
        section = next((s for s in SECTIONS if rest.startswith(s + "_")), None)
        if section is None:
            continue
        key = rest[len(section) + 1 :]
        types = _field_types(section)
        if key not in types:
            raise ConfigError(f"{name}: unknown setting [{section}] {key}")
        try:
            values.setdefault(section, {})[key] = ENV_PARSERS[types[key]](raw)
        except ValueError as error:
            raise ConfigError(f"{name}: [{section}] {key} {error}, got {raw!r}") from error
    return values


def _read_file(path: Path) -> dict:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as error:
        raise ConfigError(f"config file {path}: not found") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"config file {path}: invalid TOML: {error}") from error


# -- Validation: each rule names its key -----------------------------------------------------


def is_loopback(host: str | None) -> bool:
    """Whether a URL's host is this machine (http is acceptable there)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def _is_network_or_host(entry: str) -> bool:
    try:
        ipaddress.ip_network(entry, strict=False)
        return True
    except ValueError:
        labels = entry.rstrip(".").split(".")
        return all(label and len(label) <= 63 and label.replace("-", "").isalnum()
                   for label in labels)  # fmt: skip


def _is_fernet_key(key: str) -> bool:
    import base64
    import binascii

    try:
        return len(base64.urlsafe_b64decode(key.encode("ascii"))) == 32
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return False


def _is_network(value: str) -> bool:
    try:
        ipaddress.ip_network(value)
    except ValueError:
        return False
    return True


def _is_timezone(name: str) -> bool:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _check(condition: bool, key: str, message: str) -> None:
    if not condition:
        raise ConfigError(f"{key}: {message}")


def _validate(s: Settings) -> None:
    issuer = urlsplit(s.server.issuer)
    _check(s.server.env in ("development", "production"), "[server] env",
           "must be 'development' or 'production'")  # fmt: skip
    _check(s.server.engine in ("granian", "gunicorn"), "[server] engine",
           "must be 'granian' or 'gunicorn'")  # fmt: skip
    _check(s.outbound.policy in ("auto", "public", "any"), "[outbound] policy",
           "must be 'auto', 'public' or 'any'")  # fmt: skip
    for entry in s.outbound.allow:
        _check(_is_network_or_host(entry), "[outbound] allow",
               f"{entry!r} is neither a CIDR range nor a hostname")  # fmt: skip
    _check(issuer.scheme in ("http", "https") and bool(issuer.netloc), "[server] issuer",
           "must be an absolute http(s) URL")  # fmt: skip
    _check(not issuer.query and not issuer.fragment and not s.server.issuer.endswith("/"),
           "[server] issuer", "must have no query, fragment or trailing slash")  # fmt: skip
    positive = {
        "[server] max_body_bytes": s.server.max_body_bytes,
        "[members] employee_upload_max_bytes": s.members.employee_upload_max_bytes,
        "[server] workers": s.server.workers,
        "[server] threads": s.server.threads,
        "[passwords] argon2_time_cost": s.passwords.argon2_time_cost,
        "[passwords] argon2_memory_cost": s.passwords.argon2_memory_cost,
        "[passwords] argon2_parallelism": s.passwords.argon2_parallelism,
        "[passwords] max_concurrent_hashes": s.passwords.max_concurrent_hashes,
        "[session] absolute_lifetime": s.session.absolute_lifetime,
        "[session] idle_lifetime": s.session.idle_lifetime,
        "[tokens] code_lifetime": s.tokens.code_lifetime,
        "[tokens] access_token_lifetime": s.tokens.access_token_lifetime,
        "[tokens] id_token_lifetime": s.tokens.id_token_lifetime,
        "[tokens] refresh_token_lifetime": s.tokens.refresh_token_lifetime,
        "[tokens] refresh_token_idle_lifetime": s.tokens.refresh_token_idle_lifetime,
        "[logout] backchannel_timeout": s.logout.backchannel_timeout,
        "[dpop] proof_max_age": s.dpop.proof_max_age,
        "[dpop] nonce_lifetime": s.dpop.nonce_lifetime,
        "[registration] initial_access_token_lifetime": (
            s.registration.initial_access_token_lifetime
        ),
        "[mail] smtp_port": s.mail.smtp_port,
        "[mail] smtp_timeout": s.mail.smtp_timeout,
        "[sms] webhook_timeout": s.sms.webhook_timeout,
        "[lockout] max_failures": s.lockout.max_failures,
        "[lockout] window": s.lockout.window,
        "[lockout] lock_seconds": s.lockout.lock_seconds,
        "[lockout] ip_max_failures": s.lockout.ip_max_failures,
        "[lockout] ip_window": s.lockout.ip_window,
        "[health] queue_stuck_seconds": s.health.queue_stuck_seconds,
        "[delivery] poll_seconds": s.delivery.poll_seconds,
        "[retention] audit_days": s.retention.audit_days,
        "[retention] delivered_days": s.retention.delivered_days,
        "[retention] session_days": s.retention.session_days,
        "[retention] throttle_days": s.retention.throttle_days,
        "[retention] purge_interval": s.retention.purge_interval,
    }
    for key, value in positive.items():
        _check(value > 0, key, "must be positive")
    _check(s.server.trusted_proxy_hops >= 0, "[server] trusted_proxy_hops", "must be 0 or more")
    _check(s.lockout.max_lock_seconds >= s.lockout.lock_seconds, "[lockout] max_lock_seconds",
           "must be at least [lockout] lock_seconds")  # fmt: skip
    _check(len(s.logout.retry_delays) <= 10 and all(d >= 0 for d in s.logout.retry_delays),
           "[logout] retry_delays", "must be at most 10 delays of 0 or more seconds")  # fmt: skip
    _check(s.delivery.mode in ("serve", "worker", "inline"), "[delivery] mode",
           "must be 'serve', 'worker' or 'inline'")  # fmt: skip
    _check(0 < len(s.delivery.retry_delays) <= 20 and all(d >= 0 for d in s.delivery.retry_delays),
           "[delivery] retry_delays", "must be 1 to 20 delays of 0 or more seconds")  # fmt: skip
    _check(all(_is_network(n) for n in s.metrics.allow_from), "[metrics] allow_from",
           "each must be a network such as '10.0.0.0/8' or '::1/128'")  # fmt: skip
    _check(not s.metrics.bearer_token or len(s.metrics.bearer_token) >= 32,
           "[metrics] bearer_token", "must be empty or at least 32 characters")  # fmt: skip
    _check(s.log.format in ("", "json", "text"), "[log] format", "must be 'json' or 'text'")
    _check(s.log.level in ("DEBUG", "INFO", "WARNING", "ERROR"), "[log] level",
           "must be DEBUG, INFO, WARNING or ERROR")  # fmt: skip
    _check(s.sms.webhook_retries >= 0, "[sms] webhook_retries", "must be 0 or more")
    _check(s.tokens.code_lifetime <= 60, "[tokens] code_lifetime",
           "must be at most 60 seconds (authorization codes are short-lived)")  # fmt: skip
    _check(s.keys.rsa_bits in (2048, 3072, 4096), "[keys] rsa_bits", "must be 2048, 3072 or 4096")
    _check("RS256" in s.keys.algorithms and set(s.keys.algorithms) <= SIGNING_ALGORITHMS,
           "[keys] algorithms", f"must hold RS256, of {sorted(SIGNING_ALGORITHMS)}")  # fmt: skip
    _check(not s.keys.passphrase or len(s.keys.passphrase) >= 16, "[keys] passphrase",
           "must be empty or at least 16 characters")  # fmt: skip
    _check(all(_is_fernet_key(k) for k in s.keys.encryption_keys), "[keys] encryption_keys",
           "each must be 32 random bytes in URL-safe base64 (`idp keys new-kek`)")  # fmt: skip
    _check(len(set(s.keys.encryption_keys)) == len(s.keys.encryption_keys),
           "[keys] encryption_keys", "must not repeat a key")  # fmt: skip
    _check(s.tokens.access_token_alg in s.keys.algorithms, "[tokens] access_token_alg",
           f"must be one of [keys] algorithms ({', '.join(s.keys.algorithms)})")  # fmt: skip
    _check(s.keys.jwks_max_age > 0, "[keys] jwks_max_age", "must be positive")
    _check(s.keys.refresh_seconds >= 0, "[keys] refresh_seconds", "must be 0 or more")
    _check(s.passwords.hash_wait_seconds >= 0, "[passwords] hash_wait_seconds",
           "must be 0 or more")  # fmt: skip
    _check(s.passwords.min_length >= 8, "[passwords] min_length", "must be at least 8")
    _check(s.passwords.max_length >= max(128, s.passwords.min_length + 1),
           "[passwords] max_length", "must be at least 128 and above min_length")  # fmt: skip
    _check(s.mail.backend in ("outbox", "smtp"), "[mail] backend", "must be 'outbox' or 'smtp'")
    _check(s.mail.smtp_security in ("starttls", "tls", "none"), "[mail] smtp_security",
           "must be 'starttls', 'tls' or 'none'")  # fmt: skip
    _check(s.sms.backend in ("outbox", "webhook"), "[sms] backend",
           "must be 'outbox' or 'webhook'")  # fmt: skip
    _check(bool(s.i18n.locales) and set(s.i18n.locales) <= LOCALES, "[i18n] locales",
           f"must be a non-empty subset of {sorted(LOCALES)}")  # fmt: skip
    _check(s.i18n.default_locale in s.i18n.locales, "[i18n] default_locale",
           "must be one of [i18n] locales")  # fmt: skip
    _check(_is_timezone(s.i18n.timezone), "[i18n] timezone",
           "must be an IANA time zone name such as 'Asia/Jakarta'")  # fmt: skip
    _check(s.mfa.policy in ("off", "optional", "required"), "[mfa] policy",
           "must be 'off', 'optional' or 'required'")  # fmt: skip
    _check(all(_is_fernet_key(k) for k in s.mfa.secret_keys), "[mfa] secret_keys",
           "each must be a Fernet key (32 bytes, URL-safe base64)")  # fmt: skip
    if s.mail.backend == "smtp":
        _check(bool(s.mail.smtp_host), "[mail] smtp_host", "is required with backend 'smtp'")
    if s.sms.backend == "webhook":
        _check(urlsplit(s.sms.webhook_url).scheme in ("http", "https"), "[sms] webhook_url",
               "must be an http(s) URL with backend 'webhook'")  # fmt: skip
    if s.is_production:
        _validate_production(s, issuer.hostname)


def _validate_production(s: Settings, host: str | None) -> None:
    _check(s.issuer_is_https or is_loopback(host), "[server] issuer",
           "must use https in production (loopback excepted)")  # fmt: skip
    secrets = {
        "[server] secret_key": (s.server.secret_key, {DEV_SECRET_KEY, EXAMPLE_SECRET_KEY}),
        "[members] nik_hmac_key": (
            s.members.nik_hmac_key,
            {DEV_NIK_HMAC_KEY, EXAMPLE_NIK_HMAC_KEY},
        ),
    }
    for key, (value, known) in secrets.items():
        _check(value not in known, key, "is a published example value; set your own secret")
        _check(len(value) >= 32, key, "must be at least 32 characters in production")
    _check(not s.server.debug, "[server] debug", "must be false in production")
    _check(bool(s.mfa.secret_keys), "[mfa] secret_keys",
           "is required in production (it encrypts TOTP secrets at rest)")  # fmt: skip
    _check(s.delivery.mode != "inline", "[delivery] mode",
           "must be 'serve' or 'worker' in production (inline sends within requests)")  # fmt: skip
    # Security invariant 6: private signing keys are sealed with a KEK only operators hold.
    _check(bool(s.keys.encryption_keys), "[keys] encryption_keys",
           "is required in production (it encrypts the private signing keys)")  # fmt: skip
    published = {DEV_KEY_ENCRYPTION_KEY, EXAMPLE_KEY_ENCRYPTION_KEY}
    _check(not published & set(s.keys.encryption_keys), "[keys] encryption_keys",
           "holds a published example value; make your own: `idp keys new-kek`")  # fmt: skip


def load_settings(
    path: str | os.PathLike | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> Settings:
    """Load settings: defaults < file < overrides < environment; validate the result."""
    environ = os.environ if environ is None else environ
    path = path or environ.get("IDP_CONFIG") or None
    values: dict = {}
    if path:
        config_path = Path(path)
        _merge(values, _read_file(config_path), str(config_path))
    if overrides:
        _merge(values, overrides, "overrides")
    for section, entries in _environment_values(environ).items():
        values.setdefault(section, {}).update(entries)
    base_dir = Path.cwd()
    settings = Settings(
        **{name: cls(**values.get(name, {})) for name, cls in SECTIONS.items()}, base_dir=base_dir
    )
    _validate(settings)
    return settings
