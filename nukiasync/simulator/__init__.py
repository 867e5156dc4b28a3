"""A simulated Nuki world on loopback: a Bridge and a Web API driven by scripted people.

Use it to develop and test against something that behaves like a real installation, without
hardware or a cloud account::

    async with World(seed=1) as world:
        world.add_lock("Front door", door_sensor=True, keypad=True)
        alice = world.add_person("Alice", email="alice@example.invalid", app=["Front door"])
        # point any client at world.bridge_url / world.bridge.token and
        # world.web_url / world.web_token, then:
        record = await alice.unlock("Front door", via="app")
        await world.wait_visible(record)   # the Web API log now shows it

More bridges (house and garage) are one call each, before the world starts::

    garage = world.add_bridge("Garage")
    world.add_lock("Garage door", bridge=garage)   # garage.url, garage.token, its callbacks

``GET <web_url>/discover/bridges`` lists every bridge as Nuki's discovery does, and
``bridge.press_button()`` grants a pending ``/auth`` (pairing) request.

All servers are real aiohttp servers on 127.0.0.1 (port 0). The simulator does not import
the library's clients: it writes the wire JSON, checks tokens and computes ids itself, from
Nuki's documents, so it finds the clients' bugs instead of sharing them. ``world.journal``
keeps the ground truth of who did what, ``world.changes`` that of every state change (a
``StateChange``: who or what caused it, its log entry, its callbacks); ``world.knobs`` holds
timings and faults.

Locks added with ``mqtt=True`` to a ``World(mqtt_url=...)`` are MQTT clients of that broker as
Nuki's MQTT API 1.5 describes (``mqtt_out.py``), and the Web API pushes signed decentral
webhooks to the URLs registered with it (``web_hooks.py``).
"""

from __future__ import annotations

from nukiasync.simulator.actions import SimulationError
from nukiasync.simulator.bridge_callbacks import SentCallback
from nukiasync.simulator.bridge_server import SimulatedBridge
from nukiasync.simulator.clock import Clock, SimClock
from nukiasync.simulator.devices import Device
from nukiasync.simulator.knobs import Knobs, WebFault
from nukiasync.simulator.logbook import ActionRecord, LogEntry
from nukiasync.simulator.people import AccountUser, Authorization, Person
from nukiasync.simulator.scenario import (
    Scenario,
    ScenarioError,
    Step,
    builtin_scenario,
    load_scenario,
)
from nukiasync.simulator.truth import StateChange
from nukiasync.simulator.web_server import SimulatedWebApi
from nukiasync.simulator.world import World

__all__ = [
    "AccountUser",
    "ActionRecord",
    "Authorization",
    "Clock",
    "Device",
    "Knobs",
    "LogEntry",
    "Person",
    "Scenario",
    "ScenarioError",
    "SentCallback",
    "SimClock",
    "SimulatedBridge",
    "SimulatedWebApi",
    "SimulationError",
    "StateChange",
    "Step",
    "WebFault",
    "World",
    "builtin_scenario",
    "load_scenario",
]
