"""The one place that converts between the Web API's smartlockId and the Bridge's nukiId.

Nuki's rule: prefix the 8-hex-digit device id with the device type digit and read it as hex,
i.e. ``smartlockId = deviceType << 32 | nukiId``. The arithmetic form is right for ids below
0x10000000, where string concatenation of unpadded hex (as some integrations do) is wrong.
"""

from __future__ import annotations

from nukiasync.const import DeviceType

_NUKI_ID_MASK = 0xFFFFFFFF


def smartlock_id_from(nuki_id: int, device_type: DeviceType | int) -> int:
    """Return the Web API smartlockId of a Bridge device.

    Raises:
        ValueError: the nuki_id does not fit 32 bits or the device type is unknown.
    """
    if not 0 <= nuki_id <= _NUKI_ID_MASK:
        msg = f"nuki_id must be a 32-bit unsigned integer, got {nuki_id}"
        raise ValueError(msg)
    code = int(device_type)
    if code < 0 or code > 0xF:
        msg = f"device_type must be a known Nuki device type, got {device_type!r}"
        raise ValueError(msg)
    return code << 32 | nuki_id


def nuki_id_from(smartlock_id: int) -> int:
    """Return the Bridge nukiId of a Web API smartlockId.

    Raises:
        ValueError: the smartlockId is negative.
    """
    if smartlock_id < 0:
        msg = f"smartlock_id must not be negative, got {smartlock_id}"
        raise ValueError(msg)
    return smartlock_id & _NUKI_ID_MASK


def device_type_from(smartlock_id: int) -> DeviceType:
    """Return the device type encoded in a Web API smartlockId."""
    return DeviceType.parse(smartlock_id >> 32)
