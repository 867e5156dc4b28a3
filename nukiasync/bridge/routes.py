"""The callback paths of a `CallbackServer`, and what it decides from a request's head alone.

Each bridge gets its own path, ``/nukiasync/<bridge_id>/<path_secret>``, with a secret of
192 bits from `secrets` compared in constant time. Both ways a request reaches the server
(aiohttp's protocol, or the fast lane for the plain requests a bridge sends) ask
:meth:`RouteTable.check_head` the same question, so they refuse the same requests the same
way, before a byte of the body is read.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
from typing import TYPE_CHECKING

import attrs

from nukiasync.bridge.callback_urls import CALLBACK_PATH_ROOT
from nukiasync.bridge.receiver import CallbackReceiver, RejectReason

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

_LOGGER = logging.getLogger(__name__)

SECRET_BYTES = 24  # 192 bits; token_urlsafe makes 32 URL-safe characters of them
MIN_SECRET_LENGTH = 22  # 22 base64 characters carry 128 bits, the floor we accept
BRIDGE_ID = re.compile(r"[A-Za-z0-9._~-]{1,64}")


@attrs.frozen
class Route:
    """One bridge's receiver and path secret; ``owned`` receivers close with the server."""

    receiver: CallbackReceiver
    secret: bytes = attrs.field(repr=False)
    owned: bool


class RouteTable:
    """The routes by bridge id, and the count of requests to no route."""

    def __init__(self) -> None:
        self._routes: dict[str, Route] = {}
        self.unknown_path = 0

    def __iter__(self) -> Iterator[str]:
        return iter(self._routes)

    def __len__(self) -> int:
        return len(self._routes)

    def __getitem__(self, bridge_id: str) -> Route:
        return self._routes[bridge_id]

    def routes(self) -> Iterable[Route]:
        """Every route, in the order they were added."""
        return self._routes.values()

    def add(self, receiver: CallbackReceiver, *, path_secret: str | None, owned: bool) -> None:
        """Give a receiver its path.

        Raises:
            ValueError: the bridge id is taken or invalid, or the secret is weak.
        """
        key = receiver.bridge_id
        if not BRIDGE_ID.fullmatch(key) or key in self._routes:
            msg = f"bridge_id must be unique, 1-64 of A-Z a-z 0-9 . _ ~ -: {key!r}"
            raise ValueError(msg)
        if path_secret is None:
            path_secret = secrets.token_urlsafe(SECRET_BYTES)
        elif len(path_secret) < MIN_SECRET_LENGTH or not BRIDGE_ID.fullmatch(path_secret):
            msg = f"path_secret must be >= {MIN_SECRET_LENGTH} URL-safe characters"
            raise ValueError(msg)
        self._routes[key] = Route(receiver, path_secret.encode(), owned)

    def get(self, bridge_id: str | None) -> Route:
        """The route of a bridge (the only one when ``bridge_id`` is None).

        Raises:
            KeyError: no such bridge.
        """
        if bridge_id is None and len(self._routes) == 1:
            return next(iter(self._routes.values()))
        if bridge_id is None or bridge_id not in self._routes:
            msg = f"no callback path for bridge {bridge_id!r}"
            raise KeyError(msg)
        return self._routes[bridge_id]

    def path(self, bridge_id: str | None) -> str:
        """The path of a bridge's callbacks; it holds the secret, never log it.

        Raises:
            KeyError: no such bridge.
        """
        route = self.get(bridge_id)
        return f"{CALLBACK_PATH_ROOT}{route.receiver.bridge_id}/{route.secret.decode()}"

    def is_bridge_peer(self, host: str | None) -> bool:
        """Whether a TCP peer is an allowed source (or trusted proxy) of any bridge."""
        return any(route.receiver.is_allowed_peer(host) for route in self._routes.values())

    def check_head(
        self,
        path: str,
        remote: str | None,
        *,
        method: str,
        content_length: int | None,
        forwarded_for: str | None,
        content_encoding: Iterable[str] | None,
    ) -> tuple[CallbackReceiver | None, int]:
        """Route a request and run every check its head allows; each refusal is counted.

        Returns the receiver and 0 when the body should be read next, else the receiver
        (None for an unknown path) and the status to answer, closing the connection:
        the body is left unread.
        """
        route, presented = self._route(path)
        if route is None:
            self.unknown_path += 1
            _LOGGER.debug("Callback to an unknown path from %s", remote)
            return None, 404
        receiver = route.receiver
        if not hmac.compare_digest(presented, route.secret):
            return receiver, receiver.reject(RejectReason.SECRET, remote).status
        rejection = receiver.precheck(
            remote,
            forwarded_for=forwarded_for,
            method=method,
            content_length=content_length,
            content_encoding=content_encoding,
        )
        if rejection is not None:
            return receiver, receiver.reject(rejection, remote).status
        return receiver, 0

    def _route(self, path: str) -> tuple[Route | None, bytes]:
        if not path.startswith(CALLBACK_PATH_ROOT):
            return None, b""
        bridge_id, _, secret = path[len(CALLBACK_PATH_ROOT) :].partition("/")
        return self._routes.get(bridge_id), secret.encode("utf-8", "surrogateescape")
