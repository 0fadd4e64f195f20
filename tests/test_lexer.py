"""The lexer reproduces Kamailio's flex lexer (core/cfg.lex@5.6.3): longest match, reserved
keywords, numbers, strings (§1.6), comments (§1.4), the ``$`` forms of each dialect (§1.8)."""

from __future__ import annotations

import pytest

from kscript.lexer import COMPAT_KAMAILIO, COMPAT_MAX, COMPAT_SER, tokenize, unescape


def kinds(text: str, compat: str = COMPAT_MAX) -> list[tuple[str, object]]:
    return [(t.type, t.value) for t in tokenize(text, compat).tokens]


@pytest.mark.parametrize("text,expected", [
    ("children", [("CHILDREN", "children")]),
    ("children_no", [("ID", "children_no")]),  # longest match: an identifier
    ("if iff", [("IF", "if"), ("ID", "iff")]),
    ("max_len", [("MAX_LEN", "max_len")]),  # a keyword: not usable as a name
    ("status", [("URI", "status")]),
    ("msg:len", [("MSGLEN", "msg:len")]),
    ("uri:host uri", [("URIHOST", "uri:host"), ("URI", "uri")]),
    ("desc descr description", [("CFG_DESCRIPTION", "desc")] * 0 + [("CFG_DESCRIPTION", "desc"),
                                                                    ("CFG_DESCRIPTION", "descr"),
                                                                    ("CFG_DESCRIPTION", "description")]),
    ("yes off INET ipv6", [("NUMBER", 1), ("NUMBER", 0), ("NUMBER", 2), ("NUMBER", 10)]),
    ("udp UDP wss", [("UDP", "udp"), ("UDP", "UDP"), ("WSS", "wss")]),
])
def test_keywords_longest_match(text, expected):
    assert kinds(text) == expected


@pytest.mark.parametrize("text,expected", [
    ("0", [("NUMBER", 0)]),
    ("10", [("NUMBER", 10)]),
    ("010", [("NUMBER", 8)]),  # octal
    ("0x1F", [("NUMBER", 31)]),
    ("101b", [("NUMBER", 5)]),  # binary
    ("2b", [("NUM_ID", "2b")]),
    ("089", [("NUM_ID", "089")]),
    ("3gpp", [("NUM_ID", "3gpp")]),
    ("1.2.3.4", [("NUMBER", 1), ("DOT", "."), ("NUMBER", 2), ("DOT", "."), ("NUMBER", 3), ("DOT", "."),
                 ("NUMBER", 4)]),
    ("fe80::1 ::1 [::1]", [("IPV6ADDR", "fe80::1"), ("IPV6ADDR", "::1"), ("LBRACK", "["),
                           ("IPV6ADDR", "::1"), ("RBRACK", "]")]),
    ("2147483648", [("NUMBER", -2147483648)]),  # C int
])
def test_numbers_and_addresses(text, expected):
    assert kinds(text) == expected


def test_operators_longest_first():
    assert [t for t, _ in kinds("== =~ = != ! >= >> > <= << < && & || | += + (int) (str) ( ~ ^")] == [
        "EQUAL_T", "MATCH", "EQUAL", "DIFF", "NOT", "GTE", "BIN_RSHIFT", "GT", "LTE", "BIN_LSHIFT", "LT",
        "LOG_AND", "BIN_AND", "LOG_OR", "BIN_OR", "ADDEQ", "PLUS", "INTCAST", "STRCAST", "LPAREN",
        "BIN_NOT", "BIN_XOR"]
    assert [t for t, _ in kinds("and or not mod eq ne ieq ine")] == [
        "LOG_AND", "LOG_OR", "NOT", "MODULO", "STREQ", "STRDIFF", "INTEQ", "INTDIFF"]


class TestStrings:
    @pytest.mark.parametrize("body,value", [
        (r"a\nb\r\t\a", "a\nb\r\t\a"),
        (r'q\"q\\', 'q"q\\'),
        (r"\x41\x4", "A\x04"),
        (r"\101\7", "A\\7"),  # 2-3 octal digits; a single digit is not an escape
        (r"re\d+\.x", r"re\d+\.x"),  # unknown escapes keep both characters
        ("a\\\nb", "ab"),  # backslash-newline removed
    ])
    def test_double_quoted_escapes(self, body, value):
        assert unescape(body) == value
        assert kinds(f'"{body}"') == [("STRING", value)]

    def test_single_quotes_are_raw(self):
        assert kinds(r"'sq\t$rU'") == [("STRING", r"sq\t$rU")]

    def test_adjacent_double_quoted_strings_concatenate(self):
        assert kinds('"a" \n  "b" "c"') == [("STRING", "abc")]

    def test_a_comment_between_strings_stops_the_concatenation(self):
        assert kinds('"a" # c\n "b"') == [("STRING", "a"), ("STRING", "b")]

    def test_single_quoted_strings_do_not_concatenate(self):
        assert kinds("'a' 'b'") == [("STRING", "a"), ("STRING", "b")]

    def test_unterminated_string_ends_the_input(self):
        r = tokenize('x "abc')
        assert [t.type for t in r.tokens] == ["ID"] and r.eof_reason == "string"
        assert (r.eof_line, r.eof_col) == (1, 3)  # reported at the opening quote


class TestComments:
    def test_line_comments(self):
        assert kinds("a # x\nb // y\nc") == [("ID", "a"), ("ID", "b"), ("ID", "c")]

    def test_nested_block_comments(self):
        assert kinds("a /* x /* y */ z */ b") == [("ID", "a"), ("ID", "b")]

    def test_comment_markers_inside_strings_are_text(self):
        assert kinds('"a # b /* c"') == [("STRING", "a # b /* c")]

    def test_dialect_marker_switches_pv_lexing(self):
        assert kinds("$x\n#!KAMAILIO\n$x\n") == [("AVP_OR_PVAR", "$x"), ("PVAR", "$x")]
        # the marker must end the line: with trailing blanks it is a comment
        assert kinds("#!KAMAILIO \n$x") == [("AVP_OR_PVAR", "$x")]


class TestPVs:
    @pytest.mark.parametrize("text", ["$ru", "$var(x)", "$hdr(From)", "$(ru{uri.user})", "$(hdr(X)[*]{s.len})",
                                      "$redis(r=>value[0]=>type)", "$avp(s:x)", "$xavp(a[0]=>b)",
                                      "$sht(t=>$fU)", "$(avp(x)[1])", "$?", "$rc", "$retcode"])
    def test_pv_tokens_in_kamailio_mode(self, text):
        assert kinds(text, COMPAT_KAMAILIO) == [("PVAR", text)]

    def test_hdr_index_outside_parentheses_is_not_part_of_the_token(self):
        assert [t for t, _ in kinds("$hdr(From)[1]", COMPAT_KAMAILIO)] == ["PVAR", "LBRACK", "NUMBER", "RBRACK"]

    def test_name_ends_at_a_dot(self):
        assert [v for _t, v in kinds("$rU.x", COMPAT_KAMAILIO)] == ["$rU", ".", "x"]

    def test_retcode_is_the_longest_match(self):
        assert kinds("$rcx", COMPAT_KAMAILIO) == [("PVAR", "$rc"), ("ID", "x")]

    def test_max_compat_forms(self):
        assert kinds("$x") == [("AVP_OR_PVAR", "$x")]
        assert [t for t, _ in kinds("$x[1]")] == ["ATTR_MARK", "ID", "LBRACK", "NUMBER", "RBRACK"]
        assert [t for t, _ in kinds("$f.y")] == ["ATTR_MARK", "ATTR_FROM", "DOT", "ID"]
        assert kinds("$var(x)") == [("PVAR", "$var(x)")]

    def test_ser_mode_dollar_is_an_attribute(self):
        assert [t for t, _ in kinds("$x", COMPAT_SER)] == ["ATTR_MARK", "ID"]

    def test_percent_avp_and_select(self):
        assert [t for t, _ in kinds("%fd.x @ruri.user[1]")] == [
            "ATTR_MARK", "ATTR_FROMDOMAIN", "DOT", "ID", "SELECT_MARK", "ID", "DOT", "ID", "LBRACK",
            "NUMBER", "RBRACK"]

    def test_unclosed_pv_ends_the_input(self):
        r = tokenize("$(var(x);\n}\n")
        assert r.tokens == [] and r.eof_reason == "pvar"


def test_event_route_names():
    assert kinds("event_route[xhttp:request] event_route [tm:branch-failure:x]") == [
        ("ROUTE_EVENT", "event_route"), ("LBRACK", "["), ("EVENT_RT_NAME", "xhttp:request"), ("RBRACK", "]"),
        ("ROUTE_EVENT", "event_route"), ("LBRACK", "["), ("EVENT_RT_NAME", "tm:branch-failure:x"),
        ("RBRACK", "]")]
    # a name without ':' is skipped character by character (flex default rule)
    assert [t for t, _ in kinds("event_route[foo]")] == ["ROUTE_EVENT", "LBRACK", "RBRACK"]


def test_unknown_characters_are_skipped_and_reported():
    r = tokenize("a ? b `")
    assert [t.text for t in r.tokens] == ["a", "b"]
    assert [c for _l, _c, c in r.stray] == ["?", "`"]


def test_positions_count_a_tab_as_one_column():
    t = tokenize("\tx\n  y").tokens
    assert [(x.line, x.col) for x in t] == [(1, 2), (2, 3)]
