"""``kscript repl``: an interactive REPL over a loaded Kamailio configuration.

Modules, by job: :mod:`.fragments` (parsing what is typed), :mod:`.session`
(state and evaluation), :mod:`.commands` (``:help``, ``:send``...),
:mod:`.debugger` (trace, breakpoints, stepping), :mod:`.completion`,
:mod:`.lexer` (the Pygments lexer, also registered for ``pygmentize``),
:mod:`.render` (what is printed), :mod:`.app` (the prompt_toolkit front end)
and :mod:`.plain` (stdin is not a terminal: line by line).
"""

from __future__ import annotations

import sys


def main(cfg: str | None = None, defines: list[str] | tuple[str, ...] = (), redis: str = "embedded",
         echo: bool = False, interactive: bool | None = None) -> int:
    """Run the REPL on ``cfg`` (the built-in empty config when None); returns the exit status.

    Interactive (prompt_toolkit) when stdin and stdout are terminals, else the plain mode."""
    from .render import env_color
    from .session import ReplSession

    if interactive is None:
        interactive = sys.stdin.isatty() and sys.stdout.isatty()
    if interactive:
        from .app import ReplApp
        color = env_color(sys.stdout)
        session = ReplSession(cfg, defines, redis, color=color)
        return ReplApp(session, color=color).run()
    from .plain import PlainRepl
    session = ReplSession(cfg, defines, redis, color=False)
    return PlainRepl(session, echo=echo).run()
