"""A cancel that aiomqtt's ``wait_for`` swallowed on Python 3.11 still stops our task."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from nukiasync.mqtt.broker import honour_cancel


async def test_a_swallowed_cancel_is_raised_again() -> None:
    async def swallowed() -> str:
        task = asyncio.current_task()
        assert task is not None
        task.cancel()  # the cancel arrives ...
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(0)  # ... and is swallowed, as aiomqtt's wait_for does on 3.11
        honour_cancel()
        return "ran on"

    with pytest.raises(asyncio.CancelledError):
        await asyncio.create_task(swallowed())


async def test_without_a_cancel_nothing_happens() -> None:
    honour_cancel()
