"""API keys (the account's OAuth2 clients), tokens and Advanced API applications.

Tag ApiKey. An Advanced API key is what decentral webhooks and the ``.../advanced``
actions need; Nuki approves it by hand, so ``create_advanced_api_key`` only applies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nukiasync._parse import parse_list
from nukiasync.web._core import WebApiCore
from nukiasync.web.account import parse_object
from nukiasync.web.models.apikey import (
    AdvancedApiKey,
    ApiKey,
    ApiKeyToken,
    features_to_api,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from nukiasync.const import WebhookFeature


def _key_path(api_key_id: int, suffix: str = "") -> str:
    if api_key_id <= 0:
        msg = f"api_key_id must be a positive id, got {api_key_id}"
        raise ValueError(msg)
    return f"/api/key/{int(api_key_id)}{suffix}"


def _token_path(api_key_id: int, token_id: str) -> str:
    if not token_id:
        msg = "token_id must not be empty"
        raise ValueError(msg)
    return _key_path(api_key_id, f"/token/{token_id}")


def _body(description: str | None, key: str, values: Iterable[str] | None) -> dict[str, object]:
    """``description`` and a list field (scopes, redirect URIs), each only when given."""
    body: dict[str, object] = {}
    if description is not None:
        body["description"] = description
    if values is not None:
        body[key] = [str(value) for value in values]
    return body


class ApiKeysMixin(WebApiCore):
    """Operations of the ApiKey tag."""

    async def api_keys(self) -> list[ApiKey]:
        """The account's API keys."""
        data = await self._request("GET", "/api/key")
        return parse_list(data, ApiKey.from_api, "api key")

    async def create_api_key(
        self,
        *,
        description: str | None = None,
        redirect_uris: Sequence[str] | None = None,
    ) -> ApiKey:
        """Create an API key (an OAuth2 client id for the account)."""
        body = _body(description, "redirectUris", redirect_uris)
        data = await self._request("PUT", "/api/key", json_body=body)
        return parse_object(data, ApiKey.from_api, "api key")

    async def update_api_key(
        self,
        api_key_id: int,
        *,
        description: str | None = None,
        redirect_uris: Sequence[str] | None = None,
    ) -> None:
        """Change an API key's description or redirect URIs.

        Raises:
            ValueError: ``api_key_id`` is not positive.
        """
        body = _body(description, "redirectUris", redirect_uris)
        await self._request("POST", _key_path(api_key_id), json_body=body)

    async def delete_api_key(self, api_key_id: int) -> None:
        """Delete an API key and everything issued with it.

        Raises:
            ValueError: ``api_key_id`` is not positive.
        """
        await self._request("DELETE", _key_path(api_key_id))

    async def advanced_api_key(self, api_key_id: int) -> AdvancedApiKey:
        """An API key's Advanced API application, with its client secret once approved.

        Raises:
            ValueError: ``api_key_id`` is not positive.
        """
        data = await self._request("GET", _key_path(api_key_id, "/advanced"))
        return parse_object(data, AdvancedApiKey.from_api, "advanced api key")

    async def create_advanced_api_key(
        self,
        api_key_id: int,
        *,
        name: str,
        email: str,
        country: str,
        url: str,
        description: str,
        type: str,
        restricted: bool,
        webhook_url: str,
        webhook_features: Iterable[WebhookFeature | str],
    ) -> None:
        """Apply for Advanced API access for an API key; Nuki reviews it by hand.

        Raises:
            ValueError: ``api_key_id`` is not positive or no webhook feature is given.
        """
        path = _key_path(api_key_id, "/advanced")
        body = {
            "name": name,
            "email": email,
            "country": country,
            "url": url,
            "description": description,
            "type": type,
            "restricted": restricted,
            "webhookUrl": webhook_url,
            "webhookFeatures": features_to_api(webhook_features),
        }
        await self._request("PUT", path, json_body=body)

    async def update_advanced_api_key(
        self,
        api_key_id: int,
        *,
        webhook_url: str,
        webhook_features: Iterable[WebhookFeature | str],
    ) -> None:
        """Change where and for what the central webhook of an Advanced API key posts.

        Raises:
            ValueError: ``api_key_id`` is not positive or no webhook feature is given.
        """
        path = _key_path(api_key_id, "/advanced")
        body = {
            "webhookUrl": webhook_url,
            "webhookFeatures": features_to_api(webhook_features),
        }
        await self._request("POST", path, json_body=body)

    async def delete_advanced_api_key(self, api_key_id: int) -> None:
        """Withdraw the Advanced API application of an API key.

        Raises:
            ValueError: ``api_key_id`` is not positive.
        """
        await self._request("DELETE", _key_path(api_key_id, "/advanced"))

    async def reactivate_advanced_api_key(self, api_key_id: int) -> None:
        """Turn webhooks back on after Nuki deactivated them for failing deliveries.

        Raises:
            ValueError: ``api_key_id`` is not positive.
        """
        await self._request("POST", _key_path(api_key_id, "/advanced/reactivate"))

    async def api_key_tokens(self, api_key_id: int) -> list[ApiKeyToken]:
        """The API tokens issued with an API key (without their secret values).

        Raises:
            ValueError: ``api_key_id`` is not positive.
        """
        data = await self._request("GET", _key_path(api_key_id, "/token"))
        return parse_list(data, ApiKeyToken.from_api, "api key token")

    async def create_api_key_token(
        self,
        api_key_id: int,
        *,
        description: str | None = None,
        scopes: Iterable[str] | None = None,
    ) -> ApiKeyToken:
        """Issue an API token; its ``access_token`` is shown this once, so store it.

        Raises:
            ValueError: ``api_key_id`` is not positive.
        """
        body = _body(description, "scopes", scopes)
        data = await self._request("PUT", _key_path(api_key_id, "/token"), json_body=body)
        return parse_object(data, ApiKeyToken.from_api, "api key token")

    async def update_api_key_token(
        self,
        api_key_id: int,
        token_id: str,
        *,
        description: str | None = None,
        scopes: Iterable[str] | None = None,
    ) -> None:
        """Change an API token's description or scopes.

        Raises:
            ValueError: ``api_key_id`` is not positive or ``token_id`` is empty.
        """
        body = _body(description, "scopes", scopes)
        await self._request("POST", _token_path(api_key_id, token_id), json_body=body)

    async def delete_api_key_token(self, api_key_id: int, token_id: str) -> None:
        """Revoke an API token.

        Raises:
            ValueError: ``api_key_id`` is not positive or ``token_id`` is empty.
        """
        await self._request("DELETE", _token_path(api_key_id, token_id))
