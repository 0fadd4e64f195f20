"""The start-up checks Kamailio 5.6 makes while it parses a configuration.

``kamailio -c`` parses the config with bison actions that load modules, set
module parameters, look up every function and PV, and type-check constant
expressions, *as the parser reduces each construct* (core/cfg.y@5.6.3). The
:class:`Checker` is the set of those actions: :mod:`kscript.parser` calls its
methods at the same moments, with the modules loaded *so far*, so kscript
finds the same errors in the same order -- including the ones before a syntax
error, and ``Command cannot be used in the block`` for the block being parsed.

What is an error (Kamailio refuses to start) and where Kamailio reports it:

* ``loadmodule`` of a module Kamailio 5.6 does not have -- the string;
* ``modparam`` with no loaded module matching the regex, an unknown parameter,
  or a value of the wrong type -- the closing ``)``;
* a function no loaded module exports with that many parameters ("unknown
  command") or not for this kind of block ("Command cannot be used in the
  block"; ``route[X]`` blocks are checked as request routes), a non-constant
  parameter of a function that needs constants -- the closing ``)``;
* a PV whose class no loaded module exports, or malformed ("Can't get from
  cache", Kamailio stops there) -- the PV token; in files without
  ``#!KAMAILIO`` a bare ``$name`` that is not a PV is an AVP (no error);
* assigning to a read-only PV or one with transformations;
* constant-expression type errors (``3 + "4"``, ``5 == "5"``, ``"a" < 1``) --
  the start of the operator's left operand;
* flag names not declared, flag numbers out of range, duplicate route names,
  non-constant ``case`` labels, mixed int/string cases, several ``default:``.

Warnings (Kamailio accepts, kscript has something to say): a route called or
armed (``t_on_failure`` ...) that is not defined, a function kscript does not
emulate yet.

:class:`CheckContext` and :func:`check_config` keep the older AST-walking
interface (used by the REPL): they run the same checks over a parsed tree.
"""

from __future__ import annotations

import re

from . import nodes as N
from .errors import ConfigError, KscriptError, Position
from .source import SourceMap

__all__ = ["Checker", "Diagnostic", "CheckContext", "check_config", "ROUTE_MASK_KEY"]

# kscript route kinds -> catalogue ROUTE_MASKS keys (Kamailio's `rt` while parsing the block)
ROUTE_MASK_KEY = {"request": "request", "route": "request", "failure": "failure", "onreply": "tm_reply",
                  "reply": "core_reply", "branch": "branch", "onsend": "onsend", "event": "event"}
_ROUTE_WORD = {"request": "request_route", "route": "route", "failure": "failure_route",
               "onreply": "onreply_route", "reply": "reply_route", "branch": "branch_route",
               "onsend": "onsend_route", "event": "event_route"}
# fixups that take any expression (core/sr_module.c is_fparam_rve_fixup)
_FPARAM_RVE = frozenset(["fixup_var_str_12", "fixup_var_str_1", "fixup_var_str_2", "fixup_var_pve_str_12",
                         "fixup_var_pve_str_1", "fixup_var_pve_str_2", "fixup_var_int_12", "fixup_var_int_1",
                         "fixup_var_int_2", "fixup_int_12", "fixup_int_1", "fixup_int_2", "fixup_str_12",
                         "fixup_str_1", "fixup_str_2", "fixup_regex_12", "fixup_regex_1", "fixup_regex_2"])
# fixups Kamailio gives a free function automatically (get_fixup_free / mod_fix_get_fixup_free)
_AUTO_FREE = _FPARAM_RVE | frozenset([
    "fixup_str_null", "fixup_str_str", "fixup_regexp_null", "fixup_pvar_null", "fixup_pvar_pvar",
    "fixup_pvar_str", "fixup_pvar_str_str", "fixup_igp_igp", "fixup_igp_null", "fixup_igp_pvar",
    "fixup_igp_pvar_pvar", "fixup_spve_spve", "fixup_spve_null", "fixup_spve_str"])
# core commands allowed in onsend_route (cfg.y fcmd filter)
_ONSEND_OK = frozenset(["log", "setflag", "resetflag", "isflagset", "set_forward_no_connect",
                        "set_reply_no_connect", "set_forward_close", "set_reply_close"])
_FACILITIES = frozenset(["LOG_AUTH", "LOG_CRON", "LOG_DAEMON", "LOG_KERN", "LOG_LOCAL0", "LOG_LOCAL1",
                         "LOG_LOCAL2", "LOG_LOCAL3", "LOG_LOCAL4", "LOG_LOCAL5", "LOG_LOCAL6", "LOG_LOCAL7",
                         "LOG_LPR", "LOG_MAIL", "LOG_NEWS", "LOG_USER", "LOG_UUCP", "LOG_AUTHPRIV", "LOG_FTP",
                         "LOG_SYSLOG"])
_POLL_METHODS = frozenset(["poll", "epoll_lt", "epoll_et", "sigio_rt", "select", "kqueue", "devpoll",
                           "epoll", "sigio"])
# route kind -> Kamailio route table (main_rt, failure_rt, onreply_rt, branch_rt, onsend_rt, event_rt)
_ROUTE_TABLE = {"request": "main", "route": "main", "failure": "failure", "onreply": "reply", "reply": "reply",
                "branch": "branch", "onsend": "onsend", "event": "event"}
_ROUTE_ARMERS = {"t_on_failure": "failure", "t_on_reply": "onreply", "t_on_branch": "branch",
                 "t_on_branch_failure": "branch_failure"}
_INT_ONLY = {"-", "*", "/", "mod", "|", "&", "^", "<<", ">>", "&&", "||", "<", "<=", ">", ">=", "ieq", "ine"}
_PV_NAME = re.compile(r"[A-Za-z0-9_.?]*")
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_]+")


class Diagnostic:
    """A warning (or an error collected without stopping)."""

    __slots__ = ("message", "pos", "kind")

    def __init__(self, message: str, pos: Position | None, kind: str = "warning"):
        self.message = message
        self.pos = pos
        self.kind = kind

    def __repr__(self) -> str:
        return f"Diagnostic({self.message!r}, {self.pos!r}, {self.kind!r})"

    def __str__(self) -> str:
        return f"{self.pos}: {self.kind}: {self.message}" if self.pos else f"{self.kind}: {self.message}"

    def to_dict(self) -> dict:
        d = {"kind": self.kind, "message": self.message}
        if self.pos:
            d.update(file=self.pos.file, line=self.pos.line, column=self.pos.column)
        return d


class Checker:
    """Kamailio's parse-time actions (see the module docstring). One instance per check."""

    def __init__(self, catalogue, smap: SourceMap | None = None,
                 emulated: set[tuple[str, str]] | frozenset | None = None):
        self.cat = catalogue
        self.smap = smap
        self.emulated = emulated
        self.loaded: list[str] = []  # module names, load order
        self.exports: dict[str, str] = {}  # exports name (modparam/MOD_) -> module name
        self.rt = "request"
        self.routes: dict[str, dict[str, Position]] = {}
        self.flags: dict[str, int] = {}
        self.flag_numbers: set[int] = set()
        self.avpflags: set[str] = set()
        self.shm = False  # Kamailio initialises shared memory at the first modparam / route block
        self.cfg_vars: set[tuple[str, str]] = set()
        self.warnings: list[Diagnostic] = []
        self.route_refs: list[tuple[str, str, Position, str]] = []  # (kind, name, pos, how)
        self.not_emulated: dict[tuple[str, str], Position] = {}
        self.debug_levels: list[tuple[int, int]] = []  # (token index, debug value) as set
        self.input_truncated = False  # the preprocessor stopped at a fatal error (see kscript.check)
        self.errors: list[KscriptError] = []  # AST-walk mode (no parser)
        self._t = 0

    # ------------------------------------------------------------ reporting
    def err(self, p, msg: str, pos: Position | None, t: float | None = None, abort: bool = False) -> None:
        if p is not None:
            p.error(msg, pos, t if t is not None else p.vstack_last_idx, cls=ConfigError)
            if abort:
                from .parser import Abort
                raise Abort()
            return
        src = self.smap.source_line(pos) if (self.smap is not None and pos is not None) else None
        self.errors.append(ConfigError(msg, pos, source_line=src))

    def warn(self, msg: str, pos: Position | None) -> None:
        self.warnings.append(Diagnostic(msg, pos))

    # ------------------------------------------------------------ module loading
    def loadmodule(self, p, node: N.LoadModule, tok=None) -> None:
        name = node.module
        where = node.path_pos or node.pos
        t = tok.idx if tok is not None else None
        if not self.cat.has_module(name):
            self.err(p, f"failed to load module '{name}': Kamailio 5.6 has no such module "
                        f"(could not find module <{name}>)", where, t)
            return
        if name in self.loaded:
            # load_module(): "attempting to load the same module twice" is a failure
            self.err(p, f"failed to load module '{name}': attempting to load the same module twice",
                     where, t)
            return
        exp = self.cat.exports_name(name) or name
        self.loaded.append(name)
        self.exports[exp] = name

    def modparam(self, p, node: N.ModParam, children=None) -> None:
        self.shm = True
        where = node.end_pos or node.pos
        t = children[7].idx if children else None
        if _PLAIN_NAME.fullmatch(node.module):  # the usual case: no regex needed
            want_name = node.module.lower()
            matched = [m for e, m in self.exports.items() if e.lower() == want_name]
        else:
            try:
                rx = re.compile(f"^({_posix_ere(node.module)})$", re.I)
            except re.error:
                self.err(p, f"Can't set module parameter: bad module name regex '{node.module}'", where, t)
                return
            matched = [m for e, m in self.exports.items() if rx.match(e)]
        if not matched:
            self.err(p, f"Can't set module parameter: no loaded module matches '{node.module}' "
                        "(loadmodule missing or after the modparam?)", where, t)
            return
        want = "int" if isinstance(node.value, int) and not isinstance(node.value, bool) else "str"
        if node.extended and isinstance(node.value, str) and node.value.startswith("$"):
            want = "any"
        for mod in matched:
            params = self.cat.module_params(mod) or {}
            info = params.get(node.param)
            if info is None:
                self.err(p, f"Can't set module parameter: module '{mod}' has no parameter "
                            f"'{node.param}'", where, t)
                return
            types = set(info.get("types") or [info.get("type")])
            ok = want == "any" or (want == "int" and "int" in types) or \
                (want == "str" and (types & {"str", "string"}))
            if not ok:
                has = "an integer" if "int" in types else "a string"
                got = "an integer" if want == "int" else "a string"
                self.err(p, f"Can't set module parameter: '{node.param}' of module '{mod}' takes {has}, "
                            f"not {got}" + (" (quote it)" if has == "a string" else " (remove the quotes)"),
                         where, t)
                return

    def shm_statement(self, p, node) -> None:
        self.shm = True

    def core_param(self, p, node: N.CoreParam, name_tok=None, value=None) -> None:
        name = node.name
        t = None
        if name == "debug" and isinstance(node.value, int) and p is not None:
            # the log level from here on: Kamailio's warnings (e.g. a stray #!endif) are not
            # printed below L_WARN (0)
            self.debug_levels.append((p.cur - 1, node.value))
        if name == "log_facility" and isinstance(node.value, str) and node.value.upper() not in _FACILITIES:
            self.err(p, f"bad facility '{node.value}' (see syslog(3): LOG_LOCAL0..7, LOG_DAEMON...)",
                     node.eq_pos, t)
        elif name == "tcp_poll_method" and str(node.value).lower() not in _POLL_METHODS:
            self.err(p, f"bad tcp_poll_method value '{node.value}'", node.eq_pos, t)
        elif name in ("user", "uid", "group", "gid", "shm", "shm_mem", "shm_mem_size", "shm_force_alloc") \
                and self.shm:
            what = {"uid": "user", "gid": "group", "shm_mem": "shm/shm_mem_size", "shm": "shm/shm_mem_size",
                    "shm_mem_size": "shm/shm_mem_size"}.get(name, name)
            self.err(p, f"{what} must be before any modparam or the route blocks", node.eq_pos, t)
        elif name == "ipv6_hex_style" and not str(node.value)[:1] in ("a", "A", "c"):
            self.err(p, 'ipv6_hex_style: expected "a", "A" or "c"', node.eq_pos, t)

    def cfg_var(self, p, node: N.CfgVar, name_tok=None) -> None:
        if name_tok is not None and name_tok.type == "NUMBER":
            self.err(p, f"cfg var field name - use of number or reserved token not allowed: {name_tok.text}",
                     p.pos(name_tok) if p else node.pos, name_tok.idx)
            return
        if node.group.endswith("]"):
            return  # a group instance value: set again without complaint
        key = (node.group, node.name)
        if key in self.cfg_vars:
            # new_cfg_script_var(): "variable already exists"; reported where the parser is:
            # the token after the declaration (bison needs it to end the statement)
            where = node.pos
            if p is not None:
                where = p.pos(p.toks[p.cur]) if p.cur < len(p.toks) else p._eof_pos()
            self.err(p, f"variable cannot be declared: {node.group}.{node.name} already exists", where)
        self.cfg_vars.add(key)

    # ------------------------------------------------------------ flags
    def register_flag(self, p, name_tok, num_tok=None) -> None:
        name = name_tok.value
        pos = p.pos(name_tok) if p else None
        if name in self.flags:
            self.err(p, f"register flag failed: flag '{name}' is declared twice", pos, name_tok.idx)
            return
        if num_tok is not None:
            n = num_tok.value
            if n < 0 or n > 31 or n in self.flag_numbers:
                self.err(p, f"register flag failed: flag number {n} " +
                         ("is used twice" if n in self.flag_numbers else "out of range (0..31)"), pos, num_tok.idx)
                return
        else:
            n = next((k for k in range(32) if k not in self.flag_numbers), -1)
            if n < 0:
                self.err(p, "register flag failed: no free flag left", pos, name_tok.idx)
                return
        self.flags[name] = n
        self.flag_numbers.add(n)

    def register_avpflags(self, p, toks) -> None:
        for tok in toks:
            self.avpflags.add(tok.value)

    def flag_use(self, p, v, kw, x) -> None:
        if x.type == "NUMBER":
            if x.value < 0 or x.value > 31:
                self.err(p, f"bad flag value {x.value} (flags are 0..31)", p.pos(x), x.idx + 1)
        else:
            if x.value not in self.flags:
                self.err(p, f"flag not declared: '{x.value}' (declare it with `flags {x.value};` "
                            "or #!define it as a number)", p.pos(x), x.idx + 1)

    def avpflag_use(self, p, v, kw, flag) -> None:
        if flag.value not in self.avpflags:
            self.err(p, f"avpflag not declared: '{flag.value}'", p.pos(flag), flag.idx + 1)

    # ------------------------------------------------------------ routes
    def route_start(self, kind: str, tok) -> None:
        self.rt = kind

    def route_name(self, p, name: str, tok) -> None:
        if self.rt == "reply" and p is not None and p.pending_route_tok is not None and \
                p.pending_route_tok.type == "ROUTE_ONREPLY" and name != "0":
            self.rt = "onreply"

    def route_block(self, p, node: N.RouteBlock, rbrace=None) -> None:
        """Register a route block; a named block whose table already has that name is a
        "duplicate route" (Kamailio stops). Unnamed blocks (and ``onreply_route[0]``) are
        appended to the table's default route, which is also named "0"."""
        self.shm = True  # the route_stm actions call init_shm()
        table = _ROUTE_TABLE[node.kind]
        names = self.routes.setdefault(table, {})
        if node.name is None:
            names.setdefault("0", node.pos)
            return
        if node.name in names:
            what = _ROUTE_WORD.get(node.kind, node.kind)
            self.err(p, f"duplicate route: {what}[{node.name}] is already defined at {names[node.name]}",
                     p.pos(rbrace) if (p and rbrace is not None) else node.pos,
                     rbrace.idx if rbrace is not None else None, abort=True)
            return
        names[node.name] = node.pos

    # ------------------------------------------------------------ PVs
    def pv_problem(self, text: str) -> str | None:
        """Why pv_parse_spec2 would reject ``text`` with the modules loaded now, or None."""
        why = pv_problem(self.cat, text, self.loaded)
        if why is None and not self.shm and (text.startswith("$shv(") or text.startswith("$(shv(")):
            # pv_parse_shvar_name() registers the variable in shared memory, which Kamailio
            # initialises at the first modparam or at the end of the first route block
            return "shm not initialized yet: $shv() used before any modparam and inside the first route block"
        return why

    def pvar(self, p, tok) -> N.PVRef:
        ref = N.PVRef(p.pos(tok), tok.value)
        why = self.pv_problem(tok.value)
        if why is not None:
            self.err(p, f"Can't get from cache: {tok.value} ({why})", ref.pos, tok.idx, abort=True)
        return ref

    def avp_pvar(self, p, tok) -> N.PVRef:
        text = tok.value
        pos = p.pos(tok)
        if self.pv_problem(text) is None:
            return N.PVRef(pos, text)
        # no such PV: an AVP named like it (max compatibility mode, cfg.y avp_pvar)
        return N.PVRef(pos, f"$avp({text[1:]})")

    def lval(self, p, ref) -> None:
        if not isinstance(ref, N.PVRef):
            return
        text = ref.text
        if text.startswith("$avp(") or text.startswith("$(avp("):
            return
        info = _pv_info(self.cat, text, self.loaded)
        if info is None:
            return
        cls_info, has_tr = info
        if not cls_info.get("writable"):
            self.err(p, f"read only pvar in assignment left side: {text}", ref.pos)
        elif has_tr:
            self.err(p, f"pvar with transformations in assignment left side: {text}", ref.pos)

    # ------------------------------------------------------------ expressions (mk_rve1/2)
    def check_binary(self, p, v, tok, left, right) -> None:
        from .typecheck import binary_type
        t = right.last
        if left.bad or right.bad:
            v.bad = True
            return
        res = binary_type(v.node.op, left.type, right.type)
        if isinstance(res, tuple):
            bad_side, bad_t, exp_t = res
            bad = right if bad_side == "right" else left
            self.err(p, f"bad expression: type mismatch: {bad_t} instead of {exp_t} at "
                        f"({bad.pos.line},{bad.pos.column}) in '{_op_text(v.node.op)}'", v.pos, t)
            v.bad = True
            return
        v.type = res

    def check_unary(self, p, v, tok, operand) -> None:
        from .typecheck import unary_type
        res = unary_type(tok.type, operand.type)
        if isinstance(res, tuple):
            bad_t, exp_t = res
            self.err(p, f"bad expression: type mismatch ({bad_t} instead of {exp_t}) for "
                        f"'{tok.text}'", operand.pos, operand.last)
            v.bad = True
            return
        v.type = res

    def check_defined(self, p, v, left) -> None:
        if left.type == "int":
            self.err(p, "bad expression: type mismatch (int instead of str) comparing with $null",
                     left.pos, v.last)
            v.bad = True

    def check_exp_elem(self, p, v, kwtok, optok, operand) -> None:
        if operand.bad:
            return
        if kwtok.type in ("SRCIP", "DSTIP", "SNDIP", "TOIP"):
            if operand.type == "int" and _is_const(operand.node):
                self.err(p, f"string expected: {kwtok.text} compared with a number", operand.pos, operand.last)

    def onsend_keyword(self, p, tok) -> None:
        if self.rt != "onsend":
            self.err(p, f"{tok.text} allowed only in onsend_routes", p.pos(tok), tok.idx)

    def ipnet(self, p, x, node) -> None:
        kind, ip, mask, toks = x
        if ip.count(".") == 3 and ":" not in ip:
            if any(int(part) > 255 for part in ip.split(".")):
                self.err(p, f"invalid ipv4 address {ip}", node.pos)
        if kind == "net" and mask is not None and str(mask).isascii() and str(mask).isdigit():
            bits = int(mask)
            limit = 128 if ":" in ip else 32
            if bits > limit:
                self.err(p, f"invalid bit number in netmask: {ip}/{mask}", node.pos)

    def condition(self, p, cond, what: str) -> None:
        pass  # rval_expr_int_check: the types were already checked when the operators were reduced

    def case_label(self, p, label: N.CaseLabel, v, is_const: bool) -> None:
        if v.bad:
            return
        if not is_const:
            self.err(p, "non constant expression in case (case labels must be constants)", v.pos, v.last)
            return
        label.value = label.value if not isinstance(label.value, bool) else int(label.value)

    def switch(self, p, sw: N.Switch, expr_val, labels: list[N.CaseLabel]) -> None:
        defaults = [lab for lab in labels if lab.default]
        if len(defaults) > 1:
            self.err(p, 'bad switch(): too many "default:" labels', expr_val.pos)
            return
        kinds = []
        for lab in labels:
            if lab.default or lab.value is None:
                continue
            kind = "str" if (lab.regex or isinstance(lab.value, str)) else "int"
            kinds.append((kind, lab))
        if kinds:
            first = kinds[0][0]
            for kind, lab in kinds[1:]:
                if kind != first:
                    self.err(p, "type mismatch in case: mixed integer and string/RE cases are not allowed",
                             lab.pos)
                    return

    # ------------------------------------------------------------ commands
    def fcmd(self, p, v) -> None:
        if self.rt != "onsend" or v.bad:
            return
        node = v.node
        if isinstance(node, N.RouteCall):
            name = "route"
        elif isinstance(node, N.Call):
            if self.cat.core_function(node.name) is None:
                return  # a module function
            name = node.name
        else:
            return
        if name not in _ONSEND_OK:
            self.err(p, f"command not allowed in onsend_route: {name}", node.pos)

    def core_cmd(self, p, v, kw, children) -> None:
        return

    def route_call(self, p, v, children) -> None:
        t = v.node.target
        name = t.name if isinstance(t, N.Name) else (str(t.value) if isinstance(t, N.Literal) else None)
        if name is not None:
            self.route_refs.append(("route", name, v.node.pos, "called"))

    def module_call(self, p, v, params, rparen) -> None:
        call: N.Call = v.node
        n = len(call.args)
        where = call.end_pos or call.pos
        t = rparen.idx if rparen is not None else None
        entry, mod = self.find_export(call.name, n, self.rt)
        if entry is None:
            if self.find_export(call.name, n, None)[0] is not None:
                allowed = self._allowed_blocks(call.name, n)
                self.err(p, f"Command cannot be used in the block: {call.name}() is not allowed in "
                            f"{_ROUTE_WORD.get(self.rt, self.rt)}" +
                         (f" (only in {allowed})" if allowed else ""), where, t)
            else:
                known = self.cat.find_function(call.name, None)
                if known:
                    mods = sorted({m for m, _e in known})
                    ar = sorted({str(e['nparams']) for _m, e in known})
                    loaded = [m for m in mods if m in self.loaded]
                    if loaded:
                        hint = f" ({call.name} takes {' or '.join(ar)} parameter(s))"
                    else:
                        hint = f" (exported by {', '.join(mods[:3])}{'...' if len(mods) > 3 else ''}: " \
                               "missing loadmodule?)"
                else:
                    hint = " (no Kamailio 5.6 module exports it)"
                self.err(p, f"unknown command, missing loadmodule? failed to find command {call.name} "
                            f"(params {n}){hint}", where, t)
            v.bad = True
            return
        # mod_f_params_pre_fixup: functions with a fixup that cannot be re-run need constants
        fixup = entry.get("fixup")
        if fixup and fixup not in _FPARAM_RVE and not entry.get("free_fixup") and fixup not in _AUTO_FREE:
            for k, arg in enumerate(params, 1):
                if not _is_const(arg.node):
                    self.err(p, f"function {call.name}: parameter {k} is not constant", arg.pos, t)
                    v.bad = True
                    return
        if call.name in _ROUTE_ARMERS and n >= 1 and isinstance(call.args[0], N.Literal):
            self.route_refs.append((_ROUTE_ARMERS[call.name], str(call.args[0].value), call.pos, "armed"))
        if self.emulated is not None and (mod, call.name) not in self.emulated:
            self.not_emulated.setdefault((mod, call.name), call.pos)

    def find_export(self, name: str, nparams: int, rt: str | None):
        """find_export_record(): the first module (last loaded first) exporting ``name`` with
        ``nparams`` parameters (or a variable number) for block kind ``rt`` (None: any)."""
        found = self.cat.find_function(name, self.loaded)
        if not found:
            return None, None
        order = {m: i for i, m in enumerate(self.loaded)}
        for mod, entry in sorted(found, key=lambda me: -order.get(me[0], -1)):
            if entry.get("nparams") not in (nparams, "var"):
                continue
            if rt is not None and not self.cat.route_allows(entry, ROUTE_MASK_KEY[rt]):
                continue
            return entry, mod
        return None, None

    def _allowed_blocks(self, name: str, nparams: int) -> str:
        kinds = []
        for kind in ("request", "failure", "onreply", "reply", "branch", "onsend", "event"):
            if self.find_export(name, nparams, kind)[0] is not None:
                kinds.append(_ROUTE_WORD[kind])
        return ", ".join(kinds)

    # ------------------------------------------------------------ after the parse
    def finish(self) -> None:
        """Warnings that need the whole configuration."""
        defined = {k: set(v) for k, v in self.routes.items()}
        for kind, name, pos, how in self.route_refs:
            table = {"route": "main", "failure": "failure", "onreply": "reply",
                     "branch": "branch", "branch_failure": "event"}.get(kind, kind)
            names = defined.get(table, set())
            if kind == "branch_failure":
                if f"tm:branch-failure:{name}" in names:
                    continue
                self.warn(f"t_on_branch_failure(\"{name}\"): no event_route[tm:branch-failure:{name}] "
                          "is defined", pos)
                continue
            if name in names:
                continue
            if kind == "route":
                self.warn(f"route '{name}' is called but not defined (Kamailio refuses to start: "
                          "\"route not found\")", pos)
            else:
                self.warn(f"{ {'failure': 't_on_failure', 'onreply': 't_on_reply', 'branch': 't_on_branch'}[kind]}"
                          f"(\"{name}\"): no {_ROUTE_WORD[kind]}[{name}] is defined", pos)
        for (mod, fname), pos in sorted(self.not_emulated.items(), key=lambda kv: (kv[1].file, kv[1].line)):
            self.warn(f"function {fname}() (module {mod}) is not emulated by kscript yet "
                      "(kscript run needs a --mock for it)", pos)


# ---------------------------------------------------------------- fast catalogue view
_EVENT_BITS = (1 << 0) | (1 << 9)
_MASKS = {"request": 1, "route": 1, "failure": 2, "tm_reply": 4, "branch": 8, "onsend": 16, "core_reply": 128,
          "event": _EVENT_BITS}


class FastCatalogue:
    """The part of :class:`kscript.catalogue.Catalogue` the checks use, built from a compact
    digest of the catalogue JSON cached in marshal format (``~/.cache/kscript``), each module's
    record decoded only when the configuration loads it: ~1 ms instead of parsing 800 kB of
    JSON, which matters for ``kscript check``'s start-up. Same answers as the full catalogue
    (tests/test_checker.py compares them)."""

    def __init__(self, d: dict):
        import marshal
        self._loads = marshal.loads
        self._blobs = d["mods"]  # module -> marshal blob of {"exp", "params", "pvs", "funcs"}
        self._func_mods = d["func_mods"]
        self._pv_mods = d["pv_mods"]
        self._core_pvs = d["core_pvs"]
        self._core_funcs = frozenset(d["core_funcs"])
        self._tr = d["tr"]
        self._tr_mod = d["tr_mod"]
        self._cache: dict[str, dict] = {}

    @staticmethod
    def digest(cat) -> dict:
        import marshal
        blobs = {}
        func_mods: dict[str, list[str]] = {}
        pv_mods: dict[str, list[str]] = {}
        for m in cat.modules():
            rec = cat.module(m) or {}
            funcs: dict[str, list] = {}
            for fname, entries in (rec.get("functions") or {}).items():
                for e in entries:
                    if e.get("nparams") != -1:
                        funcs.setdefault(fname, []).append(
                            (e.get("nparams"), e.get("route_mask", 0), e.get("fixup"), e.get("free_fixup")))
            for fname in funcs:
                func_mods.setdefault(fname, []).append(m)
            pvs = {n: (bool(v.get("has_name")), bool(v.get("indexed")), bool(v.get("writable")))
                   for n, v in (rec.get("pvs") or {}).items()}
            for n in pvs:
                pv_mods.setdefault(n, []).append(m)
            blobs[m] = marshal.dumps({
                "exp": cat.exports_name(m),
                "params": {p: list(v.get("types") or [v.get("type")]) for p, v in (rec.get("params") or {}).items()},
                "pvs": pvs, "funcs": funcs}, 4)
        core = cat.data.get("core", {})
        return {
            "mods": blobs, "func_mods": func_mods, "pv_mods": pv_mods,
            "core_pvs": {n: (bool(v.get("has_name")), bool(v.get("indexed")), bool(v.get("writable")))
                         for n, v in (core.get("pvs") or {}).items()},
            "core_funcs": sorted((core.get("functions") or {}).keys()),
            "tr": {k: sorted(v) for k, v in (cat.data.get("transformations") or {}).items()},
            "tr_mod": {k: v.get("module") for k, v in (cat.data.get("transformation_parsers") or {}).items()},
        }

    def _rec(self, name: str) -> dict | None:
        rec = self._cache.get(name)
        if rec is None:
            blob = self._blobs.get(name)
            if blob is None:
                return None
            rec = self._cache[name] = self._loads(blob)
        return rec

    # the Catalogue methods the checks use
    def has_module(self, name: str) -> bool:
        return _mod_norm(name) in self._blobs

    def modules(self) -> list[str]:
        return sorted(self._blobs)

    def module(self, name: str) -> dict | None:
        rec = self._rec(_mod_norm(name))
        return None if rec is None else {"pvs": rec["pvs"], "params": rec["params"]}

    def exports_name(self, name: str) -> str | None:
        rec = self._rec(_mod_norm(name))
        return None if rec is None else (rec["exp"] or _mod_norm(name))

    def module_params(self, name: str) -> dict | None:
        rec = self._rec(_mod_norm(name))
        if rec is None:
            return None
        return {p: {"types": t, "type": t[0] if t else None} for p, t in rec["params"].items()}

    def find_function(self, fname: str, loaded_modules=None) -> list[tuple[str, dict]]:
        mods = self._func_mods.get(fname, ())
        if loaded_modules is not None:
            wanted = {_mod_norm(m) for m in loaded_modules}
            mods = [m for m in mods if m in wanted]
        out = []
        for m in mods:
            for n, rm, fx, ff in self._rec(m)["funcs"][fname]:
                out.append((m, {"nparams": n, "route_mask": rm, "fixup": fx, "free_fixup": ff}))
        return out

    @staticmethod
    def route_allows(entry: dict, route: str) -> bool:
        want = _MASKS[route]
        mask = entry.get("route_mask", 0)
        if mask & want == want:
            return True
        return route == "event" and bool(mask & want)

    def core_function(self, name: str):
        return {} if name in self._core_funcs else None

    def pv_class(self, name: str, loaded_modules=()) -> dict | None:
        info = self._core_pvs.get(name)
        if info is not None:
            return {"has_name": info[0], "indexed": info[1], "writable": info[2], "module": "core"}
        owners = self._pv_mods.get(name)
        if not owners:
            return None
        order = owners if loaded_modules is None else \
            [m for m in (_mod_norm(x) for x in loaded_modules) if m in owners]
        for m in order:
            info = self._rec(m)["pvs"][name]
            return {"has_name": info[0], "indexed": info[1], "writable": info[2], "module": m}
        return None

    def transformation_names(self, cls: str, loaded_modules=None):
        names = self._tr.get(cls)
        if names is None:
            return None
        if loaded_modules is not None and self._tr_mod.get(cls) not in {_mod_norm(m) for m in loaded_modules}:
            return None
        return frozenset(names)

    def transformation_module(self, cls: str) -> str | None:
        return self._tr_mod.get(cls)


def _mod_norm(name: str) -> str:
    name = name.rsplit("/", 1)[-1]
    return name[:-3] if name.endswith(".so") else name


_FAST: FastCatalogue | None = None


def fast_catalogue() -> FastCatalogue:
    """The checks' catalogue view (digest cached per catalogue file version)."""
    global _FAST
    if _FAST is not None:
        return _FAST
    import marshal
    import os
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "catalogue", "kamailio-5.6.json")
    try:
        st = os.stat(src)
        key = f"{st.st_size:x}-{st.st_mtime_ns:x}"
    except OSError:
        key = "nofile"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = os.path.join(base, "kscript", f"catalogue2-{key}.marshal")
    try:
        with open(path, "rb") as f:
            _FAST = FastCatalogue(marshal.load(f))
            return _FAST
    except (OSError, ValueError, EOFError, TypeError, KeyError):
        pass
    from . import catalogue as catmod
    d = FastCatalogue.digest(catmod.load())
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            marshal.dump(d, f)
        os.replace(tmp, path)
    except OSError:
        pass
    _FAST = FastCatalogue(d)
    return _FAST


# ---------------------------------------------------------------- PV helpers
def pv_problem(cat, text: str, loaded) -> str | None:
    """Why Kamailio's pv_parse_spec2 rejects the PV token ``text`` (None: accepted)."""
    from .pv.spec import PVSyntaxError, parse_pv
    if text in ("$?", "$rc", "$retcode"):
        return None
    try:
        spec = parse_pv(text)
    except PVSyntaxError as e:
        return f"malformed: {e}"
    except Exception:  # noqa: BLE001 - never let a PV parser bug become a traceback
        return "malformed"
    if not _PV_NAME.fullmatch(spec.cls):
        return "malformed class name"
    info = cat.pv_class(spec.cls, loaded)
    if info is None:
        owners = list(cat._pv_mods.get(spec.cls, ())) if hasattr(cat, "_pv_mods") else \
            [m for m in cat.modules() if spec.cls in ((cat.module(m) or {}).get("pvs") or {})]
        if owners:
            return f"${spec.cls} is exported by module {', '.join(owners[:3])}, which is not loaded"
        return f"no PV class ${spec.cls} in Kamailio 5.6"
    has_name = bool(info.get("has_name"))
    if has_name and spec.inner is None:
        return f"${spec.cls} needs a name: ${spec.cls}(...)"
    if not has_name and spec.inner is not None:
        return f"${spec.cls} takes no name"
    if spec.index is not None and not info.get("indexed"):
        return f"${spec.cls} takes no index"
    if spec.index is not None and spec.index == "":
        return "empty index"
    for tr in spec.transforms:
        name = re.split(r"[,}]", tr, maxsplit=1)[0].strip()
        cls, _, trname = name.partition(".")
        names = cat.transformation_names(cls, loaded)
        if names is None:
            mod = cat.transformation_module(cls)
            if mod:
                return f"transformation class '{cls}' needs module {mod}"
            return f"unknown transformation class '{cls}'"
        if not any(trname == n or trname.startswith(n + ",") for n in names):
            return f"unknown transformation '{{{name}}}'"
    return None


def _pv_info(cat, text: str, loaded):
    from .pv.spec import PVSyntaxError, parse_pv
    try:
        spec = parse_pv(text)
    except (PVSyntaxError, Exception):  # noqa: BLE001
        return None
    info = cat.pv_class(spec.cls, loaded)
    if info is None:
        return None
    return info, bool(spec.transforms)


def _is_const(e) -> bool:
    """rve_is_constant: literals and operators over them (casts included). Iterative: a
    parameter may be a very long `1+1+...` chain."""
    stack = [e]
    while stack:
        x = stack.pop()
        if isinstance(x, N.Literal):
            continue
        if isinstance(x, (N.Unary, N.Cast, N.StrLen, N.StrEmpty)):
            stack.append(x.operand)
        elif isinstance(x, N.Binary) and not isinstance(x.left, N.Name):
            stack.append(x.left)
            stack.append(x.right)
        else:
            return False
    return True


def _op_text(op: str) -> str:
    return op


def _posix_ere(rx: str) -> str:
    """A POSIX ERE (modparam module regex) as a Python regex (the common subset)."""
    return rx.replace("[[:alnum:]]", "[A-Za-z0-9]").replace("[[:alpha:]]", "[A-Za-z]")


# ---------------------------------------------------------------- AST-walking interface
class CheckContext:
    """Older interface: collect errors/warnings of :func:`check_config` over an AST."""

    def __init__(self, catalogue, smap: SourceMap | None = None, errors: list | None = None,
                 warnings: list | None = None, loaded: list[str] | None = None,
                 emulated: set[tuple[str, str]] | None = None):
        self.catalogue = catalogue  # kscript.catalogue.Catalogue (or FastCatalogue)
        self.smap = smap
        self.errors: list[KscriptError] = errors if errors is not None else []
        self.warnings: list[Diagnostic] = warnings if warnings is not None else []
        self.loaded: list[str] = loaded if loaded is not None else []
        self.emulated = emulated

    def error(self, msg: str, pos: Position | None) -> None:
        src = self.smap.source_line(pos) if (self.smap and pos) else None
        self.errors.append(ConfigError(msg, pos, source_line=src))

    def warn(self, msg: str, pos: Position | None) -> None:
        self.warnings.append(Diagnostic(msg, pos))


def check_config(cfg: N.Config, ctx: CheckContext) -> None:
    """Run the checks over an already parsed configuration (no token positions: errors are
    reported in tree order). Used where the source is not a whole file (the REPL)."""
    ck = Checker(ctx.catalogue, ctx.smap, ctx.emulated)
    ck.loaded = list(ctx.loaded)
    for m in ck.loaded:
        ck.exports[ck.cat.exports_name(m) or m] = m
    for item in cfg.items:
        if isinstance(item, N.LoadModule):
            ck.loadmodule(None, item)
        elif isinstance(item, N.ModParam):
            ck.modparam(None, item)
        elif isinstance(item, N.RouteBlock):
            ck.rt = {"route": "request"}.get(item.kind, item.kind)
            _walk_route(ck, item.body)
            ck.route_block(None, item)
    ck.finish()
    ctx.loaded[:] = ck.loaded
    ctx.errors.extend(ck.errors)
    ctx.warnings.extend(ck.warnings)


def _walk_route(ck: Checker, node: N.Node) -> None:
    from .typecheck import static_type, TypeMismatch
    for child in node.children():
        _walk_route(ck, child)
    if isinstance(node, N.PVRef):
        why = ck.pv_problem(node.text)
        if why is not None and not node.text.startswith("$avp("):
            ck.err(None, f"Can't get from cache: {node.text} ({why})", node.pos)
    elif isinstance(node, N.Assign):
        ck.lval(None, node.target)
    elif isinstance(node, N.Call) and ck.cat.core_function(node.name) is None:
        class _V:
            def __init__(self, node):
                self.node = node
                self.bad = False
                self.pos = node.pos
        params = [_V(a) for a in node.args]
        ck.module_call(None, _V(node), params, None)
    elif isinstance(node, N.RouteCall):
        t = node.target
        name = t.name if isinstance(t, N.Name) else (str(t.value) if isinstance(t, N.Literal) else None)
        if name is not None:
            ck.route_refs.append(("route", name, node.pos, "called"))
    if isinstance(node, (N.If, N.While, N.Assign, N.Switch, N.Return, N.Exit, N.Drop, N.ExprStmt)):
        expr = getattr(node, "cond", None) or getattr(node, "value", None) or getattr(node, "expr", None)
        if isinstance(expr, N.Expr):
            try:
                static_type(expr)
            except TypeMismatch as e:
                ck.err(None, f"bad expression: {e}", e.node.pos)
