"""siputils (values recorded in tests/conformance/cases/siputils)."""

from __future__ import annotations

MODS = ("pv", "xlog", "sl", "siputils")


def check(ks_run, ks_logs, cond, msg=None, src="udp:127.0.0.1:5080"):
    res = ks_run(f'if ({cond}) {{ xlog("L_INFO", "T\\n"); }} else {{ xlog("L_INFO", "F rc=$rc\\n"); }}',
                 msg=msg, modules=MODS, src=src)
    return ks_logs(res)[0]


def test_has_totag_and_message_type(ks_run, ks_msg, ks_logs):
    assert check(ks_run, ks_logs, "has_totag()") == "F rc=-1"
    assert check(ks_run, ks_logs, "has_totag()", ks_msg(to_tag="x")) == "T"
    assert check(ks_run, ks_logs, "is_request()") == "T"
    assert check(ks_run, ks_logs, "is_reply()") == "F rc=-1"
    assert check(ks_run, ks_logs, "is_first_hop()") == "T"
    two = ks_msg(via=["SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKa", "SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKb"])
    assert check(ks_run, ks_logs, "is_first_hop()", two) == "F rc=-1"


def test_is_user_without_credentials(ks_run, ks_logs):
    res = ks_run('if (!is_user("bob")) { xlog("L_INFO", "F\\n"); }', modules=MODS)
    assert ks_logs(res) == ["F"]
    assert ks_logs(res, "siputils")[0] == "no authorized credentials found (error in scripts)"


def test_uri_param_and_add_uri_param(ks_run, ks_msg, ks_logs):
    msg = ks_msg(ruri="sip:bob@127.0.0.1;transport=udp;foo")
    assert check(ks_run, ks_logs, 'uri_param("transport")', msg) == "F rc=-1"  # has a value
    assert check(ks_run, ks_logs, 'uri_param("transport", "udp")', msg) == "T"
    assert check(ks_run, ks_logs, 'uri_param("foo")', msg) == "T"
    assert check(ks_run, ks_logs, 'uri_param("foo", "baz")', msg) == "F rc=-1"
    assert check(ks_run, ks_logs, 'uri_param_any("TRANSPORT")', msg) == "T"
    res = ks_run('add_uri_param("added=1"); xlog("L_INFO", "$ru\\n"); uri_param_rm("transport"); '
                 'xlog("L_INFO", "$ru\\n");', msg=msg, modules=MODS)
    assert ks_logs(res) == ["sip:bob@127.0.0.1;transport=udp;foo;added=1", "sip:bob@127.0.0.1;foo;added=1"]


def test_cmp_uri_and_cmp_aor(ks_run, ks_logs):
    assert check(ks_run, ks_logs, 'cmp_uri("$fu", "sip:alice@127.0.0.1")') == "T"
    assert check(ks_run, ks_logs, 'cmp_uri("sip:a@H;transport=udp", "sip:a@h")') == "T"
    assert check(ks_run, ks_logs, 'cmp_uri("sip:a@h;user=phone", "sip:a@h")') == "F rc=-1"
    assert check(ks_run, ks_logs, 'cmp_uri("sip:a@h", "bad")') == "F rc=-2"
    assert check(ks_run, ks_logs, 'cmp_aor("sip:a@h", "sip:a@H:5060")') == "T"
    assert check(ks_run, ks_logs, 'cmp_aor("sip:a@h", "sip:a@h:5070")') == "F rc=-1"


def test_number_checks(ks_run, ks_logs):
    res = ks_run('''
        $var(e) = "+4912345678"; if (is_e164("$var(e)")) { xlog("L_INFO", "e164\\n"); }
        $var(e) = "12345"; if (!is_e164("$var(e)")) { xlog("L_INFO", "not e164\\n"); }
        is_tel_number("+0123"); xlog("L_INFO", "tel=$rc\\n");
        is_numeric("12a"); xlog("L_INFO", "num=$rc\\n");
        is_alphanum("ab-c"); xlog("L_INFO", "alnum=$rc\\n");
        if (is_alphanumex("ab-c", "-")) { xlog("L_INFO", "alnumex\\n"); }
        $var(u) = "sip:+491234567@h"; if (is_uri_user_e164("$var(u)")) { xlog("L_INFO", "uri e164\\n"); }
        if (is_uri("sip:x@y")) { xlog("L_INFO", "uri\\n"); }
    ''', modules=MODS)
    assert ks_logs(res) == ["e164", "not e164", "tel=-2", "num=-2", "alnum=-3", "alnumex", "uri e164", "uri"]


def test_tel2sip_and_set_uri_parts(ks_run, ks_logs):
    res = ks_run('''
        tel2sip("tel:+1-(555)-123;foo=Bar", "gw.example", "$var(s)"); xlog("L_INFO", "$var(s)\\n");
        $var(u) = "sip:alice@example.com:5060;x=1";
        $var(v) = "bob"; set_uri_user("$var(u)", "$var(v)"); xlog("L_INFO", "$var(u)\\n");
        $var(v) = "h.example"; set_uri_host("$var(u)", "$var(v)"); xlog("L_INFO", "$var(u)\\n");
    ''', modules=MODS)
    assert ks_logs(res) == ["sip:+1555123;foo=bar@gw.example;user=phone", "sip:bob@example.com:5060;x=1",
                            "sip:bob@h.example:5060;x=1"]


def test_options_reply(ks_run, ks_msg):
    res = ks_run('options_reply();', msg=ks_msg(ruri="sip:127.0.0.1"), modules=MODS)
    r = res.replies[0].text
    assert r.startswith("SIP/2.0 200 OK\r\n")
    assert "Accept: */*\r\nAccept-Encoding: \r\nAccept-Language: en\r\nSupported: \r\nServer:" in r
