"""Realism knobs: the timings and faults of the simulated world, mutable while it runs.

Everything is off by default except what a real installation always shows: the Web API log
lags the device by a few seconds, locks take a moment to turn, an unlatched door falls back
to unlocked, lock 'n' go locks again, an Opener's strike releases (those three with a callback
and no log entry), an Opener's ring flag resets after 30 s, and the bridge takes a moment per
request, so a request that overlaps another gets 503. Tests shrink those timings; fault tests
switch on one fault at a time, e.g. ``world.knobs.fail_web(2, status=429, retry_after=3)``;
``slow_log_chance`` makes a share of the entries upload much later (out of order). MQTT and
webhook knobs delay and lose what the locks publish and the Web API pushes.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    import random

Lag = float | tuple[float, float]

DEFAULT_LOG_LAG: Lag = (2.0, 4.0)  # seconds; reports put the Web API log 2-5 s behind the bridge


@attrs.frozen(kw_only=True)
class WebFault:
    """One scripted Web API failure, used by the next request that reaches the server.

    ``status`` 429 with ``retry_after`` (seconds, or a datetime sent as an HTTP-date) or
    without; any 5xx; ``html`` sends an nginx-style HTML page instead of Restlet JSON;
    ``hang`` holds the request for ``Knobs.web_hang`` seconds (longer than a client's
    timeout) and then answers 504.
    """

    status: int = 500
    retry_after: float | datetime | None = None
    html: bool = False
    hang: bool = False


@attrs.define(kw_only=True)
class Knobs:
    """Timings and faults of a World; change any attribute at run time."""

    # Web API log: entries exist at once but are invisible in /log until uploaded.
    log_lag: Lag = DEFAULT_LOG_LAG
    log_lag_by_lock: dict[int, Lag] = attrs.field(factory=dict)  # by smartlockId
    slow_log_chance: float = 0.0  # share of entries that upload late: + slow_log_lag
    slow_log_lag: Lag = (10.0, 20.0)  # seconds added to a slow entry's lag
    # Clocks: devices write log dates from their own clock; the bridge checks tokens by its own.
    device_clock_skew: float = 0.0
    bridge_clock_skew: float = 0.0
    # Callbacks (per POST to one URL): lost or sent twice, by chance or "the next N".
    callback_loss: float = 0.0
    drop_next_callbacks: int = 0
    drop_next_callbacks_of: dict[int, int] = attrs.field(factory=dict)  # by nukiId: the next N
    callback_duplicates: float = 0.0
    duplicate_next_callbacks: int = 0
    callback_timeout: float = 5.0  # a bridge gives up on an unresponsive callback URL
    # Web API faults.
    web_faults: deque[WebFault] = attrs.field(factory=deque)
    web_error_rate: float = 0.0  # chance of a 503 Restlet error on any request
    web_delay: float = 0.0  # added to every Web API request (benchmarks)
    web_hang: float = 30.0  # how long a hung request is held; clients time out at 20 s
    web_action_delay: float = 0.3  # cloud -> bridge -> lock, before the motor starts
    auth_apply_delay: float = 0.0  # auth writes are asynchronous (204 = accepted) when > 0
    # Bridge.
    bridge_busy_next: int = 0  # a burst: the next N requests get 503
    # How long every bridge request takes; one that arrives meanwhile gets 503 (0: instant).
    bridge_request_time: float = 0.05
    auth_window: float = 30.0  # /auth waits this long for the button (real: 30 s LED)
    reboot_downtime: float = 5.0
    # Device physics.
    motor_time: float = 1.2
    unlatch_hold: float = 3.0  # unlatched (5) falls back to unlocked (3) after this
    lock_n_go_delay: float = 20.0  # lock 'n' go locks again after this
    opener_open_time: float = 3.0  # the electric strike buzzes this long
    ring_reset: float = 30.0  # ringactionState resets without a callback (bridge behaviour)
    # MQTT (locks with mqtt=True, World(mqtt_url=...)): per message, after the state at connect.
    mqtt_delay: Lag = 0.0  # seconds before each publish (a fixed number or a range)
    mqtt_loss: float = 0.0  # chance that a message never reaches the broker
    drop_next_mqtt: int = 0  # lose the next N messages
    mqtt_reconnect_wait: float = 0.5  # real seconds between connection attempts
    # Decentral webhooks of the Web API: per POST to one registered URL.
    webhook_delay: Lag = 0.0  # seconds after the entry reaches the cloud (visible_at)
    webhook_loss: float = 0.0  # chance that a POST is never sent
    drop_next_webhooks: int = 0  # lose the next N POSTs

    def fail_web(
        self,
        count: int = 1,
        *,
        status: int = 500,
        retry_after: float | datetime | None = None,
        html: bool = False,
        hang: bool = False,
    ) -> None:
        """Make the next ``count`` Web API requests fail this way."""
        fault = WebFault(status=status, retry_after=retry_after, html=html, hang=hang)
        self.web_faults.extend([fault] * count)

    def take_web_fault(self, rng: random.Random) -> WebFault | None:
        """Return the fault for the request now arriving, if any."""
        if self.web_faults:
            return self.web_faults.popleft()
        if self.web_error_rate and rng.random() < self.web_error_rate:
            return WebFault(status=503)
        return None

    def lag_for(self, smartlock_id: int, rng: random.Random) -> float:
        """Draw the upload lag of one log entry of this device."""
        lag = draw_lag(self.log_lag_by_lock.get(smartlock_id, self.log_lag), rng)
        if self.slow_log_chance and rng.random() < self.slow_log_chance:
            lag += draw_lag(self.slow_log_lag, rng)
        return lag

    def callback_copies(self, rng: random.Random, nuki_id: int | None = None) -> int:
        """Decide how many times the next callback POST goes out: 0 (lost), 1 or 2."""
        if self.drop_next_callbacks_of.get(nuki_id or 0, 0) > 0:
            self.drop_next_callbacks_of[nuki_id or 0] -= 1
            return 0
        if self.drop_next_callbacks > 0:
            self.drop_next_callbacks -= 1
            return 0
        if self.callback_loss and rng.random() < self.callback_loss:
            return 0
        if self.duplicate_next_callbacks > 0:
            self.duplicate_next_callbacks -= 1
            return 2
        if self.callback_duplicates and rng.random() < self.callback_duplicates:
            return 2
        return 1

    def take_mqtt_loss(self, rng: random.Random) -> bool:
        """Decide whether the next MQTT message is lost."""
        if self.drop_next_mqtt > 0:
            self.drop_next_mqtt -= 1
            return True
        return bool(self.mqtt_loss) and rng.random() < self.mqtt_loss

    def take_webhook_loss(self, rng: random.Random) -> bool:
        """Decide whether the next webhook POST is lost."""
        if self.drop_next_webhooks > 0:
            self.drop_next_webhooks -= 1
            return True
        return bool(self.webhook_loss) and rng.random() < self.webhook_loss


def draw_lag(lag: Lag, rng: random.Random) -> float:
    """Draw one delay: a fixed number, or uniform in a ``(low, high)`` range."""
    if isinstance(lag, tuple):
        low, high = lag
        return rng.uniform(low, high)
    return lag
