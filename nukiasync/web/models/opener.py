"""Nuki's catalogue of intercoms an Opener can drive: brands and models with their wiring."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Self

import attrs

from nukiasync._parse import optional_datetime, optional_int
from nukiasync.const import TolerantIntEnum
from nukiasync.web.models._common import optional_str, required_int


class IntercomVerification(TolerantIntEnum):
    """Whether Nuki has checked an intercom model with the Opener."""

    UNKNOWN = -1
    VERIFIED = 1
    MAY_BE_COMPATIBLE = 2
    NOT_COMPATIBLE = 3


@attrs.frozen(kw_only=True)
class OpenerBrand:
    """An intercom brand (``OpenerIntercomBrand``)."""

    brand_id: int
    brand: str = ""
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        """Build from the Web API JSON object."""
        return cls(
            brand_id=required_int(data, "brandId"),
            brand=str(data.get("brand") or ""),
            raw=data,
        )


@attrs.frozen(kw_only=True)
class OpenerIntercom:
    """An intercom model and how to wire an Opener to it (``OpenerIntercomModel``)."""

    intercom_id: int
    brand_id: int | None = None
    model: str = ""
    type: int | None = None
    verified: IntercomVerification = IntercomVerification.UNKNOWN
    verified_code: int | None = None
    bus_mode_switch: int | None = None
    bus_mode_switch_short_circuit_duration: int | None = None
    con_audioout: str | None = None
    con_bus_audio: str | None = None
    con_doorbell_minus: str | None = None
    con_doorbell_plus: str | None = None
    con_gnd_analogue: str | None = None
    con_gnd_bus: str | None = None
    con_opendoor: str | None = None
    creation_date: datetime | None = None
    update_date: datetime | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        """Build from the Web API JSON object."""
        verified = optional_int(data.get("verified"))
        return cls(
            intercom_id=required_int(data, "intercomId"),
            brand_id=optional_int(data.get("brandId")),
            model=str(data.get("model") or ""),
            type=optional_int(data.get("type")),
            verified=IntercomVerification.parse(verified),
            verified_code=verified,
            bus_mode_switch=optional_int(data.get("busModeSwitch")),
            bus_mode_switch_short_circuit_duration=optional_int(
                data.get("busModeSwitchShortCircuitDuration")
            ),
            con_audioout=optional_str(data.get("conAudioout")),
            con_bus_audio=optional_str(data.get("conBusAudio")),
            con_doorbell_minus=optional_str(data.get("conDoorbellMinus")),
            con_doorbell_plus=optional_str(data.get("conDoorbellPlus")),
            con_gnd_analogue=optional_str(data.get("conGndAnalogue")),
            con_gnd_bus=optional_str(data.get("conGndBus")),
            con_opendoor=optional_str(data.get("conOpendoor")),
            creation_date=optional_datetime(data.get("creationDate")),
            update_date=optional_datetime(data.get("updateDate")),
            raw=data,
        )
