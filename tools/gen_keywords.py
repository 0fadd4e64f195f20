#!/usr/bin/env python3
"""Regenerate the keyword table of ``kscript/lexer.py`` from Kamailio's lexer.

Kamailio's flex lexer (core/cfg.lex@5.6.3) turns every word listed in its
definitions section into a token when an ``<INITIAL>{NAME}`` rule returns one;
such words are reserved (flex prefers the earlier keyword rule over ``{ID}``
for a match of the same length). This script reads the definitions and the
INITIAL rules and prints the ``KEYWORDS`` literal that ``kscript/lexer.py``
embeds (between its ``BEGIN KEYWORDS`` / ``END KEYWORDS`` markers; ``--write``
replaces that block in place).

    python3 tools/gen_keywords.py --lex /tmp/kam563/src/core/cfg.lex --write
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

# words whose token carries a value (cfg.lex: YES/NO/INET/INET6 return NUMBER)
VALUES = {"YES": 1, "NO": 0, "INET": 2, "INET6": 10}


def extract(lex_text: str) -> dict[str, tuple[str, int | None]]:
    defs_part, rules_part = lex_text.split("\n%%\n", 2)[:2]
    defs = {}
    for line in defs_part.split("\n"):
        m = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)\s+(\S.*)$", line)
        if m:
            defs[m.group(1)] = m.group(2).strip()
    rules: dict[str, str | None] = {}
    for m in re.finditer(r"^<([A-Z_,]+)>\{([A-Za-z_0-9]+)\}\s*(\{.*?)(?=^<|\Z|^\t/\*|^\s*$)",
                         rules_part, re.M | re.S):
        states, name, action = m.groups()
        if "INITIAL" not in states.split(","):
            continue
        t = re.search(r"return\s+([A-Za-z_0-9]+)\s*;", action)
        rules.setdefault(name, t.group(1) if t else None)
    words: dict[str, tuple[str, int | None]] = {}
    for name, tok in rules.items():
        pat = defs.get(name)
        if pat is None or tok is None:
            continue
        for alt in pat.split("|"):
            alt = alt.strip()
            if alt.startswith('"') and alt.endswith('"'):
                alt = alt[1:-1]
            if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_:]*", alt):
                words.setdefault(alt, (tok.upper(), VALUES.get(name)))  # Lark terminal names are upper case
    return words


def render(words) -> str:
    lines = ["KEYWORDS: dict[str, tuple[str, int | None]] = {"]
    for w in sorted(words):
        tok, val = words[w]
        lines.append(f"    {w!r}: ({tok!r}, {val!r}),")
    lines.append("}")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lex", default="/tmp/kam563/src/core/cfg.lex", help="path to core/cfg.lex (5.6.3)")
    ap.add_argument("--write", action="store_true", help="rewrite the table in kscript/lexer.py")
    args = ap.parse_args()
    table = render(extract(Path(args.lex).read_text()))
    if not args.write:
        print(table)
        return 0
    target = Path(__file__).resolve().parent.parent / "kscript" / "lexer.py"
    src = target.read_text()
    new, n = re.subn(r"(# BEGIN KEYWORDS[^\n]*\n).*?(\n# END KEYWORDS)", lambda m: m.group(1) + table + m.group(2),
                     src, flags=re.S)
    if n != 1:
        print("markers not found in kscript/lexer.py", file=sys.stderr)
        return 1
    target.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
