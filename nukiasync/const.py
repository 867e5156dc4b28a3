"""Nuki's numeric codes as tolerant enums, and the library's defaults.

Codes come from the Web API spec (v4.4.1, ranges corrected), the Bridge HTTP API 1.13.3 and
the MQTT API 1.5. A value we do not know becomes ``UNKNOWN``; models keep the raw integer in
a sibling ``*_code`` field, because the correlator and diagnostics need it.
"""

from __future__ import annotations

import enum
import logging
from typing import Self, cast

_LOGGER = logging.getLogger(__name__)

DEFAULT_WEB_URL = "https://api.nuki.io"
DEFAULT_TIMEOUT = 20.0  # seconds; the Web API answers in well under 2 s, actions take longer
DEFAULT_BRIDGE_PORT = 8080


class TolerantIntEnum(enum.IntEnum):
    """IntEnum that maps values this library does not know to ``UNKNOWN``."""

    @classmethod
    def _missing_(cls, value: object) -> Self:
        _LOGGER.debug("Unknown %s value %r, using UNKNOWN", cls.__name__, value)
        return cls["UNKNOWN"]

    @classmethod
    def parse(cls, value: object) -> Self:
        """Convert a raw value, tolerating strings of digits and unknown numbers."""
        if type(value) is int:  # the usual case, without the enum call's machinery
            member = cls._value2member_map_.get(value)
            if member is not None:
                return cast("Self", member)
        if isinstance(value, bool) or not isinstance(value, int | str):
            return cls["UNKNOWN"]
        try:
            return cls(int(value))
        except ValueError:
            return cls["UNKNOWN"]


class DeviceType(TolerantIntEnum):
    """Kind of Nuki device; the same numbers in the Web API, Bridge and MQTT."""

    UNKNOWN = -1
    SMARTLOCK = 0  # Smart Lock 1.0/2.0 (the Web API also files the Box here)
    BOX = 1
    OPENER = 2
    SMARTDOOR = 3
    SMARTLOCK_3 = 4  # Smart Lock 3.0 (Pro) and 4th generation
    SMARTLOCK_5 = 5  # Smart Lock Ultra / 5th generation


class LockState(TolerantIntEnum):
    """State of a Smart Lock or Smart Door (device types 0, 3, 4, 5)."""

    UNKNOWN = -1
    UNCALIBRATED = 0
    LOCKED = 1
    UNLOCKING = 2
    UNLOCKED = 3
    LOCKING = 4
    UNLATCHED = 5
    UNLOCKED_LOCK_N_GO = 6
    UNLATCHING = 7
    ERROR_WRONG_ENTRY_CODE = 224
    ERROR_WRONG_FINGERPRINT = 225
    MOTOR_BLOCKED = 254
    UNDEFINED = 255


class OpenerState(TolerantIntEnum):
    """State of an Opener (device type 2)."""

    UNKNOWN = -1
    UNTRAINED = 0
    ONLINE = 1
    RTO_ACTIVE = 3
    OPEN = 5
    OPENING = 7
    BOOT_RUN = 253
    UNDEFINED = 255


class LockMode(TolerantIntEnum):
    """Operating mode; the Bridge reports only DOOR and CONTINUOUS."""

    UNKNOWN = -1
    UNINITIALIZED = 0
    PAIRING = 1
    DOOR = 2
    CONTINUOUS = 3
    MAINTENANCE = 4
    OFF_DOOR_CHARGING = 5


class DoorSensorState(TolerantIntEnum):
    """Door sensor state; real bridges name 240 "tampered", the documents "removed"."""

    UNKNOWN = -1
    UNAVAILABLE = 0
    DEACTIVATED = 1
    DOOR_CLOSED = 2
    DOOR_OPENED = 3
    DOOR_STATE_UNKNOWN = 4
    CALIBRATING = 5
    UNCALIBRATED = 16
    REMOVED = 240
    UNDEFINED = 255


class LockAction(TolerantIntEnum):
    """Bridge HTTP API ``/lockAction`` code for a Smart Lock; the Web API uses `WebLockAction`."""

    UNKNOWN = -1
    UNLOCK = 1
    LOCK = 2
    UNLATCH = 3
    LOCK_N_GO = 4
    LOCK_N_GO_UNLATCH = 5
    FULL_LOCK = 6


class OpenerAction(TolerantIntEnum):
    """Bridge HTTP API ``/lockAction`` code for an Opener; the Web API uses `WebOpenerAction`.

    The numbers overlap `LockAction` with other meanings, and continuous mode is 4/5 here
    but 6/7 on the Web API.
    """

    UNKNOWN = -1
    ACTIVATE_RTO = 1
    DEACTIVATE_RTO = 2
    ELECTRIC_STRIKE_ACTUATION = 3
    ACTIVATE_CONTINUOUS_MODE = 4
    DEACTIVATE_CONTINUOUS_MODE = 5


class WebLockAction(TolerantIntEnum):
    """Web API ``SmartlockAction.action`` for a Smart Lock, Box or Smart Door.

    A separate type from the Bridge's `LockAction`, so a Bridge code cannot reach the Web API
    by accident (docs/decisions/0010-web-and-bridge-action-vocabularies.md). There is no
    full lock action: the Web API sends `LOCK` with option 4 (``full_lock=True``).
    """

    UNKNOWN = -1
    UNLOCK = 1
    LOCK = 2
    UNLATCH = 3
    LOCK_N_GO = 4
    LOCK_N_GO_UNLATCH = 5


class WebOpenerAction(TolerantIntEnum):
    """Web API ``SmartlockAction.action`` for an Opener: continuous mode is 6/7, not 4/5."""

    UNKNOWN = -1
    ACTIVATE_RTO = 1
    DEACTIVATE_RTO = 2
    ELECTRIC_STRIKE_ACTUATION = 3
    ACTIVATE_CONTINUOUS_MODE = 6
    DEACTIVATE_CONTINUOUS_MODE = 7


class LogAction(TolerantIntEnum):
    """What a Web API log entry records (``SmartlockLog.action``)."""

    UNKNOWN = -1
    UNLOCK = 1  # Opener: activate ring to open
    LOCK = 2  # Opener: deactivate ring to open
    UNLATCH = 3  # Opener: open (electric strike)
    LOCK_N_GO = 4
    LOCK_N_GO_UNLATCH = 5
    ACTIVATE_CONTINUOUS_MODE = 6  # Opener only
    DEACTIVATE_CONTINUOUS_MODE = 7  # Opener only
    RESTORE_RESET = 11
    DOOR_WARNING_AJAR = 208
    DOOR_WARNING_STATUS_MISMATCH = 209
    DOORBELL_RECOGNITION = 224  # Opener only: someone rang
    DOOR_OPENED = 240
    DOOR_CLOSED = 241
    DOOR_SENSOR_JAMMED = 242
    FIRMWARE_UPDATE = 243
    DOOR_LOG_ENABLED = 250
    DOOR_LOG_DISABLED = 251
    INITIALIZATION = 252
    CALIBRATION = 253
    LOG_ENABLED = 254
    LOG_DISABLED = 255


class LogTrigger(TolerantIntEnum):
    """What started a logged action; never use it alone to identify a person."""

    UNKNOWN = -1
    SYSTEM = 0
    MANUAL = 1
    BUTTON = 2
    AUTOMATIC = 3
    WEB = 4
    APP = 5
    AUTO_LOCK = 6
    ACCESSORY = 7
    KEYPAD_ERROR = 253
    NUKI_MODE = 254
    KEYPAD = 255


class LogState(TolerantIntEnum):
    """Outcome of a logged action (not a lock state); 0 is success."""

    UNKNOWN = -1
    SUCCESS = 0
    MOTOR_BLOCKED = 1
    CANCELED = 2
    TOO_RECENT = 3
    BUSY = 4
    LOW_MOTOR_VOLTAGE = 5
    CLUTCH_FAILURE = 6
    MOTOR_POWER_FAILURE = 7
    INCOMPLETE = 8
    REJECTED = 9
    REJECTED_NIGHT_MODE = 10
    INVALID_CODE = 224
    INVALID_FINGERPRINT = 225
    INVALID_NFC_TAG = 226
    OTHER_ERROR = 254
    UNKNOWN_ERROR = 255


class LogSource(TolerantIntEnum):
    """How a keypad action was authenticated (``SmartlockLog.source``)."""

    UNKNOWN = -1
    DEFAULT = 0
    KEYPAD_CODE = 1
    FINGERPRINT = 2
    TAP_TO_UNLOCK = 3


class OpenerLogSource(TolerantIntEnum):
    """What activated ring to open or continuous mode (``openerLog.source``)."""

    UNKNOWN = -1
    DOORBELL = 0
    TIMECONTROL = 1
    APP = 2
    BUTTON = 3
    FOB = 4
    BRIDGE = 5
    KEYPAD = 6


class AuthType(TolerantIntEnum):
    """Kind of authorization; the spec's maximum of 2 is wrong (13, 14, 15 exist)."""

    UNKNOWN = -1
    APP = 0
    BRIDGE = 1
    FOB = 2
    KEYPAD = 3
    KEYPAD_CODE = 13
    Z_KEY = 14
    VIRTUAL = 15


class AccountUserType(TolerantIntEnum):
    """Account user kind."""

    UNKNOWN = -1
    USER = 0
    COMPANY = 1


class ServerState(TolerantIntEnum):
    """Device's connection to Nuki's servers."""

    UNKNOWN = -1
    OK = 0
    UNREGISTERED = 1
    AUTH_UUID_INVALID = 2
    AUTH_INVALID = 3
    OFFLINE = 4


class BridgeType(TolerantIntEnum):
    """Hardware or software bridge."""

    UNKNOWN = -1
    HARDWARE = 1
    SOFTWARE = 2


class WebhookFeature(enum.StrEnum):
    """What a decentral webhook delivers."""

    DEVICE_STATUS = "DEVICE_STATUS"
    DEVICE_MASTERDATA = "DEVICE_MASTERDATA"
    DEVICE_CONFIG = "DEVICE_CONFIG"
    DEVICE_LOGS = "DEVICE_LOGS"
    DEVICE_AUTHS = "DEVICE_AUTHS"
    ACCOUNT_USER = "ACCOUNT_USER"
