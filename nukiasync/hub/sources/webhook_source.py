"""Decentral webhooks as a source: the Web API pushes ``DEVICE_LOGS`` entries as they happen.

Advanced API accounts can have each new log entry pushed. The `WebhookReceiver` checks the
signature over the raw body before anything reads it and hands each entry on once (Nuki
delivers at least once); the entry then goes to the Web API log source's watcher, so the
same rules, the same claimed-entry bookkeeping and the same "who" wording apply to a pushed
entry as to one read. While pushes arrive, that watcher drops to its slow background read,
with one last read at each change's deadline in case a push was lost.

Two ways in: `handle` (body and signature, e.g. from Home Assistant's cloud webhook) and
`handle_request` (an aiohttp request: ``hub.handle_webhook`` on any route).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from nukiasync.web.webhook_receiver import WebhookReceiver

if TYPE_CHECKING:
    import contextlib
    from collections.abc import Iterable

    from aiohttp import web

    from nukiasync.attribution import ObservedChange
    from nukiasync.hub.sources.base import SourceHost
    from nukiasync.hub.sources.web_log import WebLogSource
    from nukiasync.web.models.log import SmartlockLog

WEBHOOK = "webhook"


class WebhookSource:
    """The hub's `ActionSource` for pushed log entries; it feeds the Web API log source."""

    name = WEBHOOK

    def __init__(self, secret: str, web_log: WebLogSource) -> None:
        self._web_log = web_log
        self.receiver = WebhookReceiver(secret, self._on_log)
        self.fed = 0  # entries new to the log matching
        self.known = 0  # entries the log matching had already read

    def __repr__(self) -> str:
        return f"WebhookSource(received={self.receiver.stats.received})"

    async def prepare(self, host: SourceHost, stack: contextlib.AsyncExitStack) -> None:
        """Nothing to set up: the receiver answers as soon as the hub runs."""

    async def start(self, host: SourceHost, stack: contextlib.AsyncExitStack) -> None:
        """Nothing to start: the sender pushes."""

    def covers(self, change: ObservedChange) -> bool:  # noqa: ARG002  (the protocol)
        """Never: the entries it receives are answered by the Web API log source."""
        return False

    def add(self, change: ObservedChange, *, attributable: bool) -> None:
        """Not called (it covers no change)."""

    def retract(self, change_id: str) -> bool:  # noqa: ARG002  (the protocol)
        """Nothing waits here."""
        return False

    def answered(self, change_id: str) -> None:
        """Nothing waits here."""

    def reconsider(self) -> None:
        """Nothing here waits on the bridge's checks."""

    def handle(
        self,
        body: bytes,
        signature: str | None,
        *,
        content_encoding: str | Iterable[str] | None = None,
    ) -> int:
        """Check and take one webhook; the HTTP status to answer with."""
        return self.receiver.handle(body, signature, content_encoding=content_encoding)

    async def handle_request(self, request: web.BaseRequest) -> web.Response:
        """Answer an aiohttp request carrying a webhook."""
        return await self.receiver.aiohttp_handler(request)  # type: ignore[arg-type]

    def diagnostics(self) -> dict[str, Any]:
        """The receiver's counters (received = accepted + duplicates + ignored + rejected)."""
        return {**attrs.asdict(self.receiver.stats), "fed": self.fed, "known": self.known}

    def _on_log(self, entry: SmartlockLog) -> None:
        side = self._web_log.side
        if side is None:
            return
        if side.watcher.push(entry):
            self.fed += 1
        else:
            self.known += 1
