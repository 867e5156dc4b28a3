"""Tests of nukiasync.web: the Web API client, its models, webhooks and the spec checks."""
