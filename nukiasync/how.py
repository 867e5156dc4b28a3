"""How an action was done, in one wording for every consumer (events, CLI, Home Assistant).

A log entry says how an action started in two codes that mean little alone: the trigger (what
started it) and the authorization type (what the person used). Nuki's trigger 0 ("system")
covers every Bluetooth command, from the app or the bridge; trigger 3 ("automatic") covers fobs
as well as auto-unlock and time control. A person reads "system" as "nobody", so the wording
comes from both codes together, in this one place, and the raw codes stay in the event.
"""

from __future__ import annotations

import enum

from nukiasync.const import AuthType, LogAction, LogSource, LogTrigger, OpenerLogSource


class How(enum.StrEnum):
    """How an action was done; ``label`` is the wording a person reads."""

    APP = "app"
    KEYPAD_CODE = "keypad_code"
    FINGERPRINT = "fingerprint"
    FOB = "fob"
    BUTTON = "button"
    MANUAL = "manual"  # a hand on the knob or key
    AUTO_LOCK = "auto_lock"
    AUTO_UNLOCK = "auto_unlock"
    AUTOMATION = "automation"  # time control, Nuki mode, an automatic without a person
    WEB = "web"
    BRIDGE = "bridge"  # the bridge's HTTP API (a home automation, this library)
    ACCESSORY = "accessory"
    DOORBELL = "doorbell"
    DOOR_SENSOR = "door_sensor"
    BLUETOOTH = "bluetooth"  # a Bluetooth command whose authorization is unknown
    UNKNOWN = "unknown"

    @classmethod
    def _missing_(cls, value: object) -> How:  # noqa: ARG003  (the enum protocol)
        """A wording this version does not know (a newer state file) reads as unknown."""
        return cls.UNKNOWN

    @property
    def label(self) -> str:
        """The words a person reads: ``keypad code``, ``manual turn``, ``auto-lock``."""
        return _LABELS.get(self, self.value.replace("_", " "))


_LABELS = {
    How.MANUAL: "manual turn",
    How.AUTO_LOCK: "auto-lock",
    How.AUTO_UNLOCK: "auto-unlock",
    How.BRIDGE: "bridge API",
}
_BY_TRIGGER = {
    LogTrigger.MANUAL: How.MANUAL,
    LogTrigger.BUTTON: How.BUTTON,
    LogTrigger.WEB: How.WEB,
    LogTrigger.APP: How.APP,
    LogTrigger.AUTO_LOCK: How.AUTO_LOCK,
    LogTrigger.ACCESSORY: How.ACCESSORY,
    LogTrigger.NUKI_MODE: How.AUTOMATION,
}
_BY_AUTH = {
    AuthType.APP: How.APP,
    AuthType.BRIDGE: How.BRIDGE,
    AuthType.FOB: How.FOB,
    AuthType.KEYPAD: How.KEYPAD_CODE,
    AuthType.KEYPAD_CODE: How.KEYPAD_CODE,
    AuthType.Z_KEY: How.FOB,
    AuthType.VIRTUAL: How.APP,
}
_BY_OPENER_SOURCE = {
    OpenerLogSource.DOORBELL: How.DOORBELL,
    OpenerLogSource.TIMECONTROL: How.AUTOMATION,
    OpenerLogSource.APP: How.APP,
    OpenerLogSource.BUTTON: How.BUTTON,
    OpenerLogSource.FOB: How.FOB,
    OpenerLogSource.BRIDGE: How.BRIDGE,
    OpenerLogSource.KEYPAD: How.KEYPAD_CODE,
}
_VALUES = frozenset(h.value for h in How)
_DOOR_ACTIONS = frozenset(
    {
        LogAction.DOOR_OPENED,
        LogAction.DOOR_CLOSED,
        LogAction.DOOR_WARNING_AJAR,
        LogAction.DOOR_WARNING_STATUS_MISMATCH,
        LogAction.DOOR_SENSOR_JAMMED,
    }
)


def how_of(
    *,
    trigger: int | None,
    auth_type: AuthType | str | int | None,
    source: int | None = None,
    action: int | None = None,
    auto_unlock: bool = False,
    opener_source: int | None = None,
) -> How:
    """How an action was done, from a log entry's trigger and its authorization's type.

    ``auth_type`` is the authorization's type (an ``AuthType``, its code, or its lower-case
    name as in ``Actor.auth_type``); None when the log entry names no known authorization.
    """
    auth = _auth(auth_type)
    trig = LogTrigger.parse(trigger)
    if action is not None and LogAction.parse(action) in _DOOR_ACTIONS:
        return How.DOOR_SENSOR
    if action is not None and LogAction.parse(action) is LogAction.DOORBELL_RECOGNITION:
        return How.DOORBELL
    if trig in {LogTrigger.KEYPAD, LogTrigger.KEYPAD_ERROR}:
        fingerprint = LogSource.parse(source) is LogSource.FINGERPRINT
        return How.FINGERPRINT if fingerprint else How.KEYPAD_CODE
    if trig in _BY_TRIGGER:
        return _BY_TRIGGER[trig]
    if trig is LogTrigger.AUTOMATIC:
        if auth in {AuthType.FOB, AuthType.Z_KEY}:
            return How.FOB
        return How.AUTO_UNLOCK if auto_unlock else How.AUTOMATION
    # Trigger 0 (a Bluetooth command) or a code we do not know: the authorization decides.
    if auth in _BY_AUTH:
        return _BY_AUTH[auth]
    if opener_source is not None and OpenerLogSource.parse(opener_source) in _BY_OPENER_SOURCE:
        return _BY_OPENER_SOURCE[OpenerLogSource.parse(opener_source)]
    if isinstance(auth_type, str) and auth_type in _VALUES:
        return How(auth_type)  # "web", "fingerprint": what the log implied without an auth
    return How.BLUETOOTH if trig is LogTrigger.SYSTEM else How.UNKNOWN


def _auth(auth_type: AuthType | str | int | None) -> AuthType | None:
    if auth_type is None:
        return None
    if isinstance(auth_type, str):
        name = auth_type.upper()
        return AuthType[name] if name in AuthType.__members__ else None
    parsed = AuthType.parse(auth_type)
    return None if parsed is AuthType.UNKNOWN else parsed
