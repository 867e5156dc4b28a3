"""Which peers may post a bridge callback, and which address a request really came from.

A callback is taken only from the bridge's own address (or networks the user names); a
reverse proxy in between is believed only when it is listed as trusted, and then the
``X-Forwarded-For`` hop nearest to it that is not itself a trusted proxy is the source.
IPv4-mapped IPv6 addresses count as their IPv4 address on both sides.

A bridge posts from one address, again and again, so each (peer, forwarded-for) pair is
decided once and remembered: the allow-lists never change after construction, and the memo
is bounded (it is cleared when a flood of distinct peers fills it).
"""

from __future__ import annotations

import functools
import ipaddress
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
MEMO_SIZE = 256  # distinct (peer, forwarded-for) pairs remembered; a bridge needs one


class PeerPolicy:
    """The allowed sources and trusted proxies of one bridge's callbacks."""

    def __init__(self, allowed_sources: Iterable[str], trusted_proxies: Iterable[str]) -> None:
        """Parse both lists.

        Raises:
            ValueError: an entry is not an IP address or network.
        """
        self._allowed = networks(allowed_sources)
        self._proxies = networks(trusted_proxies)
        self._memo: dict[tuple[str | None, str | None], str | None] = {}

    def is_allowed_peer(self, peer: str | None) -> bool:
        """Whether a TCP peer may post at all: an allowed source or a trusted proxy."""
        address = parse_address(peer)
        return address is not None and member(address, self._allowed + self._proxies)

    def source(self, peer: str | None, forwarded_for: str | None) -> IPAddress | None:
        """The address a request came from, trusting only the configured proxies."""
        address = parse_address(peer)
        if address is None:
            return None
        if forwarded_for is None or not member(address, self._proxies):
            return address
        for hop in reversed(forwarded_for.split(",")):
            hop_address = parse_address(hop.strip())
            if hop_address is None:
                return None
            if not member(hop_address, self._proxies):
                return hop_address
        return address  # only proxies in the chain: the proxy itself posted

    def admitted_source(self, peer: str | None, forwarded_for: str | None) -> str | None:
        """The source as text when it is an allowed one, else None (decided once per pair)."""
        key = (peer, forwarded_for)
        try:
            return self._memo[key]
        except KeyError:
            pass
        source = self.source(peer, forwarded_for)
        allowed = None if source is None or not member(source, self._allowed) else str(source)
        if len(self._memo) >= MEMO_SIZE:
            self._memo.clear()
        self._memo[key] = allowed
        return allowed


def networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    """Parse addresses and networks (a single string counts as one entry)."""
    if isinstance(values, str):
        values = (values,)
    return tuple(_network(value) for value in values)


def _network(value: str) -> IPNetwork:
    network = ipaddress.ip_network(value.strip(), strict=False)
    mapped = getattr(network.network_address, "ipv4_mapped", None)
    if mapped is not None and network.prefixlen >= 96:  # ::ffff:a.b.c.d is a.b.c.d
        return ipaddress.IPv4Network((mapped, network.prefixlen - 96))
    return network


@functools.lru_cache(maxsize=256)  # a bridge posts from one address, again and again
def parse_address(text: str | None) -> IPAddress | None:
    """An address without its zone, IPv4-mapped ones as IPv4; None when it is none."""
    if not text:
        return None
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def member(address: IPAddress, within: tuple[IPNetwork, ...]) -> bool:
    """Whether the address is in any of the networks."""
    return any(address in network for network in within)
