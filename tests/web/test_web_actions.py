"""Issue 12: the Web API and the Bridge each have their own action numbers.

A Bridge `OpenerAction.ACTIVATE_CONTINUOUS_MODE` (4) sent to the Web API was read there as
nothing an Opener does, and `LockAction.FULL_LOCK` (6) as no lock action at all. These tests
check the three layers that now keep them apart: mypy, the runtime check, and the wire
(against the simulated Web API over loopback, which acts on the Web API's numbers).
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import pytest
import respx
from mypy import api as mypy_api

from nukiasync import (
    LockAction,
    LockMode,
    NukiError,
    NukiInvalidActionError,
    NukiWebClient,
    OpenerAction,
    WebOpenerAction,
)
from nukiasync.errors import NukiBadRequestError
from tests.support import canary
from tests.support.paths import ROOT
from tests.support.simulator import DEADLINE, make_world

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from nukiasync.simulator import World

REPO = ROOT
BASE = "https://api.nuki.test"


def test_bridge_codes_are_a_type_error(tmp_path: Path) -> None:
    snippet = tmp_path / "uses_web_actions.py"
    snippet.write_text(
        textwrap.dedent(
            """
            from nukiasync import LockAction, NukiWebClient, OpenerAction
            from nukiasync import WebLockAction, WebOpenerAction

            async def main(web: NukiWebClient) -> None:
                await web.action(1, WebLockAction.LOCK, full_lock=True)
                await web.action(1, WebOpenerAction.ACTIVATE_CONTINUOUS_MODE)
                await web.action_advanced(1, action=WebOpenerAction.ACTIVATE_RTO)
                await web.action(1, OpenerAction.ACTIVATE_CONTINUOUS_MODE)  # line 9
                await web.action(1, LockAction.FULL_LOCK)  # line 10
                await web.action(1, 4)  # line 11
                await web.action_advanced(1, action=OpenerAction.ACTIVATE_RTO)  # line 12
            """
        ),
        encoding="utf-8",
    )
    out, _, status = mypy_api.run(
        ["--strict", "--no-error-summary", "--cache-dir", str(REPO / ".mypy_cache"), str(snippet)]
    )
    lines = sorted(int(line.split(":")[1]) for line in out.splitlines() if "error:" in line)
    assert (status, lines) == (1, [9, 10, 11, 12]), out


@pytest.mark.parametrize(
    ("action", "hint"),
    [
        (OpenerAction.ACTIVATE_CONTINUOUS_MODE, "WebOpenerAction.ACTIVATE_CONTINUOUS_MODE (6)"),
        (OpenerAction.DEACTIVATE_CONTINUOUS_MODE, "WebOpenerAction.DEACTIVATE_CONTINUOUS_MODE (7)"),
        (OpenerAction.ACTIVATE_RTO, "WebOpenerAction.ACTIVATE_RTO (1)"),
        (LockAction.FULL_LOCK, "WebLockAction.LOCK with full_lock=True"),
        (LockAction.UNLATCH, "WebLockAction.UNLATCH (3)"),
        (LockAction.UNKNOWN, "a WebLockAction"),
    ],
)
async def test_a_bridge_code_is_refused_with_what_to_use(action, hint) -> None:
    async with NukiWebClient(canary.WEB_TOKEN, base_url=BASE) as web:
        with respx.mock(base_url=BASE, assert_all_called=False) as router:
            route = router.route().respond(204)
            with pytest.raises(NukiInvalidActionError, match="Bridge API code") as caught:
                await web.action(17, action)
            with pytest.raises(NukiInvalidActionError):
                await web.action_advanced(17, action=action)
    assert not route.called
    assert hint in str(caught.value)
    assert isinstance(caught.value, NukiError)
    assert isinstance(caught.value, ValueError)


@pytest.fixture
async def world() -> AsyncIterator[World]:
    async with make_world() as w:
        yield w


async def test_opener_continuous_mode_over_the_wire(world: World) -> None:
    """The simulated Web API reads 6/7 as continuous mode, as Nuki's spec says."""
    entrance = next(device for device in world.devices if device.is_opener)
    async with NukiWebClient(canary.WEB_TOKEN, base_url=world.web_url, retry_attempts=1) as web:
        await web.action(entrance.smartlock_id, WebOpenerAction.ACTIVATE_CONTINUOUS_MODE)
        await world.wait_until(lambda: entrance.mode == LockMode.CONTINUOUS, deadline=DEADLINE)
        device = await web.smartlock(entrance.smartlock_id)
        assert device.state is not None
        assert device.state.last_action is WebOpenerAction.ACTIVATE_CONTINUOUS_MODE
        await web.action(entrance.smartlock_id, WebOpenerAction.DEACTIVATE_CONTINUOUS_MODE)
        await world.wait_until(lambda: entrance.mode == LockMode.DOOR, deadline=DEADLINE)
        # What the client sent before issue 12 for "activate continuous mode": refused.
        with pytest.raises(NukiBadRequestError):
            await web._request(
                "POST", f"/smartlock/{entrance.smartlock_id}/action", json_body={"action": 4}
            )


async def test_full_lock_over_the_wire(world: World) -> None:
    front = next(device for device in world.devices if not device.is_opener)
    async with NukiWebClient(canary.WEB_TOKEN, base_url=world.web_url, retry_attempts=1) as web:
        await web.full_lock(front.smartlock_id)  # {"action": 2, "option": 4}: accepted
        with pytest.raises(NukiBadRequestError):  # the old {"action": 6}: no such action
            await web._request(
                "POST", f"/smartlock/{front.smartlock_id}/action", json_body={"action": 6}
            )
