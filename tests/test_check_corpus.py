"""kscript check agrees with ``kamailio -c`` 5.6.3 on every configuration of the corpus.

The verdicts are in tests/golden/check/corpus.json (recorded by tools/record_check_goldens.py;
its README documents the conventions). One test per file: same verdict and, for a rejected file,
the same file and line for the first error.

Documented tolerances (all from the golden README):

* ``module_missing``: the module is in Kamailio 5.6's source (kscript's catalogue) but not in
  Debian's packages -- out of scope, skipped;
* ``env_dependent`` verdicts that depend on this machine: a ``listen=`` address that does not
  resolve here (kamailio fails after parsing; kscript does not resolve addresses and accepts);
* ``pp_position`` (a stray ``#!endif``): Kamailio prints the line *after* the directive (it has
  counted the directive's newline); kscript reports the directive's own line and records the
  line Kamailio prints as ``kamailio_line``;
* lines shifted by Kamailio's include-file quirk are compared through ``kamailio_line`` too
  (see kscript/source.py).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from kscript.check import check_file

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = json.loads((ROOT / "tests" / "golden" / "check" / "corpus.json").read_text())
CORPUS = Path(os.environ.get("KSCRIPT_CORPUS", ROOT.parent / "shared" / "corpus"))


def _params():
    for rel, v in sorted(GOLDEN.items()):
        marks = []
        if v["category"] == "module_missing":
            marks.append(pytest.mark.skip(reason=f"module <{v.get('module')}> is not in Debian's 5.6.3 packages "
                                                 "(out of scope, see tests/golden/check/README.md)"))
        yield pytest.param(rel, v, id=rel, marks=marks)


@pytest.mark.parametrize("rel,golden", list(_params()))
def test_corpus_file(rel, golden):
    path = CORPUS / rel
    if not path.exists():
        pytest.skip(f"corpus not available ({CORPUS})")
    report = check_file(path)
    want = golden["verdict"]
    if golden["category"] == "other" and golden["kind"] == "listen_resolve":
        want = "accept"  # parsed fine; only the address resolution of this machine failed
    got = "accept" if report.ok else "reject"
    first = report.errors[0] if report.errors else None
    assert got == want, f"kamailio: {golden['message']} at line {golden['line']}; kscript: {first}"
    if want == "accept":
        return
    if golden["kind"] == "ifdef_unbalanced":
        return  # kscript reports the unmatched #!ifdef line (kamailio: no line or end of file)
    assert first.pos is not None
    kline = getattr(first, "kamailio_line", None) or first.pos.line
    if golden["kind"] == "pp_position":
        assert first.pos.line == golden["line"] - 1, str(first)
    assert kline == golden["line"], f"kamailio: {golden['message']} ({golden['detail']}); kscript: {first}"
    if golden.get("file"):
        assert os.path.relpath(first.pos.file, CORPUS) == golden["file"]
