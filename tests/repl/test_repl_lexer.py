"""The Pygments lexer for Kamailio cfg, and its registration as a pygments.lexers entry point."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pygments.token import Comment, Error, Keyword, Name, Number, Operator, String

from kscript.repl.lexer import KamailioLexer

ROOT = Path(__file__).absolute().parents[2]


def tokens(text):
    return [(t, v) for t, v in KamailioLexer().get_tokens(text) if v.strip()]


def test_statement_tokens():
    toks = tokens('if ($var(x) == 1 && is_method("INVITE")) { route(RELAY); exit; }')
    assert (Keyword, "if") in toks
    assert (Name.Variable, "$var(x)") in toks
    assert (Operator, "==") in toks and (Operator, "&&") in toks
    assert (Number.Integer, "1") in toks
    assert (Name.Function, "is_method") in toks
    assert (String.Double, "INVITE") in toks
    assert (Name.Label, "RELAY") in toks
    assert (Keyword, "exit") in toks


def test_pvs_strings_and_transformations():
    toks = tokens('xlog("L_INFO", "from $fU to $(ru{uri.user}{s.tolower}) \\n");')
    assert (String.Interpol, "$fU") in toks
    assert (String.Interpol, "$(ru{uri.user}{s.tolower})") in toks
    assert (String.Escape, "\\n") in toks
    assert tokens("$(hdr(P-Asserted-Identity){tobody.user})") == [
        (Name.Variable, "$(hdr(P-Asserted-Identity){tobody.user})")]


def test_top_level_and_preprocessor():
    src = ('#!KAMAILIO\n#!define WITH_X\n#!ifdef WITH_X\nchildren=8\n#!endif\n'
           'loadmodule "tm.so"\nmodparam("tm", "fr_timer", 5000)\n'
           "/* a\n block */\n# a comment\nrequest_route {\n}\nroute[RELAY] {\n}\n"
           "event_route[htable:mod-init] {\n}\nfailure_route[MISSED] {\n}\n")
    toks = tokens(src)
    assert (Comment.Preproc, "#!define WITH_X") in toks
    assert (Comment.Preproc, "#!KAMAILIO") in toks
    assert (Name.Attribute, "children") in toks
    assert (Keyword.Namespace, "loadmodule") in toks and (Keyword.Namespace, "modparam") in toks
    assert (Comment.Single, "# a comment") in toks
    assert any(t in Comment.Multiline for t, _ in toks)
    assert (Keyword.Declaration, "request_route") in toks
    assert (Name.Label, "RELAY") in toks and (Name.Label, "htable:mod-init") in toks
    assert (Name.Label, "MISSED") in toks


def test_the_debian_config_lexes_without_errors():
    text = (ROOT / "tests" / "data" / "debian" / "kamailio.cfg").read_text()
    toks = list(KamailioLexer().get_tokens(text))
    assert not [v for t, v in toks if t is Error]
    assert "".join(v for _t, v in toks) == text if text.endswith("\n") else text + "\n"


def test_registered_for_pygments():
    from pygments.lexers import find_lexer_class_by_name, get_lexer_by_name, guess_lexer_for_filename
    try:
        cls = find_lexer_class_by_name("kamailio")
    except Exception:  # pragma: no cover - the package is not installed (pip install -e .)
        pytest.skip("kscript is not installed with its pygments.lexers entry point")
    assert cls.__name__ == "KamailioLexer"
    assert isinstance(get_lexer_by_name("kamailio-cfg"), KamailioLexer)
    assert isinstance(guess_lexer_for_filename("kamailio.cfg", "#!KAMAILIO\nrequest_route {\n}\n"),
                      KamailioLexer)


def test_pygmentize_command():
    exe = shutil.which("pygmentize")
    if exe is None:
        pytest.skip("pygmentize is not on PATH")
    r = subprocess.run([sys.executable, "-m", "pygments", "-l", "kamailio", "-f", "html"],
                       input='if ($var(x) == 1) { xlog("L_INFO", "x\\n"); }', capture_output=True, text=True)
    if "no lexer for alias" in r.stderr:
        pytest.skip("kscript is not installed with its pygments.lexers entry point")
    assert r.returncode == 0, r.stderr
    assert '<span class="nv">$var(x)</span>' in r.stdout
    assert '<span class="k">if</span>' in r.stdout
