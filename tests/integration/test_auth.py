"""Authentication of the API and the websocket (CONTRACT.md §1, §4):
`mqttty passwd` sets a password and prints a token; from then on every API
call and /ws need the session cookie or the bearer token, on every address.
A non-loopback --http without a password refuses to start."""

import pytest

from api_helpers import (Api, Ws, WsRefused, assert_error, links, set_password,
                         without_state)
from helpers import free_port, port_accepts

PASSWORD = "correct horse battery"


def auth_gateway(gateway, broker, ports=("p1",)):
    """A gateway whose db got a password before it started. Returns
    (gw, api without credentials, token)."""
    hp = free_port()
    gw = gateway(list(ports), broker=broker, extra=["--http", "127.0.0.1:%d" % hp], start=False)
    token = set_password(gw.db, PASSWORD, gw.workdir)
    assert len(token) >= 16, "a short API token: %r" % token
    gw.start()
    api = Api(hp)
    api.wait_up(gw)
    return gw, api, token


def authed(api, token):
    a = Api(api.port)
    a.token = token
    return a


def test_without_credentials_everything_is_401(broker, gateway, app):
    gw, api, token = auth_gateway(gateway, broker)
    good = authed(api, token)
    before = without_state(good.ports()), links(gw)
    a = app(gw.link("p1"))
    calls = [
        ("GET", "/api/v1/status", None, None),
        ("GET", "/api/v1/ports", None, None),
        ("GET", "/api/v1/ports/p1", None, None),
        ("GET", "/api/v1/ports/nosuch", None, None),
        ("POST", "/api/v1/ports", {"name": "intruder"}, None),
        ("PATCH", "/api/v1/ports/p1", {"qos": 0}, None),
        ("DELETE", "/api/v1/ports/p1", None, None),
        ("POST", "/api/v1/ports/p1/send", b"intrusion", "application/octet-stream"),
    ]
    for method, path, b, ct in calls:
        r = api.request(method, path, b, ctype=ct)
        assert_error(r, 401)
        assert b'"p1"' not in r.body and b"9600" not in r.body, "401 leaks data: %r" % r
    assert a.read_for(0.3) == b"", "a /send without credentials reached the application"
    assert (without_state(good.ports()), links(gw)) == before, "a 401 request changed ports"

    # a wrong token or a made-up session cookie is no better
    bad = Api(api.port)
    bad.token = token[:-1] + ("0" if token[-1] != "0" else "1")
    assert_error(bad.get("/api/v1/ports"), 401)
    assert_error(api.get("/api/v1/ports", headers={"Authorization": "Bearer "}), 401)
    assert_error(api.get("/api/v1/ports", headers={"Authorization": "Basic " + token}), 401)
    assert_error(api.get("/api/v1/ports", headers={"Cookie": "mqttty_session=" + "a" * 64}), 401)

    # the websocket is refused too
    with pytest.raises(WsRefused) as e:
        Ws(api.port).close()
    assert e.value.status == 401, e.value


def test_login_cookie(broker, gateway):
    gw, api, token = auth_gateway(gateway, broker)

    r = api.post("/api/v1/login", {"password": "wrong password"})
    assert_error(r, 401)
    assert not r.all("set-cookie"), "a failed login set a cookie: %r" % r.all("set-cookie")
    r = api.post("/api/v1/login", {"password": PASSWORD[:-1]})
    assert_error(r, 401)

    r = api.post("/api/v1/login", {"password": PASSWORD})
    assert r.status == 204, r
    cookies = r.all("set-cookie")
    assert len(cookies) == 1, "expected one Set-Cookie: %r" % cookies
    attrs = [x.strip().lower() for x in cookies[0].split(";")]
    assert "httponly" in attrs, "session cookie is not HttpOnly: %r" % cookies[0]
    assert "samesite=strict" in attrs, "session cookie is not SameSite=Strict: %r" % cookies[0]
    pair = cookies[0].split(";")[0].strip()
    assert "=" in pair and pair.split("=", 1)[1], cookies[0]

    withc = Api(api.port)
    withc.cookie = pair
    assert withc.status()["id"] == gw.id
    r = withc.post("/api/v1/ports", {"name": "bycookie"})
    assert r.status == 201, r
    assert [p["name"] for p in withc.ports()] == ["bycookie", "p1"]
    # the cookie among others, as a browser sends it
    r = api.get("/api/v1/ports", headers={"Cookie": "theme=dark; %s; other=1" % pair})
    assert r.status == 200, r

    # and the websocket with the cookie
    w = Ws(api.port, headers={"Cookie": pair})
    try:
        hello = w.recv_msg(timeout=5)
        assert '"hello"' in hello, hello
    finally:
        w.close()

    # a second login gives a different session; both work
    r2 = api.post("/api/v1/login", {"password": PASSWORD})
    assert r2.status == 204
    pair2 = r2.all("set-cookie")[0].split(";")[0].strip()
    assert pair2 != pair
    assert api.get("/api/v1/status", headers={"Cookie": pair2}).status == 200
    assert withc.get("/api/v1/status").status == 200


def test_bearer_token(broker, gateway):
    gw, api, token = auth_gateway(gateway, broker)
    good = authed(api, token)
    st = good.status()
    assert st["id"] == gw.id
    r = good.post("/api/v1/ports", {"name": "bytoken"})
    assert r.status == 201, r
    r = good.patch("/api/v1/ports/bytoken", {"qos": 0})
    assert r.status == 200 and r.json()["qos"] == 0, r
    assert good.delete("/api/v1/ports/bytoken").status == 204

    wrong = Api(api.port)
    wrong.token = "0" * len(token)
    assert_error(wrong.get("/api/v1/status"), 401)
    wrong.token = PASSWORD      # the password is not a token
    assert_error(wrong.get("/api/v1/status"), 401)

    w = Ws(api.port, headers={"Authorization": "Bearer " + token})
    try:
        assert '"hello"' in w.recv_msg(timeout=5)
    finally:
        w.close()
    with pytest.raises(WsRefused) as e:
        Ws(api.port, headers={"Authorization": "Bearer " + "0" * len(token)}).close()
    assert e.value.status == 401


def test_no_password_on_loopback_needs_no_auth(broker, gateway):
    hp = free_port()
    gw = gateway(["p1"], broker=broker, extra=["--http", "127.0.0.1:%d" % hp])
    api = Api(hp).wait_up(gw)
    assert api.status()["id"] == gw.id
    assert api.post("/api/v1/ports", {"name": "free"}).status == 201
    w = Ws(api.port)
    try:
        assert '"hello"' in w.recv_msg(timeout=5)
    finally:
        w.close()
    # login has nothing to check against
    assert api.post("/api/v1/login", {"password": "anything"}).status in (400, 401, 404)


@pytest.mark.parametrize("addr", ["0.0.0.0:%d", "[::]:%d"])
def test_non_loopback_without_password_refuses_to_start(broker, gateway, run_gateway, addr):
    hp = free_port()
    gw = gateway(["p1"], broker=broker, extra=["--http", addr % hp], start=False)
    rc, out, err = run_gateway(gw.argv()[1:], timeout=15)
    assert rc == 1, "rc=%r (want 1)\nstdout: %s\nstderr: %s" % (rc, out, err)
    text = out + err
    assert "mqttty passwd" in text, "the message should say how to set a password: %r" % text
    assert not port_accepts(hp), "something listens on %d after the refusal" % hp
