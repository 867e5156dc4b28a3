"""Tests of nukiasync.cli: the commands as a person runs them, and their output."""
