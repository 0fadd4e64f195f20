"""The header scan's fast path (unfolded lines, findall) must parse exactly as the full scan."""

import random
import re

import pytest

from kscript.errors import SipParseError
from kscript.sip import message as M

_PIECES = ["Via", "To", "f", "X-A", "Call-ID", "CSeq", "Max-Forwards", "c", "v", " ", "\t", ":", ": ", " :", "x",
           "1 2", "\r\n", "\n", "\r", "\x00", ";tag=1", "<sip:a@b>", "\r\n ", "\n\t", "é", "Bad Line"]
_NAMES = ["Via", "To", "f", "X-A", "Call-ID", "CSeq", "Max-Forwards", "c", "v"]


def _message(rnd: random.Random) -> str:
    lines = []
    for _ in range(rnd.randrange(1, 6)):
        if rnd.random() < 0.8:
            lines.append(rnd.choice(_NAMES) + rnd.choice([":", ": ", " : ", "\t:"])
                         + "".join(rnd.choice(_PIECES[9:]) for _ in range(rnd.randrange(0, 5)))
                         + rnd.choice(["\r\n", "\n"]))
        else:
            lines.append("".join(rnd.choice(_PIECES) for _ in range(rnd.randrange(1, 6))))
    return "OPTIONS sip:a@b SIP/2.0\r\n" + "".join(lines) + rnd.choice(["\r\n", "\n", ""]) + rnd.choice(["", "body"])


def _outcome(text: str):
    try:
        m = M.SipMessage.parse(text, validate=False)
    except SipParseError as e:
        return "error", str(e)
    return "ok", list(m.headers), list(m.spans), dict(m._index), m.eoh, m.body_start, m.body


@pytest.mark.parametrize("seed", range(4))
def test_fast_path_parses_as_the_full_scan(monkeypatch, seed):
    rnd = random.Random(seed)
    texts = [_message(rnd) for _ in range(1500)]
    fast = [_outcome(t) for t in texts]
    # a pattern that never matches: every block goes through the full scan
    monkeypatch.setattr(M, "_SIMPLE_HEADER_RE", re.compile(r"(\Zx)(\Zx)(\Zx)(\Zx)"))
    full = [_outcome(t) for t in texts]
    for t, a, b in zip(texts, fast, full):
        assert a == b, repr(t)
    assert sum(1 for a in fast if a[0] == "ok") > 500  # the generator makes valid messages too
