"""One outcome per change across sources: `Verdicts` alone (no I/O)."""

from __future__ import annotations

import logging

from nukiasync.hub.sources.base import Verdicts


def test_the_first_answer_stands_and_a_second_is_counted(caplog) -> None:
    verdicts = Verdicts()
    verdicts.open("c1", {"mqtt", "web_log"})
    assert verdicts.first("c1", "mqtt", "Alice")
    assert not verdicts.first("c1", "web_log", "Alice")
    with caplog.at_level(logging.WARNING):
        assert not verdicts.first("c1", "webhook", "Bob")
    assert verdicts.stats() == {"open": 0, "duplicates": 1, "conflicts": 1}
    assert "Alice" not in caplog.text
    assert "Bob" not in caplog.text  # names are personal: the log says only which sources
    assert not verdicts.give_up("c1", "web_log")  # answered: no "unavailable" after it


def test_unavailable_only_once_every_taker_gave_up() -> None:
    verdicts = Verdicts()
    verdicts.open("c1", {"mqtt", "web_log"})
    assert not verdicts.give_up("c1", "mqtt")
    assert verdicts.first("c1", "web_log", "Bob")  # the other source still answers
    verdicts.open("c2", {"mqtt", "web_log"})
    assert not verdicts.give_up("c2", "mqtt")
    assert verdicts.give_up("c2", "web_log")
    assert not verdicts.give_up("c2", "web_log")  # once
    assert not verdicts.first("c2", "mqtt", "Alice")  # too late: counted, never emitted
    assert verdicts.conflicts == 1


def test_changes_nobody_opened_and_retracted_ones() -> None:
    verdicts = Verdicts()
    assert verdicts.first("resumed", "web_log", "Alice")  # pending from a state file
    assert verdicts.give_up("other", "web_log")
    assert verdicts.give_up("hub-wide", None)
    verdicts.open("gone", {"mqtt"})
    verdicts.forget("gone")
    assert verdicts.stats()["open"] == 0


def test_the_sources_still_waiting_are_told_of_the_answer() -> None:
    verdicts = Verdicts()
    told: list[tuple[str, set[str]]] = []
    verdicts.on_answered = lambda cid, rest: told.append((cid, rest))
    verdicts.open("c1", {"mqtt", "web_log"})
    verdicts.open("c2", {"mqtt"})
    assert verdicts.first("c1", "mqtt", "Alice")
    assert verdicts.first("c2", "mqtt", "Alice")
    assert verdicts.first("c3", "web_log", "Bob")
    assert told == [("c1", {"web_log"})]  # only where another source still waited
