"""Every error nukiasync raises, in one tree, so integrations can catch by meaning.

```
NukiError
├── NukiConnectionError                  network down, DNS, refused, reset
│   └── NukiTimeoutError                 (also a TimeoutError)
├── NukiResponseError                    answered, but not with what we asked; .status, .body
│   ├── NukiBadRequestError              400/422: the server's description in .description
│   ├── NukiAuthenticationError          401/403: token wrong, expired or lacking a scope
│   │   └── NukiBridgeAuthenticationError  bridge 401: token wrong, or host clock > 60 s off
│   ├── NukiNotFoundError                404: unknown smartlock, auth, nuki_id, ...
│   ├── NukiConflictError                409: parameters conflict
│   ├── NukiObjectBusyError              423: another operation is pending on the object
│   ├── NukiRateLimitError               429; .retry_after s from .received_at, or None
│   ├── NukiServerError                  5xx (HTML gateway pages included)
│   │   └── NukiBridgeBusyError          bridge 503: it serves one request at a time
│   └── NukiInvalidResponseError         2xx but not the JSON promised (HTML, bad JSON, shape)
├── NukiBridgeError                      the bridge answered {"success": false}; .reason
│   ├── NukiCallbackSlotsFullError       all 3 callback slots belong to other tools
│   └── NukiPairingError                 /auth: the button was not pressed in time
├── NukiCallbackError                    a callback body is malformed; .reason
├── NukiMqttMessageError                 an MQTT topic or payload is not Nuki's; .reason
├── NukiWebhookSignatureError            a Web API webhook signature does not match
├── NukiInvalidActionError               an action the API cannot take, e.g. a Bridge code
│                                        given to the Web API (also a ValueError)
├── NukiCallbackServerError              cannot bind the callback server (also an OSError)
└── NukiAddressError                     a HOST[:PORT] that is not one (also a ValueError)
```

Messages never contain tokens, path secrets or keypad codes; bodies are truncated.
"""

from __future__ import annotations

from datetime import datetime, timedelta

_BODY_LIMIT = 200  # enough to identify an HTML error page, short enough for a log line


class NukiError(Exception):
    """Base of every error raised by nukiasync."""


class NukiConnectionError(NukiError):
    """The device or the cloud could not be reached."""


class NukiTimeoutError(NukiConnectionError, TimeoutError):
    """A request did not finish in time; an action may or may not have happened."""


class NukiResponseError(NukiError):
    """The server answered with something we cannot use."""

    def __init__(self, message: str, *, status: int | None = None, body: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body = body[:_BODY_LIMIT]


class NukiBadRequestError(NukiResponseError):
    """The server refused the parameters (400 or 422)."""

    def __init__(
        self, message: str, *, status: int | None = None, body: str = "", description: str = ""
    ) -> None:
        super().__init__(message, status=status, body=body)
        self.description = description


class NukiAuthenticationError(NukiResponseError):
    """The credentials are wrong, expired, or lack a scope: reauthenticate."""


class NukiBridgeAuthenticationError(NukiAuthenticationError):
    """The bridge refused the token: wrong token, or the host clock is more than 60 s off."""


class NukiNotFoundError(NukiResponseError):
    """The object does not exist (or the id is of the wrong kind)."""


class NukiConflictError(NukiResponseError):
    """The parameters conflict with the object's current state (409)."""


class NukiObjectBusyError(NukiResponseError):
    """Another operation is pending on this object (423); try again later."""


class NukiRateLimitError(NukiResponseError):
    """Too many requests (429); wait ``retry_after`` seconds when it is known.

    The wait counts from when the answer arrived, not from when the request went out
    (a slow 429 would otherwise bring the next request early): ``received_at`` is that
    moment on the client's clock, and ``retry_at`` the earliest time to send again.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = 429,
        body: str = "",
        retry_after: float | None = None,
        received_at: datetime | None = None,
    ) -> None:
        super().__init__(message, status=status, body=body)
        self.retry_after = retry_after
        self.received_at = received_at

    @property
    def retry_at(self) -> datetime | None:
        """When the server allows the next request (None when unknown)."""
        if self.retry_after is None or self.received_at is None:
            return None
        return self.received_at + timedelta(seconds=self.retry_after)


class NukiServerError(NukiResponseError):
    """The server failed (5xx); an action may or may not have happened."""


class NukiBridgeBusyError(NukiServerError):
    """The bridge is busy with another request or its device is unreachable (503)."""


class NukiInvalidResponseError(NukiResponseError):
    """A success status with a body that is not the JSON promised."""


class NukiBridgeError(NukiError):
    """The bridge answered but reported failure."""

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason


class NukiCallbackSlotsFullError(NukiBridgeError):
    """All callback slots of the bridge are used by other tools; we never evict them."""

    def __init__(self, message: str, *, occupied: tuple[str, ...] = ()) -> None:
        super().__init__(message, reason="slots full")
        self.occupied = occupied


class NukiPairingError(NukiBridgeError):
    """The bridge gave no token: its button was not pressed in time, or auth is disabled."""


class NukiCallbackError(NukiError):
    """A callback body is malformed; ``reason`` is a short machine-readable tag."""

    def __init__(self, message: str, *, reason: str = "malformed") -> None:
        super().__init__(message)
        self.reason = reason


class NukiMqttMessageError(NukiError):
    """An MQTT topic or payload is not what the Nuki MQTT API publishes."""

    def __init__(self, message: str, *, reason: str = "malformed") -> None:
        super().__init__(message)
        self.reason = reason


class NukiInvalidActionError(NukiError, ValueError):
    """An action argument the API would read differently, or not at all; nothing was sent.

    Raised before any request, e.g. for a Bridge `LockAction`/`OpenerAction` given to the
    Web API, whose numbers differ (`WebLockAction`/`WebOpenerAction`).
    """


class NukiWebhookSignatureError(NukiError):
    """A Web API webhook body does not match its signature."""


class NukiCallbackServerError(NukiError, OSError):
    """The callback server could not start (port in use, address not available)."""


class NukiAddressError(NukiError, ValueError):
    """A bridge address is not ``HOST``, ``HOST:PORT``, ``[IPv6]:PORT`` or ``http://HOST:PORT``."""
