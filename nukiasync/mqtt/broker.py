"""Where the MQTT broker is, and how we stay connected to it.

A broker restarts, a Wi-Fi link drops: every long-lived MQTT task here runs one session after
another, waiting longer after each failure (tenacity, jittered and capped), and reports each
loss and each return so the hub can turn them into health events. The password never reaches
a log, a repr or an error text.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from typing import TYPE_CHECKING, Self
from urllib.parse import unquote, urlsplit

import attrs
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential, wait_random

from nukiasync.errors import NukiConnectionError, NukiError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from types import ModuleType

    import aiomqtt

_LOGGER = logging.getLogger(__name__)

DEFAULT_PORT = 1883
# The lock keeps its state retained and publishes within a second; a short keepalive finds a
# dead broker quickly without flooding a small one.
DEFAULT_KEEPALIVE = 30


def load_aiomqtt() -> ModuleType:
    """Import aiomqtt, which the ``mqtt`` extra installs; the package imports without it.

    Raises:
        NukiError: aiomqtt is not installed.
    """
    try:
        return importlib.import_module("aiomqtt")
    except ImportError:
        msg = "MQTT needs aiomqtt: pip install 'nukiasync[mqtt]'"
        raise NukiError(msg) from None


@attrs.frozen(kw_only=True)
class MqttSettings:
    """A broker and the credentials for it (plain MQTT on the LAN, as Nuki's locks speak it)."""

    host: str
    port: int = DEFAULT_PORT
    username: str | None = None
    password: str | None = attrs.field(default=None, repr=False)
    client_id: str | None = None
    keepalive: int = DEFAULT_KEEPALIVE

    @classmethod
    def from_url(cls, url: str, *, client_id: str | None = None) -> Self:
        """Read ``mqtt://[user[:password]@]host[:port]``.

        Raises:
            NukiError: not an ``mqtt://`` URL with a host (the text never shows the password).
        """
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            msg = "the MQTT URL is not valid: expected mqtt://[user[:password]@]host[:port]"
            raise NukiError(msg) from None
        if parts.scheme != "mqtt" or not parts.hostname:
            msg = "the MQTT URL must look like mqtt://[user[:password]@]host[:port]"
            raise NukiError(msg)
        return cls(
            host=parts.hostname,
            port=port or DEFAULT_PORT,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            client_id=client_id,
        )

    @property
    def origin(self) -> str:
        """Host and port, for logs and health texts."""
        return f"{self.host}:{self.port}"

    def client(self, *, will: aiomqtt.Will | None = None) -> aiomqtt.Client:
        """A new, not yet connected client for one session."""
        client: aiomqtt.Client = load_aiomqtt().Client(
            self.host,
            self.port,
            username=self.username,
            password=self.password,
            identifier=self.client_id,
            keepalive=self.keepalive,
            will=will,
            logger=_LOGGER,
        )
        return client


@attrs.define(kw_only=True)
class LinkStats:
    """What a reconnecting link did; diagnostics read it."""

    sessions: int = 0
    reconnects: int = 0
    failures: int = 0
    connected: bool = False


def honour_cancel() -> None:
    """Raise a cancel that aiomqtt swallowed.

    aiomqtt waits for the broker's acknowledgement with ``asyncio.wait_for``, which on Python
    3.11 returns the result instead of raising when a cancel meets a finished wait: the task
    stays "cancelling" and would wait for its next message (or a close) forever.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def run_sessions(
    settings: MqttSettings,
    session: Callable[[aiomqtt.Client], Awaitable[None]],
    stats: LinkStats,
    *,
    on_health: Callable[[bool, str], None],
    initial_wait: float = 0.5,
    max_wait: float = 30.0,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Run ``session`` on a connected client, again and again, until cancelled.

    A session that ends by itself or with an MQTT error is counted, reported unhealthy and
    followed by the next one after a growing wait; any other error propagates.
    """
    aiomqtt = load_aiomqtt()
    retrying = AsyncRetrying(
        retry=retry_if_exception_type(_SessionLostError),
        # Jittered exponential backoff, spelled so that every tenacity since 8.2 reads it.
        wait=wait_exponential(multiplier=initial_wait, max=max_wait) + wait_random(0, initial_wait),
        reraise=True,
        sleep=sleep,
    )
    healthy: bool | None = None
    async for attempt in retrying:
        with attempt:
            try:
                async with settings.client() as client:
                    stats.sessions += 1
                    stats.reconnects += stats.sessions > 1
                    stats.connected = healthy = True
                    on_health(healthy, f"connected to the MQTT broker at {settings.origin}")
                    await session(client)
            except aiomqtt.MqttError as err:
                stats.failures += 1
                stats.connected = False
                _LOGGER.debug("MQTT session at %s ended: %s", settings.origin, type(err).__name__)
                detail = f"cannot reach the MQTT broker at {settings.origin}"
                if healthy is not False:
                    healthy = False
                    on_health(healthy, detail)
                raise _SessionLostError(detail) from None
            # A session that returns on its own ends the link: nothing more to do.
            stats.connected = False


class _SessionLostError(NukiConnectionError):
    """One session ended with an MQTT error; the next one follows after a wait."""
