"""maxfwd (return codes and header edits recorded in tests/conformance/cases/maxfwd)."""

from __future__ import annotations

import pytest

MODS = ("pv", "xlog", "sl", "maxfwd")
BODY = '''
    mf_process_maxfwd_header("10");
    $var(rc) = $rc;
    xlog("L_INFO", "rc=$var(rc) [$hdr(Max-Forwards)]\\n");
    if ($var(rc) > 0) { $du = "sip:127.0.0.1:5090"; forward(); }
'''


def mf_msg(ks_msg, value):
    text = ks_msg()
    if value is None:
        return text.replace("Max-Forwards: 70\r\n", "")
    return text.replace("Max-Forwards: 70", f"Max-Forwards: {value}")


@pytest.mark.parametrize("value, log, sent", [
    (None, "rc=2 [<null>]", "Max-Forwards: 10"),
    ("70", "rc=1 [69]", "Max-Forwards: 69"),
    ("200", "rc=1 [ 70]", "Max-Forwards:  70"),
    ("1", "rc=1 [0]", "Max-Forwards: 0"),
    ("0", "rc=-1 [0]", None),
    ("abc", "rc=-2 [abc]", None),
])
def test_process_maxfwd(ks_run, ks_msg, ks_logs, value, log, sent):
    res = ks_run(BODY, msg=mf_msg(ks_msg, value), modules=MODS)
    assert ks_logs(res) == [log]
    if sent is None:
        assert not res.sent
    else:
        assert sent + "\r\n" in res.requests[0].text
    if value is None:  # added before the first header
        assert res.requests[0].text.split("\r\n")[1] == "Max-Forwards: 10"


def test_max_limit_and_is_maxfwd_lt(ks_run, ks_msg, ks_logs):
    res = ks_run(BODY, msg=mf_msg(ks_msg, "50"), modules=MODS, extra='modparam("maxfwd", "max_limit", 20)\n')
    assert ks_logs(res) == ["rc=1 [20]"]
    res = ks_run('''
        if (is_maxfwd_lt("80")) { xlog("L_INFO", "lt80\\n"); }
        if (!is_maxfwd_lt("5")) { xlog("L_INFO", "not lt5 rc=$rc\\n"); }
    ''', modules=MODS)
    assert ks_logs(res) == ["lt80", "not lt5 rc=-1"]
    res = ks_run('is_maxfwd_lt("5"); xlog("L_INFO", "rc=$rc\\n");', msg=mf_msg(ks_msg, None), modules=MODS)
    assert ks_logs(res) == ["rc=-2"]
