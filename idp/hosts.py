"""The Host header is checked before Flask reads it: a malformed one is a 400, never a 500.

RFC 9110 §7.2 and RFC 3986 §3.2.2: a host is a DNS name (labels of 1-63 characters, 253 in
all), an IPv4 address or a bracketed IPv6 literal, with an optional port 1-65535. Werkzeug
would otherwise fail deep in URL building (IDNA encoding) on a label that is too long.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable

_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
_PORT = re.compile(r"[0-9]{1,5}")


def _valid_port(port: str) -> bool:
    return bool(_PORT.fullmatch(port)) and 0 < int(port) < 65536


def valid_host(value: str) -> bool:
    """Whether a Host header value is a well-formed host with an optional port."""
    if value.startswith("["):
        literal, bracket, rest = value[1:].partition("]")
        if not bracket:
            return False
        try:
            ipaddress.IPv6Address(literal)
        except ValueError:
            return False
        return rest == "" or (rest.startswith(":") and _valid_port(rest[1:]))
    host, _, port = value.partition(":")
    if port and not _valid_port(port) or (":" in value and not port):
        return False
    name = host[:-1] if host.endswith(".") else host
    labels = name.split(".")
    return (
        0 < len(name) <= 253
        and all(_LABEL.fullmatch(label) for label in labels)
        and all(_punycode_ok(label) for label in labels if label.lower().startswith("xn--"))
    )


def _punycode_ok(label: str) -> bool:
    """An IDNA A-label must decode (werkzeug decodes them when it builds URLs)."""
    try:
        label.encode("ascii").decode("idna")
    except UnicodeError:
        return False
    return True


class HostCheck:
    """WSGI middleware: refuse a request whose Host header is malformed with a plain 400."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        host = environ.get("HTTP_HOST")
        if host is not None and not valid_host(host):
            body = b"Bad Request: malformed Host header\n"
            start_response(
                "400 Bad Request",
                [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
            )
            return [body]
        return self.app(environ, start_response)
