"""The interactive REPL: a prompt_toolkit ``PromptSession`` over a :class:`ReplSession`.

* history in a file across sessions (``$KSCRIPT_HISTORY``, else
  ``$XDG_STATE_HOME/kscript/history``, else ``~/.local/state/kscript/history``),
  with suggestions from it (shown greyed, → accepts);
* highlighting with kscript's Pygments lexer (meta-commands in their own colour);
* completion (Tab, and while typing): see :mod:`kscript.repl.completion`;
* multi-line input: Enter runs the input when the parser says it is complete,
  otherwise it starts a new (indented) line; Esc Enter runs it anyway;
* Ctrl-C cancels the input, or a running route; at an empty prompt while a
  run is paused it aborts that run. Ctrl-D at an empty prompt exits;
* output is printed with ``print_formatted_text`` under ``patch_stdout`` so it
  never garbles the prompt.
"""

from __future__ import annotations

import os
import re
from typing import Callable

from prompt_toolkit import PromptSession, print_formatted_text
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.document import Document
from prompt_toolkit.formatted_text import ANSI
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from prompt_toolkit.key_binding import KeyBindings
from prompt_toolkit.lexers import Lexer, PygmentsLexer
from prompt_toolkit.patch_stdout import patch_stdout
from prompt_toolkit.shortcuts import CompleteStyle
from prompt_toolkit.styles import Style

from .commands import message_complete
from .completion import ReplCompleter
from .debugger import short_file
from .lexer import KamailioLexer
from .session import ReplSession

ABORT = "\0abort-paused-run"
CANCEL = "\0cancel-input"  # Ctrl-C: a result, not an exception raised through asyncio
INDENT = "    "

STYLE = Style.from_dict({
    "prompt": "ansigreen bold",
    "prompt.paused": "ansiyellow bold",
    "continuation": "ansibrightblack",
    "meta-command": "ansicyan bold",
    "bottom-toolbar": "noreverse bg:#303030 #c0c0c0",
    "bottom-toolbar.paused": "bg:#303030 ansiyellow bold",
})


def history_path() -> str:
    env = os.environ.get("KSCRIPT_HISTORY")
    if env:
        return os.path.expanduser(env)
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(state, "kscript", "history")


def make_history(path: str | None = None) -> History:
    path = path or history_path()
    try:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path, "ab"):
            pass
    except OSError:
        return InMemoryHistory()
    return FileHistory(path)


class ReplLexer(Lexer):
    """Kamailio cfg highlighting; a ``:command`` line is coloured as a command."""

    def __init__(self):
        self.cfg = PygmentsLexer(KamailioLexer)

    def lex_document(self, document: Document):
        if document.text.lstrip().startswith(":"):
            lines = document.lines

            def get_line(i: int):
                line = lines[i] if i < len(lines) else ""
                m = re.match(r"(\s*)(:\S*)(.*)", line) if i == 0 else None
                if not m:
                    return [("", line)]
                return [("", m.group(1)), ("class:meta-command", m.group(2)), ("", m.group(3))]

            return get_line
        return self.cfg.lex_document(document)


class ReplApp:
    """The terminal front end. ``input``/``output`` are for tests (prompt_toolkit pipe input)."""

    def __init__(self, session: ReplSession, *, history: History | None = None, input=None, output=None,
                 printer: Callable[[str], None] | None = None, color: bool = True):
        self.session = session
        self.output = output
        self.printer = printer
        session.out = self.out
        session.read_paste = self.read_paste
        session.paint.color = color
        if color:
            from .render import ansi_highlighter
            session.highlight = ansi_highlighter()
        self.history = history if history is not None else make_history()
        self.completer = ReplCompleter(session)
        self.prompt_session: PromptSession = PromptSession(
            history=self.history,
            lexer=ReplLexer(),
            completer=self.completer,
            complete_while_typing=True,
            complete_style=CompleteStyle.COLUMN,
            auto_suggest=AutoSuggestFromHistory(),
            multiline=True,
            key_bindings=self._bindings(),
            prompt_continuation=self._continuation,
            bottom_toolbar=self._toolbar,
            style=STYLE,
            include_default_pygments_style=True,
            input=input,
            output=output,
            enable_open_in_editor=True,
        )
        self.paste_session: PromptSession = PromptSession(
            multiline=True, key_bindings=self._paste_bindings(), input=input, output=output, style=STYLE)

    # ------------------------------------------------------------ output
    def out(self, text: str) -> None:
        tracer = self.session.tracer
        if tracer.interrupted:  # the terminal echoed ^C: write over it
            tracer.interrupted = False
            text = "\r" + text
        if self.printer is not None:
            self.printer(text)
            return
        kw = {"output": self.output} if self.output is not None else {}
        print_formatted_text(ANSI(text), **kw)

    # ------------------------------------------------------------ key bindings
    def _bindings(self) -> KeyBindings:
        kb = KeyBindings()
        session = self.session

        @kb.add("enter")
        def _enter(event):
            buf = event.current_buffer
            if buf.complete_state is not None:
                buf.complete_state = None  # a chosen completion is already in the text
            doc = buf.document
            if not doc.text_after_cursor.strip():
                if session.status(buf.text) != "incomplete":
                    buf.validate_and_handle()
                    return
            line = doc.current_line_before_cursor
            indent = re.match(r"[ \t]*", line).group(0)
            if line.rstrip().endswith(("{", ":")) and not line.lstrip().startswith(":"):
                indent += INDENT
            buf.insert_text("\n" + indent)

        @kb.add("escape", "enter")
        def _force(event):
            event.current_buffer.validate_and_handle()

        @kb.add("}")
        def _close(event):
            buf = event.current_buffer
            before = buf.document.current_line_before_cursor
            if before and not before.strip():
                buf.delete_before_cursor(min(len(INDENT), len(before)))
            buf.insert_text("}")

        @kb.add("c-c")
        def _interrupt(event):
            # KeyboardInterrupt raised through prompt_toolkit's event loop upsets CPython 3.11's
            # recursion bookkeeping, so Ctrl-C ends the prompt with a result instead.
            buf = event.app.current_buffer
            if not buf.text and session.paused is not None:
                event.app.exit(result=ABORT)
            else:
                event.app.exit(result=CANCEL, style="class:aborting")

        return kb

    def _paste_bindings(self) -> KeyBindings:
        kb = KeyBindings()

        @kb.add("enter")
        def _enter(event):
            buf = event.current_buffer
            if not buf.document.text_after_cursor.strip() and message_complete(buf.text):
                buf.validate_and_handle()
            else:
                buf.insert_text("\n")

        @kb.add("escape", "enter")
        def _force(event):
            event.current_buffer.validate_and_handle()

        @kb.add("c-c")
        def _cancel(event):
            event.app.exit(result=CANCEL, style="class:aborting")

        return kb

    # ------------------------------------------------------------ prompt parts
    def _message(self):
        s = self.session
        style = "class:prompt.paused" if s.paused is not None else "class:prompt"
        return [(style, s.prompt_text())]

    def _continuation(self, width: int, line_number: int, is_soft_wrap: bool):
        return [("class:continuation", "...> ".rjust(width))]

    def _toolbar(self):
        s = self.session
        cfg = "built-in config" if getattr(s, "builtin", False) else short_file(s.cfg_path or "")
        first = s.message_summary()
        if len(first) > 40:
            first = first[:37] + "..."
        parts = [f" {cfg}", f"msg: {first}"]
        if s.tracer.trace:
            parts.append("trace on")
        if s.tracer.breakpoints:
            parts.append(f"{len(s.tracer.breakpoints)} breakpoint(s)")
        f = s.paused
        if f is not None:
            return [("class:bottom-toolbar", " | ".join(parts) + " | "),
                    ("class:bottom-toolbar.paused", f"paused in {f.route} at {short_file(f.pos.file)}:{f.pos.line}"
                                                     " (:step :next :continue :where)")]
        parts.append(":help  Ctrl-D quits")
        return [("class:bottom-toolbar", " | ".join(parts))]

    # ------------------------------------------------------------ reading
    def read(self) -> str:
        """One input; raises KeyboardInterrupt (Ctrl-C) or EOFError (Ctrl-D)."""
        text = self.prompt_session.prompt(self._message)
        if text == CANCEL:
            raise KeyboardInterrupt
        return text

    def read_paste(self) -> str | None:
        self.out("paste the message; it ends with an empty line (Esc Enter ends it too, Ctrl-C cancels)")
        try:
            text = self.paste_session.prompt([("class:continuation", "msg> ")],
                                             prompt_continuation=lambda w, n, s: [("class:continuation", "...> ")])
        except (KeyboardInterrupt, EOFError):
            return None
        if text == CANCEL:
            return None
        return text if text.strip() else None

    def handle(self, text: str) -> None:
        s = self.session
        if text == ABORT:
            s.abort_run()
            return
        s.execute(text)

    def banner(self) -> None:
        self.session.lines(self.session.banner_lines())

    def run(self) -> int:
        s = self.session
        with patch_stdout(raw=True):
            self.banner()
            while not s.quit_requested:
                try:
                    text = self.read()
                except KeyboardInterrupt:
                    continue
                except EOFError:
                    break
                try:
                    self.handle(text)
                except KeyboardInterrupt:
                    self.out("interrupted")
        s.close()
        return 0


__all__ = ["ReplApp", "ReplLexer", "history_path", "make_history", "ABORT", "CANCEL"]
