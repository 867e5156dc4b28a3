"""Tests of nukiasync.mqtt: message parsing and the link over a real broker."""
