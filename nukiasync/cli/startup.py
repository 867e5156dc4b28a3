"""Start-up checks of ``nukiasync listen``: each failure as one sentence, cause and fix.

The hub itself never gives up on a part that fails (it reports health and retries), which is
right for a service; a person starting a command wants to hear at once that a token is
wrong. So the command asks the bridge and the Web API once before starting the hub.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import attrs

from nukiasync.cli.wording import fault
from nukiasync.errors import (
    NukiAuthenticationError,
    NukiBridgeAuthenticationError,
    NukiConnectionError,
    NukiError,
)

if TYPE_CHECKING:
    from nukiasync.bridge.client import NukiBridgeClient
    from nukiasync.bridge.server import CallbackServer
    from nukiasync.events import CallbackRegistered
    from nukiasync.web.client import NukiWebClient


@attrs.frozen
class Failure:
    """Why the command cannot run: the exit status and the sentence for stderr."""

    code: int
    sentence: str


async def check(
    web: NukiWebClient | None, bridges: list[NukiBridgeClient], web_url: str
) -> tuple[Failure | None, dict[int, str]]:
    """Ask every bridge and the Web API once; return the first failure and the device names."""
    names: dict[int, str] = {}
    for bridge in bridges:
        where = _address(bridge)
        try:
            devices = await bridge.devices()
        except NukiBridgeAuthenticationError:
            return Failure(3, _bridge_token(where)), names
        except NukiConnectionError as err:
            return Failure(4, _bridge_unreachable(where, err)), names
        except NukiError as err:
            return Failure(4, _bridge_error(where, err)), names
        names.update({device.smartlock_id: device.name for device in devices if device.name})
    if web is not None:
        try:
            smartlocks = await web.smartlocks()
        except NukiAuthenticationError:
            return Failure(5, _web_token(web_url)), names
        except NukiError as err:
            return Failure(6, _web_unreachable(web_url, err)), names
        names.update({lock.smartlock_id: lock.name for lock in smartlocks if lock.name})
    return None, names


def refused_registration(event: CallbackRegistered, server: CallbackServer | None) -> Failure:
    """The bridge did not take our callback URL."""
    where = f" (the bridge would call {server.url})" if server is not None else ""
    return Failure(
        7,
        f"the bridge did not register our callback: {fault(event.detail)}{where}; free a "
        "callback slot (another tool uses it) or give --advertise-url with an address the "
        "bridge can reach.",
    )


def cannot_listen(host: str | None, port: int, err: OSError) -> Failure:
    """Our callback server could not bind."""
    where = f"{host or 'our address'} port {port}"
    reason = err.strerror or str(err)
    return Failure(
        7,
        f"cannot receive callbacks on {where} ({reason}); choose another --callback-port, "
        "or a --callback-host this computer has.",
    )


def _address(bridge: NukiBridgeClient) -> str:
    host = f"[{bridge.host}]" if ":" in bridge.host else bridge.host
    return f"{host}:{bridge.port}"


def _bridge_token(where: str) -> str:
    return (
        f"the bridge at {where} refused the token; give the API token shown in the Nuki app "
        "(Bridge > Manage Bridge > HTTP API) with --bridge-token or NUKI_BRIDGE_TOKEN, "
        "check that this computer's clock is right (the bridge allows 60 s), and for bridge "
        "firmware before 1.22.1 or 2.14.0 give --token-mode hashed."
    )


def _bridge_unreachable(where: str, err: NukiError) -> str:
    return (
        f"no bridge answers at {where} ({_why(err)}); check the address given with "
        "--bridge HOST[:PORT] and that the bridge's HTTP API is enabled in the Nuki app."
    )


def _bridge_error(where: str, err: NukiError) -> str:
    return (
        f"the bridge at {where} answered with an error ({fault(type(err).__name__)}); check "
        "that this address is a Nuki Bridge and that its HTTP API is enabled."
    )


def _web_token(web_url: str) -> str:
    return (
        f"the Web API at {web_url} refused the token; create an API token at web.nuki.io "
        "(Menu > API) and give it with --web-token or NUKI_WEB_TOKEN (for the simulator, "
        "also give its --web-url)."
    )


def _web_unreachable(web_url: str, err: NukiError) -> str:
    return (
        f"the Web API at {web_url} cannot be used ({_why(err)}); check the network "
        "connection and --web-url."
    )


def _why(err: NukiError) -> str:
    """The network's own reason (refused, unreachable, timed out), else the error's meaning."""
    seen: BaseException | None = err
    for _ in range(8):  # a chain of wrappers: ours, httpx, httpcore, OSError
        seen = seen.__cause__ or seen.__context__ if seen is not None else None
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused"
        if isinstance(seen, TimeoutError):
            return "no answer in time"
        if isinstance(seen, OSError) and seen.errno is not None:
            return os.strerror(seen.errno).lower()
    return fault(type(err).__name__)
