"""The simulator in a process of its own, so a benchmark's CPU readings exclude the server's.

``python -m bench._sim_process --locks 1 --web-delay 0.1 --entries 20`` starts a World on
127.0.0.1, fills each lock's log with ``--entries`` actions, prints one JSON line (URLs,
tokens, ids) and serves until its stdin closes or ``--max-seconds`` pass. `SimProcess` runs
it from a benchmark and closes it again.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import select
import subprocess
import sys
from typing import IO, Any, Self

from nukiasync.simulator import Knobs, World

START_TIMEOUT = 30.0  # s for the child to import, fill its log and print its line
STOP_TIMEOUT = 10.0  # s for the child to close its World after stdin closes


def _knobs(web_delay: float) -> Knobs:
    # Quick physics so filling the log takes a moment; entries visible at once.
    return Knobs(
        log_lag=0.0,
        motor_time=0.0,
        unlatch_hold=0.01,
        lock_n_go_delay=0.01,
        web_action_delay=0.0,
        callback_timeout=0.5,
        web_delay=web_delay,
    )


async def _serve(args: argparse.Namespace) -> None:
    web_token, bridge_token = secrets.token_urlsafe(30), secrets.token_hex(5)
    world = World(
        seed=9,
        knobs=_knobs(0.0),
        owner="Owner",
        web_token=web_token,
        bridge_token=bridge_token,
    )
    names = [f"Door {i + 1}" for i in range(args.locks)]
    for name in names:
        world.add_lock(name, door_sensor=True)
    owner = world.add_person("Owner", email="owner@example.invalid", app=names)
    async with world:
        for name in names:
            for i in range(args.entries):
                await world.act(owner, name, 2 if i % 2 else 1)
        world.knobs.web_delay = args.web_delay
        line = {
            "web_url": world.web_url,
            "web_token": web_token,
            "bridge_url": world.bridge_url,
            "bridge_port": int(world.bridge_url.rsplit(":", 1)[1]),
            "bridge_token": bridge_token,
            "smartlock_ids": [d.smartlock_id for d in world.devices],
            "nuki_ids": [d.nuki_id for d in world.devices],
        }
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), sys.stdin
        )
        try:
            async with asyncio.timeout(args.max_seconds):
                await reader.read()  # EOF: the parent is done
        except TimeoutError:
            pass
        finally:
            transport.close()


class SimProcess:
    """Start the simulator child and read its line; close its stdin to stop it."""

    def __init__(
        self, *, locks: int = 1, entries: int = 20, web_delay: float = 0.0, max_seconds: float = 600
    ) -> None:
        self._argv = [
            sys.executable,
            "-m",
            "bench._sim_process",
            f"--locks={locks}",
            f"--entries={entries}",
            f"--web-delay={web_delay}",
            f"--max-seconds={max_seconds}",
        ]
        self._proc: subprocess.Popen[str] | None = None
        self.info: dict[str, Any] = {}

    def __enter__(self) -> Self:
        self._proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            self._argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        stdout: IO[str] | None = self._proc.stdout
        if stdout is None:  # pragma: no cover
            msg = "no stdout"
            raise RuntimeError(msg)
        line = _readline(stdout, START_TIMEOUT)
        if not line:
            self.__exit__()
            msg = "the simulator process did not start"
            raise RuntimeError(msg)
        self.info = json.loads(line)
        return self

    def __exit__(self, *exc_info: object) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        self._proc = None


def _readline(stream: IO[str], timeout: float) -> str:
    """One line from a pipe, or '' when nothing is readable within ``timeout`` seconds."""
    ready, _, _ = select.select([stream], [], [], timeout)
    return stream.readline() if ready else ""


def main() -> None:
    """Parse the arguments and serve."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--locks", type=int, default=1)
    parser.add_argument("--entries", type=int, default=20)
    parser.add_argument("--web-delay", type=float, default=0.0)
    parser.add_argument("--max-seconds", type=float, default=600.0)
    asyncio.run(_serve(parser.parse_args()))


if __name__ == "__main__":
    main()
