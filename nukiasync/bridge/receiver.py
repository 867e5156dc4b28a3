"""The transport-independent checks every bridge callback passes, and its hand-off.

`CallbackReceiver` is the seam shared by the aiohttp `CallbackServer` and a Home
Assistant webhook (``hub.handle_callback``): it checks the source, the size and the
encoding, parses the body, and hands each `BridgeCallback` to a consumer after the bridge
got its answer (it serves one request at a time and waits for ours). A plain, quick
consumer (the hub's) is called inline; any other runs in one task fed by a queue.

Every request that reaches it is counted exactly once: ``received = accepted +
rejected``, rejections by reason (decision 0001).
"""

from __future__ import annotations

import asyncio
import enum
import inspect
import logging
import types
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Self

import attrs

from nukiasync._encoding import is_identity
from nukiasync.bridge.callbacks import BridgeCallback, parse_callback
from nukiasync.bridge.peers import PeerPolicy
from nukiasync.errors import NukiCallbackError

_LOGGER = logging.getLogger(__name__)

MAX_BODY_SIZE = 4096  # a real callback is ~300 bytes; 4 KiB leaves room, stops DoS
QUEUE_SIZE = 1024  # bridges send a few callbacks a second; more means a flood
DRAIN_TIMEOUT = 10.0  # seconds close() waits for the consumer to take what got a 200

Consumer = Callable[[BridgeCallback], Awaitable[None] | None]


class RejectReason(enum.StrEnum):
    """Why a callback request was refused; each maps to one HTTP status."""

    SOURCE = "source"  # 403: not from an allowed address
    SECRET = "secret"  # noqa: S105 - 404: wrong path secret
    METHOD = "method"  # 405: not a POST
    SIZE = "size"  # 413: body over the limit
    ENCODING = "encoding"  # 415: Content-Encoding other than identity
    MALFORMED = "malformed"  # 400: not a valid callback body
    OVERLOAD = "overload"  # 429: the consumer is this far behind


STATUS = types.MappingProxyType(
    {
        RejectReason.SOURCE: 403,
        RejectReason.SECRET: 404,
        RejectReason.METHOD: 405,
        RejectReason.SIZE: 413,
        RejectReason.ENCODING: 415,
        RejectReason.MALFORMED: 400,
        RejectReason.OVERLOAD: 429,
    }
)


@attrs.frozen(kw_only=True)
class Verdict:
    """What the receiver decided about one request; ``status`` is the HTTP answer."""

    status: int
    reason: RejectReason | None = None
    callback: BridgeCallback | None = None

    @property
    def accepted(self) -> bool:
        """Whether the request is answered 200."""
        return self.reason is None


@attrs.frozen(kw_only=True)
class ReceiverStats:
    """A snapshot of the counters; ``received == accepted + rejected_total`` always."""

    received: int
    accepted: int
    delivered: int
    consumer_errors: int
    rejected: Mapping[str, int]

    @property
    def rejected_total(self) -> int:
        """All rejections, whatever the reason."""
        return sum(self.rejected.values())


class CallbackReceiver:
    """Check, parse and hand over the callbacks of one bridge.

    The consumer is a sync or async callable; it runs in one named task
    (``nukiasync.callbacks[<bridge_id>]``), never on the request path, and its
    exceptions are logged and counted, never passed to the bridge.
    """

    def __init__(
        self,
        consumer: Consumer,
        *,
        allowed_sources: Iterable[str],
        trusted_proxies: Iterable[str] = (),
        bridge_id: str = "bridge",
        max_body_size: int = MAX_BODY_SIZE,
        queue_size: int = QUEUE_SIZE,
        drain_timeout: float = DRAIN_TIMEOUT,
        inline: bool = False,
    ) -> None:
        """Create a receiver; no I/O, no task until :meth:`start`.

        Args:
            consumer: called with every accepted callback, in order.
            allowed_sources: addresses or networks the bridge posts from, normally its
                own address; ``"0.0.0.0/0"`` and ``"::/0"`` allow anyone (not advised).
            trusted_proxies: peers whose ``X-Forwarded-For`` is believed.
            bridge_id: names the task and the log lines; part of the callback path.
            max_body_size: larger bodies are refused with 413.
            queue_size: callbacks waiting for the consumer before 429.
            drain_timeout: how long :meth:`close` waits for the consumer.
            inline: call a plain (sync, quick, no I/O) consumer in :meth:`deliver` itself,
                after the answer, instead of through the queue and its task: the hub's
                path, where the callback becomes events at once.

        Raises:
            ValueError: an address is not an IP address or network, or a limit is < 1.
        """
        if max_body_size < 1 or queue_size < 1:
            msg = "max_body_size and queue_size must be at least 1"
            raise ValueError(msg)
        if inline and inspect.iscoroutinefunction(consumer):
            msg = "an inline consumer must be a plain function"
            raise ValueError(msg)
        self._consumer = consumer
        self._inline = inline
        self._peers = PeerPolicy(allowed_sources, trusted_proxies)
        self.bridge_id = bridge_id
        self.max_body_size = max_body_size
        self._capacity = queue_size
        self._drain_timeout = drain_timeout
        self._queue: asyncio.Queue[BridgeCallback] = asyncio.Queue()
        self._reserved = 0
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._received = 0
        self._accepted = 0
        self._delivered = 0
        self._consumer_errors = 0
        self._rejected = dict.fromkeys(RejectReason, 0)

    def __repr__(self) -> str:
        return f"CallbackReceiver(bridge_id={self.bridge_id!r})"

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def stats(self) -> ReceiverStats:
        """The counters as an immutable snapshot."""
        return ReceiverStats(
            received=self._received,
            accepted=self._accepted,
            delivered=self._delivered,
            consumer_errors=self._consumer_errors,
            rejected=types.MappingProxyType({str(k): v for k, v in self._rejected.items()}),
        )

    @property
    def running(self) -> bool:
        """Whether callbacks reach the consumer (its task runs, or it is called inline)."""
        if self._inline:
            return not self._closed
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Start the consumer task; callbacks admitted before start wait for it.

        Raises:
            RuntimeError: already started, or closed.
        """
        if self._closed or self._task is not None:
            msg = "receiver closed" if self._closed else "receiver already started"
            raise RuntimeError(msg)
        if self._inline:
            return
        self._task = asyncio.create_task(
            self._drain(), name=f"nukiasync.callbacks[{self.bridge_id}]"
        )

    async def close(self) -> None:
        """Stop accepting; let the consumer take every callback that got a 200; stop."""
        if self._closed:
            return
        self._closed = True
        task, self._task = self._task, None
        if task is None:
            if not self._queue.empty():
                _LOGGER.warning(
                    "bridge %s: closed unstarted; %d callbacks not delivered",
                    self.bridge_id,
                    self._queue.qsize(),
                )
            return
        try:  # join() also waits for the callback the consumer is working on
            async with asyncio.timeout(self._drain_timeout):
                await self._queue.join()
        except TimeoutError:
            _LOGGER.warning(
                "bridge %s: consumer did not take %d callbacks within %.1f s",
                self.bridge_id,
                self._queue.qsize(),
                self._drain_timeout,
            )
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    def is_allowed_peer(self, peer: str | None) -> bool:
        """Whether a TCP peer may post at all: an allowed source or a trusted proxy."""
        return self._peers.is_allowed_peer(peer)

    def allows(self, peer: str | None, forwarded_for: str | None = None) -> bool:
        """Whether a request from ``peer`` (via ``forwarded_for``) may be admitted."""
        return self._peers.admitted_source(peer, forwarded_for) is not None

    def source_of(self, peer: str | None, forwarded_for: str | None = None) -> str | None:
        """The address a request came from, trusting only the configured proxies."""
        source = self._peers.source(peer, forwarded_for)
        return None if source is None else str(source)

    def reject(self, reason: RejectReason, remote: str | None) -> Verdict:
        """Count and log a refusal decided elsewhere (path secret, method, size)."""
        self._received += 1
        self._rejected[reason] += 1
        _LOGGER.debug("bridge %s: refused callback from %s: %s", self.bridge_id, remote, reason)
        return _REFUSED[reason]

    def precheck(
        self,
        remote: str | None,
        *,
        forwarded_for: str | None = None,
        method: str = "POST",
        content_length: int | None = None,
        content_encoding: str | Iterable[str] | None = None,
    ) -> RejectReason | None:
        """Decide what can be decided before reading a body; count nothing.

        A server calls this so that it never reads a body it will refuse, then
        :meth:`reject` with the reason, or reads the body and calls :meth:`admit`.
        """
        if self._peers.admitted_source(remote, forwarded_for) is None:
            return RejectReason.SOURCE
        if method != "POST":
            return RejectReason.METHOD
        if content_length is not None and content_length > self.max_body_size:
            return RejectReason.SIZE
        if content_encoding is not None and not is_identity(content_encoding):
            return RejectReason.ENCODING
        return None

    def admit(
        self,
        body: bytes,
        remote: str | None,
        *,
        forwarded_for: str | None = None,
        content_encoding: str | Iterable[str] | None = None,
    ) -> Verdict:
        """Check and parse a request, reserving a queue slot; :meth:`deliver` it next.

        The split lets a server send its 200 before the consumer can see the callback,
        so confirmation reads never race the bridge's open request (decision 0001).
        """
        source = self._peers.admitted_source(remote, forwarded_for)
        if source is None:
            return self.reject(RejectReason.SOURCE, remote)
        if len(body) > self.max_body_size:
            return self.reject(RejectReason.SIZE, source)
        if content_encoding is not None and not is_identity(content_encoding):
            return self.reject(RejectReason.ENCODING, source)
        return self.accept(body, source)

    def accept(self, body: bytes, source: str | None) -> Verdict:
        """The rest of :meth:`admit`, for a server whose :meth:`precheck` passed.

        The body must be within ``max_body_size`` already (read with that cap);
        ``source`` only names the sender in log lines.
        """
        if self._closed or self._queue.qsize() + self._reserved >= self._capacity:
            return self.reject(RejectReason.OVERLOAD, source)
        try:
            callback = parse_callback(body)
        except NukiCallbackError as err:
            _LOGGER.debug("bridge %s: %s", self.bridge_id, err)
            return self.reject(RejectReason.MALFORMED, source)
        self._received += 1
        self._accepted += 1
        self._reserved += 1
        return Verdict(status=200, callback=callback)

    def deliver(self, verdict: Verdict) -> None:
        """Hand an admitted callback to the consumer (after the answer went out).

        An inline consumer is called right here, not through a helper: this call is one
        of the few between ``hub.handle_callback`` and a subscriber (see the hub).
        """
        callback = verdict.callback
        if callback is None:
            return
        self._reserved -= 1
        if not self._inline:
            self._queue.put_nowait(callback)
            return
        try:
            self._consumer(callback)
        except Exception:
            self._consumer_errors += 1
            _LOGGER.exception("bridge %s: callback consumer failed", self.bridge_id)
        else:
            self._delivered += 1

    def handle(
        self,
        body: bytes,
        remote: str | None,
        *,
        forwarded_for: str | None = None,
        content_encoding: str | Iterable[str] | None = None,
    ) -> Verdict:
        """Admit and deliver at once: the webhook path, whose caller answers next."""
        verdict = self.admit(
            body, remote, forwarded_for=forwarded_for, content_encoding=content_encoding
        )
        self.deliver(verdict)
        return verdict

    async def _drain(self) -> None:
        while True:
            callback = await self._queue.get()
            try:
                result = self._consumer(callback)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                self._consumer_errors += 1
                _LOGGER.exception("bridge %s: callback consumer failed", self.bridge_id)
            else:
                self._delivered += 1
            finally:
                self._queue.task_done()


_REFUSED = types.MappingProxyType(
    {reason: Verdict(status=status, reason=reason) for reason, status in STATUS.items()}
)
