"""Names shared by the nukiasync example integration's modules."""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "nukiasync"

# Config entry data (set by the config flow).
CONF_BRIDGE_ID: Final = "bridge_id"
CONF_BRIDGE_TOKEN: Final = "bridge_token"  # noqa: S105 - a key name, not a secret
CONF_WEB_TOKEN: Final = "web_token"  # noqa: S105 - a key name, not a secret
CONF_WEB_API_URL: Final = "web_api_url"
CONF_WEBHOOK_ID: Final = "webhook_id"
# Options: the base URL the bridge posts callbacks to, when Home Assistant's own internal URL
# is not the one the bridge can reach (Docker, a reverse proxy) or is https (the bridge only
# speaks http).
CONF_ADVERTISE_URL: Final = "advertise_url"
# Options: Advanced API accounts only. Nuki's cloud pushes each log entry (a decentral
# webhook) to a Home Assistant webhook at Home Assistant's external URL: "who" comes when the
# entry reaches the cloud, not at the next log read.
CONF_LOG_PUSH: Final = "log_push"

# Fired on Home Assistant's bus for every attribution answer; automations trigger on these.
EVENT_ATTRIBUTED: Final = "nukiasync_attributed"
EVENT_UNAVAILABLE: Final = "nukiasync_attribution_unavailable"

# Never in diagnostics: the tokens, and the webhook id (whoever knows it can post callbacks).
TO_REDACT: Final = frozenset(
    {CONF_BRIDGE_TOKEN, CONF_WEB_TOKEN, CONF_WEBHOOK_ID, "token", "webhook_url"}
)
