"""API keys, their tokens, Advanced API keys, decentral webhooks, delivery logs."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Self

import attrs

from nukiasync._parse import optional_datetime, optional_int, parse_datetime
from nukiasync._redact import redact
from nukiasync.const import WebhookFeature
from nukiasync.web.models._common import (
    optional_bool,
    optional_str,
    required_int,
    str_list,
)

_LOGGER = logging.getLogger(__name__)


def webhook_features(value: object) -> tuple[WebhookFeature | str, ...]:
    """Features as `WebhookFeature` members; one this library does not know stays a str.

    Raises:
        TypeError: the value is not an array.
    """
    result: list[WebhookFeature | str] = []
    for item in str_list(value):
        try:
            result.append(WebhookFeature(item))
        except ValueError:
            _LOGGER.debug("Unknown webhook feature %r kept as text", item)
            result.append(item)
    return tuple(result)


def features_to_api(features: Iterable[WebhookFeature | str]) -> list[str]:
    """The request JSON for a set of features, in the caller's order without duplicates.

    Raises:
        ValueError: no feature given.
    """
    result = list(dict.fromkeys(str(feature) for feature in features))
    if not result:
        msg = "at least one webhook feature is needed"
        raise ValueError(msg)
    return result


@attrs.frozen(kw_only=True)
class ApiKey:
    """An API key (an OAuth2 client of the account) from ``/api/key``."""

    api_key_id: int
    account_id: int | None = None
    api_key: str | None = attrs.field(default=None, repr=redact)
    description: str | None = None
    redirect_uris: tuple[str, ...] = ()
    creation_date: datetime | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        """Build from the Web API JSON object."""
        return cls(
            api_key_id=required_int(data, "apiKeyId"),
            account_id=optional_int(data.get("accountId")),
            api_key=optional_str(data.get("apiKey")),
            description=optional_str(data.get("description")),
            redirect_uris=str_list(data.get("redirectUris")),
            creation_date=optional_datetime(data.get("creationDate")),
            raw=data,
        )


@attrs.frozen(kw_only=True)
class ApiKeyToken:
    """An API token of an API key; ``access_token`` is only set on creation."""

    id: str
    account_id: int | None = None
    access_token: str | None = attrs.field(default=None, repr=redact)
    description: str | None = None
    scopes: tuple[str, ...] = ()
    creation_date: datetime | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        """Build from the Web API JSON object."""
        token_id = optional_str(data["id"])
        if token_id is None:
            msg = "api key token without id"
            raise ValueError(msg)
        return cls(
            id=token_id,
            account_id=optional_int(data.get("accountId")),
            access_token=optional_str(data.get("accessToken")),
            description=optional_str(data.get("description")),
            scopes=str_list(data.get("scopes")),
            creation_date=optional_datetime(data.get("creationDate")),
            raw=data,
        )


@attrs.frozen(kw_only=True)
class AdvancedApiKey:
    """The Advanced API application of an API key: status, webhook and client secret.

    ``status`` is one of INACTIVE, APPLIED, TESTING, ACTIVE; ``type`` one of
    ONLY_SECRET, SHORT_RENTAL, HEALTHCARE, SMART_HOME, OTHER; ``webhook_status`` ACTIVE
    or DEACTIVATED. They stay strings so that a value Nuki adds does not break parsing.
    """

    status: str | None = None
    type: str | None = None
    name: str | None = attrs.field(default=None, repr=redact)
    email: str | None = attrs.field(default=None, repr=redact)
    country: str | None = None
    url: str | None = None
    description: str | None = None
    restricted: bool | None = None
    secret: str | None = attrs.field(default=None, repr=redact)
    webhook_url: str | None = attrs.field(default=None, repr=redact)
    webhook_features: tuple[WebhookFeature | str, ...] = ()
    webhook_status: str | None = None
    creation_date: datetime | None = None
    update_date: datetime | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        """Build from the Web API JSON object."""
        return cls(
            status=optional_str(data.get("status")),
            type=optional_str(data.get("type")),
            name=optional_str(data.get("name")),
            email=optional_str(data.get("email")),
            country=optional_str(data.get("country")),
            url=optional_str(data.get("url")),
            description=optional_str(data.get("description")),
            restricted=optional_bool(data.get("restricted")),
            secret=optional_str(data.get("secret")),
            webhook_url=optional_str(data.get("webhookUrl")),
            webhook_features=webhook_features(data.get("webhookFeatures")),
            webhook_status=optional_str(data.get("webhookStatus")),
            creation_date=optional_datetime(data.get("creationDate")),
            update_date=optional_datetime(data.get("updateDate")),
            raw=data,
        )


@attrs.frozen(kw_only=True)
class DecentralWebhook:
    """A webhook registered by this integration; ``secret`` comes only on registration.

    Keep the secret: it is the HMAC key for `nukiasync.web.webhooks`. ``id`` is None if
    Nuki left it out (the spec does not require it in answers).
    """

    id: int | None = None
    webhook_url: str = attrs.field(repr=redact)
    webhook_features: tuple[WebhookFeature | str, ...] = ()
    secret: str | None = attrs.field(default=None, repr=redact)
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        """Build from the Web API JSON object."""
        return cls(
            id=optional_int(data.get("id")),
            webhook_url=str(data.get("webhookUrl") or ""),
            webhook_features=webhook_features(data.get("webhookFeatures")),
            secret=optional_str(data.get("secret")),
            raw=data,
        )


@attrs.frozen(kw_only=True)
class WebhookMessage:
    """One side of a webhook delivery: the request Nuki sent or the answer it got."""

    path: str | None = attrs.field(default=None, repr=redact)
    headers: Mapping[str, str] = attrs.field(factory=dict, repr=False)
    body: Any = attrs.field(default=None, repr=False)
    timestamp: datetime | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        """Build from a ``WebhookMessage`` JSON object."""
        headers = data.get("headers")
        return cls(
            path=optional_str(data.get("path")),
            headers=(
                {str(key): str(value) for key, value in headers.items()}
                if isinstance(headers, Mapping)
                else {}
            ),
            body=data.get("body"),
            timestamp=optional_datetime(data.get("timestamp")),
        )


@attrs.frozen(kw_only=True)
class WebhookLog:
    """One webhook delivery attempt of an Advanced API key, newest first in the list."""

    id: str
    api_key_id: int | None = None
    account_id: int | None = None
    request_id: str | None = None
    succeeded: bool | None = None
    response_status: int | None = None
    duration_ms: int | None = None
    request: WebhookMessage | None = None
    response: WebhookMessage | None = None
    created: datetime
    updated: datetime | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        """Build from the Web API JSON object."""
        log_id = optional_str(data["id"])
        if log_id is None:
            msg = "webhook log without id"
            raise ValueError(msg)
        request = data.get("request")
        response = data.get("response")
        return cls(
            id=log_id,
            api_key_id=optional_int(data.get("apiKeyId")),
            account_id=optional_int(data.get("accountId")),
            request_id=optional_str(data.get("requestId")),
            succeeded=optional_bool(data.get("succeeded")),
            response_status=optional_int(data.get("responseStatus")),
            duration_ms=optional_int(data.get("duration")),
            request=WebhookMessage.from_api(request) if isinstance(request, Mapping) else None,
            response=WebhookMessage.from_api(response) if isinstance(response, Mapping) else None,
            created=parse_datetime(data["created"]),
            updated=optional_datetime(data.get("updated")),
            raw=data,
        )


@attrs.frozen(kw_only=True)
class AdvancedConfirmation:
    """Nuki accepted an Advanced API request; a webhook with this id tells the end."""

    request_id: str
    error: str | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        """Build from the ``AdvancedConfirmationResponse`` JSON object."""
        request_id = optional_str(data["requestId"])
        if request_id is None:
            msg = "advanced confirmation without requestId"
            raise ValueError(msg)
        return cls(request_id=request_id, error=optional_str(data.get("error")), raw=data)
