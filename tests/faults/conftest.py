"""Fixtures of the fault suite: the integration suite's fixtures (broker,
gateway, mqtt, app, gw_id, run_gateway) reused as they are, plus `scale`.

Scale: each test takes its counts from SHORT or LONG (FAULTS_LONG=1, set by
`tests/faults/run --long`). Every test prints what it measured and, when
FAULTS_RESULTS names a file, appends it there as one JSON line, from which
tests/faults/run writes docs/reliability.md.
"""

import importlib.util
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
IT = os.path.join(os.path.dirname(HERE), "integration")
sys.path.insert(0, IT)
sys.path.insert(0, HERE)

_spec = importlib.util.spec_from_file_location("mqttty_integration_conftest",
                                               os.path.join(IT, "conftest.py"))
_it = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_it)

pytest_runtest_makereport = _it.pytest_runtest_makereport
_remember_tmp = _it._remember_tmp
gw_id = _it.gw_id
broker = _it.broker
gateway = _it.gateway
run_gateway = _it.run_gateway
mqtt = _it.mqtt
app = _it.app


@pytest.fixture
def long_form():
    return os.environ.get("FAULTS_LONG") == "1"
