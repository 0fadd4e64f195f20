"""The Debian default cfg tested from Python: the mock API and the assertion helpers.

``script.mock(name, returns=..., sets=..., headers=...)`` replaces a function the
cfg calls (here nathelper's, which kscript does not emulate) and records every
call with its evaluated arguments.
"""

import pytest

from kscript.modules import registry
from kscript.sip import request
from kscript.testing import expect

NEEDED = ["sl", "tm", "tmx", "rr", "maxfwd", "sanity", "siputils", "kex", "registrar", "usrloc"]
missing = [m for m in NEEDED if registry.module_class(m) is None]
pytestmark = pytest.mark.skipif(bool(missing), reason=f"needs kscript modules {', '.join(missing)} "
                                                      f"(not emulated by this kscript yet)")

CFG = "../kamailio.cfg"


def test_keepalive(kscript_load):
    script = kscript_load(CFG)
    result = script.process(request("OPTIONS", "sip:127.0.0.1"), src="udp:192.0.2.10:5060")
    expect(result).reply(200, "Keepalive").not_forwarded().routes("REQINIT")


def test_nat_register_is_fixed(kscript_load):
    script = kscript_load(CFG, defines=["WITH_NAT"])
    nat = script.mock("nat_uac_test", returns=1)
    fix = script.mock("fix_nated_register", returns=1)
    for name in ("set_contact_alias", "handle_ruri_alias", "rtpproxy_manage"):
        script.mock(name, returns=1)
    reg = request("REGISTER", "sip:127.0.0.1", from_="sip:alice@127.0.0.1", to="sip:alice@127.0.0.1",
                  contact="sip:alice@192.168.1.20:5060")
    result = script.process(reg, src="udp:203.0.113.7:40112")
    expect(result).reply(200).routes("NATDETECT", "REGISTRAR")
    assert [c.args for c in nat.calls] == [("19",)]
    assert len(fix.calls) == 1
