"""Bad requests to the HTTP API (CONTRACT.md §2, §4): each gets a 4xx with
{"error": "..."} naming the wrong field, and changes nothing — the port
list, the links and (after a restart) the store are as before."""

import json
import os

import pytest

from api_helpers import assert_error, links, start_api_gateway, without_state

# A port with non-default settings next to p1, so "unchanged" means something.
KEEP = {"name": "keep", "baud": 19200, "qos": 0,
        "frame": {"mode": "delim", "delim": "\r\n", "max": 512}}


def make_gw(gateway, broker):
    gw, api = start_api_gateway(gateway, broker=broker, ports=["p1"])
    r = api.post("/api/v1/ports", KEEP)
    assert r.status == 201, r
    return gw, api


def snapshot(gw, api):
    return without_state(api.ports()), links(gw)


def assert_unchanged(gw, api, before, what):
    after = snapshot(gw, api)
    assert after[0] == before[0], "%s changed the ports:\nbefore %s\nafter  %s" % (
        what, json.dumps(before[0]), json.dumps(after[0]))
    assert after[1] == before[1], "%s changed the link dir: %r -> %r" % (what, before[1], after[1])


def body(b, gw):
    if isinstance(b, bytes):
        return b
    return json.dumps(b).replace("{ID}", gw.id)


# (id, body, status, words the error must contain)
BAD_POSTS = [
    ("malformed-json", b'{"name": "x", "baud": ', 400, []),
    ("json-array", [{"name": "x"}], 400, []),
    ("json-string", "x", 400, []),
    ("json-null", None, 400, []),
    ("empty-body", b"", 400, []),
    ("unknown-field", {"name": "x", "colour": "red"}, 400, ["colour"]),
    ("baud-string", {"name": "x", "baud": "fast"}, 400, ["baud"]),
    ("baud-zero", {"name": "x", "baud": 0}, 400, ["baud"]),
    ("baud-float", {"name": "x", "baud": 9600.5}, 400, ["baud"]),
    ("qos-2", {"name": "x", "qos": 2}, 400, ["qos"]),
    ("qos-string", {"name": "x", "qos": "1"}, 400, ["qos"]),
    ("data_bits-9", {"name": "x", "data_bits": 9}, 400, ["data_bits"]),
    ("parity-weird", {"name": "x", "parity": "weird"}, 400, ["parity"]),
    ("stop_bits-3", {"name": "x", "stop_bits": 3}, 400, ["stop_bits"]),
    ("flow-hw", {"name": "x", "flow": "hw"}, 400, ["flow"]),
    ("enabled-yes", {"name": "x", "enabled": "yes"}, 400, ["enabled"]),
    ("dtr-1", {"name": "x", "dtr": 1}, 400, ["dtr"]),
    ("frame-max-0", {"name": "x", "frame": {"mode": "raw", "max": 0}}, 400, ["max"]),
    ("frame-max-65537", {"name": "x", "frame": {"mode": "raw", "max": 65537}}, 400, ["max"]),
    ("frame-mode", {"name": "x", "frame": {"mode": "lines"}}, 400, ["mode"]),
    ("frame-not-object", {"name": "x", "frame": "raw"}, 400, ["frame"]),
    ("delim-9-chars", {"name": "x", "frame": {"mode": "delim", "delim": "123456789"}}, 400,
     ["delim"]),
    ("delim-empty", {"name": "x", "frame": {"mode": "delim", "delim": ""}}, 400, ["delim"]),
    ("delim-missing", {"name": "x", "frame": {"mode": "delim"}}, 400, ["delim"]),
    ("delim-above-U+00FF", {"name": "x", "frame": {"mode": "delim", "delim": "\u0100"}}, 400,
     ["delim"]),
    ("idle_ms-0", {"name": "x", "frame": {"mode": "idle", "idle_ms": 0}}, 400, ["idle_ms"]),
    ("name-missing", {"baud": 9600}, 400, ["name"]),
    ("name-number", {"name": 5}, 400, ["name"]),
    ("name-../x", {"name": "../x"}, 400, ["name"]),
    ("name-a/b", {"name": "a/b"}, 400, ["name"]),
    ("name-empty", {"name": ""}, 400, ["name"]),
    ("name-33-chars", {"name": "n" * 33}, 400, ["name"]),
    ("name-a+b", {"name": "a+b"}, 400, ["name"]),
    ("name-a#", {"name": "a#"}, 400, ["name"]),
    ("name-.hidden", {"name": ".hidden"}, 400, ["name"]),
    ("name-space", {"name": "a b"}, 400, ["name"]),
    ("kind-unknown", {"name": "x", "kind": "serial"}, 400, ["kind"]),
    ("kind-cuse", {"name": "x", "kind": "cuse"}, 400, ["cuse"]),
    ("device-without-path", {"name": "x", "kind": "device"}, 400, ["device"]),
    ("device-on-pty", {"name": "x", "device": "/dev/null"}, 400, ["device"]),
    ("follow-pty", {"name": "x", "follow": True}, 400, ["follow"]),
    ("follow-without-peer", {"name": "x", "kind": "device", "device": "/dev/ttyNOPE0",
                             "follow": True}, 400, ["follow"]),
    ("peer-malformed", {"name": "x", "peer": "nogateway"}, 400, ["peer"]),
    ("self-peer", {"name": "x", "peer": "{ID}/x"}, 400, ["peer"]),
    ("duplicate-p1", {"name": "p1", "baud": 1200}, 409, ["p1"]),
    ("duplicate-keep", {"name": "keep"}, 409, ["keep"]),
]


@pytest.mark.parametrize("b,status,words", [c[1:] for c in BAD_POSTS],
                         ids=[c[0] for c in BAD_POSTS])
def test_bad_post_changes_nothing(broker, gateway, b, status, words):
    gw, api = make_gw(gateway, broker)
    before = snapshot(gw, api)
    r = api.post("/api/v1/ports", body(b, gw), ctype="application/json")
    assert_error(r, status, *words)
    assert_unchanged(gw, api, before, "POST %s" % body(b, gw)[:80])
    assert api.status()["ports"] == 2
    if isinstance(b, dict) and b.get("name") == "x":
        assert_error(api.get("/api/v1/ports/x"), 404)


BAD_PATCHES = [
    ("malformed-json", b'{"qos": ', 400, []),
    ("json-array", [{"qos": 0}], 400, []),
    ("unknown-field", {"colour": "red"}, 400, ["colour"]),
    ("change-name", {"name": "renamed"}, 400, ["name"]),
    ("change-kind", {"kind": "device", "device": "/dev/null"}, 400, ["kind"]),
    ("qos-2", {"qos": 2}, 400, ["qos"]),
    ("baud-string", {"baud": "fast"}, 400, ["baud"]),
    ("data_bits-9", {"data_bits": 9}, 400, ["data_bits"]),
    ("parity-weird", {"parity": "weird"}, 400, ["parity"]),
    ("enabled-yes", {"enabled": "yes"}, 400, ["enabled"]),
    ("frame-max-0", {"frame": {"max": 0}}, 400, ["max"]),
    ("frame-max-65537", {"frame": {"max": 65537}}, 400, ["max"]),
    ("delim-9-chars", {"frame": {"delim": "123456789"}}, 400, ["delim"]),
    ("follow-without-peer", {"follow": True}, 400, ["follow"]),
    ("self-peer", {"peer": "{ID}/keep"}, 400, ["peer"]),
    # all or nothing: a good field next to a bad one is not applied either
    ("good-and-bad", {"baud": 115200, "qos": 7}, 400, ["qos"]),
]


@pytest.mark.parametrize("b,status,words", [c[1:] for c in BAD_PATCHES],
                         ids=[c[0] for c in BAD_PATCHES])
def test_bad_patch_changes_nothing(broker, gateway, b, status, words):
    gw, api = make_gw(gateway, broker)
    before = snapshot(gw, api)
    r = api.patch("/api/v1/ports/keep", body(b, gw), ctype="application/json")
    assert_error(r, status, *words)
    assert_unchanged(gw, api, before, "PATCH keep %s" % body(b, gw)[:80])


def test_patch_and_delete_unknown_port_404(broker, gateway):
    gw, api = make_gw(gateway, broker)
    before = snapshot(gw, api)
    assert_error(api.patch("/api/v1/ports/nosuch", {"qos": 0}), 404)
    assert_error(api.delete("/api/v1/ports/nosuch"), 404)
    assert_error(api.delete("/api/v1/ports/..%2Fkeep"), 404)
    assert_unchanged(gw, api, before, "requests to an unknown port")


def test_body_over_64k_is_413(broker, gateway, app):
    gw, api = make_gw(gateway, broker)
    before = snapshot(gw, api)
    big = json.dumps({"name": "big", "pad": "a" * (70 * 1024)})
    assert_error(api.post("/api/v1/ports", big), 413)
    assert_error(api.patch("/api/v1/ports/keep", json.dumps({"qos": 1, "pad": "b" * 70000})),
                 413)
    a = app(gw.link("p1"))
    r = api.post("/api/v1/ports/p1/send", b"\x00" * (65 * 1024),
                 ctype="application/octet-stream")
    assert_error(r, 413)
    assert a.read_for(0.3) == b"", "bytes of a refused /send reached the application"
    assert_unchanged(gw, api, before, "bodies over 64 KiB")
    # 64 KiB exactly is allowed: /send delivers all of it
    data = bytes(range(256)) * 256
    assert len(data) == 65536
    r = api.post("/api/v1/ports/p1/send", data, ctype="application/octet-stream")
    assert r.status == 204, r
    assert a.read_exact(len(data), timeout=10) == data
    assert_error(api.post("/api/v1/ports/p1/send", data + b"!",
                          ctype="application/octet-stream"), 413)
    assert a.read_for(0.3) == b""
    # a large body under the limit is read and judged on its content
    assert_error(api.post("/api/v1/ports", json.dumps({"name": "big", "pad": "a" * 60000})),
                 400, "pad")
    assert_unchanged(gw, api, before, "a 60 KB bad body")


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded",
                                   "multipart/form-data; boundary=x", None])
def test_non_json_body_is_415(broker, gateway, ctype):
    gw, api = make_gw(gateway, broker)
    before = snapshot(gw, api)
    hdr = {"Content-Type": ctype}   # None: no Content-Type header at all
    r = api.post("/api/v1/ports", b'{"name": "x"}', headers=hdr)
    assert_error(r, 415)
    r = api.patch("/api/v1/ports/keep", b'{"qos": 1}', headers=hdr)
    assert_error(r, 415)
    assert_unchanged(gw, api, before, "a %s body" % ctype)
    # application/json with a charset is JSON
    r = api.post("/api/v1/ports", b'{"name": "x"}', ctype="application/json; charset=utf-8")
    assert r.status == 201, r


@pytest.mark.parametrize("host", ["evil.example", "evil.example:%(port)d", "127.0.0.2:%(port)d",
                                  "localhost.evil.example:%(port)d"])
def test_foreign_host_is_403(broker, gateway, host):
    """DNS rebinding: a page on evil.example resolving to 127.0.0.1 sends
    Host: evil.example; nothing must be served or changed."""
    gw, api = make_gw(gateway, broker)
    before = snapshot(gw, api)
    h = host % {"port": api.port}
    for method, path, b in (("GET", "/api/v1/ports", None), ("GET", "/api/v1/status", None),
                            ("GET", "/", None),
                            ("POST", "/api/v1/ports", {"name": "evil"}),
                            ("PATCH", "/api/v1/ports/keep", {"qos": 1}),
                            ("DELETE", "/api/v1/ports/keep", None)):
        r = api.request(method, path, b, host=h)
        assert r.status == 403, "%s %s with Host %s: %r" % (method, path, h, r)
        assert b"keep" not in r.body and b"p1" not in r.body, r
    assert_unchanged(gw, api, before, "requests with Host %s" % h)
    # the names that are this gateway are served
    for ok in ("localhost:%d" % api.port, "127.0.0.1:%d" % api.port, "LOCALHOST:%d" % api.port):
        assert api.get("/api/v1/status", host=ok).status == 200, ok


def test_bad_input_never_reaches_the_store(broker, gateway):
    """All the bad requests in a row, then a restart on the same db: the
    ports are exactly as before, and the gateway never fell over."""
    gw, api = make_gw(gateway, broker)
    before = snapshot(gw, api)
    for _, b, status, _ in BAD_POSTS:
        assert api.post("/api/v1/ports", body(b, gw), ctype="application/json").status == status
    for _, b, status, _ in BAD_PATCHES:
        assert api.patch("/api/v1/ports/keep", body(b, gw),
                         ctype="application/json").status == status
    assert gw.running()
    assert gw.terminate() == 0
    gw.start(wait_links=False)
    api.wait_up(gw)
    gw.wait_link("p1")
    gw.wait_link("keep")
    after = snapshot(gw, api)
    assert after[0] == before[0], "the store changed:\n%s\n%s" % (before[0], after[0])
    assert sorted(after[1]) == sorted(before[1]) == ["keep", "p1"]
    assert not os.path.lexists(gw.link("x"))

