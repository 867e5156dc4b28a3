"""Diagnostics: the hub's own redacted snapshot plus the entry, tokens and webhook id removed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components.diagnostics import async_redact_data

from .const import TO_REDACT

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from . import NukiConfigEntry


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant,  # noqa: ARG001 - Home Assistant's platform signature
    entry: NukiConfigEntry,
) -> dict[str, Any]:
    """Return what a bug report needs; ``hub.diagnostics()`` holds no secrets of its own."""
    runtime = entry.runtime_data
    return {
        "entry": async_redact_data(
            {"data": dict(entry.data), "options": dict(entry.options)}, TO_REDACT
        ),
        "hub": async_redact_data(runtime.hub.diagnostics(), TO_REDACT),
        "bridge": repr(runtime.bridge),
        "web": repr(runtime.web),
    }
