"""OAuth2 for the Web API: authorization-code exchange and refresh on expiry.

Nuki issues access tokens valid for an hour and refresh tokens valid for 90 days, and hands
out a *new* refresh token on every refresh, so the caller must persist each pair: the
``on_token`` callback receives it (Home Assistant updates its config entry there).
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, Self
from urllib.parse import urlencode

import attrs

from nukiasync.const import DEFAULT_WEB_URL
from nukiasync.errors import (
    NukiAuthenticationError,
    NukiBadRequestError,
    NukiInvalidResponseError,
)

if TYPE_CHECKING:
    from nukiasync.web._core import WebApiCore

_LOGGER = logging.getLogger(__name__)

# Refresh this long before the advertised expiry: clocks differ and a request takes time.
REFRESH_MARGIN = timedelta(seconds=60)
TOKEN_PATH = "/oauth/token"  # noqa: S105  (a path, not a password)
AUTHORIZE_PATH = "/oauth/authorize"

TokenCallback = Callable[["OAuth2Token"], Awaitable[None] | None]


@attrs.frozen(kw_only=True)
class OAuth2Token:
    """An access token and the refresh token that renews it."""

    access_token: str = attrs.field(repr=False)
    refresh_token: str | None = attrs.field(default=None, repr=False)
    expires_at: datetime | None = None
    scope: str = ""
    token_type: str = "bearer"  # noqa: S105

    @classmethod
    def from_api(cls, data: Mapping[str, Any], *, now: datetime) -> Self:
        """Build from the token endpoint's JSON answer."""
        expires_in = data.get("expires_in")
        expires_at = None
        if isinstance(expires_in, int | float) and not isinstance(expires_in, bool):
            expires_at = now + timedelta(seconds=float(expires_in))
        refresh = data.get("refresh_token")
        return cls(
            access_token=str(data["access_token"]),
            refresh_token=str(refresh) if refresh else None,
            expires_at=expires_at,
            scope=str(data.get("scope") or ""),
            token_type=str(data.get("token_type") or "bearer"),
        )

    def expires_soon(self, now: datetime) -> bool:
        """Whether the access token should be renewed before the next request."""
        return self.expires_at is not None and now >= self.expires_at - REFRESH_MARGIN


class NukiOAuth2:
    """Client credentials plus the current token pair; refreshes when the token expires."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        token: OAuth2Token | None = None,
        on_token: TokenCallback | None = None,
        client_auth: Literal["body", "basic"] = "body",
    ) -> None:
        if not client_id or not client_secret:
            msg = "client_id and client_secret must not be empty"
            raise ValueError(msg)
        self.client_id = client_id
        self._client_secret = client_secret
        self._token = token
        self._on_token = on_token
        self._client_auth = client_auth
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        state = "with token" if self._token else "no token"
        return f"NukiOAuth2(client_id={self.client_id!r}, {state})"

    @property
    def token(self) -> OAuth2Token | None:
        """The current token pair, if any."""
        return self._token

    def authorization_url(
        self,
        redirect_uri: str,
        scopes: list[str],
        state: str,
        *,
        base_url: str = DEFAULT_WEB_URL,
    ) -> str:
        """The URL to send the user to; Nuki redirects back with ``code`` and ``state``."""
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": redirect_uri,
                "scope": " ".join(scopes),
                "state": state,
            }
        )
        return f"{base_url.rstrip('/')}{AUTHORIZE_PATH}?{query}"

    async def access_token(self, core: WebApiCore, *, force_refresh: bool = False) -> str:
        """A valid access token, refreshed first when it expires soon (or on request).

        Raises:
            NukiAuthenticationError: no token yet, or the refresh token was rejected.
        """
        token = self._token
        now = core._clock()  # noqa: SLF001  (the core owns the injected clock)
        if token is not None and not force_refresh and not token.expires_soon(now):
            return token.access_token
        async with self._lock:
            if self._token is not token and self._token is not None:
                return self._token.access_token  # another request refreshed meanwhile
            return (await self.refresh(core)).access_token

    async def exchange_code(self, core: WebApiCore, code: str, redirect_uri: str) -> OAuth2Token:
        """Trade an authorization code for the first token pair."""
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        return await self._token_request(core, form)

    async def refresh(self, core: WebApiCore) -> OAuth2Token:
        """Renew the token pair with the refresh token.

        Raises:
            NukiAuthenticationError: there is no refresh token, or Nuki rejected it.
        """
        if self._token is None or not self._token.refresh_token:
            msg = "No OAuth2 refresh token: authorize again"
            raise NukiAuthenticationError(msg)
        form = {"grant_type": "refresh_token", "refresh_token": self._token.refresh_token}
        return await self._token_request(core, form)

    async def _token_request(self, core: WebApiCore, form: dict[str, str]) -> OAuth2Token:
        headers = {"Accept": "application/json"}
        if self._client_auth == "basic":
            pair = f"{self.client_id}:{self._client_secret}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        else:
            form = {**form, "client_id": self.client_id, "client_secret": self._client_secret}
        try:
            data = await core._post_form(TOKEN_PATH, form, headers)  # noqa: SLF001
        except (NukiBadRequestError, NukiAuthenticationError) as err:
            grant = form["grant_type"]
            msg = f"Nuki refused the OAuth2 {grant} grant ({err.status}): authorize again"
            raise NukiAuthenticationError(msg, status=err.status) from err
        if not isinstance(data, Mapping) or not data.get("access_token"):
            msg = "The OAuth2 token endpoint answered without an access_token"
            raise NukiInvalidResponseError(msg, status=200)
        old = self._token
        token = OAuth2Token.from_api(data, now=core._clock())  # noqa: SLF001
        if token.refresh_token is None and old is not None:
            token = attrs.evolve(token, refresh_token=old.refresh_token)
        self._token = token
        _LOGGER.debug(
            "OAuth2 token renewed (%s), expires at %s", form["grant_type"], token.expires_at
        )
        if self._on_token is not None:
            try:
                result = self._on_token(token)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                # The caller's bug; the request that needed the token still goes ahead.
                _LOGGER.exception("The on_token callback failed; the new token was not saved")
        return token
