"""The rate limiter tested from Python with kscript's pytest plugin.

``kscript_load`` loads the cfg with a fresh embedded Redis and the test's clock
(``kscript_clock``); ``expect(...)`` / ``assert_*`` explain a failure with what
was sent and logged and the cfg lines that ran.
"""

import pytest

from kscript.modules import registry
from kscript.sip import request
from kscript.testing import assert_reply, expect

pytestmark = pytest.mark.skipif(registry.module_class("ndb_redis") is None,
                                reason="needs kscript module ndb_redis (not emulated by this kscript yet)")

CFG = "../kamailio.cfg"


def options(src_ip="192.0.2.10"):
    return request("OPTIONS", "sip:127.0.0.1", src=f"udp:{src_ip}:5060")


def test_keepalive_counts_in_redis(kscript_load):
    script = kscript_load(CFG)
    result = script.process(options(), src="udp:192.0.2.10:5060")
    expect(result).reply(200, "Keepalive").not_forwarded()
    assert script.redis("limits").get("rate:192.0.2.10") in ("1", b"1")


def test_sixth_request_is_rate_limited(kscript_load):
    script = kscript_load(CFG)
    for _ in range(5):
        assert_reply(script.process(options(), src="udp:192.0.2.10:5060"), 200)
    result = script.process(options(), src="udp:192.0.2.10:5060")
    expect(result).reply(503, "Rate Limited", {"Retry-After": "600"}).log("rate limit exceeded", level="WARN")


def test_block_expires_with_the_clock(kscript_load, kscript_clock):
    script = kscript_load(CFG)
    r = script.redis("limits")
    r.set("blocklist:192.0.2.10", "manual", ex=30)
    assert_reply(script.process(options(), src="udp:192.0.2.10:5060"), 403, "Blocked")
    kscript_clock.advance(31)  # no sleeping: embedded Redis TTLs follow the clock
    assert_reply(script.process(options(), src="udp:192.0.2.10:5060"), 200)


def test_seeded_blocklist_is_per_source(kscript_load):
    script = kscript_load(CFG)
    script.redis("limits").set("blocklist:198.51.100.66", "manual")
    expect(script.process(options("198.51.100.66"), src="udp:198.51.100.66:5060")).reply(403)
    expect(script.process(options(), src="udp:192.0.2.10:5060")).reply(200).no_log("blocked")
