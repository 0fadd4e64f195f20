"""A Pygments lexer for Kamailio 5.6 configuration files (``kamailio.cfg``).

Registered as the ``kamailio`` lexer through the ``pygments.lexers`` entry
point, so ``pygmentize -l kamailio kamailio.cfg`` and Sphinx code blocks work;
the REPL highlights its input with it.

Token types: PVs are ``Name.Variable`` (``String.Interpol`` inside strings),
function calls ``Name.Function``, route names ``Name.Label``, statements
``Keyword``, route block keywords ``Keyword.Declaration``, top-level
directives (``loadmodule``, ``modparam``) ``Keyword.Namespace``, core
keywords (``method``, ``src_ip``, ``myself``) ``Name.Builtin``, preprocessor
directives ``Comment.Preproc``.
"""

from __future__ import annotations

from pygments.lexer import RegexLexer, bygroups, include, words
from pygments.token import (Comment, Keyword, Name, Number, Operator, Punctuation, String, Text,
                            Whitespace)

__all__ = ["KamailioLexer"]

# A PV token, as kscript's grammar reads it (nested parentheses up to 4 levels).
PV_RE = (r"\$\((?:[^()]|\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*\))*\)"
         r"|\$[A-Za-z_][A-Za-z0-9_.]*(?:\((?:[^()]|\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*\))*\))?"
         r"|\$\?")

_DIRECTIVES = ("define", "def", "trydefine", "trydef", "redefine", "redef", "ifdef", "ifndef", "else", "endif",
               "subst", "substdef", "substdefs", "defenv", "defenvs", "trydefenv", "trydefenvs",
               "include_file", "import_file")
_ROUTE_KW = ("request_route", "failure_route", "branch_route", "onreply_route", "reply_route", "onsend_route",
             "event_route", "route")
_STATEMENTS = ("if", "else", "while", "switch", "case", "default", "return", "exit", "drop", "break")
_TOP = ("loadmodule", "loadpath", "mpath", "modparamx", "modparam", "include_file", "import_file", "listen",
        "alias", "avpflags", "flags", "cfgengine", "advertise", "virtual")
_BUILTIN = ("method", "uri", "status", "from_uri", "to_uri", "src_ip", "dst_ip", "src_port", "dst_port", "proto",
            "af", "snd_ip", "snd_port", "snd_proto", "snd_af", "to_ip", "to_port", "myself", "defined",
            "strlen", "strempty", "selval", "max_len", "INET", "INET6", "UDP", "TCP", "TLS", "SCTP", "WS", "WSS")
_CONSTANTS = ("yes", "no", "true", "false", "on", "off", "enable", "disable")


class KamailioLexer(RegexLexer):
    """Kamailio configuration file (kamailio.cfg), native language."""

    name = "Kamailio"
    aliases = ["kamailio", "kamailio-cfg", "kamcfg"]
    filenames = ["kamailio.cfg", "kamailio-*.cfg", "kamailio_*.cfg", "*.kamailio"]
    mimetypes = ["text/x-kamailio"]
    url = "https://www.kamailio.org/wikidocs/cookbooks/5.6.x/core/"

    tokens = {
        "root": [
            (r"\n", Whitespace),
            (r"[ \t\r\f\v]+", Whitespace),
            # preprocessor directives and the #!KAMAILIO marker
            (r"(?:#!|!!)(?:" + "|".join(sorted(_DIRECTIVES, key=len, reverse=True)) + r")\b.*?$",
             Comment.Preproc),
            (r"#!(?:KAMAILIO|SER|OPENSER|ALL|MAXCOMPAT)\b.*?$", Comment.Preproc),
            (r"#.*?$", Comment.Single),
            (r"//.*?$", Comment.Single),
            (r"/\*", Comment.Multiline, "comment"),
            include("values"),
            # route blocks: route[NAME], request_route, event_route[htable:mod-init]
            (r"(" + "|".join(_ROUTE_KW) + r")(\s*)(\[)(\s*)([^\]\s]*)(\s*)(\])",
             bygroups(Keyword.Declaration, Whitespace, Punctuation, Whitespace, Name.Label, Whitespace,
                      Punctuation)),
            # route(NAME) calls
            (r"(route)(\s*)(\()(\s*)([A-Za-z_][A-Za-z0-9_]*)(\s*)(\))",
             bygroups(Keyword, Whitespace, Punctuation, Whitespace, Name.Label, Whitespace, Punctuation)),
            (words(_ROUTE_KW[:-1], suffix=r"\b"), Keyword.Declaration),
            (words(_STATEMENTS, suffix=r"\b"), Keyword),
            (r"route\b", Keyword),
            (words(_TOP, suffix=r"\b"), Keyword.Namespace),
            (r"(?:msg:len|uri:host|uri:port)\b", Name.Builtin),
            (words(_CONSTANTS, suffix=r"\b"), Keyword.Constant),
            (r"\((?:int|str)\)", Keyword.Type),
            (words(("eq", "ne", "ieq", "ine", "mod", "and", "or", "not"), suffix=r"\b"), Operator.Word),
            (words(_BUILTIN, suffix=r"\b"), Name.Builtin),
            # core parameter / cfg variable assignment at the start of a line: children=8
            (r"^([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)(\s*)(=)(?!=)",
             bygroups(Name.Attribute, Whitespace, Operator)),
            (r"[A-Za-z_][A-Za-z0-9_]*(?=\s*\()", Name.Function),
            (r"(?:udp|tcp|tls|sctp|ws|wss|any):(?=[\[\w*])", Keyword.Type),
            (r"[A-Za-z_][A-Za-z0-9_]*", Name),
            (r"==|!=|=~|>=|<=|&&|\|\||<<|>>|\+=|:=|[-+*/<>=!~&|^]", Operator),
            (r"[{}()\[\];,.:]", Punctuation),
            (r".", Text),
        ],
        "values": [
            (r'"', String.Double, "dqstring"),
            (r"'[^']*'", String.Single),
            (PV_RE, Name.Variable),
            (r"@[A-Za-z_][A-Za-z0-9_.]*(?:\[[^\]]*\][A-Za-z0-9_.]*)*", Name.Attribute),
            (r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}(?:/[0-9]{1,3}(?:\.[0-9]{1,3}){0,3})?", Number),
            (r"\[[0-9a-fA-F:.]+\]", Number),
            (r"0x[0-9a-fA-F]+", Number.Hex),
            (r"[01]+b(?![A-Za-z0-9_])", Number.Bin),
            (r"[0-9]+(?![A-Za-z_])", Number.Integer),
        ],
        "comment": [
            (r"[^*/]+", Comment.Multiline),
            (r"/\*", Comment.Multiline, "#push"),
            (r"\*/", Comment.Multiline, "#pop"),
            (r"[*/]", Comment.Multiline),
        ],
        "dqstring": [
            (r"\\(?:x[0-9a-fA-F]{1,2}|[0-7]{2,3}|.|\n)", String.Escape),
            (PV_RE, String.Interpol),
            (r'[^"\\$]+', String.Double),
            (r"\$", String.Double),
            (r'"', String.Double, "#pop"),
        ],
    }

    def analyse_text(text):  # noqa: N805 - pygments calls it as a static method
        head = text[:4096]
        if "#!KAMAILIO" in head:
            return 0.9
        if "request_route" in head and "loadmodule" in head:
            return 0.5
        return 0.0
