"""What makes a callback URL acceptable to the bridge, and which registrations are ours.

The bridge keeps 3 callback URLs, http only, up to 254 characters. nukiasync
recognises its own registrations by a path prefix, so a restarted hub can replace its
stale entries without touching other tools' entries. Texts show a callback URL's
origin only: its path holds the server's secret (decision 0004).
"""

from __future__ import annotations

from urllib.parse import urlsplit

# Bridge limits for callbacks (Bridge HTTP API 1.13.3, /callback/add).
MAX_CALLBACKS = 3
MAX_CALLBACK_URL_LENGTH = 254
# Every callback URL nukiasync registers has a path starting with this segment; the
# CallbackServer builds ``http://host:port/nukiasync/<bridge_id>/<path_secret>``.
CALLBACK_PATH_ROOT = "/nukiasync/"


def callback_marker(bridge_id: str | int | None = None) -> str:
    """Return the path prefix that marks a callback URL as nukiasync's for this bridge.

    ``/nukiasync/<bridge_id>/`` with a bridge id, ``/nukiasync/`` without. Two
    nukiasync installations on one bridge need different markers, or each evicts the
    other's entry.
    """
    if bridge_id is None:
        return CALLBACK_PATH_ROOT
    text = str(bridge_id)
    if not text or "/" in text:
        msg = "bridge_id must be non-empty and contain no '/'"
        raise ValueError(msg)
    return f"{CALLBACK_PATH_ROOT}{text}/"


def is_ours(url: str, marker: str) -> bool:
    """Tell whether a registered callback URL's path starts with ``marker``."""
    try:
        path = urlsplit(url).path
    except ValueError:
        return False
    return path.startswith(marker)


def check_marker(marker: str) -> str:
    """Return ``marker`` if it is a path prefix of the form ``/.../``.

    Raises:
        ValueError: it is not; a bare ``/`` would claim every callback as ours.
    """
    if len(marker) < 3 or not marker.startswith("/") or not marker.endswith("/"):
        msg = "marker must be a path prefix like '/nukiasync/<bridge_id>/'"
        raise ValueError(msg)
    return marker


def check_callback_url(url: str) -> None:
    """Check what the bridge demands of a callback URL; never echo it (secrets).

    Raises:
        ValueError: not ``http://`` with a host, or longer than 254 characters.
    """
    if len(url) > MAX_CALLBACK_URL_LENGTH:
        msg = f"callback URL is longer than {MAX_CALLBACK_URL_LENGTH} characters"
        raise ValueError(msg)
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        host = None
        parts = None
    if parts is None or parts.scheme.lower() != "http" or not host:
        msg = "callback URL must be http://host[:port]/path (no https on the bridge)"
        raise ValueError(msg)
