"""Reading a bridge address as people write it: ``HOST[:PORT]``, ``[IPv6]:PORT`` or a URL.

One parser for the command line, the examples and integrations, so every tool accepts the
same forms and answers a typo with a sentence instead of a traceback.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from nukiasync.const import DEFAULT_BRIDGE_PORT
from nukiasync.errors import NukiAddressError

_FORMS = "HOST, HOST:PORT, [IPv6]:PORT or http://HOST:PORT"


def parse_bridge_address(text: str, *, default_port: int = DEFAULT_BRIDGE_PORT) -> tuple[str, int]:
    """Split a bridge address into host and port (``default_port`` when none is given).

    Raises:
        NukiAddressError: empty, a bad port, or a URL with a path.
    """
    raw = text.strip()
    if "://" in raw:
        parts = urlsplit(raw)
        if parts.scheme != "http" or parts.path not in {"", "/"} or parts.query:
            msg = f"{text!r} is not a bridge address; use {_FORMS} (the bridge speaks plain http)"
            raise NukiAddressError(msg)
        raw = parts.netloc
    host, port = _split(raw, text)
    if not host or any(c.isspace() or c in "/?#@" for c in host):
        msg = f"{text!r} is not a bridge address; use {_FORMS}"
        raise NukiAddressError(msg)
    if port is None:
        return host, default_port
    if not port.isdigit() or not 0 < int(port) < 65536:
        msg = f"{text!r} has no valid port (1-65535); use {_FORMS}"
        raise NukiAddressError(msg)
    return host, int(port)


def _split(raw: str, text: str) -> tuple[str, str | None]:
    if raw.startswith("["):
        host, sep, rest = raw[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            msg = f"{text!r} is not a bridge address; use {_FORMS}"
            raise NukiAddressError(msg)
        _check_ipv6(host, text)
        return host, rest[1:] if rest else None
    if raw.count(":") > 1:  # a bare IPv6 address, no port
        _check_ipv6(raw, text)
        return raw, None
    host, sep, port = raw.partition(":")
    return host, port if sep else None


def _check_ipv6(host: str, text: str) -> None:
    try:
        ipaddress.IPv6Address(host)
    except ValueError:
        msg = f"{text!r} is not a bridge address; use {_FORMS}"
        raise NukiAddressError(msg) from None
