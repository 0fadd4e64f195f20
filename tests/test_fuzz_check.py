"""Fuzzing ``kscript check`` with mutated corpus files: a clean result every time.

Hypothesis mutates real configurations (deleted, duplicated, swapped tokens and lines,
truncation, random bytes); the check must return a report -- errors are KscriptErrors that
render as ``file:line:col: error: ...`` -- and never raise. Bounded to well under a minute.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kscript.check import check_text
from kscript.errors import KscriptError

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("KSCRIPT_CORPUS", ROOT.parent / "shared" / "corpus"))


def _sources() -> list[tuple[str, str]]:
    files = sorted(CORPUS.glob("**/*.cfg")) if CORPUS.is_dir() else []
    files.append(ROOT / "tests" / "data" / "debian" / "kamailio.cfg")
    out = []
    for f in files:
        try:
            text = f.read_bytes().decode("utf-8", "replace")
        except OSError:
            continue
        if len(text) < 60_000:  # keep each example fast
            out.append((str(f), text))
    return out


SOURCES = _sources()
TOKEN = re.compile(r"\s+|[A-Za-z0-9_]+|\S")
SETTINGS = settings(max_examples=400, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _check(name: str, text: str) -> None:
    report = check_text(text, name, base_dir=os.path.dirname(name))
    for e in report.errors:
        assert isinstance(e, KscriptError)
        head = str(e).split("\n", 1)[0]
        assert " error: " in head or head.startswith("error:") or ": error:" in head, head
        e.to_dict()
    report.to_dict()


@SETTINGS
@given(st.sampled_from(SOURCES), st.data())
def test_token_mutations(src, data):
    name, text = src
    toks = TOKEN.findall(text)
    for _ in range(data.draw(st.integers(1, 4))):
        if not toks:
            break
        i = data.draw(st.integers(0, len(toks) - 1))
        op = data.draw(st.sampled_from(["delete", "duplicate", "swap"]))
        if op == "delete":
            del toks[i]
        elif op == "duplicate":
            toks.insert(i, toks[i])
        else:
            j = data.draw(st.integers(0, len(toks) - 1))
            toks[i], toks[j] = toks[j], toks[i]
    _check(name, "".join(toks))


@SETTINGS
@given(st.sampled_from(SOURCES), st.data())
def test_line_mutations_and_truncation(src, data):
    name, text = src
    lines = text.split("\n")
    op = data.draw(st.sampled_from(["delete", "duplicate", "swap", "truncate"]))
    i = data.draw(st.integers(0, max(len(lines) - 1, 0)))
    if op == "delete" and lines:
        del lines[i]
    elif op == "duplicate" and lines:
        lines.insert(i, lines[i])
    elif op == "swap" and lines:
        j = data.draw(st.integers(0, len(lines) - 1))
        lines[i], lines[j] = lines[j], lines[i]
    out = "\n".join(lines)
    if op == "truncate":
        out = out[:data.draw(st.integers(0, len(out)))]
    _check(name, out)


@SETTINGS
@given(st.sampled_from(SOURCES), st.data(), st.binary(min_size=1, max_size=40))
def test_random_bytes(src, data, junk):
    name, text = src
    p = data.draw(st.integers(0, len(text)))
    _check(name, text[:p] + junk.decode("latin-1") + text[p:])


@settings(max_examples=500, deadline=None, database=None)
@given(st.lists(st.sampled_from([
    "request_route", "route", "[", "]", "{", "}", "(", ")", ";", ",", ":", "=", "==", "+", "-", "!", "&&",
    "if", "else", "switch", "case", "default", "while", "return", "exit", "drop", "break", "$var(x)", "$x",
    "%a", "@a.b", '"s"', "'q'", "1", "-1", "1.2.3.4", "[::1]", "xlog", "t_relay", "method", "src_ip",
    "myself", "uri", "proto", "UDP", "loadmodule", '"tm.so"', "modparam", "listen", "udp:1.2.3.4:5060",
    "#!define X 1\n", "#!ifdef X\n", "#!else\n", "#!endif\n", "#!subst \"/a/b/\"\n", "#!KAMAILIO\n",
    "event_route", "xhttp:request", "defined", "strlen", "selval", "(int)", "/*", "*/", "#", "\n",
]), max_size=60))
def test_token_soup(words):
    _check("soup.cfg", " ".join(words))
