"""Ours and the peer behind one shape, so every workload is sent the same way to both."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from .load import Request
from .ours import Ours
from .peer import Peer
from .workloads import Workload


@dataclass
class Side:
    name: str  # "ours" or "peer" (or, at scale, ours with few or many rows)
    base_url: str
    client: tuple[str, str]
    mint: Callable[[str, int], list[str]]  # ("codes" | "refresh", count) -> values
    access_token: Callable[[], str]
    pids: Callable[[], list[int]]
    sign_in_form: Callable[[], tuple[str, str]] | None = None
    is_peer: bool = False

    def path(self, workload: Workload) -> str:
        return workload.peer_path if self.is_peer else workload.ours_path


@dataclass(frozen=True)
class Shared:
    """Values both sides' requests carry."""

    redirect_uri: str
    verifier: str
    identifier: str
    password: str


def build_request(side: Side, workload: Workload, shared: Shared, values: list[str] | None,
                  scratch: Path) -> Request:  # fmt: skip
    """The wrk request for one run; single-use values are written to a file for the script."""
    body = workload.body
    authorization, cookie, expect = "", "", 200
    if body is not None:
        body = (
            body.replace("{redirect_uri}", quote(shared.redirect_uri, safe=""))
            .replace("{verifier}", shared.verifier)
            .replace("{identifier}", quote(shared.identifier, safe=""))
            .replace("{password}", quote(shared.password, safe=""))
        )
    if workload.client_auth:
        pair = f"{quote(side.client[0], safe='')}:{quote(side.client[1], safe='')}"
        authorization = "Basic " + base64.b64encode(pair.encode()).decode()
    if workload.bearer or (body and "{token}" in body):
        token = side.access_token()
        if workload.bearer:
            authorization = f"Bearer {token}"
        else:
            body = body.replace("{token}", token)
    if body and "{csrf}" in body:
        cookie, csrf = side.sign_in_form()
        body = body.replace("{csrf}", quote(csrf, safe=""))
        expect = 302  # a completed sign-in redirects to /account
    values_file = None
    if values is not None:
        values_file = scratch / f"{side.name}-{workload.name}.values"
        values_file.write_text("\n".join(values) + "\n")
    return Request(base_url=side.base_url, path=side.path(workload), method=workload.method,
                   body=body, values_file=values_file, authorization=authorization,
                   cookie=cookie, expect=expect)  # fmt: skip


def our_side(ours: Ours, alg: str, name: str = "ours") -> Side:
    def mint(kind: str, count: int) -> list[str]:
        if kind == "codes":
            return ours.mint_codes(alg, count)
        return ours.mint_refresh_tokens(alg, count)

    return Side(name, ours.issuer, ours.clients[alg], mint,
                lambda: ours.member_access_token(alg), ours.worker_pids,
                sign_in_form=ours.sign_in_form)  # fmt: skip


def peer_side(peer: Peer) -> Side:
    def mint(kind: str, count: int) -> list[str]:
        return peer.mint_codes(count) if kind == "codes" else peer.mint_refresh_tokens(count)

    return Side("peer", peer.issuer, peer.client, mint, peer.member_access_token,
                peer.worker_pids, is_peer=True)  # fmt: skip
