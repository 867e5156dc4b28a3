"""Tests of nukiasync.bridge: the Bridge client, callbacks, the callback server, confirmation."""
