"""Route coverage numbers on a cfg whose coverage is computed by hand, cfgt flows
checked against real Kamailio's cfgt output, and recording."""

import json

import kscript
from kscript.cli import main
from kscript.sip import request
from kscript.testing.coverage import Coverage
from kscript.testing.runner import Runner
from kscript.testing.trace import RunTracer, cfgt_pv_names

COV_CFG = """\
#!KAMAILIO
loadmodule "pv.so"
loadmodule "xlog.so"
loadmodule "textops.so"

request_route {
    $var(x) = 1;
    if (is_method("OPTIONS")) {
        xlog("L_INFO", "o\\n");
    } else {
        xlog("L_INFO", "x\\n");
    }
    switch ($rm) {
        case "INVITE":
            $var(x) = 2;
            break;
        case "BYE":
        case "CANCEL":
            $var(x) = 3;
            break;
    }
    route(LOG);
}

route[LOG] {
    xlog("L_INFO", "n=$var(x)\\n");
}

route[UNUSED] {
    exit;
}
"""
# Executable lines (a statement starts there): 7 8 9 11 13 15 16 19 20 22 26 30 -> 12.
# Branches: the if (then, else) and the switch (INVITE, BYE/CANCEL -- one body --, no match) -> 5.
# OPTIONS runs 7 8 9 13 22 26 (6/12 = 50%), takes then + no-match (2/5 = 40%).
# BYE adds 11 19 20 (9/12 = 75%), else + BYE/CANCEL (4/5 = 80%).


def test_coverage_numbers_by_hand(tmp_path):
    cfg = tmp_path / "cov.cfg"
    cfg.write_text(COV_CFG)
    cov = Coverage()
    script = kscript.load(cfg, tracer=cov)
    cov.add_script(script)
    f = str(cfg)
    assert cov.executable[f] == {7, 8, 9, 11, 13, 15, 16, 19, 20, 22, 26, 30}
    [fc] = cov.files()
    assert (fc.lines, fc.lines_hit, fc.branches, fc.branches_hit) == (12, 0, 5, 0)

    script.process(request("OPTIONS", "sip:127.0.0.1"))
    [fc] = cov.files()
    assert (fc.lines_hit, fc.branches_hit) == (6, 2)
    assert fc.line_percent == 50.0 and fc.branch_percent == 40.0
    assert fc.missing_lines == [11, 15, 16, 19, 20, 30]
    assert fc.missing_branches == ["line 8: else", 'line 13: case "INVITE"', 'line 13: case "BYE"/case "CANCEL"']

    script.process(request("BYE", "sip:bob@127.0.0.1", to="<sip:bob@127.0.0.1>;tag=1"))
    [fc] = cov.files()
    assert (fc.lines_hit, fc.branches_hit) == (9, 4)
    assert fc.line_percent == 75.0 and fc.branch_percent == 80.0
    assert fc.missing_branches == ['line 13: case "INVITE"']

    table = cov.summary()
    assert "TOTAL" in table and "75.0%" in table and "80.0%" in table
    listing = cov.annotate(f).splitlines()
    assert listing[6] == " 7 >     $var(x) = 1;"
    assert listing[14] == "15 !             $var(x) = 2;"
    assert listing[12].startswith("13 >     switch ($rm) {    # branch never taken: case \"INVITE\"")
    assert listing[0] == " 1   #!KAMAILIO"
    index = cov.write_html(str(tmp_path / "html"))
    page = (tmp_path / "html" / "file1.html").read_text()
    assert "index.html" in index and 'class="miss"' in page and 'class="part"' in page
    assert json.loads((tmp_path / "html" / "coverage.json").read_text())["totals"]["lines_hit"] == 9
    script.close()


def test_coverage_merges_scripts_and_cli(tmp_path, write, capsys):
    (tmp_path / "cov.cfg").write_text(COV_CFG)
    write(tmp_path / "c.kst.yaml", """\
        config: cov.cfg
        steps:
          - send: {method: OPTIONS, ruri: "sip:127.0.0.1"}
        ---
        name: invite
        config: cov.cfg
        steps:
          - send: {method: INVITE, ruri: "sip:bob@127.0.0.1"}
        """)
    assert main(["test", str(tmp_path), "--coverage", "--coverage-html", str(tmp_path / "h")]) == 0
    out = capsys.readouterr().out
    # OPTIONS + INVITE: lines 7 8 9 11 13 15 16 22 26 = 9/12; branches then, else, none, INVITE = 4/5
    assert "    12     3   75.0%         5     1   80.0%" in out
    assert out.rstrip().splitlines()[-1] == "2 passed, 0 failed"


# ---------------------------------------------------------------- cfgt flows
CFGT_CFG = """\
#!KAMAILIO
loadmodule "pv.so"
loadmodule "xlog.so"
loadmodule "textops.so"

request_route {
    $var(a) = 1;
    $avp(x) = "one";
    $avp(x) = 2;
    if ($hdr(X-Case) == "sub") {
        route(A);
        $var(b) = 2;
        exit;
    }
    if ($hdr(X-Case) == "nested") {
        route(B);
        xlog("L_INFO", "back $rm\\n");
        return;
    }
    if ($hdr(X-Case) == "exitsub") {
        route(C);
        xlog("L_INFO", "never\\n");
    }
    if ($hdr(X-Case) == "drop") {
        drop;
    }
    if ($hdr(X-Case) == "lastroute") {
        route(A);
    }
    if ($hdr(X-Case) == "first") {
        exit;
    }
}

route[A] {
    $var(inA) = "yes";
    xlog("L_INFO", "in A $si\\n");
}
route[B] {
    $var(inB) = 1;
    route(A);
}
route[C] {
    $var(inC) = 1;
    exit;
}
"""

# What Kamailio 5.6.3 with cfgt + debugger (cfgtest=1) wrote for these messages, in order
# (recorded on this cfg -- plus the loadmodule/modparam lines of cfgt and debugger -- with
# the Debian package's binary; only some snapshot values are kept here).
REAL_CFGT = {
    "sub": [("start|DEFAULT_ROUTE", {"$si": "127.0.0.1", "$var(inA)": 0, "$var(inB)": 0, "$var(inC)": 0,
                                     "$var(a)": 0, "$rm": 512, "$var(b)": 0}),
            ("start|A", {"$avp(x)": [2, "one"], "$var(a)": 1}),
            ("return|A", {"$var(inA)": "yes"}),
            ("exit|DEFAULT_ROUTE", {"$var(b)": 2})],
    "nested": [("start|DEFAULT_ROUTE", {}), ("start|B", {}), ("start|A", {"$var(inB)": 1}), ("return|A", {}),
               ("start|B", {}), ("return|DEFAULT_ROUTE", {})],
    "exitsub": [("start|DEFAULT_ROUTE", {}), ("start|C", {"$var(inC)": 0}), ("exit|C", {"$var(inC)": 1})],
    "drop": [("start|DEFAULT_ROUTE", {}), ("exit|DEFAULT_ROUTE", {})],
    "lastroute": [("start|DEFAULT_ROUTE", {}), ("start|A", {}), ("return|A", {}), ("return|DEFAULT_ROUTE", {})],
    "none": [("start|DEFAULT_ROUTE", {}), ("return|DEFAULT_ROUTE", {})],
}


def test_cfgt_flows_match_real_kamailio(tmp_path):
    cfg = tmp_path / "t.cfg"
    cfg.write_text(CFGT_CFG)
    tracer = RunTracer(snapshot=True)
    script = kscript.load(cfg, tracer=tracer)
    tracer.script = script
    for case, want in REAL_CFGT.items():
        tracer.begin()
        script.process(request("OPTIONS", "sip:x@127.0.0.1", headers={"X-Case": case}))
        got = tracer.step.flow
        assert [n for n, _ in got] == [n for n, _ in want], case
        for (name, snap), (_, subset) in zip(got, want):
            for k, v in subset.items():
                assert snap.get(k) == v, (case, name, k)
    assert sorted(cfgt_pv_names(script)) == sorted(
        ["$var(a)", "$avp(x)", "$var(b)", "$var(inA)", "$var(inB)", "$var(inC)", "$rm", "$si"])
    script.close()


def test_trace_dir_and_record(tmp_path, small_cfg, write, capsys):
    msg = tmp_path / "options.sip"
    msg.write_bytes(b"OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\n"
                    b"From: <sip:a@x>;tag=1\r\nTo: <sip:b@y>\r\nCall-ID: r1\r\nCSeq: 1 OPTIONS\r\n"
                    b"Content-Length: 0\r\n\r\n")
    out = tmp_path / "rec" / "options.kst.yaml"
    assert main(["record", str(small_cfg), "--msg", str(msg), "--mock", "nat_uac_test=1", "--mock", "sd_lookup=1",
                 "--src", "udp:10.0.0.1:5060", "-o", str(out)]) == 0
    text = out.read_text()
    assert "config: ../small.cfg" in text
    assert "flow: [start|DEFAULT_ROUTE, start|PING, return|PING, exit|DEFAULT_ROUTE]" in text
    assert "text: options from 10.0.0.1 n=1 at 1700000000" in text
    capsys.readouterr()
    # the recording passes as it is, and --trace writes one cfgt JSON per message
    assert main(["test", str(out), "--trace", str(tmp_path / "tr")]) == 0
    assert capsys.readouterr().out.rstrip().splitlines()[-1] == "1 passed, 0 failed"
    doc = json.loads((tmp_path / "tr" / "options-1" / "1.json").read_text())
    assert doc["sip_in"][0].startswith("OPTIONS sip:127.0.0.1 SIP/2.0\r\n")
    assert doc["flow"][0]["start|DEFAULT_ROUTE"]["$si"] == "10.0.0.1"
    # and fails once the cfg behaves differently
    small_cfg.write_text(small_cfg.read_text().replace("options from", "keepalive from"))
    [r] = Runner().run_paths([out])
    assert r.status == "failed" and "options from 10.0.0.1" in r.details
