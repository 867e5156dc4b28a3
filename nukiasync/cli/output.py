"""How the command line prints events: a table a person can read, or JSON lines.

Every row says when the thing happened: the device's time for log entries (the log's date),
the moment the bridge's callback arrived for state changes, in the local time zone, named
once in the header. A state change gets a reference (``#3``); the row that later says who
did it carries the same reference, so it is clear which change it answers. Columns are as
wide as the longest known door name; door and person names are never cut (two names must
never read the same), other words are cut with an ellipsis.

Each line is flushed before the callback returns, so a consumer reading our output has every
event the hub counts as taken (the checkpoint moves only past taken events).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, TextIO

from nukiasync.cli.wording import place, row, words
from nukiasync.events import (
    ActionAttributed,
    AttributionFailure,
    AttributionUnavailable,
    HealthChanged,
    LockStateChanged,
    NukiEvent,
    StateCorrected,
    event_to_dict,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping

    from nukiasync.cli.demo import DemoSummary

WHO_WIDTH = 12
HOW_WIDTH = 12
WHAT_WIDTH = 28
DOOR_MIN, DOOR_MAX = 17, 32  # the minimum fits "callback entrance"
LEGEND = '"..." under WHO: being read from the Web API log; the "by" row with the same #n answers.'


class EventPrinter:
    """A hub subscriber that prints every event as a table row (or a JSON line).

    With ``hold_health`` the printer keeps health rows back (and prints no header) until
    ``release()``: start-up checks may still end the command with a sentence instead.
    """

    def __init__(
        self,
        out: TextIO,
        *,
        json_lines: bool = False,
        names: Mapping[int, str] | None = None,
        expect_who: bool = True,
        tz: tzinfo | None = None,
        hold_health: bool = False,
    ) -> None:
        self._out = out
        self._json = json_lines
        self._names = dict(names or {})
        self._expect_who = expect_who
        self._tz = tz
        self._door_width = _door_width(self._names.values())
        self._refs: dict[str, tuple[int, str, datetime]] = {}  # state event id -> (n, state, when)
        self._next_ref = 1
        self._held: list[NukiEvent] | None = [] if hold_health else None
        self._header_done = json_lines
        self._day: str | None = None
        self.printed = 0
        self.closed = False  # the reader went away (``listen | head``)
        self.on_closed: Callable[[], None] | None = None

    @property
    def held(self) -> list[NukiEvent]:
        """Health events kept back until ``release()``."""
        return list(self._held or ())

    def release(self) -> None:
        """Print the header and the held rows; from now on every event is printed at once."""
        held, self._held = self._held or [], None
        self._header()
        for event in held:
            self._print(event)

    def __call__(self, event: NukiEvent) -> None:
        """Print one event and flush."""
        if self._held is not None and isinstance(event, HealthChanged):
            self._held.append(event)
            return
        self._print(event)

    def _print(self, event: NukiEvent) -> None:
        if self._noise(event):
            return
        if self._json:
            data = event_to_dict(event)
            data["happened_at"] = (event.occurred_at or event.received_at).isoformat()
            line = json.dumps(data, sort_keys=True)
        else:
            self._header()
            line = self.describe(event)
        try:
            self._out.write(line + "\n")
            self._out.flush()
        except BrokenPipeError:
            # Not taken: raising tells the hub this event did not reach its reader.
            self.closed = True
            if self.on_closed is not None:
                self.on_closed()
            raise
        self.printed += 1

    def _noise(self, event: NukiEvent) -> bool:
        """A bridge-only table would answer every change with "no Web API token given"."""
        return (
            not self._json
            and not self._expect_who
            and isinstance(event, AttributionUnavailable)
            and event.reason is AttributionFailure.NO_WEB_API
        )

    def header_lines(self, now: datetime | None = None) -> list[str]:
        """The header: date, time zone, the legend and the column titles."""
        local = (now or datetime.now(UTC)).astimezone(self._tz)
        offset = local.strftime("%z")
        zone = f"{local.tzname()} (UTC{offset[:3]}:{offset[3:]})"
        self._day = _day(local)
        titles = (
            f"{'TIME':<10}  {'DOOR':<{self._door_width}}  {'REF':<4}  {'WHAT':<{WHAT_WIDTH}}  "
            f"{'WHO':<{WHO_WIDTH}}  {'HOW':<{HOW_WIDTH}}  NOTE"
        )
        legend = [LEGEND] if self._expect_who else []
        return [f"{self._day}; times are device times in {zone}.", *legend, "", titles]

    def _header(self) -> None:
        if self._header_done:
            return
        self._header_done = True
        self._out.writelines(line + "\n" for line in self.header_lines())
        self._out.flush()

    def describe(self, event: NukiEvent) -> str:
        """One table row: time, door, reference, what, who, how, note."""
        words_ = row(event, expect_who=self._expect_who)
        ref, what, when = "", words_.what, event.occurred_at or event.received_at
        if isinstance(event, LockStateChanged):
            number = self._next_ref
            self._next_ref += 1
            self._refs[event.event_id] = (number, words(event.state_name), when)
            ref = f"#{number}"
        elif isinstance(event, StateCorrected) and event.state_event_id in self._refs:
            ref = f"#{self._refs[event.state_event_id][0]}"  # the row it retracts
        elif isinstance(event, ActionAttributed | AttributionUnavailable):
            known = self._refs.pop(event.state_event_id, None)
            if known is not None:
                number, state, state_when = known
                ref, what = f"#{number}", f"{state} {what}"
                when = event.occurred_at or state_when
        local = when.astimezone(self._tz)
        day = _day(local)
        prefix = ""
        if self._day is not None and day != self._day:
            prefix = f"{day}:\n"
        self._day = day
        clock = local.strftime("%H:%M:%S.") + f"{local.microsecond // 100_000}"
        door = _pad(place(event, self._names), self._door_width)
        line = (
            f"{clock:<10}  {door}  {ref:<4}  {_fit(what, WHAT_WIDTH)}  "
            f"{_pad(words_.who, WHO_WIDTH)}  {_fit(words_.how, HOW_WIDTH)}  {words_.note}"
        )
        return prefix + line.rstrip()


def print_summary(summary: DemoSummary, out: TextIO) -> None:
    """The demo's closing lines."""
    median = summary.median_latency
    worst = summary.max_latency
    latency = (
        "n/a" if median is None or worst is None else f"{median:.1f} s median, {worst:.1f} s max"
    )
    out.write(
        f"\nSummary: {summary.events} events; attributed {summary.attributed} of "
        f"{summary.attributable} attributable state changes ({summary.unavailable} answered "
        f"'unknown'); {summary.log_only} from the log alone.\n"
        f"Attribution latency: {latency}. Web API requests: {summary.web_requests}.\n"
    )
    out.flush()


@contextlib.contextmanager
def configure_logging(verbose: int) -> Iterator[None]:
    """Log records on stderr with -v (-vv: debug); without, none, not even Python's last resort."""
    root = logging.getLogger()
    if verbose:
        handler: logging.Handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.setLevel(logging.DEBUG if verbose > 1 else logging.INFO)
        level = root.level
        if root.level == logging.NOTSET or root.level > handler.level:
            root.setLevel(handler.level)
    else:
        handler, level = logging.NullHandler(), root.level
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def quiet_if_closed() -> None:
    """After ``nukiasync listen | head`` the last flush would complain: point stdout nowhere."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        with contextlib.suppress(AttributeError, OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _pad(text: str, width: int) -> str:
    """Pad a name to ``width``, never cut it: two doors or people must not read the same."""
    return f"{text:<{width}}"


def _fit(text: str, width: int) -> str:
    """Cut ``text`` to ``width`` characters, marking the cut, and pad it."""
    if len(text) > width:
        text = text[: width - 1] + "\u2026"  # an ellipsis
    return f"{text:<{width}}"


def _door_width(names: Iterable[str]) -> int:
    longest = max((len(n) for n in names), default=0)
    return min(DOOR_MAX, max(DOOR_MIN, longest))


def _day(local: datetime) -> str:
    return f"{local:%A} {local.day} {local:%B %Y}"
