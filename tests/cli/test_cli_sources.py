"""`nukiasync listen --mqtt/--publish/--webhook-*`: the sources and the export from the CLI."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import TYPE_CHECKING, Any

import aiomqtt
import httpx
import pytest

from nukiasync import NukiWebClient, cli
from nukiasync.cli import sources
from nukiasync.errors import NukiError
from nukiasync.hub import NukiHub
from tests.support import canary
from tests.support.mqtt_broker import running_broker
from tests.support.simulator import make_world

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.sockets
PASSWORD = "canary-cli-mqtt-pw-31"
SMARTLOCK = (4 << 32) | 0x2BB28570
WAIT = 15.0


async def test_listen_with_mqtt_only_names_who_and_publishes_events(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.delenv("NUKI_WEB_TOKEN", raising=False)
    monkeypatch.delenv("NUKI_BRIDGE_TOKEN", raising=False)
    async with running_broker("amqtt", tmp_path, users={"hub": PASSWORD}) as broker:
        url = broker.url("hub", PASSWORD)
        async with aiomqtt.Client(
            broker.host, broker.port, username="hub", password=PASSWORD
        ) as peer:
            await peer.subscribe("nukiasync/#", qos=1)
            for name, value in (("deviceType", "4"), ("state", "1"), ("name", "Garage")):
                await peer.publish(f"nuki/2BB28570/{name}", value, qos=1, retain=True)
            args = ["listen", "--mqtt", url, "--auth-name", "54321=Alice", "--publish", url,
                    "--json", "--duration", "8"]  # fmt: skip
            run = asyncio.ensure_future(asyncio.to_thread(cli.main, args))
            seen: list[dict[str, Any]] = []
            async with asyncio.timeout(WAIT):
                async for message in peer.messages:
                    if not message.topic.matches("nukiasync/+/event"):
                        continue  # the lock's own topics, and the retained last state
                    event = json.loads(bytes(message.payload))  # type: ignore[arg-type]
                    seen.append(event)
                    if event["type"] == "HealthChanged" and event["component"] == "mqtt":
                        # The hub is subscribed: the lock acts.
                        await peer.publish("nuki/2BB28570/lockActionEvent", "1,0,54321,0,0", qos=1)
                        await peer.publish("nuki/2BB28570/state", "3", qos=1)
                    if event["type"] == "ActionAttributed":
                        break
            assert await run == 0
    out, err = capsys.readouterr()
    answer = seen[-1]
    assert answer["actor"]["name"] == "Alice"
    assert answer["source"] == "mqtt"
    assert answer["smartlock_id"] == SMARTLOCK
    states = [e for e in seen if e["type"] == "LockStateChanged"]
    assert [(e["previous_state"], e["state"]) for e in states] == [(1, 3)]
    printed = [json.loads(line) for line in out.splitlines()]
    assert "ActionAttributed" in [e["type"] for e in printed]
    assert PASSWORD not in out + err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--mqtt", "mqtt://u:canary-pw-7@127.0.0.1:notaport"], "MQTT URL is not valid"),
        (["--mqtt", "http://127.0.0.1"], "mqtt://"),
        (["--mqtt", "mqtt://127.0.0.1", "--auth-name", "Alice"], "--auth-name takes ID=NAME"),
        (["--web-token", "t", "--auth-name", "1=A"], "give --mqtt too"),
        (["--mqtt", "mqtt://127.0.0.1", "--webhook-secret", "s"], "needs --web-token"),
        (["--web-token", "t", "--webhook-secret", "s"], "needs --webhook-port"),
        (["--web-token", "t", "--publish", "ftp://x"], "mqtt://"),
    ],
)
def test_source_option_mistakes(args: list[str], message: str, monkeypatch, capsys) -> None:
    monkeypatch.delenv("NUKI_WEBHOOK_SECRET", raising=False)
    monkeypatch.delenv("NUKI_MQTT_URL", raising=False)
    assert cli.main(["listen", *args]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "canary-pw-7" not in err


def test_help_lists_the_source_options(capsys) -> None:
    with pytest.raises(SystemExit):
        cli.main(["listen", "--help"])
    text = capsys.readouterr().out
    for option in ("--mqtt", "--auth-name", "--webhook-secret", "--webhook-port", "--publish"):
        assert option in text


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_the_webhook_route_refuses_a_forged_push_and_a_busy_port_is_one_sentence(
    monkeypatch, capsys
) -> None:
    async with make_world() as world:
        web = NukiWebClient(canary.WEB_TOKEN, base_url=world.web_url)
        port = _free_port()
        args = cli._parser().parse_args(
            ["listen", "--web-token", "t", "--webhook-secret", "s3cret-canary-hook",
             "--webhook-port", str(port)]
        )  # fmt: skip
        options = sources.read_options(args, has_web=True)
        hub = NukiHub(web=web, **sources.hub_options(options, web))
        async with hub, sources.serving(options, hub), httpx.AsyncClient() as client:
            url = f"http://127.0.0.1:{port}{sources.WEBHOOK_PATH}"
            forged = await client.post(
                url, content=b"{}", headers={"X-Nuki-Signature-SHA256": "0" * 64}
            )
            with pytest.raises(NukiError, match=f"cannot listen for webhooks on 127.0.0.1:{port}"):
                async with sources.serving(options, hub):
                    pass
            stats = hub.diagnostics()["sources"]["webhook"]
        await web.close()
    assert forged.status_code == 401
    assert stats["rejected"] == {"signature": 1}
    assert "s3cret-canary-hook" not in json.dumps(hub.diagnostics())
