"""sanity (replies recorded in tests/conformance/cases/sanity_check)."""

from __future__ import annotations

MODS = ("pv", "xlog", "sl", "sanity")
BODY = '''
    if (!sanity_check("17895", "7")) { xlog("L_INFO", "failed rc=$rc\\n"); exit; }
    xlog("L_INFO", "ok\\n");
'''


def test_valid_request_passes(ks_run, ks_logs):
    res = ks_run(BODY, modules=MODS)
    assert ks_logs(res) == ["ok"] and not res.sent


def test_autodrop_sends_a_reply_and_ends_the_script(ks_run, ks_msg, ks_logs):
    msg = ks_msg().replace("CSeq: 1 OPTIONS", "CSeq: 1 INVITE")
    res = ks_run(BODY, msg=msg, modules=MODS)
    assert ks_logs(res) == []  # 0 returned: the script ended
    assert res.replies[0].text.startswith("SIP/2.0 400 CSeq method does not match request method\r\n")


def test_without_autodrop_the_script_goes_on(ks_run, ks_msg, ks_logs):
    msg = ks_msg().replace("CSeq: 1 OPTIONS", "CSeq: x1 OPTIONS")
    res = ks_run(BODY, msg=msg, modules=MODS, extra='modparam("sanity", "autodrop", 0)\n')
    assert ks_logs(res) == ["failed rc=-1"]
    assert res.replies[0].reason == "CSeq number is illegal"


def test_bad_scheme_and_content_length(ks_run, ks_msg, ks_logs):
    res = ks_run(BODY, msg=ks_msg(ruri="http://bob@127.0.0.1"), modules=MODS)
    assert res.replies[0].reason == "Bad Request URI"
    assert ks_logs(res, "sanity") == ["failed to parse request uri [http://bob@127.0.0.1]"]
    msg = ks_msg().replace("Content-Length: 0", "Content-Length: 10")
    res = ks_run(BODY, msg=msg, modules=MODS)
    assert res.replies[0].reason == "Content-Length mis-match"


def test_noreply_and_sanity_reply(ks_run, ks_msg, ks_logs):
    msg = ks_msg().replace("CSeq: 1 OPTIONS", "CSeq: 1 INVITE")
    res = ks_run('if (!sanity_check("17895", "7")) { xlog("L_INFO", "failed\\n"); sanity_reply(); }',
                 msg=msg, modules=MODS, extra='modparam("sanity", "autodrop", 0)\nmodparam("sanity", "noreply", 1)\n')
    assert ks_logs(res) == ["failed"]
    assert len(res.replies) == 1 and res.replies[0].status == 400


def test_parameter_range(ks_run, ks_logs):
    res = ks_run('sanity_check("40000"); xlog("L_INFO", "rc=$rc\\n");', modules=MODS)
    assert ks_logs(res) == ["rc=-1"]
