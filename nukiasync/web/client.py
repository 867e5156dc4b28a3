"""`NukiWebClient`: the whole Nuki Web API, one mixin per tag of the spec."""

from __future__ import annotations

from nukiasync.web.account import AccountMixin
from nukiasync.web.addresses import AddressesMixin
from nukiasync.web.advanced import AdvancedApiMixin
from nukiasync.web.apikeys import ApiKeysMixin
from nukiasync.web.auths import AuthsMixin
from nukiasync.web.logs import LogsMixin
from nukiasync.web.notifications import NotificationsMixin
from nukiasync.web.opener import OpenerMixin
from nukiasync.web.services import ServicesMixin
from nukiasync.web.smartlocks import SmartlocksMixin


class NukiWebClient(
    SmartlocksMixin,
    LogsMixin,
    AuthsMixin,
    AccountMixin,
    AddressesMixin,
    AdvancedApiMixin,
    ApiKeysMixin,
    NotificationsMixin,
    OpenerMixin,
    ServicesMixin,
):
    """Async client for the Nuki Web API (https://api.nuki.io).

    Pass an API token, or a `NukiOAuth2` that refreshes itself. Pass ``client=`` to borrow
    an `httpx.AsyncClient` (Home Assistant's shared one): it is never closed or changed;
    URL, headers and timeout go with each request. Without it, the client creates its own
    on first use and `close()` (or ``async with``) closes it.

    Reads are retried with jittered backoff (honouring Retry-After); writes and lock
    actions are sent exactly once, because a repeated unlatch opens a door twice.
    """

    async def exchange_code(self, code: str, redirect_uri: str) -> None:
        """Trade an OAuth2 authorization code for tokens (handed to ``on_token``).

        Raises:
            TypeError: the client was made with an API token, not `NukiOAuth2`.
        """
        if isinstance(self._token, str):
            msg = "exchange_code needs a client made with NukiOAuth2"
            raise TypeError(msg)
        await self._token.exchange_code(self, code, redirect_uri)
