#!/usr/bin/env python3
"""Record how Kamailio 5.6.3 sees the sample messages of ``tests/sip/sip_samples.py``.

Writes ``tests/sip/golden_messages.json``: for every message whether Kamailio ran the
script (request_route / reply_route), what ``sl_send_reply("200", "OK")`` sent back, and
the values of a list of PVs (``null`` = ``<null>`` / failed).  ``test_sip_message.py``
checks kscript's parser against it, so the suite does not need kamailio.

Usage (repository root): ``python3 tests/sip/record_messages.py``.  Stdlib only.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from kamailio_oracle import kamailio_available, run_kamailio  # noqa: E402
from sip_samples import INVALID, LAZY_BAD, VALID  # noqa: E402

GOLDEN = HERE / "golden_messages.json"

PVS = ["$rm", "$ru", "$rv", "$rs", "$rr", "$rU", "$rd", "$fu", "$fn", "$ft", "$fU", "$fd", "$tu", "$tn", "$tt",
       "$ci", "$cs", "$cl", "$bs", "$rb", "$ct", "$cT", "$ua", "$mt", "$hdrc(Via)", "$hdr(Via)",
       "$(hdr(Via)[1])", "$(hdr(Via)[-1])", "$hdr(X-Trailing)", "$hdr(X-Empty)", "$hdr(Subject)", "$hdr(Route)",
       "$hdrc(Contact)", "$(hdr(Contact)[1])", "$hdr(From)", "$hdr(To)", "$hdr(CSeq)", "$hdr(Content-Length)",
       "$hdr(f)", "$hdr(i)", "$hdr(v)", "$hdr(Max-Forwards)", "$hdrc(Record-Route)"]


def _pv_in(pv: str, tr: str) -> str:
    """``$(name...{tr})`` for a PV written as ``$name`` or ``$(name...)``."""
    inner = pv[2:-1] if pv.startswith("$(") else pv[1:]
    return f"$({inner}{{{tr}}})"


def xlog_line(tag: str) -> str:
    fields = "".join(f"|{_pv_in(pv, 's.len')}:{_pv_in(pv, 's.encode.hexa')}" for pv in PVS)
    return f'    xlog("L_ERR", "KSMSG|{tag}|$ci{fields}|\\n");'


def record() -> dict:
    route = xlog_line("req") + '\n    sl_send_reply("200", "OK");'
    reply = xlog_line("rpl") + "\n    drop;"
    names = list(VALID) + list(LAZY_BAD) + list(INVALID)
    msgs = [VALID[n] if n in VALID else LAZY_BAD[n][0] if n in LAZY_BAD else INVALID[n][0] for n in names]
    run = run_kamailio(route, msgs, reply_body=reply, timeout=20, settle=0.8, reply_timeout=0.7)
    seen: dict[str, dict] = {}
    for rest in run.marked("KSMSG|"):
        parts = rest.split("|")
        kind, ci, fields = parts[0], parts[1], parts[2:2 + len(PVS)]
        values = {}
        for pv, f in zip(PVS, fields):
            length, _, hexa = f.partition(":")
            values[pv] = None if length == "" else bytes.fromhex(hexa).decode("utf-8", "surrogateescape")
        seen[ci] = {"route": kind, "pvs": values}
    out = {}
    for name, msg, answer in zip(names, msgs, run.replies):
        ci = next((line.split(":", 1)[1].strip() for line in msg.replace("\r\n", "\n").split("\n")
                   if line.lower().startswith(("call-id:", "i:"))), None)
        entry = {"valid": name in VALID, "ran_script": ci in seen,
                 "reply": answer.decode("utf-8", "surrogateescape").split("\r\n", 1)[0] if answer else None}
        if ci in seen:
            entry.update(seen[ci])
        out[name] = entry
    return {"kamailio": "5.6.3", "recorded_by": "tests/sip/record_messages.py", "pvs": PVS, "messages": out}


def main() -> int:
    if not kamailio_available():
        print("kamailio 5.6 not found", file=sys.stderr)
        return 2
    data = record()
    GOLDEN.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    for name, e in data["messages"].items():
        print(f"{name:<28} ran={e['ran_script']!s:<5} reply={e['reply']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
