"""Test set-up: Qt runs offscreen, before anything imports it."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from vramscope.core.scenario import HostSpec
from vramscope.core.units import GIB

# The host every test plans against unless it states one: results must not follow the machine the tests
# run on. tests/hardware/test_host.py reads the real one.
TEST_HOST = HostSpec(capacity_bytes=64 * GIB, total_bytes=64 * GIB, basis="64 GiB (the test suite's machine)")


@pytest.fixture(autouse=True)
def _fixed_host(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    if "real_host" in request.keywords:
        return
    monkeypatch.setattr("vramscope.hardware.host.detect_host", lambda: TEST_HOST)
