"""Receive the Web API's decentral webhooks: signature first, then parse, then deduplicate.

Advanced API accounts can have ``DEVICE_LOGS`` pushed to them, which removes the polling lag
for "who". The body is checked on the bytes exactly as received (HMAC-SHA256 with the
webhook's secret) before anything reads it; a log entry pushed twice (Nuki's delivery is at
least once, and a restart re-registers) is handed on once. Every request is counted exactly
once: ``received = accepted + duplicates + ignored + rejected`` (rejected by reason).

`WebhookReceiver.handle` is transport-independent, so Home Assistant's cloud webhook can call
it; `WebhookReceiver.aiohttp_handler` serves the same on an aiohttp route.
"""

from __future__ import annotations

import collections
import enum
import logging
from typing import TYPE_CHECKING, TypeVar

import attrs
from aiohttp import web

from nukiasync._encoding import is_identity
from nukiasync.errors import NukiCallbackError, NukiWebhookSignatureError
from nukiasync.web.webhooks import (
    SIGNATURE_HEADER,
    DeviceLogsWebhook,
    WebhookEvent,
    parse_webhook,
    verify_webhook_signature,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from nukiasync.web.models.log import SmartlockLog

_LOGGER = logging.getLogger(__name__)
_T = TypeVar("_T")

MAX_BODY_SIZE = 64 * 1024  # a DEVICE_LOGS body is under 1 KiB; room for the larger features
REMEMBERED_IDS = 4096  # log ids kept for deduplication: hours of a busy building


class WebhookReject(enum.StrEnum):
    """Why a webhook request was refused; each maps to one HTTP status."""

    SIZE = "size"  # 413
    ENCODING = "encoding"  # 415: a Content-Encoding other than identity
    SIGNATURE = "signature"  # 401: missing or wrong signature
    MALFORMED = "malformed"  # 400: signed, but not a webhook body


_STATUS = {
    WebhookReject.SIZE: 413,
    WebhookReject.ENCODING: 415,
    WebhookReject.SIGNATURE: 401,
    WebhookReject.MALFORMED: 400,
}


@attrs.define(kw_only=True)
class WebhookStats:
    """Accounting per request that reached the receiver."""

    received: int = 0
    accepted: int = 0
    duplicates: int = 0
    ignored: int = 0  # signed and valid, but not a feature a consumer asked for
    undelivered: int = 0  # a consumer raised; counted, and the sender still got its 200
    rejected: dict[str, int] = attrs.field(factory=dict)


class WebhookReceiver:
    """Checks, parses and deduplicates webhooks; hands log entries and other events on."""

    def __init__(
        self,
        secret: str,
        on_logs: Callable[[SmartlockLog], None],
        *,
        on_event: Callable[[WebhookEvent], None] | None = None,
        max_body_size: int = MAX_BODY_SIZE,
        remember: int = REMEMBERED_IDS,
    ) -> None:
        if not secret:
            msg = "the webhook secret must not be empty"
            raise ValueError(msg)
        self._secret = secret
        self._on_logs = on_logs
        self._on_event = on_event
        self._max_body_size = max_body_size
        self._seen: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._remember = remember
        self.stats = WebhookStats()

    def __repr__(self) -> str:
        return f"WebhookReceiver(received={self.stats.received})"

    def handle(
        self,
        body: bytes,
        signature: str | None,
        *,
        content_encoding: str | Iterable[str] | None = None,
    ) -> int:
        """Check and hand on one webhook; return the HTTP status to answer with."""
        self.stats.received += 1
        if len(body) > self._max_body_size:
            return self._reject(WebhookReject.SIZE)
        if not is_identity(content_encoding):
            return self._reject(WebhookReject.ENCODING)
        try:
            verify_webhook_signature(body, signature, self._secret)
            event = parse_webhook(body)
        except NukiWebhookSignatureError:
            return self._reject(WebhookReject.SIGNATURE)
        except NukiCallbackError:
            return self._reject(WebhookReject.MALFORMED)
        if isinstance(event, DeviceLogsWebhook):
            return self._logs(event)
        if self._on_event is None:
            self.stats.ignored += 1
            return 200
        self.stats.accepted += 1
        self._deliver(self._on_event, event)
        return 200

    async def aiohttp_handler(self, request: web.Request) -> web.Response:
        """An aiohttp handler: ``app.router.add_post(path, receiver.aiohttp_handler)``."""
        length = request.content_length
        if length is not None and length > self._max_body_size:
            self.stats.received += 1
            return web.Response(status=self._reject(WebhookReject.SIZE))
        body = await request.content.read(self._max_body_size + 1)
        status = self.handle(
            body,
            request.headers.get(SIGNATURE_HEADER),
            content_encoding=request.headers.getall("Content-Encoding", []),
        )
        return web.Response(status=status)

    def _logs(self, event: DeviceLogsWebhook) -> int:
        log = event.log
        key = log.id or f"{log.smartlock_id}/{log.date.isoformat()}/{log.action_code}"
        if key in self._seen:
            self._seen.move_to_end(key)
            self.stats.duplicates += 1
            return 200
        self._seen[key] = None
        if len(self._seen) > self._remember:
            self._seen.popitem(last=False)
        self.stats.accepted += 1
        self._deliver(self._on_logs, log)
        return 200

    def _deliver(self, consumer: Callable[[_T], None], item: _T) -> None:
        try:
            consumer(item)
        except Exception:
            self.stats.undelivered += 1
            _LOGGER.exception("A webhook consumer failed; the entry is counted as undelivered")

    def _reject(self, reason: WebhookReject) -> int:
        self.stats.rejected[reason.value] = self.stats.rejected.get(reason.value, 0) + 1
        _LOGGER.debug("Refused a webhook: %s", reason.value)
        return _STATUS[reason]
