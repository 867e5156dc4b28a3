"""What a callback claims, field by field, and what a bridge read says about each field.

A callback carries a device's whole state: lock state, mode, door sensor, batteries and
the last ring. Each is a separate claim (docs/decisions/0014-confirmation-field-by-field.md):
a forged callback may repeat the true state and lie only about the mode. So a verdict
is per field, and `verdict_of` applies the rules:

- the lock state: the read shows it, or it lies on the shortest legal path from the
  state before the claim to the one read (the rule passed in, see `confirm`); on a legal
  path at most two steps longer it is `Confirmation.SUPERSEDED` (it may have happened:
  the hub emits it under ``before_emit`` never, and does not correct it in ``background``);
- mode, door sensor and battery fields: the read shows the same value (they have no
  intermediate stages); a field the read does not report cannot be confirmed;
- the ring: the read shows the same ``ringactionTimestamp``. A ring older than the one
  read, yet newer than the one seen before the claim, may have happened and been
  superseded: ``/list`` keeps only the last ring, so it is `Confirmation.SUPERSEDED`.
- a device the read does not list (a phantom, or a known ``nukiId`` with the wrong
  ``deviceType``) contradicts every field.

Bridge timestamps are only compared with bridge timestamps, never with our clock.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Self

import attrs

if TYPE_CHECKING:
    from collections.abc import Callable

    from nukiasync.bridge.callbacks import BridgeCallback
    from nukiasync.bridge.models import BridgeDevice


class Confirmation(enum.StrEnum):
    """What the bridge said about a claim (or one field of it)."""

    CONFIRMED = "confirmed"
    CONTRADICTED = "contradicted"
    UNCONFIRMED = "unconfirmed"  # no answer in time, the read failed, or no such field
    SKIPPED = "skipped"  # policy "off"
    SUPERSEDED = "superseded"  # a ring older than the read's: /list keeps only the last


class ClaimField(enum.StrEnum):
    """One field of a device's state that a callback claims."""

    STATE = "state"
    MODE = "mode"
    DOOR_SENSOR = "door_sensor"
    BATTERY_CRITICAL = "battery_critical"
    BATTERY_CHARGING = "battery_charging"
    BATTERY_CHARGE_STATE = "battery_charge_state"
    KEYPAD_BATTERY_CRITICAL = "keypad_battery_critical"
    RING = "ring"


BATTERY_FIELDS = (
    ClaimField.BATTERY_CRITICAL,
    ClaimField.BATTERY_CHARGING,
    ClaimField.BATTERY_CHARGE_STATE,
    ClaimField.KEYPAD_BATTERY_CRITICAL,
)
_ATTRIBUTE = {
    ClaimField.STATE: "state",
    ClaimField.MODE: "mode",
    ClaimField.DOOR_SENSOR: "door_sensor_state",
    ClaimField.BATTERY_CRITICAL: "battery_critical",
    ClaimField.BATTERY_CHARGING: "battery_charging",
    ClaimField.BATTERY_CHARGE_STATE: "battery_charge_state",
    ClaimField.KEYPAD_BATTERY_CRITICAL: "keypad_battery_critical",
    ClaimField.RING: "ringaction_timestamp",
}
FieldValue = int | bool | datetime | None


@attrs.frozen(kw_only=True)
class DeviceSnapshot:
    """What a bridge read says about one device; None where it reports nothing."""

    state: int
    door_sensor_state: int | None = None
    mode: int | None = None
    battery_critical: bool | None = None
    battery_charging: bool | None = None
    battery_charge_state: int | None = None
    keypad_battery_critical: bool | None = None
    ringaction_timestamp: datetime | None = None
    # When the bridge last saw the device change (``lastKnownState.timestamp``, whole seconds).
    changed_at: datetime | None = attrs.field(default=None, eq=False)

    @classmethod
    def of(cls, device: BridgeDevice) -> Self | None:
        """The snapshot of one ``/list`` entry; None when it shows no state."""
        state = device.last_known_state
        if state is None or state.state_code is None:
            return None
        return cls(
            state=state.state_code,
            door_sensor_state=state.doorsensor_state_code,
            mode=state.mode_code,
            battery_critical=None if "batteryCritical" not in state.raw else state.battery_critical,
            battery_charging=state.battery_charging,
            battery_charge_state=state.battery_charge_state,
            keypad_battery_critical=state.keypad_battery_critical,
            ringaction_timestamp=state.ringaction_timestamp,
            changed_at=state.timestamp,
        )

    def value(self, field: ClaimField) -> FieldValue:
        """The value the read shows for a field."""
        value: FieldValue = getattr(self, _ATTRIBUTE[field])
        return value


@attrs.frozen(kw_only=True)
class StateClaim:
    """What a callback (or any other unsigned source) claims about a device.

    ``fields`` are the fields to check; None means the state and every field given.
    ``event_ids`` name the events emitted from each field, so a correction can name
    the event it retracts.
    """

    smartlock_id: int
    device_type: int
    state: int
    door_sensor_state: int | None = None
    mode: int | None = None
    battery_critical: bool | None = None
    battery_charging: bool | None = None
    battery_charge_state: int | None = None
    keypad_battery_critical: bool | None = None
    ringaction_timestamp: datetime | None = None
    fields: frozenset[ClaimField] | None = None
    event_ids: Mapping[ClaimField, str] = attrs.field(factory=dict, eq=False, hash=False)

    @classmethod
    def from_callback(
        cls,
        callback: BridgeCallback,
        *,
        fields: frozenset[ClaimField] | None = None,
        event_ids: Mapping[ClaimField, str] | None = None,
    ) -> Self:
        """The claim a bridge callback makes."""
        return cls(
            smartlock_id=callback.smartlock_id,
            device_type=callback.device_type_code,
            state=callback.state_code,
            door_sensor_state=callback.doorsensor_state_code,
            mode=callback.mode_code,
            battery_critical=callback.battery_critical,
            battery_charging=callback.battery_charging,
            battery_charge_state=callback.battery_charge_state,
            keypad_battery_critical=callback.keypad_battery_critical,
            ringaction_timestamp=callback.ringaction_timestamp,
            fields=fields,
            event_ids={} if event_ids is None else dict(event_ids),
        )

    def value(self, field: ClaimField) -> FieldValue:
        """The value claimed for a field."""
        value: FieldValue = getattr(self, _ATTRIBUTE[field])
        return value

    def checked(self) -> frozenset[ClaimField]:
        """The fields a read must confirm."""
        if self.fields is not None:
            return self.fields
        return frozenset(
            f for f in ClaimField if f is ClaimField.STATE or self.value(f) is not None
        )


@attrs.frozen(kw_only=True)
class ClaimVerdict:
    """The bridge's verdict on each checked field of one claim."""

    fields: Mapping[ClaimField, Confirmation] = attrs.field(eq=False, hash=False)
    listed: bool = True  # False: the read does not list the device at all
    answered: bool = True  # False: no read answered (deadline, failure, policy off)

    @classmethod
    def every(cls, claim: StateClaim, result: Confirmation) -> Self:
        """The same answer for every field, without a read (deadline, failure, off)."""
        return cls(fields=dict.fromkeys(claim.checked(), result), answered=False)

    @property
    def overall(self) -> Confirmation:
        """Contradicted if any field is, confirmed only if every field is."""
        results = set(self.fields.values())
        for result in (Confirmation.CONTRADICTED, Confirmation.SKIPPED):
            if result in results:
                return result
        if results <= {Confirmation.CONFIRMED}:
            return Confirmation.CONFIRMED
        return Confirmation.UNCONFIRMED

    def with_result(self, result: Confirmation) -> frozenset[ClaimField]:
        """The fields that got ``result``."""
        return frozenset(f for f, r in self.fields.items() if r is result)


def verdict_of(
    claim: StateClaim,
    before: DeviceSnapshot | None,
    after: DeviceSnapshot | None,
    on_path: Callable[[int, int, int, int], bool],
    near_path: Callable[[int, int, int, int], bool] | None = None,
    *,
    follow_on: Callable[[int, int, int], bool] | None = None,
) -> ClaimVerdict:
    """Apply the rules of this module to each field of a claim.

    ``near_path`` marks a state that is off the shortest path but on a slightly longer
    legal one (an unlatch seen by a read that shows its end, ``unlocked``) as
    `Confirmation.SUPERSEDED`: it may have happened, ``/list`` shows where it ended.
    ``follow_on`` marks a state the device leaves by itself at once (an Opener's open, then
    online) as superseded too: never contradicted, but not proven either.
    """
    fields = claim.checked()
    if after is None:
        return ClaimVerdict(fields=dict.fromkeys(fields, Confirmation.CONTRADICTED), listed=False)
    results: dict[ClaimField, Confirmation] = {}
    for field in fields:
        claimed, read = claim.value(field), after.value(field)
        if field is ClaimField.STATE:
            kind, claimed = claim.device_type, claim.state
            ok = claimed == after.state or (
                before is not None and on_path(kind, before.state, claimed, after.state)
            )
            maybe = not ok and (
                (follow_on is not None and follow_on(kind, claimed, after.state))
                or _moved_since(before, after)
                or (
                    before is not None
                    and near_path is not None
                    and near_path(kind, before.state, claimed, after.state)
                )
            )
            results[field] = (
                Confirmation.CONFIRMED
                if ok
                else Confirmation.SUPERSEDED
                if maybe
                else Confirmation.CONTRADICTED
            )
        elif field is ClaimField.RING:
            results[field] = _ring(claim, before, after)
        elif read is None:
            results[field] = Confirmation.UNCONFIRMED  # the read does not report it
        else:
            ok = claimed == read
            results[field] = Confirmation.CONFIRMED if ok else Confirmation.CONTRADICTED
    return ClaimVerdict(fields=results)


def _moved_since(before: DeviceSnapshot | None, after: DeviceSnapshot) -> bool:
    """Whether the bridge saw the device change after the snapshot before the claim.

    Then a claimed state the read does not show may have been real and already left (an
    unlock, then a lock, before the read): superseded, not a lie. ``/list`` shows the new
    state before the bridge posts its callback, so without this a real change is retracted.
    """
    if before is None or before.changed_at is None or after.changed_at is None:
        return False
    return after.changed_at > before.changed_at


def _ring(claim: StateClaim, before: DeviceSnapshot | None, after: DeviceSnapshot) -> Confirmation:
    claimed, read = claim.ringaction_timestamp, after.ringaction_timestamp
    if claimed == read:
        return Confirmation.CONFIRMED
    if claimed is None or read is None or claimed > read:
        return Confirmation.CONTRADICTED
    known = None if before is None else before.ringaction_timestamp
    if known is not None and claimed <= known:
        return Confirmation.CONTRADICTED  # not newer than the ring seen before the claim
    return Confirmation.SUPERSEDED
