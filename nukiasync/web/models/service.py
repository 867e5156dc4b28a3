"""Partner services (Airbnb, Guesty, Smoobu, ...) that can be linked to an account."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

import attrs

from nukiasync._parse import parse_bool
from nukiasync.web.models._common import optional_str


@attrs.frozen(kw_only=True)
class Service:
    """One entry of ``GET /service``.

    The spec's ``Service`` schema is a serialized server object (``enabled``, ``started``,
    ``stopped``, ``context``), not a documented payload: those flags are parsed, the id and
    name when present, and everything stays in ``raw``.
    """

    service_id: str | None = None
    name: str | None = None
    enabled: bool = False
    started: bool = False
    stopped: bool = False
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        """Build from the Web API JSON object."""
        return cls(
            service_id=optional_str(data.get("serviceId")),
            name=optional_str(data.get("name")),
            enabled=parse_bool(data.get("enabled")),
            started=parse_bool(data.get("started")),
            stopped=parse_bool(data.get("stopped")),
            raw=data,
        )
