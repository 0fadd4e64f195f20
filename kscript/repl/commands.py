"""The REPL's meta-commands (``:help``, ``:send``, ``:break``...)."""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass
from typing import Callable

from .. import nodes as N
from ..errors import KscriptError
from .debugger import route_label, same_file, short_file
from .render import route_extent, source_lines, typed, value_text


@dataclass(frozen=True)
class Command:
    name: str
    args: str
    help: str
    aliases: tuple[str, ...] = ()


COMMANDS: list[Command] = [
    Command("help", "[COMMAND]", "this help"),
    Command("load", "CFG [-A DEF]...", "load another config (its defines with -A)"),
    Command("reload", "", "load the config again (script variables, Redis and htables start afresh)"),
    Command("msg", "[FILE | METHOD URI | show]",
            "set the current message from a file, build one, show it, or paste one (ends with an empty line)"),
    Command("src", "[PROTO:IP:PORT]", "show or set where the current message comes from ($si, $sp)"),
    Command("send", "", "process the current message through request_route, as `kscript run`"),
    Command("reply", "[FILE | CODE [REASON]]",
            "feed a reply (a file, one built from a status code, or pasted) to the last relayed branch"),
    Command("run", "ROUTE", "run any route (failure_route[X], event_route[Y]...) on the current message"),
    Command("routes", "", "list the routes of the config"),
    Command("show", "[ROUTE]", "the source of a route, with line numbers"),
    Command("pv", "", "the PVs set so far and their values"),
    Command("redis", "SRV CMD...", "a raw Redis command on a named ndb_redis server"),
    Command("mock", "[NAME [RET]]", "replace function NAME by one returning RET (default 1); list mocks"),
    Command("trace", "[on|off]", "print each executed action with its file:line"),
    Command("break", "[ROUTE | FILE:LINE | LINE]", "stop when a route starts or a line runs; list breakpoints"),
    Command("clear", "[N | all]", "delete breakpoint N (all by default)"),
    Command("step", "", "run one action, entering routes (before a run: stop at its first action)", ("s",)),
    Command("next", "", "run one action, stepping over route calls", ("n",)),
    Command("finish", "", "run until the current route returns"),
    Command("continue", "", "run until the next breakpoint or the end", ("c", "cont")),
    Command("abort", "", "stop the paused run (Ctrl-C at an empty prompt too)"),
    Command("where", "", "the route stack of the paused run", ("bt", "backtrace")),
    Command("quit", "", "leave (Ctrl-D too)", ("q", "exit")),
]

COMMAND_NAMES: dict[str, Command] = {}
for _c in COMMANDS:
    COMMAND_NAMES[_c.name] = _c
    for _a in _c.aliases:
        COMMAND_NAMES[_a] = _c

_ROUTE_KW = {"route": "route", "request_route": "request", "failure_route": "failure", "branch_route": "branch",
             "onreply_route": "onreply", "reply_route": "reply", "onsend_route": "onsend", "event_route": "event"}


def resolve_route(script, spec: str):
    """A RouteRef from ``NAME``, ``route[NAME]``, ``failure_route[X]``, ``request_route``..."""
    spec = spec.strip()
    routes = script.routes
    m = re.fullmatch(r"([A-Za-z_]+)\s*\[\s*(.+?)\s*\]", spec)
    key = None
    if m and m.group(1) in _ROUTE_KW:
        kind, name = _ROUTE_KW[m.group(1)], m.group(2).strip('"')
        if kind == "onreply" and name == "0":
            kind, name = "reply", None
        key = (kind, name)
    elif spec in ("request_route", "request", "route"):
        key = ("request", None)
    elif spec in ("reply_route", "onreply_route", "reply"):
        key = ("reply", None)
    elif spec in ("onsend_route", "onsend"):
        key = ("onsend", None)
    if key is not None:
        ref = routes.get(key)
        if ref is None:
            raise KscriptError(f"the config has no {route_label(*key)}")
        return ref
    found = [k for k in routes if k[1] == spec]
    if not found:
        raise KscriptError(f"no route named '{spec}' (:routes lists them)")
    for k in found:
        if k[0] == "route":
            return routes[k]
    if len(found) > 1:
        raise KscriptError(f"'{spec}' is ambiguous: " + ", ".join(route_label(*k) for k in found))
    return routes[found[0]]


def statement_lines(script) -> list[tuple[str, int, N.RouteBlock]]:
    """(file, line, route) of every statement of the config."""
    out = []
    for item in script.config.items:
        if isinstance(item, N.RouteBlock):
            for node in item.body.walk():
                if isinstance(node, N.Stmt) and not isinstance(node, (N.Block, N.Empty)):
                    out.append((node.pos.file, node.pos.line, item))
    return out


def normalize_message(text: str) -> tuple[str, str | None]:
    """A pasted message: CRLF line ends, Content-Length matching the body. Returns (text, note)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    try:
        blank = lines.index("")
    except ValueError:
        blank = len(lines)
    head, body_lines = lines[:blank], lines[blank + 1:]
    while body_lines and body_lines[-1] == "":
        body_lines.pop()
    body = "\r\n".join(body_lines) + ("\r\n" if body_lines else "")
    note = None
    for i, h in enumerate(head):
        name, colon, value = h.partition(":")
        if colon and name.strip().lower() in ("content-length", "l"):
            try:
                declared = int(value.strip())
            except ValueError:
                declared = -1
            actual = len(body.encode("utf-8"))
            if declared != actual:
                head[i] = f"{name.strip()}: {actual}"
                note = f"Content-Length set to {actual} (the body pasted)"
    return "\r\n".join(head) + "\r\n\r\n" + body, note


class MessageCollector:
    """Decides where a pasted message ends: at an empty line (after the body when
    Content-Length announces one)."""

    def __init__(self):
        self.lines: list[str] = []
        self.in_body = False
        self.want_body = False
        self.done = False

    def feed(self, line: str) -> bool:
        """Add one line; True once the message is complete (the line is not kept)."""
        line = line.rstrip("\r\n")
        if not line.strip():
            if not self.lines:
                return False
            if self.want_body and not self.in_body:
                self.in_body = True
                self.lines.append("")
                return False
            self.done = True
            return True
        if not self.in_body:
            name, colon, value = line.partition(":")
            if colon and name.strip().lower() in ("content-length", "l"):
                self.want_body = value.strip() not in ("", "0")
        self.lines.append(line)
        return False

    def text(self) -> str | None:
        return "\n".join(self.lines) + "\n" if self.lines else None


def message_complete(text: str) -> bool:
    """Whether ``text`` (typed or pasted at the message prompt) is a finished message."""
    c = MessageCollector()
    for line in text.split("\n"):
        if c.feed(line):
            return True
    return False


def collect_message(read_line: Callable[[], str | None]) -> str | None:
    """Read a pasted message line by line (see :class:`MessageCollector`), or up to the
    end of input. None if nothing was read."""
    c = MessageCollector()
    while True:
        line = read_line()
        if line is None:
            break
        done = False
        for part in line.split("\n"):
            if c.feed(part):
                done = True
                break
        if done:
            break
    return c.text()


def redis_lines(v, indent: str = "") -> list[str]:
    """A Redis reply as redis-cli prints it."""
    if v is None:
        return [indent + "(nil)"]
    if v is True:
        return [indent + "OK"]
    if isinstance(v, int):
        return [indent + f"(integer) {v}"]
    if isinstance(v, float):
        return [indent + f"(double) {v}"]
    if isinstance(v, bytes):
        try:
            v = v.decode("utf-8")
        except UnicodeDecodeError:
            return [indent + repr(v)]
    if isinstance(v, str):
        return [indent + value_text(v)]
    if isinstance(v, dict):
        flat = []
        for k, x in v.items():
            flat += [k, x]
        v = flat
    if isinstance(v, (list, tuple, set)):
        items = list(v)
        if not items:
            return [indent + "(empty array)"]
        out = []
        w = len(str(len(items)))
        for i, x in enumerate(items, 1):
            sub = redis_lines(x)
            prefix = f"{str(i).rjust(w)}) "
            out.append(indent + prefix + sub[0])
            out.extend(indent + " " * len(prefix) + s for s in sub[1:])
        return out
    return [indent + repr(v)]


def redis_servers(script) -> list[str]:
    """Names of the ndb_redis servers the config declares (modparam server "name=...;")."""
    names = []
    for item in script.config.items:
        if isinstance(item, N.ModParam) and re.fullmatch(item.module, "ndb_redis", re.I) and item.param == "server":
            m = re.search(r"(?:^|;)\s*name\s*=\s*([^;]+)", str(item.value))
            if m and m.group(1).strip() not in names:
                names.append(m.group(1).strip())
    return names


class Commands:
    """Dispatches ``:name args`` to a method of this class."""

    def __init__(self, session):
        self.s = session

    def run(self, text: str) -> None:
        body = text.strip()[1:]
        name, _, rest = body.partition(" ")
        name = name.strip()
        rest = rest.strip()
        cmd = COMMAND_NAMES.get(name)
        if cmd is None:
            near = [c.name for c in COMMANDS if c.name.startswith(name)] if name else []
            hint = f" (did you mean :{near[0]}?)" if len(near) == 1 else ""
            self.s.error(f"unknown command ':{name}'{hint}; :help lists the commands")
            return
        getattr(self, "c_" + cmd.name)(rest)

    # ------------------------------------------------------------ general
    def c_help(self, rest: str) -> None:
        s = self.s
        if rest:
            cmd = COMMAND_NAMES.get(rest.lstrip(":"))
            if cmd is None:
                s.error(f"unknown command ':{rest}'")
                return
            s.out(f":{cmd.name} {cmd.args}".rstrip() + f"  {cmd.help}")
            return
        s.out("Type a statement, an expression or a :command. Statements run against the current message")
        s.out("(a sample INVITE until :msg sets one); Enter runs the input once it is complete.")
        width = max(len(f":{c.name} {c.args}".rstrip()) for c in COMMANDS)
        for c in COMMANDS:
            head = f":{c.name} {c.args}".rstrip()
            s.out(f"  {s.paint(head.ljust(width), 'meta')}  {c.help}")

    def c_quit(self, rest: str) -> None:
        self.s.quit_requested = True

    def c_load(self, rest: str) -> None:
        try:
            argv = shlex.split(rest)
        except ValueError as e:
            self.s.error(str(e))
            return
        path, defines = None, []
        i = 0
        while i < len(argv):
            a = argv[i]
            if a == "-A" and i + 1 < len(argv):
                defines.append(argv[i + 1])
                i += 2
                continue
            if a.startswith("-A") and len(a) > 2:
                defines.append(a[2:])
            elif path is None:
                path = a
            i += 1
        if path is None:
            self.s.error("usage: :load CFG [-A DEF]...")
            return
        self.s.load(os.path.expanduser(path), defines)

    def c_reload(self, rest: str) -> None:
        s = self.s
        s.load(s.cfg_path, s.cli_defines, builtin=getattr(s, "builtin", False))

    # ------------------------------------------------------------ messages
    def _read_file(self, path: str) -> str | None:
        try:
            with open(os.path.expanduser(path), "rb") as f:
                data = f.read()
        except OSError as e:
            self.s.error(f"cannot read {path}: {e.strerror}")
            return None
        return data.decode("utf-8", "surrogateescape")

    def _paste(self, what: str) -> str | None:
        s = self.s
        if s.read_paste is None:
            s.error(f"give a FILE (nothing to paste {what} from)")
            return None
        text = s.read_paste()
        if text is None:
            s.out("(nothing pasted)")
            return None
        text, note = normalize_message(text)
        if note:
            s.out(s.paint(f"note: {note}", "dim"))
        return text

    def c_msg(self, rest: str) -> None:
        s = self.s
        if s.paused:
            s.error("a run is paused: :continue or :abort it first")
            return
        if rest == "show":
            for line in s.msg_text.replace("\r\n", "\n").rstrip("\n").split("\n"):
                s.out("  " + line)
            return
        if not rest:
            text = self._paste("a message")
            if text is not None:
                s.set_message(text, "pasted message")
            return
        parts = rest.split()
        if len(parts) >= 2 and re.fullmatch(r"[A-Z]+", parts[0]) and not os.path.exists(rest):
            from ..sip.builder import request
            try:
                text = request(parts[0], parts[1], src=s.src, call_id="kscript-repl-2", from_tag="repl-ft",
                               branch="z9hG4bK-repl-2")
            except (ValueError, KscriptError) as e:
                s.error(str(e))
                return
            s.set_message(text, f"{parts[0]} built")
            return
        text = self._read_file(rest)
        if text is not None:
            s.set_message(text, rest)

    def c_src(self, rest: str) -> None:
        s = self.s
        if not rest:
            s.out(f"messages come from {s.src}")
            return
        from ..runtime.context import Socket
        try:
            sock = Socket.parse(rest)
        except ValueError as e:
            s.error(str(e))
            return
        s.src = str(sock)
        s.ctx = None
        s.out(f"messages come from {s.src}")

    def c_send(self, rest: str) -> None:
        s = self.s
        if s.paused:
            s.error("a run is paused: :continue or :abort it first")
            return
        s.send()

    def c_reply(self, rest: str) -> None:
        s = self.s
        if s.paused:
            s.error("a run is paused: :continue or :abort it first")
            return
        code, _, reason = rest.partition(" ")
        if code.isdigit() and len(code) == 3 and not os.path.exists(rest):
            s.feed_reply(int(code), f"{code} {reason.strip()}".strip(), reason=reason.strip() or None)
            return
        if rest:
            text, name = self._read_file(rest), rest
        else:
            text, name = self._paste("a reply"), "pasted reply"
        if text is not None:
            s.feed_reply(text, name)

    def c_run(self, rest: str) -> None:
        s = self.s
        if s.paused:
            s.error("a run is paused: :continue or :abort it first")
            return
        if not rest:
            s.error("usage: :run ROUTE")
            return
        s.run_route(resolve_route(s.script, rest))

    # ------------------------------------------------------------ the config
    def c_routes(self, rest: str) -> None:
        s = self.s
        rows = []
        bps = {b.route for b in s.tracer.breakpoints if b.route is not None}
        for key, ref in s.script.routes.items():
            pos = ref.block.pos if ref.block is not None else None
            where = f"{short_file(pos.file)}:{pos.line}" if pos else ""
            mark = s.paint(" *", "bp") if key in bps else ""
            rows.append((route_label(*key), where, mark))
        if not rows:
            s.out("(no routes)")
            return
        w = max(len(r[0]) for r in rows)
        for label, where, mark in rows:
            s.out(f"  {label.ljust(w)}  {s.paint(where, 'dim')}{mark}")

    def c_show(self, rest: str) -> None:
        s = self.s
        frame = s.paused
        if not rest:
            if frame is None:
                s.error("usage: :show ROUTE (:routes lists them)")
                return
            ref = None
            for k, r in s.script.routes.items():
                if (k[0], k[1]) == (frame.stack[-1].kind, frame.stack[-1].name):
                    ref = r
            if ref is None:
                s.error("the paused route has no source")
                return
        else:
            ref = resolve_route(s.script, rest)
        if ref.block is None:
            s.error("this route has no source")
            return
        file, first, last = route_extent(s.script, ref.block)
        bps = {b.line for b in s.tracer.breakpoints if b.line is not None and same_file(file, b.file)}
        current = frame.pos.line if frame is not None and same_file(frame.pos.file, file) else None
        s.out(s.paint(f"{route_label(ref.kind, ref.name)}  {file}:{first}-{last}", "dim"))
        s.lines(source_lines(s.script, file, first, last, s.paint, highlight=s.highlight, breakpoints=bps,
                             current=current))

    def c_pv(self, rest: str) -> None:
        s = self.s
        items = s.pvs_set()
        if not items:
            s.out("(no PV set yet)")
            return
        for text, v in items:
            s.out(f"  {text} = {typed(v, s.paint)}")

    def c_redis(self, rest: str) -> None:
        s = self.s
        try:
            argv = shlex.split(rest)
        except ValueError as e:
            s.error(str(e))
            return
        if not argv:
            names = redis_servers(s.script)
            s.out("ndb_redis servers: " + (", ".join(names) if names else "none"))
            return
        if len(argv) < 2:
            s.error("usage: :redis SRV CMD [ARG]...")
            return
        client = s.script.redis(argv[0])
        try:
            reply = client.execute_command(*argv[1:])
        except KscriptError:
            raise
        except Exception as e:  # noqa: BLE001 - redis errors (wrong type, unknown command...)
            s.out(s.paint(f"(error) {e}", "err"))
            return
        s.lines(redis_lines(reply))

    def c_mock(self, rest: str) -> None:
        s = self.s
        parts = rest.split()
        if not parts:
            if not s.mocks:
                s.out("(no mocks)")
            for name, ret in s.mocks.items():
                m = s.script.mocks.get(name)
                calls = len(getattr(m, "calls", []) or [])
                s.out(f"  {name} -> {ret}  ({calls} call(s))")
            return
        name = parts[0]
        try:
            ret = int(parts[1]) if len(parts) > 1 else 1
        except ValueError:
            s.error(f"bad return code {parts[1]!r} (an integer)")
            return
        s.script.mock(name, returns=ret)
        s.mocks[name] = ret
        s.out(f"{name}(...) now returns {ret}")

    # ------------------------------------------------------------ debugger
    def c_trace(self, rest: str) -> None:
        s = self.s
        if rest in ("on", "off"):
            s.tracer.trace = rest == "on"
        elif rest:
            s.error("usage: :trace on|off")
            return
        s.out(f"trace is {'on' if s.tracer.trace else 'off'}")

    def c_break(self, rest: str) -> None:
        s = self.s
        t = s.tracer
        if not rest:
            if not t.breakpoints:
                s.out("(no breakpoints)")
            for b in t.breakpoints:
                s.out(f"  {b.describe()}" + (f"  hit {b.hits} time(s)" if b.hits else ""))
            return
        file, sep, line = rest.rpartition(":")
        if (sep and line.isdigit() and file) or rest.isdigit():
            if rest.isdigit():
                file, line = s.cfg_path, rest
            want = int(line)
            cands = [(f, ln, r) for f, ln, r in statement_lines(s.script) if same_file(f, file) and ln >= want]
            if not cands:
                s.error(f"no statement at or after {file}:{want}")
                return
            f, ln, r = min(cands, key=lambda c: c[1])
            bp = t.add_breakpoint(file=f, line=ln, spec=rest)
            moved = f" (the first statement at or after line {want})" if ln != want else ""
            s.out(f"breakpoint {bp.describe()} in {route_label(r.kind, r.name)}{moved}")
            return
        ref = resolve_route(s.script, rest)
        bp = t.add_breakpoint(route=(ref.kind, ref.name), spec=rest)
        s.out(f"breakpoint {bp.describe()}")

    def c_clear(self, rest: str) -> None:
        s = self.s
        t = s.tracer
        if not rest or rest == "all":
            n = len(t.breakpoints)
            t.breakpoints = []
            s.out(f"deleted {n} breakpoint(s)")
            return
        try:
            num = int(rest.lstrip("#"))
        except ValueError:
            s.error("usage: :clear [N|all]")
            return
        for b in t.breakpoints:
            if b.id == num:
                t.remove_breakpoint(b)
                s.out(f"deleted breakpoint {b.describe()}")
                return
        s.error(f"no breakpoint #{num}")

    def c_step(self, rest: str) -> None:
        s = self.s
        if s.paused is None:
            s.tracer.step_next_run = True
            s.out("the next run (:send, route(NAME)...) stops at its first action")
            return
        s.resume("step")

    def c_next(self, rest: str) -> None:
        self.s.resume("next")

    def c_finish(self, rest: str) -> None:
        self.s.resume("finish")

    def c_continue(self, rest: str) -> None:
        self.s.resume("continue")

    def c_abort(self, rest: str) -> None:
        s = self.s
        if s.paused is None:
            s.out("no paused run")
            return
        s.abort_run()

    def c_where(self, rest: str) -> None:
        s = self.s
        f = s.paused
        if f is None:
            s.out("not stopped in a route")
            return
        for i, entry in enumerate(reversed(f.stack)):
            node = entry.node
            label = route_label(entry.kind, entry.name)
            if node is None:
                s.out(f"  #{i} {label}")
                continue
            pos = node.pos
            if pos.file.startswith("<"):
                src = ""
            else:
                src = (s.script.smap.source_line(pos) or "").strip()
            s.out(f"  #{i} {label} at {short_file(pos.file)}:{pos.line}  {s.paint(src, 'dim')}".rstrip())
