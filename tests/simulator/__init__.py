"""Tests of nukiasync.simulator: the simulated Bridge, Web API and world."""
