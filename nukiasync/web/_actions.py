"""The body of a Web API action (``SmartlockAction``), checked before anything is sent.

The Web API numbers actions differently from the Bridge: an Opener's continuous mode is 6/7
here and 4/5 there, and full lock is option 4 on a lock action here but action 6 there. Only
`WebLockAction` and `WebOpenerAction` are accepted, so a Bridge code or a bare number cannot
move a door by accident (docs/decisions/0010-web-and-bridge-action-vocabularies.md).
"""

from __future__ import annotations

from typing import Any

from nukiasync.const import LockAction, OpenerAction, WebLockAction, WebOpenerAction
from nukiasync.errors import NukiInvalidActionError
from nukiasync.web.models.smartlock import ActionOption

# Bits of SmartlockAction.option the spec defines: 2 force, 4 full lock.
_KNOWN_OPTIONS = int(ActionOption.FORCE | ActionOption.FULL_LOCK)

WebAction = WebLockAction | WebOpenerAction


def _bridge_hint(action: LockAction | OpenerAction) -> str:
    """What to pass instead of a Bridge code."""
    if action is LockAction.FULL_LOCK:
        return "WebLockAction.LOCK with full_lock=True"
    target = WebOpenerAction if isinstance(action, OpenerAction) else WebLockAction
    if action.name in target.__members__ and action.name != "UNKNOWN":
        member = target[action.name]
        return f"{target.__name__}.{member.name} ({int(member)})"
    return f"a {target.__name__}"


def check_action(action: object) -> WebAction:
    """Return ``action`` if it is a Web API action a device can take.

    Raises:
        NukiInvalidActionError: a Bridge code, a bare number, or UNKNOWN.
    """
    if isinstance(action, LockAction | OpenerAction):
        msg = (
            f"{type(action).__name__}.{action.name} is a Bridge API code ({int(action)}); "
            f"the Web API numbers actions differently: use {_bridge_hint(action)}"
        )
        raise NukiInvalidActionError(msg)
    if not isinstance(action, WebLockAction | WebOpenerAction):
        msg = (
            f"action must be a WebLockAction or WebOpenerAction, got {action!r}; a bare "
            "number means different things to a lock, an Opener and the Bridge"
        )
        raise NukiInvalidActionError(msg)
    if action.value <= 0:
        msg = f"{type(action).__name__}.{action.name} cannot be sent"
        raise NukiInvalidActionError(msg)
    return action


def action_body(
    action: object,
    *,
    full_lock: bool = False,
    force: bool = False,
    option: ActionOption | int | None = None,
) -> dict[str, Any]:
    """The ``SmartlockAction`` JSON: ``action`` and, when any is asked for, ``option``.

    Raises:
        NukiInvalidActionError: see `check_action`; an option bit the spec does not define;
            full lock on anything but `WebLockAction.LOCK`.
    """
    checked = check_action(action)
    if option is not None and (
        isinstance(option, bool) or not isinstance(option, int) or option & ~_KNOWN_OPTIONS
    ):
        msg = f"option must combine ActionOption.FORCE (2) and FULL_LOCK (4), got {option!r}"
        raise NukiInvalidActionError(msg)
    mask = int(option or 0)
    if force:
        mask |= ActionOption.FORCE
    if full_lock:
        mask |= ActionOption.FULL_LOCK
    if mask & ActionOption.FULL_LOCK and checked is not WebLockAction.LOCK:
        msg = (
            "full lock is an option of WebLockAction.LOCK only, "
            f"not of {type(checked).__name__}.{checked.name}"
        )
        raise NukiInvalidActionError(msg)
    body: dict[str, Any] = {"action": int(checked)}
    if option is not None or mask:
        body["option"] = mask
    return body
