"""``nukiasync listen`` options for the sources beyond bridge and Web API, and the export.

``--mqtt URL`` listens to the locks on their MQTT broker, ``--webhook-secret`` with
``--webhook-port`` receives the Web API's decentral webhooks on a route of our own, and
``--publish URL`` exports every event to an MQTT broker. A password in a URL is never printed:
errors name the broker by host and port only.
"""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING, Any

import attrs
from aiohttp import web

from nukiasync.errors import NukiError
from nukiasync.hub.sources.mqtt_source import MqttSource
from nukiasync.mqtt.broker import MqttSettings
from nukiasync.mqtt.publisher import EventPublisher

if TYPE_CHECKING:
    import argparse
    from collections.abc import AsyncIterator, Callable

    from nukiasync.hub import NukiHub
    from nukiasync.web.client import NukiWebClient

WEBHOOK_PATH = "/nuki/webhook"


def add_options(add: Callable[..., Any]) -> None:
    """Add the options to the ``listen`` parser."""
    add(
        "--mqtt",
        metavar="URL",
        help="the locks' MQTT broker, mqtt://[user[:password]@]host[:port] (Smart Lock 3.0 Pro "
        "and 4th generation: state and who acted, locally; default: $NUKI_MQTT_URL)",
    )
    add(
        "--auth-name",
        metavar="ID=NAME",
        action="append",
        default=[],
        help="without a Web API token: the name of a lock's auth id for MQTT; repeat",
    )
    add(
        "--webhook-secret",
        metavar="SECRET",
        help="the decentral webhook's secret (Advanced API; needs --web-token; "
        "default: $NUKI_WEBHOOK_SECRET)",
    )
    add(
        "--webhook-port",
        metavar="PORT",
        type=int,
        default=None,
        help=f"our port for decentral webhooks, served at {WEBHOOK_PATH} (behind an https proxy)",
    )
    add(
        "--webhook-host",
        metavar="ADDRESS",
        default="127.0.0.1",
        help="our address for webhooks (default: 127.0.0.1, for a local https proxy)",
    )
    add(
        "--publish",
        metavar="URL",
        help="also publish every event as JSON to this MQTT broker (mqtt://...), "
        "under nukiasync/<smartlock_id>/event, the last state retained",
    )


@attrs.frozen(kw_only=True)
class SourceOptions:
    """What the options ask for, checked before anything connects."""

    mqtt: MqttSettings | None
    auth_names: dict[int, str]
    webhook_secret: str | None
    webhook_port: int | None
    webhook_host: str
    publish: MqttSettings | None


def read_options(args: argparse.Namespace, *, has_web: bool) -> SourceOptions:
    """Check the options.

    Raises:
        ValueError: an option is wrong; the text says which (never a password).
    """
    mqtt_url = args.mqtt or os.environ.get("NUKI_MQTT_URL")
    secret = args.webhook_secret or os.environ.get("NUKI_WEBHOOK_SECRET")
    try:
        mqtt = MqttSettings.from_url(mqtt_url, client_id=None) if mqtt_url else None
        publish = MqttSettings.from_url(args.publish) if args.publish else None
    except NukiError as err:
        raise ValueError(str(err)) from None
    names: dict[int, str] = {}
    for text in args.auth_name:
        number, _, name = text.partition("=")
        if not number.strip().isdigit() or not name.strip():
            msg = "--auth-name takes ID=NAME, e.g. --auth-name 54321=Alice"
            raise ValueError(msg)
        names[int(number)] = name.strip()
    if secret and not has_web:
        msg = "--webhook-secret needs --web-token: webhooks push Web API log entries"
        raise ValueError(msg)
    if secret and args.webhook_port is None:
        msg = "--webhook-secret needs --webhook-port: where the webhooks arrive"
        raise ValueError(msg)
    if names and mqtt is None:
        msg = "--auth-name names MQTT auth ids: give --mqtt too"
        raise ValueError(msg)
    return SourceOptions(
        mqtt=mqtt,
        auth_names=names,
        webhook_secret=secret or None,
        webhook_port=args.webhook_port,
        webhook_host=args.webhook_host,
        publish=publish,
    )


def hub_options(options: SourceOptions, web: NukiWebClient | None) -> dict[str, Any]:
    """The `NukiHub` keyword arguments for the sources."""
    mqtt = None
    if options.mqtt is not None:
        mqtt = MqttSource(options.mqtt, web=web, auth_names=options.auth_names or None)
    return {"mqtt": mqtt, "webhook_secret": options.webhook_secret}


@contextlib.asynccontextmanager
async def exporting(options: SourceOptions, hub: NukiHub) -> AsyncIterator[None]:
    """Publish every event to MQTT (from before the hub starts: its start-up events too)."""
    if options.publish is None:
        yield
        return
    publisher = EventPublisher(options.publish)
    hub.subscribe(publisher)
    await publisher.start()
    try:
        yield
    finally:
        await publisher.close()


@contextlib.asynccontextmanager
async def serving(options: SourceOptions, hub: NukiHub) -> AsyncIterator[None]:
    """Run the webhook route while the hub runs."""
    runner = None
    try:
        if options.webhook_secret is not None and options.webhook_port is not None:
            app = web.Application()
            app.router.add_post(WEBHOOK_PATH, hub.handle_webhook)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            try:
                await web.TCPSite(runner, options.webhook_host, options.webhook_port).start()
            except OSError as err:
                where = f"{options.webhook_host}:{options.webhook_port}"
                msg = f"cannot listen for webhooks on {where}: {err.strerror or err}"
                raise NukiError(msg) from None
        yield
    finally:
        if runner is not None:
            await runner.cleanup()
