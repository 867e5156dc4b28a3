"""How the Web API's answers become errors: one place for status codes and Retry-After."""

from __future__ import annotations

import email.utils
import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from nukiasync.errors import (
    NukiAuthenticationError,
    NukiBadRequestError,
    NukiConflictError,
    NukiNotFoundError,
    NukiObjectBusyError,
    NukiRateLimitError,
    NukiResponseError,
    NukiServerError,
)

if TYPE_CHECKING:
    import httpx


def body_text(response: httpx.Response) -> str:
    try:
        return response.text
    except (UnicodeDecodeError, LookupError):  # pragma: no cover  (httpx decodes leniently)
        return ""


def _description(response: httpx.Response) -> str:
    """The human text of a Nuki error body (Restlet-style JSON), or ''."""
    try:
        data = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        return ""
    if isinstance(data, Mapping):
        for key in ("description", "detailMessage", "message", "reasonPhrase"):
            value = data.get(key)
            if isinstance(value, str) and value:
                return value
    return ""


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date form)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - now).total_seconds())
    if math.isnan(seconds) or seconds < 0 or math.isinf(seconds):
        return None
    return seconds


def error_for(what: str, response: httpx.Response, now: datetime) -> NukiResponseError:
    status = response.status_code
    body = body_text(response)
    description = _description(response)
    detail = f": {description}" if description else ""
    if status in (400, 422):
        msg = f"The Nuki Web API refused {what} ({status}){detail}"
        return NukiBadRequestError(msg, status=status, body=body, description=description)
    if status in (401, 403):
        reason = "token invalid or expired" if status == 401 else "token lacks a scope"
        msg = f"The Nuki Web API refused {what} ({status}, {reason})"
        return NukiAuthenticationError(msg, status=status, body=body)
    if status == 404:
        msg = f"Not found: {what} (a smartlockId must be the Web API id, not the nukiId)"
        return NukiNotFoundError(msg, status=status, body=body)
    if status == 409:
        msg = f"Conflict for {what}{detail}"
        return NukiConflictError(msg, status=status, body=body)
    if status == 423:
        msg = f"Object busy for {what}: another operation is pending"
        return NukiObjectBusyError(msg, status=status, body=body)
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"), now)
        msg = f"Rate limited on {what}" + (
            f"; retry after {retry_after:.0f} s" if retry_after is not None else ""
        )
        return NukiRateLimitError(msg, body=body, retry_after=retry_after, received_at=now)
    if status >= 500:
        kind = "an HTML error page" if "html" in response.headers.get("content-type", "") else ""
        msg = f"The Nuki Web API failed on {what} ({status}{', ' + kind if kind else ''})"
        return NukiServerError(msg, status=status, body=body)
    msg = f"The Nuki Web API answered {what} with {status}{detail}"
    return NukiResponseError(msg, status=status, body=body)
