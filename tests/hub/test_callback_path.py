"""The path of one callback: from ``hub.handle_callback`` to a subscriber in four calls, no hop.

Issue 16 flattened it from ten frames (receiver.handle, deliver, _consume, link._take,
ClaimChecks.take, a lambda, hub._emit, bus.publish, bus._call); these tests keep it from
growing back silently. ``before_emit`` is left out on purpose: it waits for a read of the
bridge (I/O), so its events come from a task.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import nukiasync
from nukiasync.bridge.receiver import CallbackReceiver
from nukiasync.events import LockStateChanged, NukiEvent
from nukiasync.hub import NukiHub
from tests.support.hub import running, spoof

if TYPE_CHECKING:
    from types import FrameType

pytestmark = pytest.mark.sockets

PACKAGE = str(Path(nukiasync.__file__).parent)
MAX_CALLS = 4  # deliver, BridgeLink.take, ClaimChecks.take, EventBus.publish
ENTRY = NukiHub.handle_callback.__code__


def calls_since(frame: FrameType | None, entry: object) -> list[str] | None:
    """The frames from ``frame`` up to ``entry``'s (not included), or None: not on the stack.

    Frames of code outside nukiasync are named ``outside:...``.
    """
    names: list[str] = []
    while frame is not None:
        code = frame.f_code
        if code is entry:
            return names
        where = "" if code.co_filename.startswith(PACKAGE) else "outside:"
        names.append(f"{where}{Path(code.co_filename).name}:{code.co_qualname}")
        frame = frame.f_back
    return None


@pytest.mark.parametrize("policy", ["background", "off"])
async def test_handle_callback_reaches_a_subscriber_in_four_calls(policy: str) -> None:
    paths: list[list[str] | None] = []

    def subscriber(event: NukiEvent) -> None:
        if isinstance(event, LockStateChanged):
            paths.append(calls_since(sys._getframe(1), ENTRY))

    async with running(confirm=policy, web=False) as (_world, hub, _rec):
        hub.subscribe(subscriber, types=[LockStateChanged])
        assert await hub.handle_callback(spoof(0x1A2B3C4D, 3), "127.0.0.1") == 200
        # Delivered before handle_callback returned: no queue, no task in between.
        assert len(paths) == 1
        path = paths[0]
        assert path is not None, "the subscriber ran outside handle_callback's call"
        assert not [name for name in path if name.startswith("outside:")], path
        assert len(path) <= MAX_CALLS, f"{len(path)} calls: {list(reversed(path))}"


def test_the_depth_probe_sees_every_frame_in_between() -> None:
    """The probe itself: it counts frames and gives None when the entry is not on the stack."""

    def entry() -> list[str] | None:
        return middle()

    def middle() -> list[str] | None:
        return calls_since(sys._getframe(0), entry.__code__)

    got = entry()
    assert got is not None
    assert len(got) == 1
    assert got[0].startswith("outside:test_callback_path.py:")
    assert got[0].endswith("middle")
    assert calls_since(sys._getframe(0), CallbackReceiver.deliver.__code__) is None
