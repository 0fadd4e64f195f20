"""registrar: save/lookup/registered/unregister with Kamailio 5.6.3's results (behaviour checked
against the real binary, see tests/conformance/cases/dbr_*)."""

from __future__ import annotations

import pytest

from reg_support import keyspace, load_reg, register, request, script_logs
from kscript.testing.clock import Clock

MEM = 'modparam("usrloc", "db_mode", 0)\nmodparam("usrloc", "use_domain", 1)\n'
DB3 = 'modparam("usrloc", "db_mode", 3)\nmodparam("usrloc", "use_domain", 1)\n'


@pytest.fixture(params=[0, 1, 3], ids=["db_mode0", "db_mode1", "db_mode3"])
def mode(request):
    return f'modparam("usrloc", "db_mode", {request.param})\nmodparam("usrloc", "use_domain", 1)\n'


def test_new_registration_reply(tmp_path, mode):
    s = load_reg(tmp_path, mode)
    r = s.process(register(contacts=["<sip:alice@127.0.0.1:5081>;q=0.5, <sip:alice@127.0.0.1:5082>;expires=120"]))
    rep = r.replies[0]
    assert rep.status == 200 and rep.reason == "OK"
    # q-ordered (unspecified q = -1 sorts last), remaining seconds, ", " separated
    assert rep.header("Contact") == ("<sip:alice@127.0.0.1:5081>;q=0.5;expires=3600, "
                                     "<sip:alice@127.0.0.1:5082>;expires=120")
    assert script_logs(r) == ["save rc=1"]


def test_contacts_of_one_header_are_processed_last_to_first(tmp_path):
    s = load_reg(tmp_path, DB3)
    s.process(register(contacts=["<sip:a@127.0.0.1:1>, <sip:a@127.0.0.1:2>", "<sip:a@127.0.0.1:3>"]))
    ks = keyspace(s)
    by_ruid = {v["value"]["ruid"].rsplit("-", 1)[1]: v["value"]["contact"]
               for k, v in ks.items() if k.startswith("location:entry::")}
    assert by_ruid == {"1": "sip:a@127.0.0.1:2", "2": "sip:a@127.0.0.1:1", "3": "sip:a@127.0.0.1:3"}


def test_refresh_same_cseq_and_lower_cseq(tmp_path, mode):
    clock = Clock()
    s = load_reg(tmp_path, mode, clock=clock)
    s.process(register(cseq=1))
    r = s.process(register(cseq=2, contacts=["<sip:alice@127.0.0.1:5081>;q=0.9"], expires="1800"))
    assert r.replies[0].header("Contact") == "<sip:alice@127.0.0.1:5081>;q=0.9;expires=1800"
    assert script_logs(r) == ["save rc=2"]
    # same CSeq within cseq_delay (20 s): a retransmission, ignored, bindings listed
    clock.advance(5)
    r = s.process(register(cseq=2, contacts=["<sip:alice@127.0.0.1:5081>;q=0.1"], branch="z9hG4bK-again"))
    assert r.replies[0].status == 200 and script_logs(r) == ["save rc=1"]
    assert r.replies[0].header("Contact") == "<sip:alice@127.0.0.1:5081>;q=0.9;expires=1795"
    # lower CSeq: 400 with the bindings and P-Registrar-Error
    r = s.process(register(cseq=1, branch="z9hG4bK-lower"))
    rep = r.replies[0]
    assert (rep.status, rep.reason) == (400, "Bad Request")
    assert rep.header("P-Registrar-Error") == "Invalid CSeq number"
    assert rep.header("Contact") == "<sip:alice@127.0.0.1:5081>;q=0.9;expires=1795"
    assert script_logs(r) == ["save rc=-1"]
    # the same CSeq after cseq_delay is also refused
    clock.advance(30)
    r = s.process(register(cseq=2, branch="z9hG4bK-late"))
    assert r.replies[0].status == 400


def test_expires_rules(tmp_path):
    s = load_reg(tmp_path, MEM + 'modparam("registrar", "max_expires", 1000)\n'
                                 'modparam("registrar", "default_expires", 600)\n')
    r = s.process(register(contacts=["<sip:a@127.0.0.1:1>;expires=10", "<sip:a@127.0.0.1:2>;expires=5000",
                                     "<sip:a@127.0.0.1:3>;expires=bad", "<sip:a@127.0.0.1:4>"], expires=None))
    assert r.replies[0].header("Contact") == ("<sip:a@127.0.0.1:1>;expires=60, <sip:a@127.0.0.1:2>;expires=1000, "
                                              "<sip:a@127.0.0.1:3>;expires=600, <sip:a@127.0.0.1:4>;expires=600")


def test_min_expires_mode_replies_423(tmp_path):
    s = load_reg(tmp_path, MEM + 'modparam("registrar", "min_expires_mode", 1)\n')
    rep = s.process(register(expires="30")).replies[0]
    assert (rep.status, rep.reason) == (423, "Interval Too Brief")
    assert rep.header("Min-Expires") == "60" and rep.header("P-Registrar-Error") == "Interval too brief"


def test_expires_zero_removes_one_contact_and_star_removes_all(tmp_path, mode):
    s = load_reg(tmp_path, mode)
    s.process(register(contacts=["<sip:a@127.0.0.1:1>;q=0.2", "<sip:a@127.0.0.1:2>;q=0.1"], user="a"))
    r = s.process(register(cseq=2, contacts=["<sip:a@127.0.0.1:1>;expires=0"], user="a"))
    assert script_logs(r) == ["save rc=3"]
    assert r.replies[0].header("Contact") == "<sip:a@127.0.0.1:2>;q=0.1;expires=3600"
    # no Contact: the bindings are listed (4)
    r = s.process(register(cseq=3, contacts=(), user="a"))
    assert script_logs(r) == ["save rc=4"]
    assert r.replies[0].header("Contact") == "<sip:a@127.0.0.1:2>;q=0.1;expires=3600"
    r = s.process(register(cseq=4, contacts=["*"], expires="0", user="a"))
    assert script_logs(r) == ["save rc=3"] and r.replies[0].header("Contact") is None
    assert not any(k.startswith("location") for k in keyspace(s))
    assert script_logs(s.process(request("OPTIONS", "sip:a@127.0.0.1"))) == ["not registered"]


def test_star_needs_expires_zero(tmp_path):
    s = load_reg(tmp_path, MEM)
    rep = s.process(register(contacts=["*"], expires="60")).replies[0]
    assert rep.status == 400 and rep.header("P-Registrar-Error") == "* used in contact and expires is not zero"
    rep = s.process(register(contacts=["*", "<sip:a@127.0.0.1>"], expires="0", cseq=2)).replies[0]
    assert rep.header("P-Registrar-Error") == "* used in contact and more than 1 contact"


def test_max_contacts(tmp_path, mode):
    s = load_reg(tmp_path, mode + 'modparam("registrar", "max_contacts", 2)\n')
    r = s.process(register(contacts=["<sip:a@127.0.0.1:1>, <sip:a@127.0.0.1:2>, <sip:a@127.0.0.1:3>"]))
    rep = r.replies[0]
    assert (rep.status, rep.reason) == (503, "Service Unavailable")
    assert rep.header("P-Registrar-Error") == "Too many registered contacts"
    assert script_logs(r) == ["save rc=-2"]
    assert not any(k.startswith("location:entry") for k in keyspace(s))
    s.process(register(contacts=["<sip:a@127.0.0.1:1>, <sip:a@127.0.0.1:2>"], cseq=2))
    r = s.process(register(contacts=["<sip:a@127.0.0.1:3>"], cseq=3))
    assert r.replies[0].status == 503


def test_lookup_rewrites_ruri_and_forks_in_q_order(tmp_path, mode):
    s = load_reg(tmp_path, mode)
    s.process(register(contacts=["<sip:alice@127.0.0.1:5091>;q=0.4, <sip:alice@127.0.0.1:5090>;q=0.9",
                                 "<sip:alice@127.0.0.1:5092>;q=0.6;received=\"sip:10.0.0.1:5070\""]))
    r = s.process(request())
    assert script_logs(r) == ["lookup ok ru=sip:alice@127.0.0.1:5090 du=<null>"]
    ctx = r.ctx
    assert ctx.data["ruri_q"] == 900 and ctx.data["ruid"].startswith("uloc-")
    # t_relay() forks: the R-URI first, then the branches in q order; received -> $du
    assert [(q.ruri, str(q.dst)) for q in r.requests] == [
        ("sip:alice@127.0.0.1:5090", "udp:127.0.0.1:5090"), ("sip:alice@127.0.0.1:5092", "udp:10.0.0.1:5070"),
        ("sip:alice@127.0.0.1:5091", "udp:127.0.0.1:5091")]


def test_lookup_branches_in_ctx(tmp_path):
    route = """
    request_route {
        if (is_method("REGISTER")) { save("location"); exit; }
        lookup("location");
        xlog("L_INFO", "ru=$ru\n");
        exit;
    }
    """
    s = load_reg(tmp_path, MEM, route=route)
    s.process(register(contacts=["<sip:alice@127.0.0.1:5091>;q=0.4, <sip:alice@127.0.0.1:5090>;q=0.9",
                                 "<sip:alice@127.0.0.1:5092>;q=0.6;received=\"sip:10.0.0.1:5070\""]))
    ctx = s.process(request()).ctx
    assert ctx.new_uri == "sip:alice@127.0.0.1:5090" and ctx.force_socket is not None
    assert [(b.uri, b.q, b.dst_uri) for b in ctx.branches] == [
        ("sip:alice@127.0.0.1:5092", 600, "sip:10.0.0.1:5070"), ("sip:alice@127.0.0.1:5091", 400, None)]


def test_lookup_unknown_and_expired(tmp_path, mode):
    clock = Clock()
    s = load_reg(tmp_path, mode, clock=clock)
    assert script_logs(s.process(request(ruri="sip:nobody@127.0.0.1"))) == ["lookup rc=-1"]
    s.process(register(expires="60"))
    clock.advance(61)
    assert script_logs(s.process(request())) == ["lookup rc=-1"]


def test_method_filtering(tmp_path):
    s = load_reg(tmp_path, MEM + 'modparam("registrar", "method_filtering", 1)\n')
    s.process(register(contacts=['<sip:alice@127.0.0.1:5081>;methods="MESSAGE"']))
    assert script_logs(s.process(request())) == ["lookup rc=-2"]


def test_registered_and_unregister(tmp_path, mode):
    route = """
    request_route {
        if (is_method("REGISTER")) { save("location"); exit; }
        if ($hdr(X-Do) == "unregister") {
            unregister("location", "sip:alice@127.0.0.1");
            xlog("L_INFO", "unregister rc=$rc\\n");
        }
        if (registered("location", "sip:alice@127.0.0.1")) { xlog("L_INFO", "yes\\n"); } else { xlog("L_INFO", "no\\n"); }
        sl_send_reply("200", "OK");
    }
    """
    s = load_reg(tmp_path, mode, route=route)
    assert script_logs(s.process(request("OPTIONS", "sip:x@127.0.0.1"))) == ["no"]
    s.process(register())
    assert script_logs(s.process(request("OPTIONS", "sip:x@127.0.0.1"))) == ["yes"]
    r = s.process(request("OPTIONS", "sip:x@127.0.0.1", extra=["X-Do: unregister"], call_id="u1"))
    assert script_logs(r) == ["unregister rc=1", "no"]


def test_use_domain_off_aor_and_full_scans(tmp_path):
    s = load_reg(tmp_path, 'modparam("usrloc", "db_mode", 3)\nmodparam("usrloc", "use_domain", 0)\n')
    r = s.process(register(domain="example.com", user="Carol"))
    ks = keyspace(s)
    entry = next(v for k, v in ks.items() if k.startswith("location:entry::"))["value"]
    assert entry["username"] == "carol" and "domain" not in entry  # AOR lower-cased, no domain
    assert "location::index::usrdom" not in ks and "location::index::timer" in ks
    assert r.ctx.data["db_full_scans"] == 1
    warn = [x.text for x in r.log if x.source == "db_redis"]
    assert warn == ["performing full table scan on table 'location' while doing the query",
                    "  scan key 0 is 'username'"]


def test_save_flags(tmp_path):
    route = """
    request_route {
        if ($hdr(X-F) == "2") { save("location", "2"); xlog("L_INFO", "rc=$rc\\n"); exit; }
        save("location", "0x04");
        exit;
    }
    """
    s = load_reg(tmp_path, MEM, route=route)
    r = s.process(register(extra=["X-F: 2"]))
    assert r.replies == [] and script_logs(r) == ["rc=1"]  # no reply
    r = s.process(register(cseq=2, contacts=["<sip:alice@127.0.0.1:9>"]))  # one contact per AOR
    assert r.replies[0].header("Contact") == "<sip:alice@127.0.0.1:9>;expires=3600"


def test_gruu_and_instance(tmp_path):
    s = load_reg(tmp_path, MEM)
    inst = '"<urn:uuid:00000000-0000-1000-8000-000000000001>"'
    rep = s.process(register(contacts=[f"<sip:alice@127.0.0.1:5081>;+sip.instance={inst}"],
                             extra=["Supported: gruu"])).replies[0]
    c = rep.header("Contact")
    assert c.startswith("<sip:alice@127.0.0.1:5081>;expires=3600;pub-gruu=\"sip:alice@127.0.0.1;gr=urn:uuid:")
    assert ";temp-gruu=\"sip:uloc-" in c and c.endswith(f";+sip.instance={inst}")


def test_reg_fetch_contacts_and_ulc(tmp_path):
    route = """
    request_route {
        if (is_method("REGISTER")) { save("location"); exit; }
        if (reg_fetch_contacts("location", "sip:alice@127.0.0.1", "c")) {
            xlog("L_INFO", "count=$ulc(c=>count) aor=$ulc(c=>aor) addr0=$(ulc(c=>addr)[0]) q0=$(ulc(c=>q)[0])\\n");
        }
        reg_free_contacts("c");
        sl_send_reply("200", "OK");
    }
    """
    s = load_reg(tmp_path, MEM, route=route)
    s.process(register(contacts=["<sip:alice@127.0.0.1:5081>;q=0.3", "<sip:alice@127.0.0.1:5082>;q=0.7"]))
    assert script_logs(s.process(request("OPTIONS"))) == [
        "count=2 aor=alice@127.0.0.1 addr0=sip:alice@127.0.0.1:5082 q0=700"]


def test_save_without_reply_then_reg_send_reply(tmp_path):
    route = """
    request_route {
        save("location", "2");
        xlog("L_INFO", "rc=$rc\\n");
        reg_send_reply();
        exit;
    }
    """
    s = load_reg(tmp_path, MEM, route=route)
    r = s.process(register())
    assert script_logs(r) == ["rc=1"]
    [rep] = r.replies
    assert rep.status == 200 and rep.header("Contact") == "<sip:alice@127.0.0.1:5081>;expires=3600"
