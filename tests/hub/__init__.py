"""Tests of the hub and its parts: attribution, the log watcher, the bus, reliability."""
