"""One reading of a bridge address for every tool: HOST, HOST:PORT, [IPv6]:PORT, http://."""

from __future__ import annotations

import runpy
import sys

import pytest

from nukiasync import NukiAddressError, NukiError, parse_bridge_address


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("192.168.1.20", ("192.168.1.20", 8080)),
        (" 192.168.1.20:8081 ", ("192.168.1.20", 8081)),
        ("nuki-bridge.local", ("nuki-bridge.local", 8080)),
        ("[fe80::1]:8080", ("fe80::1", 8080)),
        ("[fe80::1]", ("fe80::1", 8080)),
        ("fe80::1", ("fe80::1", 8080)),
        ("http://127.0.0.1:5000/", ("127.0.0.1", 5000)),
        ("http://[::1]:5000", ("::1", 5000)),
    ],
)
def test_forms(text: str, expected: tuple[str, int]) -> None:
    assert parse_bridge_address(text) == expected


def test_default_port_is_a_parameter() -> None:
    assert parse_bridge_address("10.0.0.2", default_port=80) == ("10.0.0.2", 80)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is not a bridge address"),
        ("10.0.0.2:x", "has no valid port"),
        ("10.0.0.2:0", "has no valid port"),
        ("10.0.0.2:65536", "has no valid port"),
        ("https://10.0.0.2", "the bridge speaks plain http"),
        ("http://10.0.0.2/list", "the bridge speaks plain http"),
        ("user@10.0.0.2", "is not a bridge address"),
        ("[fe80::1", "is not a bridge address"),
        ("[fe80::1]x", "is not a bridge address"),
        ("[nope]:80", "is not a bridge address"),
        ("fe80::zz", "is not a bridge address"),
    ],
)
def test_mistakes_are_sentences(text: str, message: str) -> None:
    with pytest.raises(NukiAddressError, match=message) as caught:
        parse_bridge_address(text)
    assert isinstance(caught.value, NukiError)
    assert isinstance(caught.value, ValueError)
    assert "HOST:PORT" in str(caught.value)


@pytest.mark.parametrize("module", ["nukiasync", "nukiasync.cli"])
def test_python_dash_m(module: str, monkeypatch, capsys) -> None:
    monkeypatch.setattr(sys, "argv", ["nukiasync", "--version"])
    with pytest.raises(SystemExit) as stopped:
        runpy.run_module(module, run_name="__main__", alter_sys=False)
    assert stopped.value.code == 0
    assert capsys.readouterr().out.startswith("nukiasync ")
