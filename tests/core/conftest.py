"""Fixtures for the core's tests: recorded waits, clients on the scripted server, sync/async."""

from tests.support.clients import RecordedWaits, embed, make_client, waits  # noqa: F401
