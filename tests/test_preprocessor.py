"""The preprocessor: every ``#!`` directive, define expansion, includes, positions.

Behaviour checked against ``kamailio -c`` 5.6.3 (see kamailio-surface.md §1.3 and
core/cfg.lex@5.6.3); the comments name the Kamailio fact each test pins down.
"""

from __future__ import annotations

import pytest

from kscript.check import check_text
from kscript.errors import PreprocessorError
from kscript.lexer import tokenize
from kscript.preprocessor import Preprocessor


def pp(text: str, *defines: str, base_dir: str = "."):
    p = Preprocessor()
    for d in defines:
        p.define_cli(d)
    return p, p.run_text(text, "t.cfg", base_dir)


def out_lines(text: str, *defines: str) -> list[str]:
    return pp(text, *defines)[1].text.split("\n")[:-1]


def toks(text: str, *defines: str) -> list[str]:
    return [t.text for t in tokenize(pp(text, *defines)[1].text).tokens]


def first_error(text: str, *defines: str, **kw):
    rep = check_text(text, "t.cfg", list(defines), **kw)
    return rep.errors[0] if rep.errors else None


# ---------------------------------------------------------------- #!define & co.
class TestDefine:
    def test_define_expands_identifiers_in_code(self):
        assert toks("#!define X 5\n$var(a) = X;\n") == ["$var(a)", "=", "5", ";"]

    def test_define_never_expanded_in_strings(self):
        # `xlog("FOO")` prints FOO: define values are not substituted in strings [V]
        assert out_lines('#!define FOO bar\nxlog("FOO");\n')[1] == 'xlog("FOO");'

    def test_define_not_expanded_in_comments_pvs_selects_avps(self):
        lines = out_lines("#!define X 9\n# X\n$var(X) = @X.X + %X; // X\n/* X */ X\n")
        assert lines[1:] == ["# X", "$var(X) = @X.X + %X; // X", "/* X */ 9"]

    def test_define_not_expanded_in_event_route_name(self):
        assert out_lines("#!define xhttp nope\nevent_route[xhttp:request] {\n")[1] == \
            "event_route[xhttp:request] {"

    def test_keyword_is_never_a_define_use(self):
        # flex matches the keyword rule before {ID}: `udp` stays the UDP token
        assert toks("#!define udp 9\nproto == udp\n") == ["proto", "==", "udp"]

    def test_identifier_with_digit_prefix_is_not_expanded(self):
        # `3X` is one NUM_ID token for flex
        assert toks("#!define X 9\n3X\n") == ["3X"]

    def test_define_after_a_dot_is_expanded(self):
        # `a.X`: ID DOT ID, and the ID is a define use (cfg_var groups, host names)
        assert toks("#!define X v\ng.X = 1\n") == ["g", ".", "v", "=", "1"]

    def test_empty_define_expands_to_nothing(self):
        assert toks("#!define EMPTY\n1 EMPTY;\n") == ["1", ";"]

    def test_nested_defines_are_reread(self):
        assert toks("#!define A B + 1\n#!define B 7\nA\n") == ["7", "+", "1"]

    def test_value_may_contain_a_string(self):
        assert toks('#!define DBURL "mysql://x"\nDBURL\n') == ['"mysql://x"']

    def test_value_keeps_its_trailing_comment_which_eats_the_rest_of_the_line(self):
        # Kamailio pushes the raw value back: `X;` with X = `1 # c` loses its `;` [V]
        assert toks("#!define X 1 # comment\n$var(a) = X;\nnext\n") == ["$var(a)", "=", "1", "next"]

    def test_backslash_newline_continues_the_value(self):
        p, sm = pp("#!define V 1 + \\\n 2\nV\n")
        assert p.defines["V"] == "1 +  2"
        assert sm.text.split("\n")[:3] == ["", "", "1 +  2"]  # one output line per input line

    def test_trydef_keeps_the_first_value_redefine_replaces(self):
        p, _ = pp("#!define X 1\n#!trydef X 2\n#!trydefine Z 3\n#!redefine Y 3\n#!redef Y 4\n")
        assert p.defines["X"] == "1" and p.defines["Z"] == "3" and p.defines["Y"] == "4"

    def test_def_is_define(self):
        assert pp("#!def X 1\n")[0].defines["X"] == "1"

    def test_redefinition_is_an_error_at_the_name(self):
        e = first_error("#!define X 1\n#!define X 2\nrequest_route { exit; }\n")
        assert e is not None and e.pos.line == 2 and e.pos.column == 10 and "already defined" in e.message

    def test_minus_in_a_define_name_is_fatal(self):
        e = first_error("#!define B-C 1\nrequest_route { exit; }\n")
        assert e.pos.line == 1 and "'-' not allowed" in e.message

    def test_directive_word_must_end(self):
        # `#!defineX` is not a directive: a `#` comment line
        p, sm = pp("#!defineX 1\n")
        assert "defineX" not in p.defines and "X" not in p.defines

    def test_bang_bang_prefix(self):
        assert pp("!!define X 1\n")[0].defines["X"] == "1"

    def test_predefined_names(self):
        p, _ = pp("")
        assert {"KAMAILIO_5", "KAMAILIO_5_6", "KAMAILIO_5_6_3"} <= set(p.defines)

    def test_mod_define_after_loadmodule(self):
        lines = out_lines('#!ifdef MOD_tm\nA\n#!endif\nloadmodule "tm.so"\n#!ifdef MOD_tm\nB\n#!endif\n')
        assert lines[1] == "" and lines[5] == "B"

    def test_cli_defines(self):
        p, _ = pp("", "WITH_X", "DBURL=\"mysql://u@h/db\"")
        assert p.defines["WITH_X"] is None and p.defines["DBURL"] == '"mysql://u@h/db"'
        with pytest.raises(PreprocessorError):
            Preprocessor().define_cli("1BAD")


# ---------------------------------------------------------------- conditionals
class TestConditionals:
    def test_ifdef_ifndef_else_endif_nested(self):
        src = ("#!define A\n#!ifdef A\na1\n#!ifndef B\nnb\n#!else\nb\n#!endif\n#!else\nna\n#!endif\nend\n")
        assert [x for x in out_lines(src) if x] == ["a1", "nb", "end"]

    def test_skipped_lines_keep_their_line_numbers(self):
        _, sm = pp("#!ifdef NO\nx\ny\n#!endif\nz\n")
        assert sm.text.split("\n")[4] == "z" and sm.origins[4].line == 5

    def test_second_else_toggles_again(self):
        # pp_else() flips the state each time (no error)
        assert [x for x in out_lines("#!ifdef NO\na\n#!else\nb\n#!else\nc\n#!endif\n") if x] == ["b"]

    def test_else_endif_with_trailing_text_are_comments(self):
        # `#!endif extra` is a comment line, so the #!ifdef stays open
        rep = check_text("#!ifdef KAMAILIO_5\nrequest_route { exit; }\n#!endif extra\n", "t.cfg")
        assert not rep.ok and rep.errors[0].pos.line == 1

    def test_ifdef_needs_a_blank_before_the_name(self):
        p, sm = pp("#!ifdefX\nkept\n")
        assert sm.text.split("\n")[1] == "kept"

    def test_endif_needs_a_newline_even_at_eof(self):
        rep = check_text("#!ifdef KAMAILIO_5\nrequest_route { exit; }\n#!endif", "t.cfg")
        assert not rep.ok and rep.errors[0].pos.line == 1
        assert check_text("#!ifdef KAMAILIO_5\nrequest_route { exit; }\n#!endif\n", "t.cfg").ok

    def test_unbalanced_ifdef_is_reported_at_the_unmatched_line(self):
        e = first_error("request_route { exit; }\n#!ifdef NOPE\nroute[A] { exit; }\n")
        assert e.pos.line == 2 and "without a matching #!endif" in e.message

    def test_stray_endif_reported_at_its_line(self):
        # Kamailio: "invalid position for preprocessor directive 'endif' - at cfg line N+1"
        # (it has already counted the directive's newline); kscript reports the real line and
        # records the line kamailio prints
        e = first_error("request_route { exit; }\n#!endif\n")
        assert e.pos.line == 2 and e.kamailio_line == 3

    def test_stray_else_is_only_a_warning(self):
        rep = check_text("request_route { exit; }\n#!else\n", "t.cfg")
        assert rep.ok and any("#!else" in w.message for w in rep.warnings)

    def test_stray_endif_compensated_by_an_open_ifdef_is_accepted(self):
        # Kamailio only checks that the #!ifdef/#!endif count ends at 0
        assert check_text("request_route { exit; }\n#!endif\n#!ifdef KAMAILIO_5\n", "t.cfg").ok

    def test_directives_inside_block_comments_and_strings_are_text(self):
        src = '/*\n#!define X 1\n*/\nxlog("a\n#!define Y 2\n");\n'
        p, _ = pp(src)
        assert "X" not in p.defines and "Y" not in p.defines


# ---------------------------------------------------------------- subst
class TestSubst:
    def test_subst_rewrites_strings_and_pvs_not_code(self):
        # pp_subst_run() runs on STRING and PVAR tokens (and include names), not on IDs
        lines = out_lines('#!subst "/ABC/xyz/g"\n$var(ABC) = ABC + "ABC ABC";\n')
        assert lines[0] == '#!subst "/ABC/xyz/g"'  # kept: the grammar reads `SUBST STRING`
        assert lines[1] == '$var(xyz) = ABC + "xyz xyz";'

    def test_subst_without_g_replaces_once(self):
        assert out_lines('#!subst "/a/b/"\n"aaa"\n')[1] == '"baa"'

    def test_subst_flags_case(self):
        assert out_lines('#!subst "/abc/X/i"\n"ABC"\n')[1] == '"X"'

    def test_substdef_reaches_strings_and_defines(self):
        p, sm = pp('#!substdef "/SD/12/"\n$var(a) = SD; xlog("SD");\n')
        assert p.defines["SD"] == "12"
        assert sm.text.split("\n")[1] == '$var(a) = 12; xlog("12");'

    def test_substdefs_quotes_the_define(self):
        assert pp('#!substdefs "/SDS/34/"\n')[0].defines["SDS"] == '"34"'

    def test_earlier_substs_apply_to_a_later_directive(self):
        # the argument of #!substdefs is a STRING token: /SD/ rewrites "/XSD/.." first [V]
        p, _ = pp('#!substdef "/SD/12/"\n#!substdefs "/XSD/34/"\n')
        assert "X12" in p.defines and "XSD" not in p.defines

    def test_subst_inside_a_route_is_a_syntax_error(self):
        # cfg.y: `#!subst` is a top-level statement only
        e = first_error('request_route {\n  #!subst "/a/b/"\n  exit;\n}\n')
        assert e.pos.line == 2 and e.message.startswith("syntax error")


# ---------------------------------------------------------------- includes
class TestInclude:
    def test_include_relative_to_the_including_file(self, tmp_path):
        (tmp_path / "sub").mkdir()
        (tmp_path / "sub" / "inner.cfg").write_text("route[B] { exit; }\n")
        (tmp_path / "sub" / "mid.cfg").write_text('include_file "inner.cfg"\nroute[A] { exit; }\n')
        main = tmp_path / "main.cfg"
        main.write_text('#!include_file "sub/mid.cfg"\nrequest_route { route(A); route(B); }\n')
        p = Preprocessor()
        sm = p.run(main)
        origins = [(o.file.split("/")[-1], o.line) for o in sm.origins]
        assert origins == [("main.cfg", 1), ("mid.cfg", 1), ("inner.cfg", 1), ("mid.cfg", 2), ("main.cfg", 2)]

    def test_missing_include_is_fatal_at_its_line(self, tmp_path):
        main = tmp_path / "m.cfg"
        main.write_text('loadmodule "nosuch.so"\ninclude_file "nope.cfg"\nrequest_route { exit; }\n')
        from kscript.check import check_file
        rep = check_file(main)
        # errors before the include come first (Kamailio parses up to there)
        assert "failed to load module" in rep.errors[0].message
        assert "cannot open included file" in rep.errors[-1].message and rep.errors[-1].pos.line == 2

    def test_missing_import_is_skipped(self, tmp_path):
        main = tmp_path / "m.cfg"
        main.write_text('import_file "nope.cfg"\nrequest_route { exit; }\n')
        from kscript.check import check_file
        assert check_file(main).ok

    def test_include_name_needs_double_quotes(self, tmp_path):
        e = first_error("include_file x.cfg\nrequest_route { exit; }\n", base_dir=str(tmp_path))
        assert e.pos.line == 1 and "double quotes" in e.message

    def test_include_depth_limit(self, tmp_path):
        (tmp_path / "loop.cfg").write_text('include_file "loop.cfg"\n')
        e = first_error('include_file "loop.cfg"\n', base_dir=str(tmp_path))
        assert "too many nested includes" in e.message

    def test_kamailio_line_quirk_after_an_include_ending_with_a_string(self, tmp_path):
        # cfg.lex: the newlines after a final "string" of an included file are added to the
        # including file's line counter when reading resumes [V]
        (tmp_path / "inc.cfg").write_text('loadmodule "xlog.so"\n\n')
        main = tmp_path / "m.cfg"
        main.write_text('include_file "inc.cfg"\n]]\n')
        from kscript.check import check_file
        e = check_file(main).errors[0]
        assert e.pos.line == 2 and e.kamailio_line == 4

    def test_defenv(self, monkeypatch):
        monkeypatch.setenv("KSCRIPT_TEST_ENV", "v1")
        p, _ = pp("#!defenv E1=KSCRIPT_TEST_ENV\n#!defenvs E2=KSCRIPT_TEST_ENV\n#!trydefenv E3=KSCRIPT_NOPE\n")
        assert p.defines["E1"] == "v1" and p.defines["E2"] == '"v1"' and "E3" not in p.defines

    def test_defenv_of_a_missing_variable_is_fatal(self, monkeypatch):
        monkeypatch.delenv("KSCRIPT_NOPE", raising=False)
        e = first_error("#!defenv KSCRIPT_NOPE\nrequest_route { exit; }\n")
        assert e.pos.line == 1 and "not set" in e.message


# ---------------------------------------------------------------- positions
def test_expanded_tokens_keep_the_position_of_the_define_use():
    _, sm = pp("#!define LONGNAME 1\n  $var(a) = LONGNAME; $var(b) = x;\n")
    lex = tokenize(sm.text)
    pos = {t.text: sm.position(t.line, t.col) for t in lex.tokens}
    assert (pos["1"].line, pos["1"].column) == (2, 13)
    assert (pos["$var(b)"].line, pos["$var(b)"].column) == (2, 23)  # columns after it are the real ones
