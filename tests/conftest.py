"""Test set-up: Qt runs offscreen, before anything imports it, and every file the app writes (settings,
crash log, Hub cache) goes to a folder of the test run's own, never the user's."""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
SANDBOX = Path(tempfile.mkdtemp(prefix="vramscope-tests-"))
for _var in ("HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "LOCALAPPDATA"):
    os.environ[_var] = str(SANDBOX / _var.lower())

import pytest  # noqa: E402 (after the environment above)

from vramscope.core.scenario import HostSpec  # noqa: E402
from vramscope.core.units import GIB  # noqa: E402

# The host every test plans against unless it states one: results must not follow the machine the tests
# run on. tests/hardware/test_host.py reads the real one.
TEST_HOST = HostSpec(capacity_bytes=64 * GIB, total_bytes=64 * GIB, basis="64 GiB (the test suite's machine)")


@pytest.fixture(autouse=True)
def _fixed_host(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    if "real_host" in request.keywords:
        return
    monkeypatch.setattr("vramscope.hardware.host.detect_host", lambda: TEST_HOST)
