"""One lock entity per device of the bridge: state from callbacks, ``changed_by`` from the log.

Each entity subscribes to the hub with a plain (sync) callback, as Home Assistant's
``@callback`` wants. A state change clears ``changed_by`` at once: until the hub answers,
nobody is known, and showing the previous person would be the stale-operator bug of other
integrations. The answer (``ActionAttributed``) is taken only when it explains the state
shown now (its ``state_event_id``), so a late answer for an older change cannot overwrite it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components.lock import LockEntity, LockEntityFeature
from homeassistant.core import callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.device_registry import DeviceInfo

from nukiasync import (
    ActionAttributed,
    AttributionUnavailable,
    DeviceType,
    LockAction,
    LockState,
    LockStateChanged,
    NukiError,
    OpenerAction,
    OpenerState,
    StateCorrected,
)

from .const import DOMAIN

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddEntitiesCallback

    from nukiasync import BridgeDevice, NukiEvent

    from . import NukiConfigEntry, NukiData

_EVENTS = (LockStateChanged, StateCorrected, ActionAttributed, AttributionUnavailable)

# (locked, locking, unlocking, open, opening, jammed) by state code, per kind of device.
_LOCK_STATES: dict[int, tuple[bool, ...]] = {
    LockState.LOCKED: (True, False, False, False, False, False),
    LockState.LOCKING: (False, True, False, False, False, False),
    LockState.UNLOCKING: (False, False, True, False, False, False),
    LockState.UNLOCKED: (False, False, False, False, False, False),
    LockState.UNLOCKED_LOCK_N_GO: (False, False, False, False, False, False),
    LockState.UNLATCHING: (False, False, False, False, True, False),
    LockState.UNLATCHED: (False, False, False, True, False, False),
    LockState.MOTOR_BLOCKED: (False, False, False, False, False, True),
}
# An Opener is "locked" while ring to open is off, as in Home Assistant's nuki integration.
_OPENER_STATES: dict[int, tuple[bool, ...]] = {
    OpenerState.ONLINE: (True, False, False, False, False, False),
    OpenerState.RTO_ACTIVE: (False, False, False, False, False, False),
    OpenerState.OPENING: (False, False, False, False, True, False),
    OpenerState.OPEN: (False, False, False, True, False, False),
}
# (lock, unlock, open) actions per kind of device.
_LOCK_ACTIONS = (LockAction.LOCK, LockAction.UNLOCK, LockAction.UNLATCH)
_OPENER_ACTIONS = (
    OpenerAction.DEACTIVATE_RTO,
    OpenerAction.ACTIVATE_RTO,
    OpenerAction.ELECTRIC_STRIKE_ACTUATION,
)


async def async_setup_entry(
    hass: HomeAssistant,  # noqa: ARG001 - Home Assistant's platform signature
    entry: NukiConfigEntry,
    async_add_entities: AddEntitiesCallback,
) -> None:
    """Add one entity per device the bridge listed at setup."""
    runtime = entry.runtime_data
    async_add_entities(NukiLock(runtime, device) for device in runtime.devices)


class NukiLock(LockEntity):
    """A Nuki Smart Lock or Opener, pushed by the hub."""

    _attr_has_entity_name = True
    _attr_name = None  # the device's name
    _attr_should_poll = False
    _attr_supported_features = LockEntityFeature.OPEN

    def __init__(self, runtime: NukiData, device: BridgeDevice) -> None:
        self._runtime = runtime
        self._device = device
        self._smartlock_id = device.smartlock_id
        self._opener = device.device_type == DeviceType.OPENER
        self._attr_unique_id = str(device.smartlock_id)
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, str(device.smartlock_id))},
            manufacturer="Nuki",
            name=device.name or f"Nuki {device.nuki_id:X}",
            model=device.device_type.name.replace("_", " ").title(),
            sw_version=device.firmware_version,
        )
        self._state: int | None = None
        self._state_event_id: str | None = None  # the LockStateChanged shown now
        self._attribution = "none"
        self._auth_type: str | None = None
        self._trigger: str | None = None
        self._how: str | None = None  # nukiasync's one wording: app, keypad_code, fob, ...
        if device.last_known_state is not None:
            self._state = device.last_known_state.state_code

    async def async_added_to_hass(self) -> None:
        """Subscribe to this device's events; the hub calls back in the event loop."""
        unsubscribe = self._runtime.hub.subscribe(
            self._on_event, smartlock_id=self._smartlock_id, types=_EVENTS
        )
        self.async_on_remove(unsubscribe)

    @callback
    def _on_event(self, event: NukiEvent) -> None:
        if isinstance(event, LockStateChanged | StateCorrected):
            self._state = event.state
            self._state_event_id = event.event_id
            self._attr_changed_by = None
            self._auth_type = self._trigger = self._how = None
            self._attribution = "pending" if event.attributable else "none"
        elif isinstance(event, ActionAttributed):
            if event.state_event_id != self._state_event_id:
                return  # explains a change that is no longer shown
            self._attr_changed_by = event.actor.name or None
            self._auth_type = event.actor.auth_type
            self._trigger = event.trigger_name
            self._how = event.how.value
            self._attribution = "attributed"
        elif isinstance(event, AttributionUnavailable):
            if event.state_event_id != self._state_event_id:
                return
            self._attribution = f"unavailable: {event.reason.value}"
        self.async_write_ha_state()

    # State

    def _flags(self) -> tuple[bool, ...] | None:
        table = _OPENER_STATES if self._opener else _LOCK_STATES
        return None if self._state is None else table.get(self._state)

    @property
    def available(self) -> bool:
        """Unavailable while the state is unknown (uncalibrated, undefined, booting)."""
        return self._flags() is not None

    @property
    def is_locked(self) -> bool | None:
        """Locked (an Opener: ring to open off)."""
        flags = self._flags()
        return None if flags is None else flags[0]

    @property
    def is_locking(self) -> bool | None:
        """The motor is turning to lock."""
        flags = self._flags()
        return None if flags is None else flags[1]

    @property
    def is_unlocking(self) -> bool | None:
        """The motor is turning to unlock."""
        flags = self._flags()
        return None if flags is None else flags[2]

    @property
    def is_open(self) -> bool | None:
        """Unlatched (an Opener: the electric strike is buzzing)."""
        flags = self._flags()
        return None if flags is None else flags[3]

    @property
    def is_opening(self) -> bool | None:
        """Unlatching (an Opener: opening)."""
        flags = self._flags()
        return None if flags is None else flags[4]

    @property
    def is_jammed(self) -> bool | None:
        """The motor is blocked."""
        flags = self._flags()
        return None if flags is None else flags[5]

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """How the last change was made, and whether the hub knows who made it yet."""
        return {
            "attribution": self._attribution,
            "how": self._how,
            "auth_type": self._auth_type,
            "trigger": self._trigger,
            "smartlock_id": self._smartlock_id,
        }

    # Actions: sent through the bridge; the state follows from its callback.

    async def async_lock(self, **kwargs: Any) -> None:  # noqa: ARG002 - HA's signature
        """Lock (an Opener: deactivate ring to open)."""
        await self._act(0)

    async def async_unlock(self, **kwargs: Any) -> None:  # noqa: ARG002 - HA's signature
        """Unlock (an Opener: activate ring to open)."""
        await self._act(1)

    async def async_open(self, **kwargs: Any) -> None:  # noqa: ARG002 - HA's signature
        """Unlatch (an Opener: open the door)."""
        await self._act(2)

    async def _act(self, which: int) -> None:
        action = (_OPENER_ACTIONS if self._opener else _LOCK_ACTIONS)[which]
        try:
            # Never retried after an ambiguous failure: the door may be open (decision 0006).
            await self._runtime.bridge.lock_action(
                self._device.nuki_id, action, device_type=self._device.device_type_code
            )
        except NukiError as err:
            msg = f"{self._device.name}: {action.name.lower()} failed: {err}"
            raise HomeAssistantError(msg) from err
