"""Compile the AST once into Python closures with Kamailio 5.6 semantics.

Every statement becomes ``fn(ctx) -> int`` (the action's return value, as
``do_action`` in core/action.c@5.6.3), every expression ``fn(ctx) -> value``
(``None``/``int``/``str``, core/rvalue.c@5.6.3). Control flow uses the
exceptions of :mod:`kscript.runtime.signals`. No tree is walked per message.
"""

from __future__ import annotations

from typing import Any, Callable

from .. import nodes as N
from ..errors import ConfigError, Position
from ..pv.base import CompiledPV, Format, PVFailed, compile_format, compile_pv
from .fixups import constant_of
from .regex import compile_posix
from .signals import BreakSignal, ExitSignal, ReturnSignal
from .values import str2int, to_str, wrap32

Fn = Callable[[Any], Any]


class ExprError(Exception):
    """An expression cannot be evaluated (division by zero...)."""


class CallSlot:
    """The implementation behind a call site; replaced in place by mocks."""

    __slots__ = ("name", "fdef", "impl", "module", "core", "unresolved")

    def __init__(self, name, fdef, impl, module, core=False, unresolved=False):
        self.name = name
        self.fdef = fdef
        self.impl = impl
        self.module = module
        self.core = core
        self.unresolved = unresolved


_INT_KEYWORDS = {"src_port", "dst_port", "af", "msg:len", "snd_port", "to_port", "snd_af", "snd_proto"}
_STR_KEYWORDS = {"method", "uri", "status", "from_uri", "to_uri"}
_IP_KEYWORDS = {"src_ip", "dst_ip", "snd_ip", "to_ip"}
_PROTO_NAMES = {"udp": 1, "tcp": 2, "tls": 3, "sctp": 4, "ws": 5, "wss": 6}
_AF = {"inet": 2, "ipv4": 2, "inet6": 10, "ipv6": 10}


def _logging_failure(f: Fn, message: str) -> Fn:
    """``f``, logging ``message`` (a core ERR) when its evaluation fails, then failing too:
    how rvalue.c reports a failing operand on its way up."""
    def logged(ctx):
        try:
            return f(ctx)
        except ExprError:
            ctx.log("ERR", message, source="core")
            raise

    return logged


def _sequence(fns: list) -> Fn:
    """Run the compiled actions in order; the code is the last one's (1 for none)."""
    if not fns:
        return lambda ctx: 1
    if len(fns) == 1:
        return fns[0]
    fns_t = tuple(fns)

    def run_block(ctx):
        ret = 1
        for f in fns_t:
            ret = f(ctx)
        return ret

    return run_block


def _guard_return(s: N.Stmt):
    """The ``return`` of ``if (cond) return;`` / ``if (cond) { return; }`` (no else), else None."""
    if not isinstance(s, N.If) or s.else_ is not None:
        return None
    then = s.then
    if isinstance(then, N.Block):
        inner = [x for x in then.body if not isinstance(x, N.Empty)]
        if len(inner) != 1:
            return None
        then = inner[0]
    if isinstance(then, N.Return) and then.value is None:
        return then
    return None


# ---------------------------------------------------------------- call sites
#: closure factories by call-site shape (see _call_closure)
_CALL_FACTORIES: dict[tuple, Callable] = {}


def _call_factory(shape: tuple) -> Callable:
    """The factory of call closures of one shape: (kinds of the arguments -- "c" a
    constant, "g" a getter --, core function?, raw return code?).

    One closure per call site does everything ``f(args)`` costs in Kamailio's
    do_action: set the position, call the implementation with the constants as
    they are and the getters evaluated, handle MODF_HANDLE_RETCODE (0 ends the
    script) and turn the code into 1/0 where the call is a condition.  Generated
    once per shape (a few dozen in a process), instead of nested closures that
    cost a Python call each."""
    fac = _CALL_FACTORIES.get(shape)
    if fac is not None:
        return fac
    kinds, core, raw = shape
    args = "".join(f", a{i}" if k == "c" else f", a{i}(ctx)" for i, k in enumerate(kinds))
    params = "".join(f", a{i}" for i in range(len(kinds)))
    lines = [f"def make(slot, pos, ExitSignal{params}):",
             "    def call(ctx):",
             "        ctx.cur_pos = pos",
             f"        ret = slot.impl(ctx{args})"]
    if not core:
        lines += ["        ctx.rc = ret",
                  "        if ret == 0:  # MODF_HANDLE_RETCODE: 0 ends the script",
                  "            raise ExitSignal(0)"]
    lines.append("        return ret" if raw else "        return 1 if ret > 0 else 0")
    lines.append("    return call")
    ns: dict = {}
    exec("\n".join(lines), ns)  # noqa: S102 - source built above from fixed pieces
    fac = _CALL_FACTORIES[shape] = ns["make"]
    return fac


def _call_closure(slot: CallSlot, pos, getters, raw: bool) -> Fn:
    """The closure of one call site (``slot.impl`` is read at each call: mocks replace it)."""
    kinds = []
    values = []
    for g in getters:
        const = constant_of(g)
        if const is not None:
            kinds.append("c")
            values.append(const[0])
        else:
            kinds.append("g")
            values.append(g)
    if len(kinds) > 6:  # rare: a generic closure
        g = tuple(getters)
        core = slot.core

        def call(ctx):
            ctx.cur_pos = pos
            ret = slot.impl(ctx, *[x(ctx) for x in g])
            if not core:
                ctx.rc = ret
                if ret == 0:
                    raise ExitSignal(0)
            return ret if raw else (1 if ret > 0 else 0)

        return call
    return _call_factory((tuple(kinds), bool(slot.core), bool(raw)))(slot, pos, ExitSignal, *values)


class Compiler:
    """Turns a parsed config into closures bound to a :class:`~kscript.script.Script`."""

    def __init__(self, script):
        self.script = script
        self.slots: list[CallSlot] = []
        self.pvs: list[CompiledPV] = []
        self.instrument = None  # optional hook(stmt_node, fn) -> fn, for trace/coverage
        # statements that clear ser_error when they start (by id, until compiled; holding
        # the node keeps its id from being reused): see _plan_error_resets
        self._error_resets: dict[int, N.Stmt] = {}
        self.tracer = getattr(script, "tracer", None)
        if self.tracer is not None:
            from .tracing import instrument_stmt
            self.instrument = instrument_stmt(self.tracer)

    # ------------------------------------------------------------ resolver API
    def pv_class(self, name: str):
        return self.script.pv_class(name)

    def pv(self, text: str, pos: Position | None) -> CompiledPV:
        p = compile_pv(text, self, pos)
        self.pvs.append(p)
        return p

    def fmt(self, text: str, pos: Position | None) -> Format:
        return compile_format(text, self, pos)

    # ------------------------------------------------------------ statements
    def block(self, stmts: list[N.Stmt], lead_handled: bool = False) -> Fn:
        """An action list. ``lead_handled``: the caller (if/while) takes care of the ser_error
        reset an ``sl_reply_error()`` first in the list needs (see _plan_error_resets)."""
        live = [s for s in stmts if not isinstance(s, N.Empty)]
        self._plan_error_resets(live, lead_handled)
        return _sequence([self.stmt(s) for s in live])

    def route_body(self, stmts: list[N.Stmt]) -> Fn:
        """The action list of a route block.  Like :meth:`block`, but the common early
        exits -- ``if (cond) return;`` and a closing ``return;`` -- leave the route
        function directly instead of raising ReturnSignal (an exception costs more than
        the whole ``if``): the value, 1, is the same one RouteRef.run would return.
        With a tracer or instrumentation every statement keeps its own closure."""
        if self.tracer is not None or self.instrument is not None:
            return self.block(stmts)
        live = [s for s in stmts if not isinstance(s, N.Empty)]
        self._plan_error_resets(live, False)
        pairs = []  # (statements, guard condition or None)
        seg: list = []
        closed = False
        for s in live:
            if isinstance(s, N.Return) and s.value is None and id(s) not in self._error_resets:
                closed = True  # what follows a top-level return never runs
                break
            ret = _guard_return(s)
            if ret is not None and id(s) not in self._error_resets and id(ret) not in self._error_resets:
                pairs.append((tuple(seg), self.cond(s.cond)))
                seg = []
                continue
            seg.append(self.stmt(s))
        if not pairs and not closed:
            return _sequence(seg)  # nothing to shortcut: the plain action list
        pairs.append((tuple(seg), None))
        pairs_t = tuple(pairs)
        tail = 1 if closed else None  # a closing `return;` gives 1, else the last action's code

        def run_route(ctx):
            ret = 1
            for fns, guard in pairs_t:
                for f in fns:
                    ret = f(ctx)
                if guard is not None:
                    if guard(ctx) > 0:
                        return 1  # if (cond) return;
                    ret = 1  # the if's own code when its condition is false
            return ret if tail is None else tail

        return run_route

    def stmt(self, s: N.Stmt) -> Fn:
        meth = getattr(self, "s_" + type(s).__name__)
        fn = meth(s)
        if self._error_resets.pop(id(s), None) is not None:
            fn = _reset_error_first(fn)
        if self.instrument is not None:
            fn = self.instrument(s, fn)
        return fn

    def s_Block(self, s: N.Block) -> Fn:
        inner = self.block(s.body)

        def run(ctx):
            try:
                return inner(ctx)
            except BreakSignal:  # BLOCK_T catches break (core/action.c@5.6.3:1269)
                return 0

        return run

    def s_Empty(self, s) -> Fn:
        return lambda ctx: 1

    def s_ExprStmt(self, s: N.ExprStmt) -> Fn:
        e = s.expr
        if isinstance(e, N.Call):
            return self.call(e, raw=True)
        if isinstance(e, N.RouteCall):
            return self.route_call(e, raw=True)
        f = self.expr(e)
        return lambda ctx: (f(ctx), 1)[1]

    def s_Assign(self, s: N.Assign) -> Fn:
        target = self.pv(s.target.text, s.target.pos)
        if not target.cls.writable:
            raise ConfigError(f"cannot assign to read-only pseudo-variable '{s.target.text}'", s.target.pos)
        v = s.value
        if isinstance(v, N.PVRef):
            return self._assign_pv(s, target, v)
        if isinstance(v, N.Call):
            val = self.call(v, raw=True)
        elif isinstance(v, N.RouteCall):
            val = self.route_call(v, raw=True)
        else:
            val = self.rv_expr(v)
        setter = target.cls.set
        name, idx = target.name, target.idx
        failed = f"rval expression evaluation failed {_where(v)}"

        def assign(ctx):
            # lval_assign (core/lvalue.c@5.6.3:374): a failed evaluation is logged with the
            # expression's position, nothing is assigned and the action returns -1
            try:
                value = val(ctx)
            except ExprError:
                ctx.log("ERR", failed, source="core")
                return -1
            try:
                setter(ctx, name, idx, value)
            except AssignError as e:
                ctx.log("ERR", str(e), source="core")
                return -1
            return 1

        return assign

    def _assign_pv(self, s: N.Assign, target: CompiledPV, v: N.PVRef) -> Fn:
        """``$x = $y``: the value (and its type) is copied; a failing read of the right
        side logs Kamailio's errors and assigns null (recorded: `$var` becomes 0)."""
        src = self.pv(v.text, v.pos)
        get = src.get
        setter = target.cls.set
        name, idx = target.name, target.idx
        where = f"({v.pos.line},{v.pos.column}-{v.pos.line},{v.pos.column + len(v.text) - 1})"

        def assign(ctx):
            try:
                value = get(ctx)
            except PVFailed:
                ctx.log("ERR", "non existing right pvar", source="core")
                ctx.log("ERR", f"assignment failed at pos: {where}", source="core")
                try:
                    setter(ctx, name, idx, None)
                except AssignError:
                    pass
                return -1
            if type(value) is not int and isinstance(value, int):
                value = int(value)  # e.g. {s.int}'s IntText: containers keep the number only
            try:
                setter(ctx, name, idx, value)
            except AssignError as e:
                ctx.log("ERR", str(e), source="core")
                return -1
            return 1

        return assign

    def s_If(self, s: N.If) -> Fn:
        if _leads_with_error_reply(s.then) or _leads_with_error_reply(s.else_):
            self._error_resets[id(s)] = s  # `if (!f()) sl_reply_error();`: f()'s error
        cond = self.cond(s.cond)
        then = self.stmt_body(s.then)
        else_ = self.stmt_body(s.else_) if s.else_ is not None else None

        tracer = self.tracer
        if tracer is not None:
            on_branch = tracer.on_branch

            def run_if(ctx):
                if cond(ctx) > 0:
                    on_branch(ctx, s, "then")
                    return then(ctx)
                on_branch(ctx, s, "else")
                return else_(ctx) if else_ is not None else 1
        elif else_ is None:
            def run_if(ctx):
                if cond(ctx) > 0:
                    return then(ctx)
                return 1
        else:
            def run_if(ctx):
                if cond(ctx) > 0:
                    return then(ctx)
                return else_(ctx)
        return run_if

    def stmt_body(self, s: N.Stmt) -> Fn:
        """An if/while branch: a ``{}`` there is the branch's action list, not a BLOCK_T."""
        if isinstance(s, N.Block):
            return self.block(s.body, lead_handled=True)
        return self.stmt(s)

    # ------------------------------------------------------------ ser_error
    # Kamailio's do_action() starts every action with ``prev_ser_error = ser_error;
    # ser_error = E_UNSPEC`` (core/action.c@5.6.3:334) and sl_reply_error() replies with
    # prev_ser_error (modules/sl/sl_funcs.c:414): the error of the action started just
    # before it -- an action nested in the previous statement, the calls in the condition
    # of the `if` it is the first statement of -- or E_UNSPEC when that action set none.
    # Instead of a reset per action, ser_error (ctx.data, per message) is cleared only
    # where that matters: when the action that sl_reply_error() follows starts.
    def _plan_error_resets(self, live: list[N.Stmt], lead_handled: bool) -> None:
        for i, s in enumerate(live):
            if _is_error_reply(s):
                if i > 0:
                    self._mark_last_action(live[i - 1])
                elif not lead_handled:
                    self._error_resets[id(s)] = s  # first in a route / { }: they just reset it

    def _mark_last_action(self, s: N.Stmt) -> None:
        """Reset ser_error when ``s`` starts and when the last action executed within it does."""
        self._error_resets[id(s)] = s
        if isinstance(s, N.If):
            bodies = [s.then, s.else_]
        elif isinstance(s, N.While):
            bodies = [s.body]
        elif isinstance(s, N.Block):
            bodies = [s]
        elif isinstance(s, N.Switch):
            bodies = [N.Block(s.pos, s.body)]
        else:
            return
        for b in bodies:
            if isinstance(b, N.Block):
                inner = [x for x in b.body if not isinstance(x, N.Empty)]
                b = inner[-1] if inner else None
            if b is not None:
                self._mark_last_action(b)

    def cond(self, e: N.Expr) -> Callable[[Any], int]:
        """An ``if`` condition (rval_expr_eval_int): errors make it false, with IF_T's ERR log
        (core/action.c@5.6.3:1056)."""
        f = self.int_expr(e)
        failed = f"if expression evaluation failed {_where(e)}"

        def c(ctx):
            try:
                return f(ctx)
            except ExprError:
                ctx.log("ERR", failed, source="core")
                return 0

        return c

    def _while_cond(self, e: N.Expr) -> Callable[[Any], int]:
        """A ``while`` condition: a failed evaluation ends the loop, silently
        (core/action.c@5.6.3:1366)."""
        f = self.int_expr(e)

        def c(ctx):
            try:
                return f(ctx)
            except ExprError:
                return 0

        return c

    def s_While(self, s: N.While) -> Fn:
        if _leads_with_error_reply(s.body):
            self._error_resets[id(s)] = s
        cond = self._while_cond(s.cond)
        body = self.stmt_body(s.body)
        pos = s.pos

        def run_while(ctx):
            limit = ctx.script.max_while_loops
            i = 0
            ret = 1
            while cond(ctx) != 0:  # 5.6.3 loops on any non-zero value
                if limit > 0:
                    i += 1
                    if i > limit:
                        ctx.log("ERR", f"runaway while ({pos.line}): more than {limit} loops", source="core")
                        return -1
                try:
                    ret = body(ctx)
                except BreakSignal:
                    return 0
            return ret

        return run_while

    def s_Switch(self, s: N.Switch) -> Fn:
        for j, x in enumerate(s.body):
            if _is_error_reply(x):
                # entered by a jump: the SWITCH action (and its expression) came last;
                # by falling through: the statement before
                self._error_resets[id(s)] = s
                if j > 0 and not isinstance(s.body[j - 1], N.Empty):
                    self._mark_last_action(s.body[j - 1])
        body = [self.stmt(x) if not isinstance(x, N.Empty) else (lambda ctx: 1) for x in s.body]
        defaults = [i for lbl, i in s.labels if lbl.default]
        if len(defaults) > 1:
            raise ConfigError("switch with more than one default label", s.pos)
        default_at = defaults[0] if defaults else None
        # The first label decides: a `default:` first makes an int switch, and a
        # string case after it is refused ("wrong case type 2 (int expected)", recorded).
        first = s.labels[0][0] if s.labels else None
        string_switch = first is not None and not first.default and (
            first.regex or isinstance(first.value, str))
        table: list[tuple[Any, int]] = []
        seen = set()
        for lbl, i in s.labels:
            if lbl.default:
                continue
            if string_switch:
                if isinstance(lbl.value, int) and not lbl.regex:
                    raise ConfigError("wrong case type (string expected): the switch mixes string and int labels",
                                      lbl.pos)
                if lbl.regex:
                    table.append((compile_posix(str(lbl.value), icase=False, pos=lbl.pos), i))
                else:
                    table.append((to_str(lbl.value), i))
            else:
                if not isinstance(lbl.value, int):
                    raise ConfigError("wrong case type (int expected): the switch mixes int and string labels",
                                      lbl.pos)
                if lbl.value in seen:
                    raise ConfigError(f"duplicate case {lbl.value}", lbl.pos)
                seen.add(lbl.value)
                table.append((lbl.value, i))
        if string_switch:
            val = self.rvint_expr(s.expr)  # MATCH_COND_T: rval_expr_eval_rvint
        else:
            val = self.int_expr(s.expr)
        int_map = {v: i for v, i in table} if not string_switch else None
        body_t = tuple(body)

        def run_from(ctx, start):
            ret = 1
            try:
                for f in body_t[start:]:
                    ret = f(ctx)
            except BreakSignal:
                return 0
            return ret

        def run_switch(ctx):
            try:
                v = val(ctx)
            except ExprError:
                # a failed evaluation jumps to the default label; without one the
                # switch returns -1 (core/action.c@5.6.3:1199-1226)
                start = default_at
                if start is None:
                    if tracer is not None:
                        tracer.on_branch(ctx, s, "none")
                    return -1
            else:
                start = None
                if int_map is not None:
                    start = int_map.get(v)
                else:
                    sv = to_str(v)
                    for lab, i in table:
                        if type(lab) is str:
                            if lab == sv:
                                start = i
                                break
                        elif lab.search(sv):
                            start = i
                            break
                if start is None:
                    start = default_at
            if tracer is not None:
                tracer.on_branch(ctx, s, "none" if start is None else
                                 ("default" if start == default_at and not _label_at(s, start) else f"case {start}"))
            if start is None:
                return 1
            return run_from(ctx, start)

        tracer = self.tracer
        return run_switch

    def s_Return(self, s: N.Return) -> Fn:
        if s.value is None:
            def ret1(ctx):
                raise ReturnSignal(1)
            return ret1
        f = self.int_expr(s.value)

        def ret(ctx):
            try:
                v = f(ctx)
            except ExprError:
                v = _failed_retcode(ctx)
            if v == 0:  # return 0 also ends the script (core/action.c@5.6.3:368)
                raise ExitSignal(0)
            raise ReturnSignal(v)

        return ret

    def s_Exit(self, s: N.Exit) -> Fn:
        f = self._retcode_expr(s.value) if s.value is not None else (lambda ctx: 1)

        def run_exit(ctx):
            raise ExitSignal(f(ctx))

        return run_exit

    def s_Drop(self, s: N.Drop) -> Fn:
        f = self._retcode_expr(s.value) if s.value is not None else (lambda ctx: 0)

        def run_drop(ctx):
            raise ExitSignal(f(ctx), drop=True)

        return run_drop

    def _retcode_expr(self, e: N.Expr) -> Fn:
        """The value of exit/drop (DROP_T, as return's): a failed evaluation is E_BUG."""
        f = self.int_expr(e)
        if not _can_fail(e):
            return f

        def value(ctx):
            try:
                return f(ctx)
            except ExprError:
                return _failed_retcode(ctx)

        return value

    def s_Break(self, s) -> Fn:
        def run_break(ctx):
            raise BreakSignal()

        return run_break

    # ------------------------------------------------------------ calls
    def call(self, c: N.Call, raw: bool) -> Fn:
        """A function call; ``raw`` keeps the return code, else it becomes 1/0."""
        slot, getters = self.script.bind_call(c, self)
        return _call_closure(slot, c.pos, getters, raw)

    def route_call(self, c: N.RouteCall, raw: bool) -> Fn:
        t = c.target
        script = self.script
        pos = c.pos
        if isinstance(t, (N.Name, N.Literal)):
            name = t.name if isinstance(t, N.Name) else str(t.value)
            route_ref = script.route_ref("route", name, pos)

            def f(ctx):
                ret = route_ref.run(ctx)
                ctx.rc = ret
                return ret
        else:
            # ROUTE_T with an expression (core/action.c@5.6.3:665-690): rval_expr_eval, then
            # the route by that name; both failures end in do_action's error label
            val = self.rv_expr(t)
            action_error = f"run action error at: {pos.file}:{pos.line}"

            def f(ctx):
                try:
                    name = to_str(val(ctx))
                except ExprError:
                    ctx.log("ERR", "failed to convert RVE to string", source="core")
                    ctx.log("ERR", action_error, source="core")
                    return -1  # E_UNSPEC
                ref = script.routes.get(("route", name))
                if ref is None:
                    ctx.log("ERR", f"route \"{name}\" not found at {pos.file}:{pos.line}", source="core")
                    ctx.log("ERR", action_error, source="core")
                    return -10  # E_SCRIPT
                ret = ref.run(ctx)
                ctx.rc = ret
                return ret
        if raw:
            return f
        return lambda ctx: 1 if f(ctx) > 0 else 0

    # ------------------------------------------------------------ expressions
    # Three evaluation entry points, as core/rvalue.c@5.6.3 has them:
    #   int_expr   rval_expr_eval_int: an int;
    #   rv_expr    rval_expr_eval: a value; an int-forcing operator that fails logs
    #              "rval expression evaluation failed (its position)";
    #   rvint_expr rval_expr_eval_rvint: a value, without that log (an int-forcing
    #              operator is evaluated as rval_expr_eval_int).
    # ``expr`` compiles a node without the rval_expr_eval log of its own failure.
    # Evaluation errors are ExprError (raised where Kamailio's int_intop2 & co fail,
    # after their log); the logs Kamailio prints while unwinding are added by wrappers
    # and branches built only for expressions that can fail (_can_fail), so the other
    # expressions run the same closures as before.
    def int_expr(self, e: N.Expr) -> Fn:
        """Evaluate in an int context (rval_expr_eval_int)."""
        if isinstance(e, N.Literal) and isinstance(e.value, int):
            v = e.value
            return lambda ctx: v
        if isinstance(e, N.Binary) and e.op == "+" and _guess_type(e.left) is None:
            # RVE_PLUS_OP (left operand of unknown type) in an int context: both operands
            # are evaluated as ints, "1" + "2" is 3 (core/rvalue.c@5.6.3:1963-1985)
            lf = self.int_expr(e.left)
            rf = self.int_expr(e.right)
            return lambda ctx: wrap32(lf(ctx) + rf(ctx))
        if isinstance(e, N.Cast) and e.to == "str" and _can_fail(e):
            # RVE_STR_OP in an int context: rval_expr_eval_rvint of the operand, then
            # (int) of the result (core/rvalue.c@5.6.3:2101-2120)
            f = self.rvint_expr(e.operand)
        else:
            f = self.expr(e)
        if _is_int_typed(e):
            return f
        where = _conv_where(e)

        def ie(ctx):
            v = f(ctx)
            if type(v) is int:
                return v
            if v is None:
                return 0
            r = str2int(v)
            if r is None:
                _conv_failed(ctx, v, where)
                return 0
            return r

        return ie

    def expr(self, e: N.Expr) -> Fn:
        return getattr(self, "e_" + type(e).__name__)(e)

    def rv_expr(self, e: N.Expr) -> Fn:
        """rval_expr_eval: as :meth:`expr`, plus the log of a failing int-forcing operator
        (core/rvalue.c@5.6.3:2428)."""
        f = self.expr(e)
        if not (_int_forcing(e) and _can_fail(e)):
            return f
        return _logging_failure(f, f"rval expression evaluation failed {_where(e)}")

    def rvint_expr(self, e: N.Expr) -> Fn:
        """rval_expr_eval_rvint: differs from :meth:`expr` only for a ``+`` whose left
        operand's type is known at run time only (its failure logs)."""
        if isinstance(e, N.Binary) and e.op == "+" and _guess_type(e.left) is None and _can_fail(e):
            return self._plus(e, rvint=True)
        return self.expr(e)

    def _plus(self, e: N.Binary, rvint: bool) -> Fn:
        """RVE_PLUS_OP that can fail, evaluated by rval_expr_eval (core/rvalue.c@5.6.3:
        2434-2495) or by rval_expr_eval_rvint (``rvint``, :2294-2330): int + int, or the
        concatenation of the string values; a failing operand logs its position (the
        whole expression's for the right side of an int in rval_expr_eval)."""
        lf = _logging_failure(self.rvint_expr(e.left) if rvint else self.rv_expr(e.left),
                              f"rval expression evaluation failed {_where(e.left)}")
        rf = self.expr(e.right)
        rwhere = _conv_where(e.right)
        rfailed = f"rval expression evaluation failed {_where(e.right)}"
        r_forcing = _int_forcing(e.right)
        if rvint:
            rifailed = rfailed
        else:
            rifailed = f"rval expression evaluation failed {_where(e)}: could not evaluate right side to int"

        def add(ctx):
            l = lf(ctx)
            try:
                r = rf(ctx)
            except ExprError:
                if type(l) is int:  # rval_expr_eval_int of the right side
                    ctx.log("ERR", rifailed, source="core")
                else:  # rval_expr_eval of the right side
                    if r_forcing:
                        ctx.log("ERR", rfailed, source="core")
                    ctx.log("ERR", rfailed, source="core")
                raise
            if type(l) is int:
                if type(r) is not int:
                    r = _int_quiet(ctx, r, rwhere)
                return wrap32(l + r)
            return to_str(l) + to_str(r)

        return add

    def e_Literal(self, e: N.Literal) -> Fn:
        v = e.value
        return lambda ctx: v

    def e_PVRef(self, e: N.PVRef) -> Fn:
        pv = self.pv(e.text, e.pos)
        get = pv.get

        def read(ctx):
            try:
                return get(ctx)
            except PVFailed:
                return None

        return read

    def e_SelectRef(self, e: N.SelectRef) -> Fn:
        return self.script.compile_select(e, self)

    def e_Name(self, e: N.Name) -> Fn:
        raise ConfigError(f"'{e.name}' cannot be used as a value here", e.pos)

    def e_IPLiteral(self, e) -> Fn:
        raise ConfigError(f"an IP address ({e.text}) can only be compared with src_ip/dst_ip", e.pos)

    def e_SocketLiteral(self, e) -> Fn:
        raise ConfigError(f"a socket ({e.text}) is only valid as a function argument", e.pos)

    def e_Call(self, e: N.Call) -> Fn:
        return self.call(e, raw=False)

    def e_RouteCall(self, e: N.RouteCall) -> Fn:
        return self.route_call(e, raw=False)

    def e_BlockExpr(self, e) -> Fn:
        """``{ actions }`` as a value: run them; the value is the last action's return code,
        as an action in an expression (1 if > 0 else 0)."""
        inner = self.block(e.block.body)

        def run(ctx):
            try:
                v = inner(ctx)
            except BreakSignal:
                v = 0
            return 1 if v > 0 else 0

        return run

    def e_AssignExpr(self, e) -> Fn:
        """``($x = expr)`` as a value: performs the assignment, value 1 (0 when it failed)."""
        f = self.s_Assign(e.assign)
        return lambda ctx: 1 if f(ctx) > 0 else 0

    def e_Cast(self, e: N.Cast) -> Fn:
        if e.to == "int":
            return self.int_expr(e.operand)
        f = self.rv_expr(e.operand)
        if not _can_fail(e.operand):
            return lambda ctx: to_str(f(ctx))
        g = _logging_failure(f, f"rval expression evaluation failed {_where(e.operand)}")
        return lambda ctx: to_str(g(ctx))

    def e_Defined(self, e: N.Defined) -> Fn:
        op = e.operand
        neg = e.negate
        if isinstance(op, N.PVRef):
            pv = self.pv(op.text, op.pos)
            get = pv.get

            def defined(ctx):
                try:
                    d = get(ctx) is not None
                except PVFailed:
                    d = False
                return int(d != neg)

            return defined
        if isinstance(op, N.SelectRef):
            f = self.expr(op)
            return lambda ctx: int((f(ctx) is not None) != neg)
        # anything else is "defined" without being evaluated (int_rve_defined,
        # core/rvalue.c@5.6.3:1867)
        v = 0 if neg else 1
        return lambda ctx: v

    def e_StrLen(self, e: N.StrLen) -> Fn:
        f = self.rv_expr(e.operand)
        return lambda ctx: len(to_str(f(ctx)))

    def e_StrEmpty(self, e: N.StrEmpty) -> Fn:
        return self._strempty(e.operand)

    def _strempty(self, operand: N.Expr) -> Fn:
        f = self.rv_expr(operand)
        return lambda ctx: 1 if to_str(f(ctx)) == "" else 0

    def e_SelVal(self, e: N.SelVal) -> Fn:
        c = self.int_expr(e.cond)
        a = self.rv_expr(e.if_true)
        b = self.rv_expr(e.if_false)
        if not _can_fail(e):
            return lambda ctx: a(ctx) if c(ctx) > 0 else b(ctx)
        # RVE_SELVALEXP_OP (core/rvalue.c@5.6.3:2549-2566): a failing condition logs the
        # selval's position, a failing branch the condition's
        c = _logging_failure(c, f"rval expression evaluation failed {_where(e)}")
        bfailed = f"rval expression evaluation failed {_where(e.cond)}"
        a = _logging_failure(a, bfailed)
        b = _logging_failure(b, bfailed)
        return lambda ctx: a(ctx) if c(ctx) > 0 else b(ctx)

    def e_Unary(self, e: N.Unary) -> Fn:
        f = self.int_expr(e.operand)
        if e.op == "!":
            return lambda ctx: 1 if f(ctx) == 0 else 0
        if e.op == "-":
            return lambda ctx: wrap32(-f(ctx))
        if e.op == "~":
            return lambda ctx: wrap32(~f(ctx))
        raise ConfigError(f"unknown operator '{e.op}'", e.pos)

    def e_Binary(self, e: N.Binary) -> Fn:
        op = e.op
        if isinstance(e.left, N.Name):
            return self.keyword_cond(e)
        opt = self._optimize(e)
        if opt is not None:
            return opt
        if op in ("&&", "||"):
            lf = self.int_expr(e.left)
            rf = self.int_expr(e.right)
            if op == "&&":
                return lambda ctx: 0 if lf(ctx) == 0 else (1 if rf(ctx) != 0 else 0)
            return lambda ctx: 1 if lf(ctx) != 0 else (1 if rf(ctx) != 0 else 0)
        if op == "+":
            ltype = _guess_type(e.left)
            if ltype != "int" and _can_fail(e):
                if ltype is None:
                    return self._plus(e, rvint=False)
                return self._concat(e)
            lf = self.expr(e.left)
            rf = self.expr(e.right)
            rwhere = _conv_where(e.right)

            def add(ctx):
                l = lf(ctx)
                r = rf(ctx)
                if type(l) is int:
                    if type(r) is not int:
                        r = _int_quiet(ctx, r, rwhere)
                    return wrap32(l + r)
                return to_str(l) + to_str(r)

            return add
        if op in ("==", "!="):
            if op == "==" and _guess_type(e.left) != "int":
                # rve_opt_01 (core/rvalue.c@5.6.3:3470): `x == ""` and `"" == x` become
                # strempty(x) -- an int 0 is "0", not empty
                if _is_empty_literal(e.right) and not isinstance(e.left, N.Literal):
                    return self._strempty(e.left)
                if _is_empty_literal(e.left) and not isinstance(e.right, N.Literal):
                    return self._strempty(e.right)
            # RVE_EQ_OP/RVE_DIFF_OP (core/rvalue.c@5.6.3:1985-2070): the left side is
            # evaluated by rval_expr_eval_rvint; an int compares as ints (the right side in
            # an int context, "" is 0), a string as strings
            lf = self.rvint_expr(e.left)
            rf = self.expr(e.right)
            rwhere = _conv_where(e.right)
            neq = op == "!="
            if _can_fail(e):
                return self._eq_failing(e, lf, rf, rwhere, neq)

            def eq(ctx):
                l = lf(ctx)
                r = rf(ctx)
                if type(l) is int:
                    if type(r) is int:
                        res = l == r
                    else:
                        res = l == _int_quiet(ctx, r, rwhere)
                elif l is None:
                    if r is None:
                        res = True
                    elif type(r) is int:
                        res = r == 0
                    else:
                        res = r == ""
                else:
                    res = l == to_str(r)
                return int(res != neq)

            return eq
        if op in ("eq", "ne"):
            lf = self.rv_expr(e.left)
            rf = self.rv_expr(e.right)
            neq = op == "ne"
            return lambda ctx: int((to_str(lf(ctx)) == to_str(rf(ctx))) != neq)
        if op == "=~":
            lf = self.rv_expr(e.left)
            if isinstance(e.right, N.Literal):
                rx = compile_posix(to_str(e.right.value), icase=True, pos=e.right.pos)
                return lambda ctx: 1 if rx.search(to_str(lf(ctx))) else 0
            rf = self.rv_expr(e.right)
            pos = e.pos

            def match(ctx):
                try:
                    rx = compile_posix(to_str(rf(ctx)), icase=True, pos=pos)
                except ConfigError as err:
                    ctx.log("ERR", f"bad regular expression: {err.message}", source="core")
                    raise ExprError(str(err)) from None
                return 1 if rx.search(to_str(lf(ctx))) else 0

            return match
        lf = self.int_expr(e.left)
        rf = self.int_expr(e.right)
        if op == "/":
            def div(ctx):
                a = lf(ctx)
                b = rf(ctx)
                if b == 0:
                    _by_zero(ctx, "rv div by 0")
                return _div(a, b)

            return div
        if op == "mod":
            def mod(ctx):
                a = lf(ctx)
                b = rf(ctx)
                if b == 0:
                    _by_zero(ctx, "rv mod by 0")
                return _mod(a, b)

            return mod
        fn = _INT_OPS.get(op)
        if fn is None:
            raise ConfigError(f"unknown operator '{op}'", e.pos)
        return lambda ctx: fn(lf(ctx), rf(ctx))

    def _concat(self, e: N.Binary) -> Fn:
        """RVE_CONCAT_OP that can fail (core/rvalue.c@5.6.3:2497-2517): a failing operand
        logs its position."""
        lf = _logging_failure(self.rv_expr(e.left), f"rval expression evaluation failed {_where(e.left)}")
        rf = _logging_failure(self.rv_expr(e.right), f"rval expression evaluation failed {_where(e.right)}")
        return lambda ctx: to_str(lf(ctx)) + to_str(rf(ctx))

    def _eq_failing(self, e: N.Binary, lf: Fn, rf: Fn, rwhere, neq: bool) -> Fn:
        """``==``/``!=`` whose operands can fail. A failing left side, or right side of an
        int or undefined left side, fails the comparison; the right side of a string is
        evaluated by rval_expr_eval (it logs), and its failure leaves the comparison
        "successful" with an unset result (core/rvalue.c@5.6.3:2057-2066): 0 here."""
        rfailed = f"rval expression evaluation failed {_where(e.right)}" if _int_forcing(e.right) else None

        def eq(ctx):
            l = lf(ctx)
            if type(l) is int:
                r = rf(ctx)
                res = l == (r if type(r) is int else _int_quiet(ctx, r, rwhere))
            elif l is None:
                r = rf(ctx)
                if r is None:
                    res = True
                elif type(r) is int:
                    res = r == 0
                else:
                    res = r == ""
            else:
                try:
                    r = rf(ctx)
                except ExprError:
                    if rfailed is not None:
                        ctx.log("ERR", rfailed, source="core")
                    return 0
                res = l == to_str(r)
            return int(res != neq)

        return eq

    def _optimize(self, e: N.Binary) -> Fn | None:
        """Kamailio's parse-time rewrites (core/rvalue.c@5.6.3:3183-3420)."""
        r = e.right
        if not (isinstance(r, N.Literal) and isinstance(r.value, int)):
            return None
        op, v = e.op, r.value
        if (op == "&&" and v == 0) or (op in ("*", "&") and v == 0):
            return lambda ctx: 0
        if op == "||" and v == 1:
            return lambda ctx: 1
        if (op == "&&" and v == 1) or (op == "||" and v == 0) or (op in ("*", "/") and v == 1) \
                or (op in ("|", "-") and v == 0) or (op == "+" and v == 0 and _is_int_typed(e.left)):
            return self.int_expr(e.left)
        return None

    # ---- core keywords (method, uri, src_ip, ...)
    def keyword_cond(self, e: N.Binary) -> Fn:
        from .keywords import compile_keyword_cond
        return compile_keyword_cond(self, e)


def _is_error_reply(s) -> bool:
    """``sl_reply_error();`` as a statement (the one function reading prev_ser_error)."""
    return isinstance(s, N.ExprStmt) and isinstance(s.expr, N.Call) and s.expr.name == "sl_reply_error"


def _leads_with_error_reply(s) -> bool:
    if isinstance(s, N.Block):
        live = [x for x in s.body if not isinstance(x, N.Empty)]
        return bool(live) and _is_error_reply(live[0])
    return _is_error_reply(s)


def _reset_error_first(fn: Fn) -> Fn:
    def reset_error(ctx):
        ctx.data.pop("ser_error", None)
        return fn(ctx)

    return reset_error


def _label_at(sw: N.Switch, index: int) -> bool:
    """Whether a non-default case label points at body ``index``."""
    return any(i == index and not lbl.default for lbl, i in sw.labels)


class AssignError(Exception):
    """An assignment a PV class refuses (logged as an error; the script continues)."""


def _int_quiet(ctx, v, where: str | None) -> int:
    """A non-int operand converted to int (the right side of ``int + x``, ``int == x``)."""
    if v is None:
        return 0
    r = str2int(v)
    if r is None:
        _conv_failed(ctx, v, where)
        return 0
    return r


def _conv_failed(ctx, v, where: str | None) -> None:
    """Kamailio's warnings for a string that does not convert to int (the value is 0):
    rval_get_int's, then rval_expr_eval_int's with the position of the expression
    (RVAL_GET_INT_ERR_WARN + RVAL_GET_INT_ERR_IGN, core/rvalue.c@5.6.3:1040-1100)."""
    ctx.log("WARN", f"automatic string to int conversion for \"{v}\" failed", source="core")
    if where is not None:
        ctx.log("WARN", f"rval expression conversion to int failed {where}", source="core")


def _conv_where(e: N.Expr) -> str | None:
    """The position rval_expr_eval_int logs when ``e``, evaluated in an int context, yields a
    string that does not convert: ``e``'s own fpos for a value (RVE_RVAL_OP), a ``(str)``
    cast (RVE_STR_OP) and a string concatenation (RVE_CONCAT_OP: ``+`` whose left side is a
    string); None (no second warning) for the rest."""
    sp = e.span
    if sp is None:
        return None
    if isinstance(e, (N.PVRef, N.SelectRef, N.Literal)) or (isinstance(e, N.Cast) and e.to == "str") \
            or (isinstance(e, N.Binary) and e.op == "+" and _guess_type(e.left) == "str"):
        return f"({sp[0]},{sp[1]}-{sp[2]},{sp[3]})"
    return None


def _guess_type(e: N.Expr) -> str | None:
    """rve_guess_type (core/rvalue.c@5.6.3:495): "int", "str" or None (known at run time only)."""
    if isinstance(e, N.Literal):
        return "int" if isinstance(e.value, int) else "str"
    if isinstance(e, N.SelectRef):
        return "str"
    if isinstance(e, (N.PVRef, N.SelVal)):
        return None
    if isinstance(e, N.Cast):
        return e.to
    if isinstance(e, N.Binary) and e.op == "+":
        return _guess_type(e.left)
    return "int"


def _div(a: int, b: int) -> int:
    """C int division (truncating); ``b`` is not 0."""
    q = abs(a) // abs(b)
    return wrap32(q if (a >= 0) == (b >= 0) else -q)


def _mod(a: int, b: int) -> int:
    """C int remainder (the sign of ``a``); ``b`` is not 0."""
    return wrap32(a - b * _div(a, b))


def _by_zero(ctx, msg: str):
    """int_intop2's division/modulo by 0 (core/rvalue.c@5.6.3:1410-1421): ERR, then the
    evaluation fails."""
    ctx.log("ERR", msg, source="core")
    raise ExprError(msg)


def _failed_retcode(ctx) -> int:
    """return/exit/drop whose value fails to evaluate: DROP_T warns and keeps its initial
    ``ret``, E_BUG (core/action.c@5.6.3:352-358)."""
    ctx.log("WARN", "failed to eval int expression", source="core")
    return -5


def _where(e: N.Expr) -> str:
    """An expression's position as Kamailio logs it: ``(s_line,s_col-e_line,e_col)``."""
    sp = e.span
    if sp is None:
        p = e.pos
        return f"({p.line},{p.column}-{p.line},{p.column})"
    return f"({sp[0]},{sp[1]}-{sp[2]},{sp[3]})"


def _is_empty_literal(e: N.Expr) -> bool:
    return isinstance(e, N.Literal) and e.value == ""


def _can_fail(e: N.Expr) -> bool:
    """Whether evaluating ``e`` can raise ExprError (a division, a modulo, a regular
    expression match), so that it needs the error-path logging."""
    for n in e.walk():
        if isinstance(n, N.Binary) and n.op in ("/", "mod", "=~"):
            return True
    return False


def _int_forcing(e: N.Expr) -> bool:
    """Whether Kamailio's operator for ``e`` "forces integer type": rval_expr_eval evaluates
    it with rval_expr_eval_int and logs its failure (core/rvalue.c@5.6.3:2393-2433)."""
    if isinstance(e, (N.Unary, N.Defined, N.StrLen, N.StrEmpty)):
        return True
    if isinstance(e, N.Cast):
        return e.to == "int"
    if isinstance(e, N.Binary):
        if isinstance(e.left, N.Name):
            return False  # a core keyword comparison (an exp_elem, not an rve)
        if e.op == "+":
            return _guess_type(e.left) == "int"  # RVE_IPLUS_OP
        return True
    return False


_INT_OPS = {
    "-": lambda a, b: wrap32(a - b),
    "*": lambda a, b: wrap32(a * b),
    "|": lambda a, b: wrap32(a | b),
    "&": lambda a, b: wrap32(a & b),
    "^": lambda a, b: wrap32(a ^ b),
    "<<": lambda a, b: wrap32(a << (b & 31)),
    ">>": lambda a, b: a >> (b & 31),
    "<": lambda a, b: int(a < b),
    ">": lambda a, b: int(a > b),
    "<=": lambda a, b: int(a <= b),
    ">=": lambda a, b: int(a >= b),
    "ieq": lambda a, b: int(a == b),
    "ine": lambda a, b: int(a != b),
}


def _is_int_typed(e: N.Expr) -> bool:
    if isinstance(e, N.Literal):
        return isinstance(e.value, int)
    if isinstance(e, (N.Call, N.RouteCall, N.StrLen, N.StrEmpty, N.Defined, N.Unary)):
        return True
    if isinstance(e, N.Cast):
        return e.to == "int"
    if isinstance(e, N.Binary):
        if e.op == "+":
            return _is_int_typed(e.left)
        return e.op not in ()
    return False
