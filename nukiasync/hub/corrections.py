"""The ``background`` policy's second half: correct what the bridge contradicts.

An event went out at once; when the bridge's ``/list`` then shows a different value for a
field the callback claimed, the hub retracts that event with a `StateCorrected` (the state)
or a `ClaimCorrected` (mode, door sensor, battery, ring), and a device the bridge does not
list at all with one `DeviceRetracted` for every event it caused. Only what the hub still
believes is corrected: a claim a later callback moved on from may have been a real, quick
change (docs/decisions/0014-confirmation-field-by-field.md).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from nukiasync.bridge.claims import ClaimField, Confirmation
from nukiasync.events import (
    ClaimCorrected,
    DeviceRetracted,
    EventSource,
    NukiEvent,
    StateCorrected,
    stable_id,
)
from nukiasync.hub.devices import state_name
from nukiasync.hub.fields import set_record_value, still_claimed

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from nukiasync.bridge.claims import DeviceSnapshot, StateClaim
    from nukiasync.bridge.confirm import Correction
    from nukiasync.hub.devices import DeviceRecord, DeviceTable, HubCounters

_LOGGER = logging.getLogger(__name__)


class Corrections:
    """Turns a confirmer's `Correction` into retractions and correction events."""

    def __init__(
        self,
        devices: DeviceTable,
        counters: HubCounters,
        *,
        publish: Callable[[NukiEvent], None],
        retract: Callable[[str], bool],
        clock: Callable[[], datetime],
    ) -> None:
        self._devices = devices
        self._counters = counters
        self._publish = publish
        self._retract = retract
        self._clock = clock

    def on_correction(self, correction: Correction) -> None:
        """Correct each contradicted field still believed, or retract an unlisted device."""
        if correction.snapshot is None:
            self._retract_device(correction)
            return
        device = self._devices.get(correction.smartlock_id)
        for claim, verdict in zip(correction.claims, correction.verdicts, strict=False):
            for field in sorted(verdict.with_result(Confirmation.CONTRADICTED)):
                event_id = claim.event_ids.get(field)
                # A claim a later callback moved on from may have been a real, quick
                # change (unlocked, then auto-locked before the read): the bridge cannot
                # tell, so only what the hub still believes is corrected.
                if field is ClaimField.STATE and device.moving(correction.snapshot.state):
                    continue  # a moving state is no truth: the next callback or read settles it
                if event_id is not None and still_claimed(device, claim, field):
                    self._correct(device, field, claim, correction.snapshot, event_id)

    def _correct(
        self,
        device: DeviceRecord,
        field: ClaimField,
        claim: StateClaim,
        snapshot: DeviceSnapshot,
        event_id: str,
    ) -> None:
        claimed, actual = claim.value(field), snapshot.value(field)
        self._retract(event_id)
        self._counters.corrections += 1
        _LOGGER.warning(
            "Device %s: the bridge reports %s %s, not the %s a callback claimed",
            device.smartlock_id,
            field,
            actual,
            claimed,
        )
        is_state = field is ClaimField.STATE
        if is_state:
            self._devices.correct(device.smartlock_id, snapshot.state, self._clock())
        else:
            set_record_value(device, field, actual)
        cls = StateCorrected if is_state else ClaimCorrected
        self._publish(
            cls(
                event_id=stable_id("corrected", device.smartlock_id, field, event_id),
                received_at=self._clock(),
                source=EventSource.BRIDGE_POLL,
                wrong_state=claim.state if is_state else snapshot.state,
                state=snapshot.state,
                state_name=state_name(device.device_type, snapshot.state),
                state_event_id=event_id,
                field=str(field),
                claimed=claimed,
                actual=actual,
                **device.identity(),
            )
        )

    def _retract_device(self, correction: Correction) -> None:
        ids = tuple(dict.fromkeys(i for c in correction.claims for i in c.event_ids.values()))
        if not ids:
            return
        sid = correction.smartlock_id
        for event_id in ids:
            self._retract(event_id)
        self._counters.corrections += 1
        _LOGGER.warning("Device %s: the bridge lists no such device; retracted", sid)
        identity = self._devices.get(sid).identity()
        self._devices.forget(sid)
        self._publish(
            DeviceRetracted(
                event_id=stable_id("retracted", sid, *ids),
                received_at=self._clock(),
                source=EventSource.BRIDGE_POLL,
                wrong_state=correction.claims[-1].state,
                state=-1,
                state_name="no_such_device",
                state_event_id=ids[0],
                field="device",
                claimed=correction.claims[-1].device_type,
                retracted_event_ids=ids,
                **identity,
            )
        )
