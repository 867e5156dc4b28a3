"""A real MQTT broker process on 127.0.0.1 for the tests: amqtt always, mosquitto when present.

The port is chosen by the OS (bind to port 0, read it back, close) and handed to the broker,
so a restarted broker comes back where its clients expect it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import sys
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

START_TIMEOUT = 10.0
KINDS = ("amqtt", "mosquitto")
# Looked up once at import: a lookup on the event loop is a blocking call.
AMQTT = str(Path(sys.executable).parent / "amqtt")
MOSQUITTO = shutil.which("mosquitto")
MOSQUITTO_PASSWD = shutil.which("mosquitto_passwd")


def available(kind: str) -> bool:
    if kind == "mosquitto":
        return (
            shutil.which("mosquitto") is not None and shutil.which("mosquitto_passwd") is not None
        )
    return True


def broker_kinds() -> list[object]:
    """Parameters for tests that run on every broker found."""
    return [
        pytest.param(
            kind, marks=pytest.mark.skipif(not available(kind), reason=f"{kind} not installed")
        )
        for kind in KINDS
    ]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Broker:
    """One broker process; ``users`` maps user names to passwords (none: anonymous)."""

    def __init__(self, kind: str, workdir: Path, users: dict[str, str] | None = None) -> None:
        self.kind = kind
        self.workdir = workdir
        self.users = users or {}
        self.host = "127.0.0.1"
        self.port = _free_port()
        self._process: asyncio.subprocess.Process | None = None

    def url(self, user: str | None = None, password: str | None = None) -> str:
        auth = "" if user is None else f"{user}:{password}@" if password else f"{user}@"
        return f"mqtt://{auth}{self.host}:{self.port}"

    async def start(self) -> None:
        config = await asyncio.to_thread(self._write_config)
        if self.kind == "amqtt":
            argv = [AMQTT, "-c", str(config)]
            ready = b"bind to"
        else:
            argv = [MOSQUITTO or "mosquitto", "-c", str(config)]
            ready = b" running"
        self._process = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        stream = self._process.stdout
        assert stream is not None
        said = b""
        async with asyncio.timeout(START_TIMEOUT):
            while ready not in (line := await stream.readline()):
                said += line
                if not line:
                    raise RuntimeError(f"{self.kind} exited before it listened: {said!r}")
        # Keep reading so a chatty broker never blocks on a full pipe.
        self._drain = asyncio.create_task(self._read_rest(stream), name="broker-output")

    @staticmethod
    async def _read_rest(stream: asyncio.StreamReader) -> None:
        while await stream.readline():
            pass

    async def stop(self) -> None:
        if self._process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            self._process.kill()
        await self._process.wait()
        self._drain.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._drain
        self._process = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    def _write_config(self) -> Path:
        if self.kind == "amqtt":
            return self._amqtt_config()
        return self._mosquitto_config()

    def _amqtt_config(self) -> Path:
        from pwdlib.hashers.argon2 import Argon2Hasher

        lines = [
            "listeners:",
            "  default:",
            "    type: tcp",
            f"    bind: {self.host}:{self.port}",
            "plugins:",
        ]
        if self.users:
            passwords = self.workdir / "amqtt-passwords"
            hasher = Argon2Hasher()
            passwords.write_text(
                "".join(f"{user}:{hasher.hash(pw)}\n" for user, pw in self.users.items())
            )
            lines += [
                "  amqtt.plugins.authentication.FileAuthPlugin:",
                f"    password_file: {passwords}",
            ]
        else:
            lines += [
                "  amqtt.plugins.authentication.AnonymousAuthPlugin:",
                "    allow_anonymous: true",
            ]
        config = self.workdir / "amqtt.yaml"
        config.write_text("\n".join(lines) + "\n")
        return config

    def _mosquitto_config(self) -> Path:
        import subprocess

        # Run as the user who started it: the test's own files stay readable.
        lines = [f"listener {self.port} {self.host}", "log_dest stderr", "log_type all"]
        if os.geteuid() == 0:
            lines.append("user root")
        if self.users:
            passwords = self.workdir / "mosquitto-passwords"
            passwords.touch()
            for user, password in self.users.items():
                subprocess.run(  # noqa: S603
                    [
                        shutil.which("mosquitto_passwd") or "mosquitto_passwd",
                        "-b",
                        str(passwords),
                        user,
                        password,
                    ],
                    check=True,
                    capture_output=True,
                )
            lines += ["allow_anonymous false", f"password_file {passwords}"]
        else:
            lines.append("allow_anonymous true")
        config = self.workdir / "mosquitto.conf"
        config.write_text("\n".join(lines) + "\n")
        return config


@asynccontextmanager
async def running_broker(
    kind: str, workdir: Path, *, users: dict[str, str] | None = None
) -> AsyncIterator[Broker]:
    broker = Broker(kind, workdir, users)
    await broker.start()
    try:
        yield broker
    finally:
        await broker.stop()
