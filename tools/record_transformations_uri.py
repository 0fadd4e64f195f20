#!/usr/bin/env python3
"""Record golden values of the ``uri.*``, ``nameaddr.*``, ``tobody.*`` and ``urialias.*``
transformations from the real Kamailio 5.6.3 (``tests/golden/transformations_uri.json``).

How: every (transformation, input) pair of :data:`CASES` becomes two ``xlog`` lines in a
throwaway config's ``request_route``::

    $var(u) = "<input>";
    xlog("L_ERR", "KSTR|<n>|L=$(var(u){<tr>}{s.len})|H=$(var(u){<tr>}{s.encode.hexa})|\\n");

kamailio (``-DD -E -n 1`` on a free loopback UDP port, see ``tests/sip/kamailio_oracle.py``)
gets one OPTIONS request and logs the lines.  ``L`` empty means the transformation
*failed* (recorded as ``null``); otherwise the value is the hex-decoded ``H`` (so NUL
bytes and line breaks survive; ``L`` = 0 is the empty string).  When ``H`` is empty but
``L`` > 0 (the value is too long to hex-encode) only ``"length"`` is recorded.

Cases run in batches of :data:`BATCH` per kamailio process; each case is evaluated twice in a
row (``L`` then ``H``), so per-process transformation caches matter (the ``nameaddr`` cache
keeps a half-parsed value after a failure; ``tests/pv/test_transformations_uri.py`` replays
the same sequence).

Besides the hand-written cases, ``fuzz_uri`` / ``fuzz_tobody`` hold deterministic random
inputs (seed :data:`FUZZ_SEED`), each printed with many parts in one xlog line; they
exercise the URI and To-body parsers' odd corners.

Inputs are written as cfg double-quoted strings with ``\\\\``, ``\\"`` and ``\\xHH`` escapes.

Usage (repository root)::

    python3 tools/record_transformations_uri.py            # rewrite the golden file
    python3 tools/record_transformations_uri.py --print    # just show the results

Needs Debian's kamailio 5.6.3 (``/usr/sbin/kamailio``, modules pv, xlog, sl).  Stdlib only.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "tests" / "sip"))

from kamailio_oracle import kamailio_available, options_request, run_kamailio  # noqa: E402

GOLDEN = REPO_ROOT / "tests" / "golden" / "transformations_uri.json"

URI_PARTS = ["uri.user", "uri.host", "uri.domain", "uri.passwd", "uri.port", "uri.params", "uri.headers",
             "uri.transport", "uri.ttl", "uri.uparam", "uri.maddr", "uri.method", "uri.lr", "uri.r2",
             "uri.scheme", "uri.saor", "uri.suri", "uri.duri", "uri.tosocket"]

URI_INPUTS = [
    "sip:alice@example.com",
    "sip:alice@example.com:5070",
    "sip:alice:secret@example.com:5070;transport=TCP;lr;foo=bar?h1=v1&h2=v2",
    "sips:bob@[2001:db8::1]:5061;transport=tls",
    "sip:[::1]",
    "sip:[::1]:5080;lr",
    "sip:example.com",
    "sip:example.com:5060",
    "sip:example.com;transport=udp",
    "sip:example.com:;lr",
    "sip:alice@example.com:",
    "SIP:Alice@Example.COM;Transport=UDP",
    "sip:+49-30-1234(5);npdi@gw.example.com;user=phone",
    "sip:+4930;rn=123@gw.example.com;user=Phone",
    "tel:+1-555-123-4567;phone-context=example.com",
    "tel:+15551234567",
    "tels:+15551234567",
    "urn:service:sos",
    "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6",
    "sip:alice@example.com;",
    "sip:alice@example.com;;",
    "sip:a;",
    "sip:alice@example.com;transport=",
    "sip:alice@example.com;transport=sctp;ttl=5;maddr=10.0.0.1;method=INVITE;user=ip",
    "sip:alice@example.com;lr=on;r2=on",
    "sip:alice@example.com;transport=ws",
    "sip:alice@example.com;transport=wss",
    "sip:alice@example.com;transport=tlsx",
    "sip:alice@example.com;transport=udp;transport=tcp",
    "sip:alice@example.com;a=1;a=2",
    "sip:alice@example.com;A=1;b",
    "sip:alice@example.com;a=\"x y\";b=2",
    "sip:alice@example.com;a=1 x",
    "sip:alice@example.com;a=1,b=2",
    "sip:alice@example.com;maddr",
    "sip:alice@example.com;ma",
    "sip:alice@example.com;maddr=",
    "sip:alice@example.com;maddr;lr",
    "sip:alice%40home@example.com",
    "sip:al;ice@example.com",
    "sip:al?ice@example.com",
    "sip:alice@exa_mple.com",
    "sip:exa_mple.com",
    "sip:alice@-example.com",
    "sip:alice@example.com:65535",
    "sip:alice@example.com:65536",
    "sip:alice@example.com:005060",
    "sip:alice@example.com:50a",
    "sip:alice:12345678@example.com",
    "sip:alice:@example.com",
    "sip:@example.com",
    "sip:alice@",
    "sip:",
    "sip:a",
    "sip:alice@example.com?",
    "sip:alice@example.com?x=1;y=2",
    "sip:alice@example.com?x=1@y",
    "sip:alice@[::1",
    "sip:alice@[::1]x",
    "http://example.com",
    "alice@example.com",
    "sip:alice@example.com;user=phone",
    "sip:alice@example.com;gr=urn:uuid:1234",
    "sip:alice@example.com;ob",
    "sip:alice@example.com;transport=tcp?",
    "sip:a:b:c@example.com",
    "sip:alice@example.com;x=a:b",
]

PARAM_NAMES = ["transport", "lr", "foo", "a", "A", "b", "missing", "npdi", "user"]

NAMEADDR_INPUTS = [
    "\"Alice Smith\" <sip:alice@example.com>;tag=abc",
    "Alice Smith <sip:alice@example.com>",
    "<sip:alice@example.com;transport=tcp>;expires=60",
    "sip:alice@example.com;tag=1",
    "\"A <b>\" <sip:x@y>",
    "\"unterminated <sip:x@y>",
    "<sip:x@y",
    "\"Esc \\\" q\" <sip:x@y>",
    "  <sip:x@y>",
    "<>",
    "x",
]

TOBODY_INPUTS = [
    "\"Alice Smith\" <sip:alice@example.com>;tag=abc123",
    "Alice Smith <sip:alice@example.com:5060;transport=tcp>;tag=1;x=y",
    "<sip:bob@example.com>",
    "sip:bob@example.com;tag=xyz",
    "sip:bob@example.com",
    "<sip:bob@example.com>;tag=a;tag=b",
    "<sip:bob@example.com>;foo;bar=\"q v\";tag=t",
    "<sip:bob@example.com>;tag=",
    "\"Bob\"<sip:bob@example.com>",
    "Bob<sip:bob@example.com>",
    "  Bob   Smith   <sip:bob@example.com>",
    "<tel:+15551234>;tag=9",
    "<sip:bob@example.com",
    "\"Bob <sip:bob@example.com>",
    "<sip:@example.com>;tag=1",
    "<urn:service:sos>",
    "<sip:bob@example.com>;tag=a,b",
    "<sip:bob@example.com>, <sip:carol@example.com>",
    "Bob",
    "<sip:bob@example.com> ;tag=sp",
    "<sip:bob@example.com>;TAG=Up",
]
TOBODY_PARTS = ["tobody.uri", "tobody.display", "tobody.tag", "tobody.user", "tobody.host", "tobody.params"]

URIALIAS_ENCODE = [
    "sip:10.0.0.1", "sip:10.0.0.1:5070", "sip:10.0.0.1;transport=tcp", "sip:alice@10.0.0.1:5080;transport=tls",
    "sip:[2001:db8::1]:5062;transport=sctp", "sip:h;transport=ws", "sip:h;transport=wss", "sip:h;transport=foo",
    "sips:h", "tel:+123", "not a uri",
]
URIALIAS_DECODE = [
    "10.0.0.1~5060~1", "10.0.0.1~5070~2", "10.0.0.1~5061~3", "10.0.0.1~5060~4", "10.0.0.1~80~5",
    "10.0.0.1~443~6", "10.0.0.1~5060~0", "10.0.0.1~5060~7", "10.0.0.1~5060~9", "10.0.0.1~5060~2xyz",
    "[2001:db8::1]~5060~1", "10.0.0.1~5060~", "10.0.0.1~5060", "10.0.0.1", "a~b~1~2", "~~1",
]

NON_STRING_SPECS = ["uri.user", "nameaddr.uri", "tobody.uri", "urialias.encode", "urialias.decode"]

# --- randomised inputs (deterministic): many parts printed per input in one xlog line
FUZZ_SEED = 5603
FUZZ_URI_COUNT = 1200
FUZZ_TOBODY_COUNT = 500
FUZZ_URI_PARTS = ["uri.user", "uri.host", "uri.port", "uri.passwd", "uri.params", "uri.headers", "uri.transport",
                  "uri.uparam", "uri.maddr", "uri.ttl", "uri.method", "uri.lr", "uri.r2", "uri.tosocket",
                  "uri.param,transport", "uri.param,a"]
FUZZ_TOBODY_PARTS = ["tobody.uri", "tobody.display", "tobody.tag", "tobody.params", "tobody.user", "tobody.host"]

_URI_PIECES = ["alice", "bob", "+49-30", "1", "5060", "65535", "99999", "example.com", "10.0.0.1", "[::1]",
               "[2001:db8::2]", "@", "@", ":", ":", ";", ";", ";", "?", "=", "transport", "transport=",
               "udp", "tcp", "TLS", "sctp", "ws", "wss", "lr", "lr=", "maddr", "maddr=", "ma", "user", "user=",
               "phone", "ttl", "ttl=", "method", "method=", "r2", "gr", "x", "a=1", "-", ".", "%40", "&", "[", "]",
               "(", ")", " ", "_", "h=v", "npdi", "a", "b", "2", "T", "U", "M", "L", "R", "G"]
_SCHEMES = ["sip:", "sip:", "sip:", "sips:", "tel:", "urn:", "SIP:", "sIpS:", "tels:", "sip"]


_USERS = ["", "", "alice", "+49-30-12(3)", "al;ice", "a?b", "a%40b", "bob:pw", "bob:", "bob:123", "bob:99999x",
          "x:y:z", "u&v", "1"]
_HOSTS = ["example.com", "10.0.0.1", "[::1]", "[2001:db8::2]", "ex_ample.com", "-bad.com", "h", "a.b-c.d", "[::1",
          "ex ample.com"]
_PORTS = ["", "", ":5060", ":", ":65535", ":65536", ":005060", ":0", ":5x"]
_PARAMS = ["transport=udp", "transport=TCP", "transport=tls", "transport=sctp", "transport=ws", "transport=wss",
           "transport=", "transport", "lr", "lr=on", "lr=", "r2=on", "r2", "gr", "gr=x", "maddr=1.2.3.4", "maddr",
           "ma", "ttl=3", "user=phone", "user=ip", "method=INVITE", "a=1", "a=2", "a", "A=x", "a=\"q v\"",
           "a=1 b", "a=1,b=2", "x=a:b", "x@y", "", "b=", "transport=udp;transport=tcp", "tr=1", "tx"]
_HEADERS = ["", "", "", "?", "?h=v", "?h=v&i=w", "?a;b", "?a@b", "?x:y"]


def fuzz_structured_uri(rng) -> str:
    user = rng.choice(_USERS)
    text = rng.choice(_SCHEMES[:8]) + (user + "@" if user else "") + rng.choice(_HOSTS) + rng.choice(_PORTS)
    for _ in range(rng.choice([0, 1, 1, 2, 3])):
        text += ";" + rng.choice(_PARAMS)
    text += rng.choice(_HEADERS)
    if rng.random() < 0.2:
        i = rng.randrange(len(text) + 1)
        text = text[:i] + rng.choice(_URI_PIECES) + text[i:]
    return text


def fuzz_uris(rng) -> list[str]:
    out = []
    for k in range(FUZZ_URI_COUNT):
        if k % 2:
            out.append(fuzz_structured_uri(rng))
            continue
        n = rng.randint(1, 9)
        body = "".join(rng.choice(_URI_PIECES) for _ in range(n))
        if rng.random() < 0.5:   # make a plausible prefix more common
            body = rng.choice(["alice@example.com", "bob:pw@10.0.0.1", "example.com", "[::1]", "+15551234"]) + \
                rng.choice(["", ":5060", ":", ";"]) + body
        out.append(rng.choice(_SCHEMES) + body)
    return out


_DISPLAYS = ["", "", "Alice ", "Alice Smith ", "\"Alice Smith\" ", "\"A\\\"B\" ", "\"x\"", "Bob", "  Bob  ",
             "\"<>;,\" ", "A;B ", "\"unterminated ", "a\\b "]
_TO_URIS = ["sip:alice@example.com", "sip:bob@10.0.0.1:5060;transport=tcp", "tel:+1555", "sip:example.com",
            "sips:a@[::1]", "sip:a@b;x=1,2", "sip:@x", "urn:service:sos", "sip:a b@c"]
_TO_PARAMS = ["", "", ";tag=abc", ";tag=1;x=2", ";x;tag=", ";tag=a,b", "; tag = v ", ";t=1;ta=2;tag", ";tag=\"q v\"",
              ";x=\"a\\\"b\"", ";;tag=1", ";tag=1;", ";tag=1 x", ";=v", ";tag=x=y", ";TaG=Up", ";tag=1, x"]


def fuzz_tobodies(rng) -> list[str]:
    out = []
    for _ in range(FUZZ_TOBODY_COUNT):
        d = rng.choice(_DISPLAYS)
        u = rng.choice(_TO_URIS)
        form = rng.random()
        if form < 0.7:
            text = d + "<" + u + ">" + rng.choice(["", " ", "  "]) + rng.choice(_TO_PARAMS)
        elif form < 0.9:
            text = u + rng.choice(_TO_PARAMS)
        else:
            text = d + rng.choice(["<", ">", "", "<" + u]) + u + rng.choice(_TO_PARAMS)
        if rng.random() < 0.15:   # random damage
            i = rng.randrange(len(text) + 1)
            text = text[:i] + rng.choice([" ", "\"", "<", ">", ";", ",", "\\", "=", "\t"]) + text[i:]
        out.append(text)
    return out


def build_cases() -> list[tuple[str, str]]:
    cases: list[tuple[str, str]] = []
    for u in URI_INPUTS:
        for part in URI_PARTS:
            cases.append((part, u))
        for p in PARAM_NAMES:
            cases.append((f"uri.param,{p}", u))
    for u in NAMEADDR_INPUTS + ["sip:alice@example.com"]:
        for part in ["nameaddr.name", "nameaddr.uri", "nameaddr.len"]:
            cases.append((part, u))
    for u in TOBODY_INPUTS:
        for part in TOBODY_PARTS:
            cases.append((part, u))
    for u in URIALIAS_ENCODE:
        cases.append(("urialias.encode", u))
    for u in URIALIAS_DECODE:
        cases.append(("urialias.decode", u))
    for spec in NON_STRING_SPECS:
        cases.append((spec, ""))
    return cases


def cfg_string(s: str) -> str:
    out = []
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append("\\x%02x" % ord(ch))
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


BATCH = 400


def route_body(cases: list[tuple[str, str]], first: int = 0) -> str:
    lines = []
    for i, (spec, inp) in enumerate(cases, first):
        lines.append(f"    $var(u) = {cfg_string(inp)};")
        lines.append(f'    xlog("L_ERR", "KSTR|{i}|L=$(var(u){{{spec}}}{{s.len}})|H=$(var(u){{{spec}}}{{s.encode.hexa}})|\\n");')
    # non-string inputs: an int and a null
    lines.append("    $var(i) = 42;")
    for spec in NON_STRING_SPECS:
        lines.append(f'    xlog("L_ERR", "KSTI|{spec}|int=[$(var(i){{{spec}}})]|null=[$(null{{{spec}}})]|\\n");')
    lines.append('    sl_send_reply("200", "OK");')
    return "\n".join(lines)


def fuzz_route_body(inputs: list[str], parts: list[str], first: int, check: str) -> str:
    lines = []
    for i, inp in enumerate(inputs, first):
        lines.append(f"    $var(u) = {cfg_string(inp)};")
        fields = "".join(f"|$(var(u){{{p}}}{{s.encode.hexa}})" for p in parts)
        lines.append(f'    xlog("L_ERR", "KSTF|{i}|$(var(u){{{check}}}{{s.len}}){fields}|\\n");')
    lines.append('    sl_send_reply("200", "OK");')
    return "\n".join(lines)


def record_fuzz(inputs: list[str], parts: list[str], check: str) -> list[dict]:
    got = {}
    for start in range(0, len(inputs), BATCH):
        run = run_kamailio(fuzz_route_body(inputs[start:start + BATCH], parts, start, check),
                           [options_request()], timeout=20)
        for rest in run.marked("KSTF|"):
            fields = rest.split("|")
            got[int(fields[0])] = fields[1:2 + len(parts)]
    out = []
    for i, inp in enumerate(inputs):
        if i not in got:
            raise SystemExit(f"no output for fuzz input {i} {inp!r}")
        ok, *hexes = got[i]
        entry = {"input": inp}
        if ok == "":
            entry["result"] = None
        else:
            entry["result"] = {p: bytes.fromhex(h).decode("utf-8", "surrogateescape") for p, h in zip(parts, hexes)}
        out.append(entry)
    return out


def record() -> dict:
    cases = build_cases()
    got = {}
    for start in range(0, len(cases), BATCH):
        run = run_kamailio(route_body(cases[start:start + BATCH], start), [options_request()], timeout=20)
        for rest in run.marked("KSTR|"):
            idx, l_part, h_part, _ = rest.split("|", 3)
            got[int(idx)] = (l_part[2:], h_part[2:])
    results = []
    for i, (spec, inp) in enumerate(cases):
        if i not in got:
            raise SystemExit(f"no output for case {i} {spec} {inp!r}")
        length, hexa = got[i]
        entry: dict = {"tr": spec, "input": inp, "batch": i // BATCH}
        if length == "":
            entry["result"] = None
        elif hexa == "" and length != "0":
            entry["result"] = None
            entry["length"] = int(length)
            entry["note"] = "value too long to hex-encode; only its length is known"
        else:
            entry["result"] = bytes.fromhex(hexa).decode("utf-8", "surrogateescape")
            assert len(bytes.fromhex(hexa)) == int(length), (spec, inp, length, hexa)
        results.append(entry)
    non_string = {}
    for rest in run.marked("KSTI|"):
        spec, i_part, n_part, _ = rest.split("|", 3)
        non_string[spec] = {"int": i_part[5:-1], "null": n_part[6:-1]}
    rng = random.Random(FUZZ_SEED)
    fuzz_u = record_fuzz(fuzz_uris(rng), FUZZ_URI_PARTS, "uri.host")
    fuzz_t = record_fuzz(fuzz_tobodies(rng), FUZZ_TOBODY_PARTS, "tobody.uri")
    return {
        "kamailio": "5.6.3",
        "recorded_by": "tools/record_transformations_uri.py",
        "semantics": "cases: result null = the transformation failed (xlog prints nothing); each case was "
                     "evaluated twice in a row ({s.len} then {s.encode.hexa}), in file order, one kamailio "
                     "process per batch (transformation caches persist inside a batch); "
                     "non_string: what xlog printed for an int input (42) and a null input; "
                     "fuzz_*: random inputs, all listed parts printed in one xlog line, result null when the "
                     "check part (uri.host / tobody.uri) failed",
        "cases": results,
        "non_string": non_string,
        "fuzz_uri_parts": FUZZ_URI_PARTS,
        "fuzz_uri": fuzz_u,
        "fuzz_tobody_parts": FUZZ_TOBODY_PARTS,
        "fuzz_tobody": fuzz_t,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--print", action="store_true", help="print the results instead of writing the golden file")
    args = ap.parse_args(argv)
    if not kamailio_available():
        print("kamailio 5.6 not found", file=sys.stderr)
        return 2
    data = record()
    if args.print:
        for c in data["cases"]:
            print(f"{c['tr']:<22} {c['input']!r:<60} -> {c['result']!r}")
        print(json.dumps(data["non_string"], indent=1))
        return 0
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    GOLDEN.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {len(data['cases'])} cases to {GOLDEN.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
