"""Fixtures for the telemetry suite: the gateway it runs against (the fake key, a small model) and
the six surfaces, as the reliability suite has them.

The SDK itself is the ``otel`` fixture of tests/conftest.py (tests/support/otel.py).
"""

from tests.support.surfaces import orq_gateway_config, surface  # noqa: F401
