#!/usr/bin/env python3
"""Record golden values of the ``s.*``, ``param.*`` and ``line.*`` transformations from the
real Kamailio 5.6.3 into ``tests/golden/transformations_string.json``.

What is recorded
----------------
``cases``: one entry per (transformation text, input) pair of :func:`build_cases`::

    {"id": 17, "tr": "{s.substr,1,3}",
     "input": {"type": "str", "hex": "48656c6c6f"} | {"type": "int", "value": 12} | {"type": "null"},
     "vars": {"$var(pa)": <same form as input>, ...},     # PV parameters used by "tr"
     "failed": false,                                     # the transformation failed
     "output": {"type": "str" | "int" | null, "hex": "..."} | null,
     "length": 11}                                        # s.len of the result (bytes)

``spec``: one entry per transformation text tried at start-up (see :data:`SPEC_CASES`)::

    {"tr": "{s.substr,1,-2}", "accepted": false, "error": "<kamailio's first ERROR line>"}

How
---
All value cases run in one kamailio (``-DD -E -n 1``, loopback UDP port, TZ=UTC) whose
``event_route[core:worker-one-init]`` does, per case::

    $var(h) = "<input as hex>";  $var(in) = $(var(h){s.decode.hexa});   # or $var(in) = 12;
    xlog("L_ERR", "KS<<id|$(IN{TR}{s.len})|$(IN{TR}{s.encode.hexa})>>\\n");
    $var(t) = $(IN{TR});  $var(u) = $var(t) + 1;                          # type probe
    xlog("L_ERR", "KT<<id|$(var(t){s.encode.hexa})|$(var(u){s.encode.hexa})>>\\n");

where IN is ``var(in)`` (or ``vn(nul)``, never assigned, for a null input).

* failure vs empty: a failed transformation makes the whole PV print nothing, so the
  ``{s.len}`` column is empty exactly when it failed (``0`` is an empty result);
* the value: ``{s.encode.hexa}`` of the result, so NUL bytes, line breaks and non-UTF-8
  bytes survive (results too long for xlog's buffer keep only ``length``);
* the type: ``+`` concatenates when its left operand is a string and adds when it is an
  int, so ``u == t + "1"`` means string-typed, ``u == int(t) + 1`` int-typed.  The probe
  needs the PV in code (the lexer counts parentheses), so it is skipped (type ``null``)
  when the text is not safe there.

The ``spec`` cases each start kamailio once with ``xlog("$(var(x)TR)")`` and record
whether it starts (in parallel, 2 at a time).

Usage (repository root)::

    python3 tools/record_transformations.py            # rewrite the golden file
    python3 tools/record_transformations.py --print    # show results, write nothing

Needs /usr/sbin/kamailio 5.6.3 with the pv and xlog modules.  Stdlib only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
GOLDEN = REPO_ROOT / "tests" / "golden" / "transformations_string.json"
KAMAILIO = os.environ.get("KSCRIPT_KAMAILIO", "/usr/sbin/kamailio")
MODDIR = "/usr/lib/x86_64-linux-gnu/kamailio/modules"

NULL = object()  # input marker: a null value


class I(int):  # noqa: E742 - input marker: an int-typed value
    pass


# --------------------------------------------------------------------------- cases
W = "Hello World"
STD = [W, "", NULL, I(12)]


def build_cases() -> list[dict]:
    cases: list[dict] = []

    def add(tr: str, *inputs, vars: dict | None = None) -> None:
        for v in inputs:
            cases.append({"tr": tr, "input": v, "vars": vars or {}})

    # ---- s.len / s.int / s.numeric
    add("{s.len}", *STD, "é", b"a\x00b", " sp ", I(-5), I(0))
    add("{s.int}", *STD, "123", "-42", "+7", "123abc", " 12", "2147483647", "2147483648",
        "-2147483648", "-2147483649", "-", "+", "0x1A", "007", I(-5))
    add("{s.numeric}", *STD, "040/123-456", "abc", "-12", "1é2")
    # ---- digests
    for h in ("md5", "sha256", "sha384", "sha512"):
        add("{s.%s}" % h, *STD, "é")
    # ---- hexa / 7bit
    add("{s.encode.hexa}", *STD, "é", b"\x00\xff")
    add("{s.decode.hexa}", "48656c6c6f", "48656C6C6F", "4865z6", "486", "zz", "", NULL, I(12))
    add("{s.encode.7bit}", "hello", W, "", NULL, I(12), "abcdefgh", "abcdefghi", "é", "a")
    add("{s.decode.7bit}", "E8329BFD06", "C8329BFD065DDF72363904", "", NULL, "ABC", "zz", "61", I(12))
    # ---- base58
    add("{s.encode.base58}", "hello", "", NULL, I(12), b"\x00\x00ab", "é", b"\x00")
    add("{s.decode.base58}", "Cn8eVZg", "2", "z", "1A", "0OIl", "abc", NULL)
    # ---- base64 family
    add("{s.encode.base64}", "", "a", "ab", "abc", "abcd", W, NULL, I(12), "é", b"\xff\xfe")
    add("{s.decode.base64}", "YQ==", "YWI=", "YWJj", "SGVsbG8gV29ybGQ=", "", NULL, "YQ", "Y===",
        "YQ=a", "!!!!", "YW Jj", "SGVsbG8", I(12), "____", "YWJjZA==")
    add("{s.encode.base64t}", "a", "ab", "abc", "", NULL, I(12))
    add("{s.decode.base64t}", "YQ", "YWI", "YWJj", "YQ==", "", NULL, "Y", "SGVsbG8gV29ybGQ")
    add("{s.encode.base64url}", b"\xfb\xff", "a", "", NULL, "Hello World?>", I(12))
    add("{s.decode.base64url}", "-_8", "-_8=", "YQ==", "YQ", "Y", "", NULL, "YQ=a", "a+b/", "SGk")
    add("{s.encode.base64urlt}", b"\xfb\xff", "a", "ab", "", NULL, I(12))
    add("{s.decode.base64urlt}", "-_8", "YQ", "YWI", "YWJj", "", NULL, "Y", "YQ==")
    # ---- escaping
    add("{s.escape.common}", "it's \"q\"", "a\\b", b"a\x00b", "", NULL, I(12), "plain")
    add("{s.unescape.common}", "it\\'s \\\"q\\\"", "a\\\\b", "a\\0b", "a\\xb", "trailing\\", "", NULL, I(12))
    add("{s.escape.user}", "alice smith", "a/b?c;d=e&f+g$h,i", "é", b"a\x7f", "", NULL, I(12), "a%b",
        "a:b@c", "[x]")
    add("{s.unescape.user}", "alice%20smith", "%41%42", "%4", "%zz", "%0a", "%7E", "%7f", "", NULL,
        I(12), "100%", "%c3%a9")
    add("{s.escape.param}", "a b;c=d", "[x]/:&+$", "é", "", NULL, I(12), "a\"b", "a?b")
    add("{s.unescape.param}", "a%20b", "%3b", "%", "", NULL)
    add("{s.escape.csv}", "a\"b", "plain", "", NULL, I(12), "a,b", "\"\"")
    add("{s.urlencode.param}", "a b&c=d/é~", "", NULL, I(12), "AZaz09-_.~", "+")
    add("{s.urldecode.param}", "a%20b+c", "%41%4a%4A", "%zz", "%4", "%", "", NULL, I(12), "100%25",
        "%%41", "%c3%a9")
    # ---- substr
    for ps in ("1,3", "0,0", "6,0", "-5,2", "-5,0", "-11,3", "-12,1", "11,1", "10,5", "0,100",
               "-3,5", "3, 2", " 1 ,3", "+1,2", "- 3,1"):
        add("{s.substr,%s}" % ps, W)
    add("{s.substr,0,0}", "", NULL, I(12))
    add("{s.substr,-1,0}", I(-5))
    add("{s.substr,$var(pa),$var(pb)}", W, vars={"$var(pa)": I(1), "$var(pb)": I(3)})
    add("{s.substr,$var(pa),$var(pb)}", W, vars={"$var(pa)": "1", "$var(pb)": I(3)})
    add("{s.substr,$var(pa),$var(pb)}", W, vars={"$var(pa)": I(1), "$var(pb)": I(-3)})
    add("{s.substr,$var(pa),2}", W, vars={"$var(pa)": NULL})
    # ---- select
    for ps in ("0,,", "1,,", "2,,", "3,,", "-1,,", "-3,,", "-4,,"):
        add("{s.select,%s}" % ps, "a,b,c")
    add("{s.select,1, }", "a b c")
    add("{s.select,1,\\t}", "a\tb")
    add("{s.select,1,\\\\}", "a\\b")
    add("{s.select,-2,:}", "x:y:z")
    add("{s.select,0,,}", "", NULL, ",a,")
    add("{s.select,1,,}", ",a,")
    add("{s.select,0,1}", I(12))
    add("{s.select,$var(pa),:}", "x:y:z", vars={"$var(pa)": I(1)})
    add("{s.select,$var(pa),:}", "x:y:z", vars={"$var(pa)": "1"})
    # ---- case
    add("{s.tolower}", W, "ÄbC", "", NULL, I(12))
    add("{s.toupper}", W, "äbc", "", NULL, I(-12))
    # ---- strip
    for n in ("3", "0", "-2", "11", "20"):
        add("{s.strip,%s}" % n, W)
        add("{s.striptail,%s}" % n, W)
    add("{s.strip,1}", "", NULL, I(123))
    add("{s.striptail,1}", "", NULL, I(123))
    add("{s.strip,0}", I(12))
    add("{s.strip,$var(pa)}", W, vars={"$var(pa)": I(6)})
    add("{s.striptail,$var(pa)}", W, vars={"$var(pa)": "6"})
    # ---- stripto
    add("{s.stripto,@}", "sip:alice@host", "abc", "", NULL)
    add("{s.stripto,bc}", "abcabc")
    add("{s.stripto,2}", I(123))
    add("{s.stripto,}", "a}b")
    add("{s.stripto,$var(pa)}", "sip:alice@host", vars={"$var(pa)": ":x"})
    add("{s.stripto,$var(pa)}", "sip:alice@host", vars={"$var(pa)": ""})
    # ---- prefixes
    for tr in ("{s.prefixes}", "{s.prefixes.quoted}"):
        add(tr, "12345", "", NULL, I(123), "a")
    for n in ("3", "0", "-1", "10"):
        add("{s.prefixes,%s}" % n, "12345")
        add("{s.prefixes.quoted,%s}" % n, "12345")
    add("{s.prefixes,$var(pa)}", "12345", vars={"$var(pa)": I(2)})
    # ---- replace / rm
    add("{s.replace,.,-}", "a.b.c", "", NULL)
    add("{s.replace,aa,b}", "aaa", "aaaa")
    add("{s.replace,o,0}", W)
    add("{s.replace,x,y}", "abc")
    add("{s.replace,1,x}", I(121))
    add("{s.replace,a,}", "banana")
    add("{s.replace, a , b }", "x a y")
    add("{s.replace,ab,abab}", "abab")
    add("{s.replace,$var(pa),$var(pb)}", "a-b-c", vars={"$var(pa)": "-", "$var(pb)": "+"})
    add("{s.replace,$var(pa),$var(pb)}", "a-b-c", vars={"$var(pa)": "-", "$var(pb)": ""})
    add("{s.rm,.}", "a.b.c", "", NULL)
    add("{s.rm,l}", "hello")
    add("{s.rm,\\n}", "a\nb\nc")
    add("{s.rm,\\\\}", "a\\b")
    add("{s.rm,\\q}", "aqb")
    add("{s.rm,ab}", "abab", "aabb")
    add("{s.rm,2}", I(1223))
    add("{s.rm,$var(pa)}", "a\\nb", vars={"$var(pa)": "\\n"})
    # ---- trim / rmws
    for tr in ("{s.trim}", "{s.rtrim}", "{s.ltrim}", "{s.rmws}"):
        add(tr, "  a b \t\r\n", "\n\n", "x", "", NULL, I(12), " a\tb\r\nc ")
    # ---- ftime (TZ=UTC)
    add("{s.ftime,%Y-%m-%d}", I(0), "86400", "abc", "", "-5", I(-1), "4294967295", "+60", NULL,
        "2147483648", "1700000000")
    add("{s.ftime,%Y-%m-%d %H:%M:%S}", I(1700000000))
    add("{s.ftime,%%|%A %B|%j}", I(1700000000))
    add("{s.ftime,literal}", I(5))
    add("{s.ftime,%s}", I(1700000000))
    add("{s.ftime,$var(pa)}", I(0), vars={"$var(pa)": "%H:%M"})
    # ---- corehash
    add("{s.corehash}", "abc", "", NULL, I(12), "abcd", "abcde", "é", b"\xff\xfe\xfd\xfc\xfb", W,
        "sip:alice@example.com")
    for n in ("16", "256", "0", "7", "-1", "1"):
        add("{s.corehash,%s}" % n, "abc")
    add("{s.corehash,$var(pa)}", "abc", vars={"$var(pa)": I(8)})
    # ---- unquote / unbracket
    add("{s.unquote}", "\"abc\"", "'abc'", "\"abc'", "\"", "\"\"", "x", "", NULL, I(5), I(12),
        "\"a\"b\"", "'")
    add("{s.unbracket}", "(a)", "[a]", "{a}", "<a>", "(a]", "()", "(", "", NULL, I(7), I(12), ")(")
    # ---- count / before / after / rbefore / rafter
    add("{s.count,,}", "a,b,c")
    add("{s.count,a}", "banana", "", NULL)
    add("{s.count,an}", "banana")
    add("{s.count,1}", I(1213))
    add("{s.count,}", "a}b}")
    add("{s.count,$var(pa)}", "banana", vars={"$var(pa)": "n"})
    add("{s.count,$var(pa)}", "banana", vars={"$var(pa)": ""})
    add("{s.before,@}", "user@host", "abc", "@abc", "abc@", "", NULL)
    add("{s.after,@}", "user@host", "abc", "@abc", "abc@", "", NULL, "a@b@c")
    add("{s.before,,}", "a,b")
    add("{s.after,,}", "a,b")
    add("{s.before,2}", I(123))
    add("{s.after,2}", I(123))
    add("{s.before,$var(pa)}", "user@host", vars={"$var(pa)": "@"})
    add("{s.after,$var(pa)}", "user@host", vars={"$var(pa)": NULL})
    add("{s.rbefore,@}", "abc@", "@", "a@b@", NULL)
    add("{s.rafter,@}", "abc@", "@", "a@b@", "", NULL)
    # ---- fmtlines / fmtlinet
    for ps in ("2,1", "3,0", "1,2", "10,2", "2,3", "0,1", "4,6"):
        add("{s.fmtlines,%s}" % ps, "abcdef")
        add("{s.fmtlinet,%s}" % ps, "abcdef")
    add("{s.fmtlines,2,3}", "abc")
    add("{s.fmtlines,2,1}", "", NULL, I(123))
    add("{s.fmtlines,$var(pa),$var(pb)}", "abcdef", vars={"$var(pa)": I(3), "$var(pb)": I(-1)})
    add("{s.fmtlines,$var(pa),$var(pb)}", "abcdef", vars={"$var(pa)": I(3), "$var(pb)": I(1)})
    # ---- chains
    add("{s.substr,0,5}{s.toupper}", W)
    add("{s.substr,0,5} {s.toupper}\t{s.len}", W)
    add("{s.int}{s.len}", "+7", "007", "")
    add("{s.int}{s.strip,1}", "+7")
    add("{s.replace,,xy}", "a,b", "ab")
    add("{s.rm,}", "abc")
    add("{s.select,1,\\n}", "a\nb\nc")
    add("{s.select,-1,\\r}", "a\rb")
    add("{s.substr,1,2}", "héllo")
    add("{s.LEN}", W)
    add("{s. len }", W)

    # ---- line.*
    texts = ["a\nb\nc", "a\r\nb\r\n", "single", "\n", "a\n\nb", "x\ny\n", "\n\nb", "a\n\n"]
    add("{line.count}", *texts, "", NULL, I(12))
    for n in ("0", "1", "2", "3", "-1", "-2", "-3", "-4"):
        add("{line.at,%s}" % n, *texts)
    add("{line.at,0}", "", NULL, I(12))
    add("{line.at,$var(pa)}", "a\nb", vars={"$var(pa)": I(1)})
    add("{line.at,$var(pa)}", "a\nb", vars={"$var(pa)": "1"})
    add("{line.sw,b}", "a\nb1\nb2", "b", "a\nb", "a\r\nb\r\nc", "ab\nx")
    add("{line.sw,a}", "abc", "", NULL, I(12))
    add("{line.sw,zz}", "a\nb")
    add("{line.sw,abcd}", "abc")
    add("{line.sw,}", "a\nb")
    add("{line.sw,1}", I(12))
    add("{line.sw,$var(pa)}", "a\nxy\nz", vars={"$var(pa)": "x"})
    add("{line.sw,$var(pa)}", "a\nxy\nz", vars={"$var(pa)": ""})

    # ---- param.*
    plists = ["a=1;b=2;c=3", "a=1;b;c=3", "a=1;", "a=1;;", ";a=1", "a = 1 ; b = 2", "a=\"x;y\";b=2",
              "a=1,b=2", "a=1>b=2", "A=1;a=2", "a=", "a=;b=1", "a=1 b=2", "x", "a='q",
              "a=1; ", "12"]
    add("{param.count}", *plists, "", NULL, I(12))
    add("{param.value,a}", *plists, "", NULL)
    add("{param.value,b}", "a=1;b=2;c=3", "a=1;b;c=3", "a = 1 ; b = 2", "a=\"x;y\";b=2", "a=1,b=2")
    add("{param.value,B}", "a=1;b=2")
    add("{param.value,z}", "a=1;b=2")
    add("{param.value,}", ";a=1", "=5;a=1")
    add("{param.value, a}", "a=1")
    add("{param.value,a }", "a=1")
    add("{param.value,12}", I(12))
    add("{param.in,a}", "a=1;b=2", "b=2", "A", "", NULL)
    add("{param.in,$var(pa)}", "a=1;b=2", vars={"$var(pa)": "b"})
    add("{param.in,$var(pa)}", "a=1;b=2", vars={"$var(pa)": ""})
    for n in ("0", "1", "2", "3", "-1", "-3", "-4"):
        add("{param.valueat,%s}" % n, "a=1;b=2;c=3")
        add("{param.name,%s}" % n, "a=1;b=2;c=3")
    add("{param.valueat,0}", "", NULL, "a=1;b=2;")
    add("{param.name,$var(pa)}", "a=1;b=2", vars={"$var(pa)": I(1)})
    add("{param.name,$var(pa)}", "a=1;b=2", vars={"$var(pa)": "1"})
    add("{param.value,b,|}", "a=1|b=2|c", "a=1;b=2")
    add("{param.in,c,|}", "a=1|b=2|c")
    add("{param.valueat,1,|}", "a=1|b=2|c")
    add("{param.name,-1,|}", "a=1|b=2|c|")
    add("{param.count,|}", "a=1|b=2|c", "a=1|b=2|c|", "a;b")
    add("{param.count,,}", "a=1,b=2,c", "a,b,")
    add("{param.count,$var(pa)}", "a=1|b=2", vars={"$var(pa)": "|x"})
    add("{param.count,$var(pa)}", "a=1|b=2", vars={"$var(pa)": ""})
    add("{param.value,a, }", "a=1 b=2")
    add("{param.value,a}", "a=\"x y\" ;b=2", "a=1\r\n;b", "a=1\t;b=2")
    add("{param.count,$var(pa)}", "a=1|b=2", vars={"$var(pa)": I(1)})
    for i, c in enumerate(cases):
        c["id"] = i
    return cases


#: transformation texts tried at start-up: do they make Kamailio refuse the config?
SPEC_CASES = [
    "{s.len}", "{s.foo}", "{S.len}", "{s.LEN}", "{ s.len}", "{s. len }", "{s.len,1}", "{s.len,}",
    "{s.len", "{s.len}x", "{s.len}{s.int}", "{s.len} {s.int}", "{s.len}\t{s.int}",
    "{s.substr,1}", "{s.substr,1,-2}", "{s.substr,-1,2}", "{s.substr,a,2}", "{s.substr,1a,2}",
    "{s.substr, 1 , 2 }", "{s.substr,- 1,2}", "{s.substr,,2}", "{s.substr,1,2,3}",
    "{s.substr,$var(a),2}", "{s.substr,$foo,2}", "{s.substr,$(var(a){s.int}),2}",
    "{s.select,0}", "{s.select,0,}", "{s.select,0,,}", "{s.select,0,\\x}", "{s.select,0,\\n}",
    "{s.select,0,ab}", "{s.select,0,}}", "{s.select,0, }",
    "{s.strip}", "{s.strip,}", "{s.prefixes,}", "{s.prefixes, 3}", "{s.prefixes}",
    "{s.corehash,x}", "{s.corehash}", "{s.corehash,4}",
    "{s.fmtlines,-1,2}", "{s.fmtlines,1,-2}", "{s.fmtlines,0,1}", "{s.fmtlinet,2}",
    "{s.replace,a}", "{s.replace,a,b,c}", "{s.replace,a,b}", "{s.replace,,b}",
    "{s.count,ab}", "{s.count,a,b}", "{s.count,,}", "{s.count}", "{s.rm,}", "{s.ftime}",
    "{s.ftime,%Y}", "{s.stripto,}", "{s.before,a,}", "{s.after,}",
    "{s.intv}", "{s.sha1}", "{s.rmhdws}", "{s.crc32}",
    "{param.value}", "{param.value,a}", "{param.value,a,;;}", "{param.value,a,}", "{param.value,a,,}",
    "{param.value,a,$var(x)}", "{param.value,a, ;}", "{param.count,;;}", "{param.count, ;}",
    "{param.count,$var(x)}", "{param.count,,}", "{param.count,;}", "{param.count}", "{param.foo}",
    "{param.valueat,x}", "{param.valueat,1,;}", "{param.in}",
    "{line.at}", "{line.at,x}", "{line.at,-1}", "{line.sw}", "{line.sw,}", "{line.foo}",
    "{line.count}", "{line.count,1}",
    "{uri.foo}", "{val.n0}", "{re.subst,/a/b/}", "{urialias.encode}", "{.len}", "{s}", "{len}",
]


# --------------------------------------------------------------------------- kamailio runner
def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cfg(body: str, port: int) -> str:
    return f"""#!KAMAILIO
debug=1
log_stderror=yes
children=1
auto_aliases=no
pv_buffer_size=262144
listen=udp:127.0.0.1:{port}
mpath="{MODDIR}"
loadmodule "pv.so"
loadmodule "xlog.so"
modparam("xlog", "buf_size", 262144)

event_route[core:worker-one-init] {{
{body}
    xlog("L_ERR", "KS-DONE\\n");
}}

request_route {{
    drop;
}}
"""


def run_kamailio(body: str, timeout: float = 30.0) -> tuple[bool, str]:
    """Run the body in worker-one-init; (started, stderr)."""
    rundir = tempfile.mkdtemp(prefix="kstr-")
    cfg = Path(rundir, "t.cfg")
    cfg.write_text(_cfg(body, _free_port()), encoding="utf-8", errors="surrogateescape")
    errf = open(Path(rundir, "stderr.txt"), "w+b")
    env = dict(os.environ, TZ="UTC")
    proc = subprocess.Popen(
        [KAMAILIO, "-f", str(cfg), "-DD", "-E", "-n", "1", "-m", "64", "-M", "64", "-Y", rundir, "-w", rundir],
        stdout=subprocess.DEVNULL, stderr=errf, start_new_session=True, env=env)
    started = False
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            errf.seek(0)
            data = errf.read()
            if b"KS-DONE" in data:
                started = True
                break
            if proc.poll() is not None:
                break
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        errf.seek(0)
        out = errf.read().decode("utf-8", "surrogateescape")
        errf.close()
        shutil.rmtree(rundir, ignore_errors=True)
    return started, out


# --------------------------------------------------------------------------- recording
def _enc_value(v) -> dict:
    if v is NULL:
        return {"type": "null"}
    if isinstance(v, I):
        return {"type": "int", "value": int(v)}
    b = v if isinstance(v, bytes) else v.encode("utf-8")
    return {"type": "str", "hex": b.hex()}


def _cfg_dq(s: str) -> str:
    """A cfg double-quoted literal whose value is exactly ``s``."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _assign(lhs: str, v) -> str:
    if isinstance(v, I):
        return f"{lhs} = {int(v)};"
    b = v if isinstance(v, bytes) else v.encode("utf-8")
    return f'$var(h) = "{b.hex()}";\n    {lhs} = $(var(h){{s.decode.hexa}});'


def _int32(n: int) -> int:
    n &= 0xFFFFFFFF
    return n - (1 << 32) if n & 0x80000000 else n


def _code_safe(tr: str) -> bool:
    depth = 0
    for c in tr:
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0 and not any(x in tr for x in ("\"", "'", "#", "\n", "/*", "//"))


def record_cases(cases: list[dict]) -> list[dict]:
    lines = []
    for c in cases:
        tr = c["tr"]
        for name, v in c["vars"].items():
            if v is NULL:  # a null PV parameter: an unset $vn
                tr = tr.replace(name, "$vn(" + name[5:-1] + "nul)")
            else:
                lines.append("    " + _assign(name, v))
        c["_tr_cfg"] = tr
        v = c["input"]
        if v is NULL:
            src = "vn(nul)"
        else:
            lines.append("    " + _assign("$var(in)", v))
            src = "var(in)"
        i = c["id"]
        fmt = f"KS<<{i}|$({src}{tr}{{s.len}})|$({src}{tr}{{s.encode.hexa}})>>\n"
        lines.append(f'    xlog("L_ERR", {_cfg_dq(fmt)});')
        if _code_safe(tr):
            lines.append(f"    $var(t) = $({src}{tr});")
            lines.append("    $var(u) = $var(t) + 1;")
            fmt = f"KT<<{i}|$(var(t){{s.encode.hexa}})|$(var(u){{s.encode.hexa}})>>\n"
            lines.append(f'    xlog("L_ERR", {_cfg_dq(fmt)});')
    started, out = run_kamailio("\n".join(lines))
    if not started:
        raise SystemExit("kamailio did not run the cases:\n" + out[-4000:])
    ks = {int(m[1]): (m[2], m[3]) for m in re.finditer(r"KS<<(\d+)\|([0-9]*)\|([0-9a-f]*)>>", out)}
    kt = {int(m[1]): (m[2], m[3]) for m in re.finditer(r"KT<<(\d+)\|([0-9a-f]*)\|([0-9a-f]*)>>", out)}
    result = []
    for c in cases:
        i = c["id"]
        if i not in ks:
            raise SystemExit(f"no output for case {i} {c['tr']!r}")
        length, hx = ks[i]
        entry = {"id": i, "tr": c["tr"], "input": _enc_value(c["input"]),
                 "vars": {k: _enc_value(v) for k, v in c["vars"].items()}}
        if length == "":
            entry.update(failed=True, output=None, length=None)
        else:
            n = int(length)
            out_b = bytes.fromhex(hx)
            typ = None
            if i in kt:
                t = bytes.fromhex(kt[i][0])
                u = bytes.fromhex(kt[i][1])
                if u == t + b"1":
                    typ = "str"
                elif re.fullmatch(rb"-?[0-9]+", t) and u == str(_int32(int(t) + 1)).encode():
                    typ = "int"
            o = {"type": typ}
            if len(out_b) == n:
                o["hex"] = out_b.hex()
                try:
                    o["text"] = out_b.decode("utf-8")
                except UnicodeDecodeError:
                    pass
            entry.update(failed=False, output=o, length=n)
        result.append(entry)
    return result


def _spec_one(tr: str) -> dict:
    body = f'    $var(x) = "abc";\n    $var(a) = 1;\n    xlog("L_ERR", {_cfg_dq("X=$(var(x)" + tr + ")|" + chr(10))});'
    started, out = run_kamailio(body, timeout=15)
    err = None
    if not started:
        for line in out.splitlines():
            if "ERROR" in line or "CRITICAL" in line:
                err = re.sub(r"^\s*\d+\(\d+\)\s*", "", line).strip()
                break
    return {"tr": tr, "accepted": started, "error": err}


def record_spec() -> list[dict]:
    with ThreadPoolExecutor(max_workers=2) as ex:
        return list(ex.map(_spec_one, SPEC_CASES))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--print", action="store_true", help="print the results instead of writing the golden file")
    args = ap.parse_args()
    if not (Path(KAMAILIO).is_file() and Path(MODDIR, "pv.so").is_file()):
        print("kamailio 5.6 not available", file=sys.stderr)
        return 2
    cases = record_cases(build_cases())
    spec = record_spec()
    data = {
        "kamailio": subprocess.run([KAMAILIO, "-v"], capture_output=True, text=True).stdout.splitlines()[0],
        "tz": "UTC",
        "cases": cases,
        "spec": spec,
    }
    if args.print:
        for c in cases:
            print(json.dumps(c, ensure_ascii=False))
        for s in spec:
            print(json.dumps(s, ensure_ascii=False))
        return 0
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    GOLDEN.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {GOLDEN.relative_to(REPO_ROOT)}: {len(cases)} cases, {len(spec)} spec checks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
