"""textops: header/body edits are lumps (visible in what is sent, not in PVs)."""

from __future__ import annotations

FWD = '\n$du = "sip:127.0.0.1:5090"; forward();'


def sent_headers(res):
    return res.requests[0].text.split("\r\n\r\n")[0].split("\r\n")


def test_append_insert_remove_hf(ks_run, ks_msg, ks_logs):
    msg = ks_msg(headers=["X-Remove: a", "X-Keep: k", "X-Remove: b", "User-Agent: ua"])
    res = ks_run('''
        append_hf("X-Appended: 1\\r\\n");
        append_hf("X-After-CallID: $ci\\r\\n", "Call-ID");
        insert_hf("X-Inserted: top\\r\\n");
        insert_hf("X-Before-CSeq: yes\\r\\n", "CSeq");
        remove_hf("X-Remove");
        remove_hf("User-Agent");
        if (is_present_hf("X-Remove")) { xlog("L_INFO", "still there\\n"); }
        if (!is_present_hf("X-Appended")) { xlog("L_INFO", "not yet\\n"); }
        xlog("L_INFO", "hdrc=$hdrc(X-Remove)\\n");
    ''' + FWD, msg=msg)
    assert ks_logs(res) == ["still there", "not yet", "hdrc=2"]
    h = sent_headers(res)
    assert h[1] == "X-Inserted: top" and h[2].startswith("Via: SIP/2.0/UDP 127.0.0.1;branch=")
    assert h[h.index("Call-ID: call-1@test") + 1] == "X-After-CallID: call-1@test"
    assert h[h.index("CSeq: 1 OPTIONS") - 1] == "X-Before-CSeq: yes"
    assert h[-2:] == ["Content-Length: 0", "X-Appended: 1"]
    assert not any(x.startswith(("X-Remove", "User-Agent")) for x in h)


def test_remove_hf_variants(ks_run, ks_msg):
    msg = ks_msg(headers=["X-A1: 1", "X-A2: 2", "X-B: 3", "X-Skip: 4", "X-N: 1", "X-N: 2", "X-N: 3"])
    res = ks_run('''
        remove_hf_re("^X-A[0-9]$");
        remove_hf_exp("^X-(B|Skip)", "^X-Skip");
        remove_hf_idx("X-N", -1);
        remove_hf_match("X-N", "eq", "1");
    ''' + FWD, msg=msg)
    h = sent_headers(res)
    assert [x for x in h if x.startswith("X-")] == ["X-Skip: 4", "X-N: 2"]


def test_remove_hf_returns_false_when_missing(ks_run, ks_logs):
    res = ks_run('if (!remove_hf("X-None")) { xlog("L_INFO", "none\\n"); }')
    assert ks_logs(res) == ["none"]


def test_search_is_case_insensitive_and_line_anchored(ks_run, ks_msg, ks_logs):
    msg = ks_msg(headers=["X-Foo: bar"], body="hello world")
    res = ks_run('''
        if (search("^X-Foo: ba[rz]")) { xlog("L_INFO", "1\\n"); }
        if (search("^x-foo: BAR")) { xlog("L_INFO", "2\\n"); }
        if (search("nothing")) { xlog("L_INFO", "3\\n"); }
        if (search_body("HELLO")) { xlog("L_INFO", "4\\n"); }
        if (search_hf("X-Foo", "^bar$", "a")) { xlog("L_INFO", "5\\n"); }
    ''', msg=msg)
    assert ks_logs(res) == ["1", "2", "4", "5"]


def test_subst_and_subst_body_are_lumps(ks_run, ks_msg, ks_logs):
    msg = ks_msg(headers=["X-Foo: bar", "Content-Type: text/plain"], body="hello hello")
    res = ks_run('''
        subst('/^X-Foo: ([a-z]*)/X-Foo: $rU-\\1/');
        subst_body('/hello/goodbye/g');
        xlog("L_INFO", "X-Foo=$hdr(X-Foo)\\n");
    ''' + FWD, msg=msg)
    assert ks_logs(res) == ["X-Foo=bar"]
    text = res.requests[0].text
    assert "\r\nX-Foo: bob-bar\r\n" in text
    assert text.endswith("\r\n\r\ngoodbye goodbye")
    assert "Content-Length: 15\r\n" in text  # body changed -> Content-Length rewritten


def test_subst_uri_and_subst_user_change_the_ruri_at_once(ks_run, ks_logs):
    res = ks_run('''
        subst_uri('/^sip:bob@(.*)$/sip:robert@\\1/i');
        xlog("L_INFO", "$ru $rU\\n");
        subst_user('/^rob(.*)$/\\1/');
        xlog("L_INFO", "$ru\\n");
    ''')
    assert ks_logs(res) == ["sip:robert@127.0.0.1 robert", "sip:ert@127.0.0.1"]


def test_replace_family(ks_run, ks_msg):
    msg = ks_msg(headers=["X-A: one one", "Content-Type: text/plain"], body="aaa")
    res = ks_run('''
        replace("one", "two");
        replace_body_all("a", "b");
        replace_str("X-A:", "X-B:", "f");
    ''' + FWD, msg=msg)
    text = res.requests[0].text
    assert "\r\nX-B: two one\r\n" in text and text.endswith("\r\n\r\nbbb")


def test_set_body_and_append_to_reply(ks_run, ks_msg):
    res = ks_run('set_body("hello", "text/plain");' + FWD)
    text = res.requests[0].text
    assert "\r\nContent-Type: text/plain\r\n" in text and text.endswith("\r\n\r\nhello")
    res = ks_run('set_reply_body("<x/>", "application/xml"); sl_send_reply("200", "OK");')
    r = res.replies[0].text
    assert "Content-Type: application/xml\r\nServer:" in r and r.endswith("Content-Length: 4\r\n\r\n<x/>")


def test_append_body_part_on_a_multipart_body(ks_run, ks_msg):
    body = "--b1\r\nContent-Type: text/plain\r\n\r\nx\r\n--b1\r\n"
    msg = ks_msg(headers=['Content-Type: multipart/mixed;boundary="b1"'], body=body)
    res = ks_run('append_body_part("y", "text/foo");' + FWD, msg=msg)
    # check_boundaries (core) rewrites the last boundary as the final one
    assert res.requests[0].text.endswith(body + "Content-Type: text/foo\r\n\r\ny\r\n--b1--\r\n")


def test_check_boundaries_fixes_inner_and_final_boundaries(ks_run, ks_msg):
    body = "preamble\r\n--b1 \r\nContent-Type: text/plain\r\n\r\nx\r\n--b1--\r\n"
    msg = ks_msg(headers=['Content-Type: multipart/mixed;boundary="b1"'], body=body)
    res = ks_run('append_body_part("y", "text/foo");' + FWD, msg=msg)
    text = res.requests[0].text
    assert text.endswith("\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nx\r\n--b1\r\n"
                         "Content-Type: text/foo\r\n\r\ny\r\n--b1--\r\n")
    # no boundary parameter: Kamailio's INFO logs, body left as built
    msg = ks_msg(headers=["Content-Type: text/plain"], body="hello\r\n")
    res = ks_run('set_body_multipart();' + FWD, msg=msg)
    assert res.requests[0].text.endswith("\r\n\r\n--unique-boundary-1\r\nContent-Type: text/plain\r\n\r\n"
                                         "hello\r\n\r\n--unique-boundary-1\r\n")
    assert [r.text for r in res.log if r.source == "core"] == [
        "Content-Type hdr has no boundary params <text/plain>",
        "no boundary - maybe just turning into multipart body", "check boundaries negative (-2)"]


def test_string_helpers_still_work(ks_run, ks_logs):
    res = ks_run('if (starts_with("$rU", "bo")) { xlog("L_INFO", "sw\\n"); }')
    assert ks_logs(res) == ["sw"]


def test_body_parts(ks_run, ks_msg, ks_logs):
    body = ("--b1\r\nContent-Type: text/plain\r\n\r\nplain\r\n--b1\r\n"
            "Content-Type: application/x\r\n\r\nxx\r\n--b1--\r\n")
    msg = ks_msg(headers=['Content-Type: multipart/mixed;boundary="b1"'], body=body)
    res = ks_run('''
        get_body_part("application/x", "$var(p)");
        xlog("L_INFO", "[$var(p)]\\n");
        get_body_part_raw("text/plain", "$var(r)");
        xlog("L_INFO", "[$var(r)]\\n");
        remove_body_part("text/plain");
        $du = "sip:127.0.0.1:5090"; forward();
    ''', msg=msg)
    assert ks_logs(res) == ["[\r\nxx\r\n]", "[Content-Type: text/plain\r\n\r\nplain\r\n--b1\r\n]"]
    assert res.requests[0].text.endswith("\r\n\r\n--b1\r\nContent-Type: application/x\r\n\r\nxx\r\n--b1--\r\n")


def test_is_privacy(ks_run, ks_msg, ks_logs):
    res = ks_run('if (is_privacy("id")) { xlog("L_INFO", "id\\n"); } '
                 'if (!is_privacy("user")) { xlog("L_INFO", "no user\\n"); }',
                 msg=ks_msg(headers=["Privacy: id;header"]))
    assert ks_logs(res) == ["id", "no user"]
