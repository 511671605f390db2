"""Client records held per process, so the hot endpoints skip one SELECT per request.

The token, revocation, introspection and userinfo endpoints look their client up on every
request. A record is kept for `[keys] refresh_seconds`, the same bound within which a key
rotation reaches every node: a client changed or deleted on another node (or by the CLI) is
seen within that time, and at once in the process that changed it. Nothing is cached while
the setting is 0, nor is a client_id that matched no client.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import make_transient_to_detached

from ..db import db
from ..extensions import settings
from ..models import Client
from ..models.oauth import find_client


class ClientCache:
    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, Client]] = {}
        self._lock = threading.Lock()
        self.now: Callable[[], float] = time.monotonic  # a test may turn it

    def get(self, client_id: str | None) -> Client | None:
        """The client, bound to this request's session (as a query would return it)."""
        seconds = settings().keys.refresh_seconds
        if not client_id or seconds <= 0:
            return find_client(client_id)
        entry = self._entries.get(client_id)
        if entry is not None and self.now() - entry[0] < seconds:
            # load=False: the session takes the kept values as they are, without a query.
            return db.session.merge(entry[1], load=False)
        client = find_client(client_id)
        if client is not None:
            with self._lock:
                self._entries[client_id] = (self.now(), _detached_copy(client))
        return client

    def forget(self, client_id: str) -> None:
        with self._lock:
            self._entries.pop(client_id, None)


def _detached_copy(client: Client) -> Client:
    """A copy of the row's values that belongs to no session (the original will expire)."""
    values = {column.key: getattr(client, column.key) for column in Client.__mapper__.column_attrs}
    copy = Client(**values)
    make_transient_to_detached(copy)
    return copy


def cached_client(client_id: str | None) -> Client | None:
    return current_app.extensions["idp.clients"].get(client_id)


def forget_client(client_id: str) -> None:
    """Drop a changed or deleted client from this process's cache."""
    if has_app_context() and "idp.clients" in current_app.extensions:
        current_app.extensions["idp.clients"].forget(client_id)


@event.listens_for(Client, "after_update")
@event.listens_for(Client, "after_delete")
def _forget_changed(mapper, connection, target: Client) -> None:
    forget_client(target.client_id)


def init_app(app) -> None:
    app.extensions["idp.clients"] = ClientCache()
