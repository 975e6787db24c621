"""Fixtures for the mqttty integration tests (see helpers.py for the parts).

    broker        a private Mosquitto on 127.0.0.1 (started)
    gateway       factory: gateway(ports=["p1"], ...) -> Gateway (started)
    mqtt          factory: mqtt(subscribe=[topics], ...) -> MqttClient
    app           factory: app(path, baud=..., stop_bits=..., crtscts=...) -> App
    gw_id         a fresh gateway id for this test
"""

import glob
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from helpers import App, Broker, MqttClient, tail  # noqa: E402
from gateway_proc import Gateway, binary_path, run_once  # noqa: E402


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    d = getattr(item, "_mqttty_dir", None)
    if rep.failed and d is not None:
        for path in sorted(glob.glob(os.path.join(str(d), "gateway-*.log"))):
            rep.sections.append((os.path.basename(path) + " (tail)", tail(path, 60)))
        blog = os.path.join(str(d), "broker", "mosquitto.log")
        if os.path.exists(blog):
            rep.sections.append(("mosquitto.log (tail)", tail(blog, 25)))


@pytest.fixture(autouse=True)
def _remember_tmp(request, tmp_path):
    request.node._mqttty_dir = tmp_path


@pytest.fixture
def gw_id():
    return "gw" + os.urandom(3).hex()


@pytest.fixture
def broker(tmp_path, request):
    b = Broker(tmp_path / "broker")
    try:
        b.start()
        yield b
    finally:
        b.cleanup()


@pytest.fixture
def gateway(tmp_path, request, gw_id):
    made = []
    bin_ = binary_path()
    if not os.access(bin_, os.X_OK):
        pytest.fail("gateway binary %s not found (build it, or set MQTTTY_BIN)" % bin_)

    def factory(ports=("p1",), broker=None, broker_uri=None, extra=(), env=None,
                start=True, wait_links=True, gateway_id=None, **kw):
        if broker_uri is None:
            broker_uri = broker.uri if broker is not None else request.getfixturevalue("broker").uri
        g = Gateway(tmp_path, broker_uri, gateway_id or gw_id, ports=ports, extra=extra,
                    env=env, **kw)
        made.append(g)
        if start:
            g.start(wait_links=wait_links)
        return g

    yield factory
    problems = []
    for g in made:
        problems += g.finish()
    if problems:
        pytest.fail("gateway teardown: " + "; ".join(problems), pytrace=False)


@pytest.fixture
def run_gateway(tmp_path):
    """run_gateway(args, env=None) -> (rc, stdout, stderr) for runs that must
    exit by themselves (bad input). db and link dir default into tmp."""
    bin_ = binary_path()
    if not os.access(bin_, os.X_OK):
        pytest.fail("gateway binary %s not found (build it, or set MQTTTY_BIN)" % bin_)

    def run(args, env=None, timeout=10.0):
        return run_once([bin_] + list(args), tmp_path, env=env, timeout=timeout)
    return run


@pytest.fixture
def mqtt(request):
    clients = []

    def factory(subscribe=(), qos=1, port=None, client_id=None, clean_session=True,
                connect=True, username=None, password=None):
        if port is None:
            port = request.getfixturevalue("broker").port
        c = MqttClient(port, client_id=client_id, clean_session=clean_session,
                       username=username, password=password)
        clients.append(c)
        if connect:
            c.connect()
            for t in subscribe:
                c.subscribe(t, qos)
        return c

    yield factory
    for c in clients:
        try:
            c.disconnect()
        except Exception:
            pass


@pytest.fixture
def app():
    apps = []

    def factory(path, **kw):
        a = App(path, **kw)
        apps.append(a)
        return a

    yield factory
    for a in apps:
        try:
            a.close()
        except OSError:
            pass
