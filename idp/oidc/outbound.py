"""Outbound HTTP to relying parties (logout tokens, client key sets), guarded against SSRF.

A redirect is answered as a failure, never followed: the URL the client registered is the
only place we send to or read from. Under the `public` policy (production's default) only
https URLs whose every resolved address is public are called, checked when the client is
registered and again at connect time, on the very address connected to, so a DNS answer
that changes in between (rebinding) cannot reach an internal host. `[outbound] allow` names
the trusted internal relying parties (hostnames or CIDR ranges) exempt from it.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..config import is_loopback
from ..extensions import settings


class OutboundRefused(OSError):
    """A destination the outbound policy does not allow (the same words whatever the reason)."""

    def __init__(self) -> None:
        super().__init__("destination not allowed")


@dataclass(frozen=True)
class Policy:
    public_only: bool
    allowed_hosts: frozenset[str]
    allowed_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]

    def host_allowed(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.allowed_hosts

    def address_allowed(self, address: str) -> bool:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if any(ip in network for network in self.allowed_networks):
            return True
        return ip.is_global and not ip.is_multicast

    def vetted_addresses(self, host: str, port: int) -> list[str]:
        """Resolve `host`; every address must be allowed (one bad answer refuses them all)."""
        try:
            answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as error:
            raise OutboundRefused() from error
        addresses = list(dict.fromkeys(answer[4][0] for answer in answers))
        if not addresses:
            raise OutboundRefused()
        if self.public_only and not self.host_allowed(host):
            if not all(self.address_allowed(address) for address in addresses):
                raise OutboundRefused()
        return addresses


def current_policy() -> Policy:
    """The policy from `[outbound]`: `auto` is `public` in production, `any` otherwise."""
    conf = settings().outbound
    mode = (
        conf.policy if conf.policy != "auto" else ("public" if settings().is_production else "any")
    )
    hosts, networks = set(), []
    for entry in conf.allow:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            hosts.add(entry.lower().rstrip("."))
    return Policy(mode == "public", frozenset(hosts), tuple(networks))


def check_destination(url: str, policy: Policy | None = None) -> bool:
    """Whether a relying party's URL may be registered for us to call."""
    policy = policy or current_policy()
    parts = urlsplit(url)
    if not parts.hostname:
        return False
    if not policy.public_only:
        # Development: https anywhere, or http on this machine.
        return parts.scheme == "https" or (parts.scheme == "http" and is_loopback(parts.hostname))
    if parts.scheme != "https":
        return False
    try:
        policy.vetted_addresses(parts.hostname, parts.port or 443)
    except OutboundRefused:
        return False
    return True


def _vetting_connection(policy: Policy):
    """socket.create_connection, but only to addresses the policy allows, checked now."""

    def create_connection(address, timeout=socket._GLOBAL_DEFAULT_TIMEOUT, source_address=None):
        host, port = address
        last_error: OSError = OutboundRefused()
        for vetted in policy.vetted_addresses(host, port):
            try:
                return socket.create_connection((vetted, port), timeout, source_address)
            except OSError as error:
                last_error = error
        raise last_error

    return create_connection


def _guarded(connection_class, policy: Policy):
    class Guarded(connection_class):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self._create_connection = _vetting_connection(policy)

    return Guarded


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class _GuardedHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, policy: Policy) -> None:
        super().__init__()
        self.connection = _guarded(http.client.HTTPConnection, policy)

    def http_open(self, req):
        return self.do_open(self.connection, req)


class _GuardedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, policy: Policy) -> None:
        super().__init__()
        self.connection = _guarded(http.client.HTTPSConnection, policy)

    def https_open(self, req):
        return self.do_open(self.connection, req, context=self._context)


def opener(policy: Policy | None = None) -> urllib.request.OpenerDirector:
    """An opener that follows no redirect and connects only where the policy allows.

    Build it inside the app (it reads settings); it can then be used from any thread.
    """
    policy = policy or current_policy()
    handlers: list = [_NoRedirects()]
    if policy.public_only:
        # Direct connections only: a proxy would connect for us, to an address we never saw.
        handlers += [
            urllib.request.ProxyHandler({}),
            _GuardedHTTPHandler(policy),
            _GuardedHTTPSHandler(policy),
        ]
    return urllib.request.build_opener(*handlers)
