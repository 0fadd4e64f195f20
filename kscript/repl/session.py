"""The REPL's state and the evaluation of what a person types.

A :class:`ReplSession` holds the loaded :class:`~kscript.script.Script`, the
current message and its processing context, the last result, the PVs set at
the prompt, the tracer/debugger. :meth:`ReplSession.execute` takes one complete
input (statements, an expression or a ``:command``) and prints what happened
through ``session.out`` (a callable taking one string); the interactive app and
the plain (pipe) mode only differ in how they read input and print.

Evaluation:

* an expression prints its value and type (``int``, ``str``, ``null``);
* an assignment persists (``$var``, ``$shv``... live on the script, ``$avp``,
  ``$ru``... on the current message) and prints the new value;
* a function call prints what it logged, sent and changed, then its return code;
* ``route(NAME)`` runs that route the same way.
"""

from __future__ import annotations

import os
import traceback
from importlib import resources
from typing import Any, Callable

from .. import nodes as N
from ..errors import KscriptError, Position
from ..runtime.signals import BreakSignal, ExitSignal, ReturnSignal, ScriptAbort
from .debugger import ReplTracer, Runner, StackEntry, route_label, short_file
from .fragments import FILE as REPL_FILE
from .fragments import KEYWORD_PVS, Incomplete, Parsed, input_status, parse_input
from .render import (Painter, diff_lines, log_lines, sent_lines, snapshot, source_lines, truth, typed,
                     value_text)

DEFAULT_SRC = "udp:127.0.0.1:5060"


_SAMPLE_SDP = ("v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
               "m=audio 4000 RTP/AVP 0\r\n")


def sample_invite(src: str = DEFAULT_SRC) -> str:
    """The current message until the user sets one: a deterministic INVITE."""
    from ..sip.builder import request
    return request("INVITE", "sip:bob@example.com", from_="sip:alice@example.com", call_id="kscript-repl-1",
                   branch="z9hG4bK-repl-1", from_tag="repl-ft", body=_SAMPLE_SDP, src=src)


def default_config_path() -> str:
    return str(resources.files("kscript.repl").joinpath("default.cfg"))


class ReplSession:
    """One REPL session (see the module docstring)."""

    def __init__(self, cfg: str | None = None, defines: list[str] | tuple[str, ...] = (),
                 redis: str = "embedded", *, color: bool = False, out: Callable[[str], None] | None = None):
        self.paint = Painter(color)
        self.out: Callable[[str], None] = out or print
        self.tracer = ReplTracer(self._on_trace)
        self.runner = Runner(self.tracer)
        self.cli_defines = list(defines)
        self.redis_mode = redis
        self.script = None
        self.cfg_path: str | None = None
        self.mocks: dict[str, int] = {}
        self.src = DEFAULT_SRC
        self.msg_text = sample_invite(self.src)
        self.msg_name = "sample INVITE"
        self.ctx = None
        self.last_result = None
        self.pv_history: list[str] = []
        self.defines: dict = {}
        self.quit_requested = False
        self.read_paste: Callable[[], str | None] | None = None  # set by the front end
        self.highlight: Callable[[str], str] | None = None  # ANSI highlighter for :show
        self._pending: Callable[[str, Any], None] | None = None
        self._abort_pos = None
        self._marks: dict[int, list[int]] = {}
        from .commands import Commands
        self.commands = Commands(self)
        if cfg is not None:
            self.load(cfg, announce=False, fatal=True)
        else:
            self.load(default_config_path(), announce=False, fatal=True, builtin=True)

    # ------------------------------------------------------------ output helpers
    def print(self, text: str = "") -> None:
        self.out(text)

    def lines(self, lines: list[str]) -> None:
        for line in lines:
            self.out(line)

    def error(self, e: BaseException | str, hint: str | None = None) -> None:
        if isinstance(e, KscriptError):
            self._fill_source(e)
            text = str(e)
            head, _, rest = text.partition("\n")
            head = head.replace(f"{e.kind}:", self.paint(f"{e.kind}:", "err"), 1)
            text = head + ("\n" + rest if rest else "")
        elif isinstance(e, BaseException):
            text = self.paint("internal error:", "err") + f" {type(e).__name__}: {e}"
            if os.environ.get("KSCRIPT_DEBUG"):
                text += "\n" + "".join(traceback.format_exception(e)).rstrip()
        else:
            text = self.paint("error:", "err") + f" {e}"
        self.out(text)
        if hint:
            self.out(self.paint(hint, "dim"))

    def _fill_source(self, e: KscriptError, smap=None) -> None:
        if e.pos is None or e.source_line is not None:
            return
        if smap is not None and e.pos.file == REPL_FILE:
            e.source_line = smap.source_line(e.pos)
        elif self.script is not None:
            e.source_line = self.script.smap.source_line(e.pos)

    # ------------------------------------------------------------ loading
    def load(self, path: str, defines: list[str] | None = None, *, announce: bool = True, fatal: bool = False,
             builtin: bool = False) -> bool:
        import kscript
        if self.paused:
            self.runner.abort()
        defines = self.cli_defines if defines is None else defines
        try:
            script = kscript.load(path, defines=defines, redis=self.redis_mode, tracer=self.tracer)
        except KscriptError as e:
            if fatal:
                raise
            self.error(e)
            return False
        except Exception as e:  # noqa: BLE001 - a kscript bug must not end the session
            if fatal:
                raise KscriptError(f"cannot load {path}: internal error: {type(e).__name__}: {e}") from e
            self.error(e)
            return False
        old = self.script
        for name, ret in self.mocks.items():
            script.mock(name, returns=ret)
        self.script = script
        if old is not None and old is not script:
            try:
                old.close()
            except Exception:  # noqa: BLE001
                pass
        changed_file = self.cfg_path is not None and self.cfg_path != path
        self.cfg_path = path
        self.builtin = builtin
        self.cli_defines = list(defines)
        self.defines = dict(script.defines_map)
        self.ctx = None
        self.last_result = None
        self.pv_history = []
        if changed_file:
            self.tracer.breakpoints = [b for b in self.tracer.breakpoints if b.route is not None]
        if announce:
            self.lines(self.load_summary())
        return True

    def load_summary(self) -> list[str]:
        s = self.script
        name = "the built-in empty config" if self.builtin else self.cfg_path
        routes = ", ".join(route_label(k, n) for (k, n) in s.routes) or "none"
        out = [f"loaded {name}: {len(s.loaded)} modules, routes: {routes}"]
        unres = sorted(s.unresolved_functions())
        if unres:
            shown = ", ".join(unres[:8]) + (f" and {len(unres) - 8} more" if len(unres) > 8 else "")
            out.append(self.paint(f"not emulated by kscript: {shown} (a route reaching one stops; "
                                  f":mock NAME [RET] replaces it)", "warn"))
        return out

    def banner_lines(self) -> list[str]:
        """What the interactive REPL (and a transcript) starts with."""
        from .. import __version__
        return ([f"kscript {__version__} REPL for Kamailio 5.6 configs. :help lists the commands, Ctrl-D quits."]
                + self.load_summary()
                + [f"current message: {self.message_summary()} ({self.msg_name}, from {self.src})"])

    # ------------------------------------------------------------ state
    @property
    def paused(self):
        return self.tracer.paused

    def current_ctx(self):
        """The message context input is evaluated against (the paused one while debugging)."""
        frame = self.tracer.paused
        if frame is not None:
            return frame.ctx
        if self.ctx is None:
            self.ctx = self._fresh_ctx()
        return self.ctx

    def _fresh_ctx(self):
        from ..sip.message import SipMessage
        msg = SipMessage.parse(self.msg_text)
        return self.script.new_context(msg, self.src, "request" if msg.is_request else "reply")

    def set_message(self, text: str, name: str) -> bool:
        from ..sip.message import SipMessage
        try:
            msg = SipMessage.parse(text)
        except KscriptError as e:
            self.error(e)
            return False
        self.msg_text = text
        self.msg_name = name
        self.ctx = None
        first = msg.start_line if hasattr(msg, "start_line") else text.split("\n", 1)[0]
        if callable(first):
            first = first()
        self.out(f"current message: {str(first).strip()} ({name}, from {self.src})")
        return True

    def message_summary(self) -> str:
        first = self.msg_text.split("\n", 1)[0].strip()
        return first

    def prompt_text(self) -> str:
        f = self.tracer.paused
        if f is not None:
            top = f.stack[-1] if f.stack else None
            where = (top.name if top is not None and top.name else f.route)
            return f"kscript[{where}:{f.pos.line}]> "
        return "kscript> "

    # ------------------------------------------------------------ input
    def status(self, text: str) -> str:
        """"complete", "incomplete", "error" or "empty" for the text typed so far."""
        try:
            return input_status(text, self.defines)
        except Exception:  # noqa: BLE001 - let execute() report it
            return "complete"

    def execute(self, text: str) -> None:
        """Run one complete input; never raises (except KeyboardInterrupt outside a run)."""
        stripped = text.strip()
        if not stripped:
            return
        try:
            if stripped.startswith(":"):
                self.commands.run(stripped)
                return
            self._evaluate(text)
        except KscriptError as e:
            self.error(e)
        except (ScriptAbort, KeyboardInterrupt):
            self.out(self.paint("interrupted", "warn"))
        except Exception as e:  # noqa: BLE001 - never a traceback
            self.error(e)

    def _evaluate(self, text: str) -> None:
        try:
            parsed = parse_input(text, self.defines)
        except Incomplete:
            lines = text.rstrip().split("\n")
            raise KscriptError("syntax error: unexpected end of input",
                               Position(REPL_FILE, len(lines), len(lines[-1]) + 1),
                               source_line=lines[-1]) from None
        self.defines = parsed.defines
        if parsed.kind == "empty":
            return
        if not self._check(parsed):
            return
        kind, fn, target = self._compile(parsed)
        for node in (parsed.stmts or []):
            for sub in node.walk():
                if isinstance(sub, N.Assign) and sub.target.text not in self.pv_history:
                    self.pv_history.append(sub.target.text)
        self._run_input(kind, fn, target, parsed)

    # ------------------------------------------------------------ checking & compiling
    def _check(self, parsed: Parsed) -> bool:
        from ..catalogue import load as load_catalogue
        from ..checker import CheckContext, check_config

        p0 = Position(REPL_FILE, 1, 1)
        script = self.script
        items: list[N.Node] = [N.LoadModule(p0, m) for m in script.loaded]
        for (kind, name) in script.routes:
            if name is not None:
                items.append(N.RouteBlock(p0, kind, name, N.Block(p0, [])))
        body = parsed.stmts if parsed.kind == "stmts" else [N.ExprStmt(parsed.expr.pos, parsed.expr)]
        items.append(N.RouteBlock(p0, "route", "\0repl", N.Block(p0, body)))
        cctx = CheckContext(load_catalogue(), smap=parsed.smap)
        try:
            check_config(N.Config(p0, items), cctx)
        except KscriptError:
            raise
        except Exception:  # noqa: BLE001 - the checker is a help here: compiling still checks
            return True
        for w in cctx.warnings:
            where = f"{w.pos}: " if w.pos else ""
            self.out(f"{where}{self.paint('warning', 'warn')}: {w.message}")
        for e in cctx.errors:
            self._fill_source(e, parsed.smap)
            self.error(e)
        return not cctx.errors

    def _compile(self, parsed: Parsed):
        """(kind, fn, target): kind "expr" | "call" | "route" | "assign" | "stmts"."""
        script = self.script
        comp = script.compiler
        saved = {k: list(v) for k, v in script._unresolved.items()}
        try:
            if parsed.kind == "expr":
                e = parsed.expr
                if isinstance(e, N.Call):
                    return "call", comp.stmt(N.ExprStmt(e.pos, e)), e
                if isinstance(e, N.RouteCall):
                    return "route", comp.stmt(N.ExprStmt(e.pos, e)), e
                if isinstance(e, N.Name) and e.name in KEYWORD_PVS:
                    e = N.PVRef(e.pos, KEYWORD_PVS[e.name])
                return "expr", comp.expr(e), e
            stmts = parsed.stmts
            if len(stmts) == 1 and isinstance(stmts[0], N.Assign):
                return "assign", comp.block(stmts), stmts[0].target
            return "stmts", comp.block(stmts), None
        except KscriptError as e:
            self._fill_source(e, parsed.smap)
            raise
        finally:
            script._unresolved.clear()
            script._unresolved.update(saved)

    # ------------------------------------------------------------ running
    def _run_input(self, kind: str, fn, target, parsed: Parsed) -> None:
        ctx = self.current_ctx()
        before = snapshot(self.script, ctx)
        self._marks[id(ctx)] = [len(ctx.logs), len(ctx.sent)]

        def job():
            saved_pos = ctx.cur_pos
            ctx.cur_pos = None  # logs of this input are not the last cfg action's
            try:
                return ("value", fn(ctx))
            except ReturnSignal as r:
                return ("return", r.value)
            except BreakSignal:
                return ("break", 0)
            except ExitSignal as x:
                return ("drop" if x.drop else "exit", x.value)
            finally:
                if self.tracer.paused is not None:
                    ctx.cur_pos = saved_pos  # the paused route goes on from where it was

        def finish(status, payload):
            self._flush(ctx)
            if status != "done":
                self._report_failure(status, payload, ctx, parsed)
            skip = {target.text} if kind == "assign" and target is not None else set()
            self.lines(diff_lines(before, snapshot(self.script, ctx), self.script, self.paint, skip))
            if status == "done":
                how, value = payload
                self._show_outcome(kind, how, value, target, ctx)

        self._run(job, finish, repl_frame=True)

    def _show_outcome(self, kind, how, value, target, ctx) -> None:
        p = self.paint
        if how == "exit":
            self.out(f"=> {value}: exit {p('(the script stops here)', 'dim')}")
            return
        if how == "drop":
            self.out(f"=> drop {p('(the script stops here; nothing is sent)', 'dim')}")
            return
        if how == "return":
            self.out(f"=> return {value} ({truth(value) if isinstance(value, int) else ''})")
            return
        if how == "break":
            self.out("=> break")
            return
        if kind == "expr":
            self.out(typed(value, p))
        elif kind == "assign":
            try:
                v = self.script.compiler.pv(target.text, target.pos).get(ctx)
            except Exception:  # noqa: BLE001
                v = None
            self.out(f"{target.text} = {typed(v, p)}")
        elif kind == "call":
            self.out(f"=> {value} ({truth(value)})" if isinstance(value, int) else f"=> {value_text(value)}")
        elif kind == "route":
            t = target.target
            name = t.name if isinstance(t, N.Name) else (t.value if isinstance(t, N.Literal) else "?")
            self.out(f"=> route[{name}] returned {value} ({truth(value)})")

    def _report_failure(self, status, payload, ctx, parsed=None) -> None:
        if status == "aborted":
            where = ""
            last = self.tracer.last_node
            pos = self._abort_pos or (last.pos if last is not None else None) or \
                (ctx.cur_pos if ctx is not None else None)
            self._abort_pos = None
            if pos is not None and pos.file != REPL_FILE:
                where = f" at {short_file(pos.file)}:{pos.line}"
            self.out(self.paint("interrupted", "warn") + where)
        elif status == "detached":
            self.out(self.paint("stopped waiting for the run (it is still executing in the background)", "warn"))
        elif status == "error":
            e = payload
            if isinstance(e, KscriptError):
                if e.pos is None and ctx is not None and ctx.cur_pos is not None:
                    e.pos = ctx.cur_pos
                self._fill_source(e, parsed.smap if parsed is not None else None)
                hint = None
                msg = e.message
                if "not emulated" in msg and "'" in msg:
                    fname = msg.split("'")[1]
                    hint = f"hint: :mock {fname} 1 makes it return 1"
                self.error(e, hint)
            else:
                if ctx is not None and ctx.cur_pos is not None:
                    self.out(self.paint(f"at {ctx.cur_pos}", "dim"))
                self.error(e)

    def _run(self, job, finish, repl_frame: bool) -> None:
        """Run ``job`` (in the worker, or inline while paused) and print through ``finish``."""
        if self.tracer.paused is not None:
            # evaluating at a breakpoint: the worker is blocked, run here
            try:
                r = job()
            except ScriptAbort:
                finish("aborted", None)
            except KeyboardInterrupt:
                finish("aborted", None)
            except Exception as e:  # noqa: BLE001
                finish("error", e)
            else:
                finish("done", r)
            return
        ev = self.runner.start(job, repl_frame=repl_frame)
        self._handle(ev, finish)

    def _handle(self, ev, finish) -> None:
        status, payload = ev
        if status == "paused":
            self._pending = finish
            self._show_pause(payload)
            return
        self._pending = None
        finish(status, payload)

    def resume(self, command: str) -> None:
        if self.tracer.paused is None:
            self.out("not stopped in a route (:break ROUTE|FILE:LINE, then :send or route(NAME))")
            return
        finish = self._pending
        ev = self.runner.resume(command)
        self._handle(ev, finish or (lambda s, p: None))

    def abort_run(self) -> None:
        if self.tracer.paused is None:
            return
        finish = self._pending
        self._abort_pos = self.tracer.paused.pos
        ev = self.runner.abort()
        self._handle(ev, finish or (lambda s, p: None))

    def _show_pause(self, frame) -> None:
        self._flush(frame.ctx)
        pos = frame.pos
        why = frame.reason
        self.out(self.paint(f"stopped in {frame.route} at {short_file(pos.file)}:{pos.line}", "marker")
                 + (f" ({why})" if why != "step" else ""))
        bps = {b.line for b in self.tracer.breakpoints if b.line is not None and b.matches_line(pos)}
        self.lines(source_lines(self.script, pos.file, pos.line, pos.line, self.paint, highlight=self.highlight,
                                breakpoints=bps, current=pos.line))

    # ------------------------------------------------------------ streaming output
    def _flush(self, ctx) -> None:
        """Print the logs and sent messages of ``ctx`` not printed yet."""
        if ctx is None:
            return
        mark = self._marks.setdefault(id(ctx), [0, 0])
        logs, sent = ctx.logs, ctx.sent
        if len(logs) > mark[0]:
            self.lines(log_lines(logs[mark[0]:], self.paint))
            mark[0] = len(logs)
        if len(sent) > mark[1]:
            self.lines(sent_lines(sent[mark[1]:], self.paint))
            mark[1] = len(sent)

    def _on_trace(self, event: str, ctx, node, stack: list[StackEntry]) -> None:
        self._flush(ctx)
        p = self.paint
        tag = p("trace", "meta")
        route = route_label(stack[-1].kind, stack[-1].name) if stack else "?"
        if event == "stmt":
            pos = node.pos
            src = self.script.smap.source_line(pos) or ""
            src = src.strip()
            if len(src) > 70:
                src = src[:67] + "..."
            self.out(f"  {tag} {p(f'{short_file(pos.file)}:{pos.line}', 'lineno')} {route}: {src}")
        elif event == "enter":
            self.out(f"  {tag} -> {route}")
        elif event == "exit":
            how, value = node
            self.out(f"  {tag} <- {route} {how} {value}")

    # ------------------------------------------------------------ messages through the cfg
    def _process(self, text: str):
        script = self.script
        # Unemulated functions fail when reached, not before (exploring a config).
        script.ensure_runnable = lambda: None
        try:
            return script.process(text, src=self.src)
        finally:
            try:
                del script.ensure_runnable
            except AttributeError:
                pass

    def send(self) -> None:
        """``:send``: the current message through request_route (reply_route for a reply)."""
        text = self.msg_text
        script = self.script
        script._last_ctx = None
        finish = self._finisher(self.msg_name)
        self.out(self.paint(f"== {self.msg_name}", "head"))
        self._run(lambda: self._process(text), finish, repl_frame=False)

    def feed_reply(self, reply, name: str, reason: str | None = None) -> None:
        """``:reply``: ``reply`` is the reply's text, or a status code (the reply is then built
        from the last request sent)."""
        script = self.script
        script._last_ctx = None
        if hasattr(script, "feed_reply"):
            if isinstance(reply, int):
                job = lambda: script.feed_reply(reply, reason=reason)  # noqa: E731
            else:
                job = lambda: script.feed_reply(reply)  # noqa: E731
        elif isinstance(reply, int):
            self.error("building a reply from a status code needs the tm emulation (give a FILE)")
            return
        else:
            text = reply
            self.out(self.paint("note: no transaction layer yet (tm): the reply goes through reply_route", "dim"))
            job = lambda: self._process(text)  # noqa: E731
        finish = self._finisher(name)
        self.out(self.paint(f"== {name}", "head"))
        self._run(job, finish, repl_frame=False)

    def _finisher(self, name: str):
        def finish(status, payload):
            if status == "done":
                res = payload
                if res.ctx is not None:
                    self.ctx = res.ctx
                self.last_result = res
                self.print_result(name, res)
            else:
                ctx = getattr(self.script, "_last_ctx", None)
                self._flush(ctx)
                if ctx is not None:
                    self.ctx = ctx
                self._report_failure(status, payload, ctx)
        self._marks.clear()
        return finish

    def print_result(self, name: str, res) -> None:
        """As ``kscript run`` prints a message's result."""
        p = self.paint
        ctx = res.ctx
        mark = self._marks.get(id(ctx), [0, 0]) if ctx is not None else [0, 0]
        logs = res.log[mark[0]:] if ctx is not None and res.log is ctx.logs else res.log
        sent = res.sent[mark[1]:] if ctx is not None and res.sent is ctx.sent else res.sent
        self.lines(log_lines(logs, p))
        self.lines(sent_lines(sent, p))
        end = "dropped" if res.dropped else ("done" if res.exit_code is None else f"ended with {res.exit_code}")
        self.out(f"  {p('..', 'dim')} {end}; {len(res.sent)} message(s) sent")

    def run_route(self, ref) -> None:
        """``:run ROUTE``: a top-level run of any route on the current message."""
        ctx = self.current_ctx()
        self._marks[id(ctx)] = [len(ctx.logs), len(ctx.sent)]
        before = snapshot(self.script, ctx)
        label = route_label(ref.kind, ref.name)

        def finish(status, payload):
            self._flush(ctx)
            if status != "done":
                self._report_failure(status, payload, ctx)
            self.lines(diff_lines(before, snapshot(self.script, ctx), self.script, self.paint))
            if status != "done":
                return
            value, dropped = payload
            self.out(f"=> {label} " + ("dropped" if dropped else f"ended with {value}"))

        self._run(lambda: self.script.run_top(ref, ctx), finish, repl_frame=False)

    # ------------------------------------------------------------ PVs
    def pv_value(self, text: str):
        pv = self.script.compiler.pv(text, None)
        from ..pv.base import PVFailed
        try:
            return pv.get(self.current_ctx())
        except PVFailed:
            return None

    def pvs_set(self) -> list[tuple[str, Any]]:
        """The PVs set so far: at the prompt first, then the script's variables."""
        seen = []
        out = []
        for text in self.pv_history:
            try:
                out.append((text, self.pv_value(text)))
            except KscriptError:
                continue
            seen.append(text)
        snap = snapshot(self.script, self.current_ctx())
        roots = {t.split("=>")[0].split("[")[0] + ")" for t in seen if t.startswith("$xavp(")}
        for key, v in snap.items():
            if key.startswith("$") and key not in ("$ru", "$du") and key not in seen and key not in roots:
                out.append((key, v[0] if isinstance(v, list) and len(v) == 1 else v))
        return out

    # ------------------------------------------------------------ the end
    def close(self) -> None:
        if self.tracer.paused is not None:
            try:
                self.runner.abort()
            except Exception:  # noqa: BLE001
                pass
        if self.script is not None:
            try:
                self.script.close()
            except Exception:  # noqa: BLE001
                pass


__all__ = ["ReplSession", "sample_invite", "default_config_path", "KEYWORD_PVS"]
