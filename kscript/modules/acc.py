"""acc: accounting of requests and transactions (modules/acc @5.6.3), to syslog and to a DB.

Functions: ``acc_log_request(comment)``, ``acc_db_request(comment, table)``,
``acc_request(comment, table)`` -- account the current request now; ``comment``
is ``"<code> <reason>"`` (``"200 OK"``) or any text, PVs allowed.

Transaction accounting, driven by message flags when tm handles the request:
``log_flag``/``db_flag`` account the final reply (>= 200, or 18x with a body and
``early_media``) as "transaction answered"; ``failed_transaction_flag`` makes
negative replies (>= 300, except ``failed_filter`` codes) accounted too;
``log_missed_flag``/``db_missed_flag`` record a negative final reply to an INVITE
as a missed call (``missed_calls`` table) -- once: the missed-call flags are reset
after the record; ``report_ack`` accounts the ACK.

A record is ``method``, ``from_tag``, ``to_tag``, ``callid``, ``sip_code``,
``sip_reason``, ``time`` (DATETIME, now), then the ``db_extra`` (or ``log_extra``)
attributes ``name=$pv;...`` evaluated on the request (the R-URI being the
relayed branch's).  The log line is ``ACC: <what>: timestamp=<unix
time>;method=..;from_tag=..;to_tag=..;call_id=..;code=..;reason=..[;extra=..]``
at ``log_level`` (NOTICE by default).  ``time_mode`` 1-4 add the
``time_attr``/``time_exten`` columns.

Integration with tm: tm calls the ``tmcb_*`` methods below at Kamailio's callback
points (TMCB_REQUEST_IN when a transaction is created, TMCB_RESPONSE_OUT when a
reply goes upstream, TMCB_ON_FAILURE before the failure handling of a negative
final reply -- also when no failure_route is armed --, TMCB_E2EACK_IN for the
ACK of a 2xx).  Without tm (not loaded) acc refuses to start, as Kamailio does.

Not emulated: CDRs (``cdr_enable``), ``multi_leg_info``, other acc engines.
"""

from __future__ import annotations

import time as _time

from .. import db as kdb
from ..db.api import DATETIME, DOUBLE, INT, STR, STRING, DbError, DbVal
from ..errors import ConfigError, NotSupportedError
from .base import Module, Param, function

ACC_REQUEST = "ACC: request accounted: "
ACC_MISSED = "ACC: call missed: "
ACC_ANSWERED = "ACC: transaction answered: "
ACC_ACKED = "ACC: request acknowledged: "

_LEVEL_NAMES = {-5: "ALERT", -4: "BUG", -3: "CRIT", -2: "CRIT", -1: "ERR", 0: "WARN", 1: "NOTICE", 2: "INFO",
                3: "DBG"}


def parse_extra(text: str | None) -> list[tuple[str, str]]:
    """``parse_acc_extra``: ``"name=$pv; name2 = $pv2"`` -> [(name, pv text)]."""
    out: list[tuple[str, str]] = []
    if text is None:
        return out
    from ..pv.spec import PVSyntaxError, scan_pv
    s = text
    i, n = 0, len(s)
    while i < n:
        while i < n and s[i].isspace():
            i += 1
        if i >= n:
            raise ConfigError(f"acc: parse failed in <{text}> around position {i}")
        j = i
        while j < n and not s[j].isspace() and s[j] != "=":
            j += 1
        if j >= n:
            raise ConfigError(f"acc: parse failed in <{text}> around position {j}")
        name = s[i:j]
        if s[j] != "=":
            while j < n and s[j].isspace():
                j += 1
            if j >= n or s[j] != "=":
                raise ConfigError(f"acc: parse failed in <{text}> around position {j}")
        j += 1
        while j < n and s[j].isspace():
            j += 1
        try:
            _spec, end = scan_pv(s, j)
        except PVSyntaxError:
            raise ConfigError(f"acc: parse failed in <{text}> around position {j}") from None
        out.append((name, s[j:end]))
        i = end
        while i < n and s[i].isspace():
            i += 1
        if i < n:
            if s[i] != ";" or i + 1 >= n:
                raise ConfigError(f"acc: parse failed in <{text}> around position {i}")
            i += 1
    return out


def parse_comment(text: str) -> tuple[int, str, str]:
    """``acc_parse_code``: (code, code string, reason) of ``"486 Busy Here"``."""
    if len(text) >= 3 and text[:3].isdigit():
        code = int(text[:3])
        return code, text[:3], text[3:].lstrip()
    return 0, "", text


class AccModule(Module):
    name = "acc"
    params = {
        "early_media": Param("int", 0),
        "failed_transaction_flag": Param("int", -1),
        "failed_filter": Param("str", None),
        "report_ack": Param("int", 0),
        "report_cancels": Param("int", 0),
        "multi_leg_info": Param("str", None),
        "detect_direction": Param("int", 0),
        "acc_prepare_flag": Param("int", -1),
        "acc_prepare_always": Param("int", 0),
        "reason_from_hf": Param("int", 0),
        "acc_extra_nullable": Param("int", 0),
        "log_flag": Param("int", -1),
        "log_missed_flag": Param("int", -1),
        "log_level": Param("int", 1),
        "log_facility": Param("str", None),
        "log_extra": Param("str", None),
        "cdr_enable": Param("int", 0),
        "cdr_skip": Param("str", None),
        "cdr_log_enable": Param("int", 1),
        "cdr_start_on_confirmed": Param("int", 0),
        "cdr_facility": Param("str", None),
        "cdr_extra": Param("str", None),
        "cdr_extra_nullable": Param("int", 0),
        "cdr_start_id": Param("str", "start_time"),
        "cdr_end_id": Param("str", "end_time"),
        "cdr_duration_id": Param("str", "duration"),
        "cdr_expired_dlg_enable": Param("int", 0),
        "db_flag": Param("int", -1),
        "db_missed_flag": Param("int", -1),
        "db_extra": Param("str", None),
        "db_url": Param("str", None),
        "db_table_acc": Param("str", "acc"),
        "db_table_missed_calls": Param("str", "missed_calls"),
        "acc_method_column": Param("str", "method"),
        "acc_from_tag_column": Param("str", "from_tag"),
        "acc_to_tag_column": Param("str", "to_tag"),
        "acc_callid_column": Param("str", "callid"),
        "acc_sip_code_column": Param("str", "sip_code"),
        "acc_sip_reason_column": Param("str", "sip_reason"),
        "acc_time_column": Param("str", "time"),
        "db_insert_mode": Param("int", 0),
        "time_mode": Param("int", 0),
        "time_attr": Param("str", "time_attr"),
        "time_exten": Param("str", "time_exten"),
        "cdrs_table": Param("str", ""),
        "time_format": Param("str", "%Y-%m-%d %H:%M:%S"),
        "clone_msg": Param("int", 1),
        "cdr_on_failed": Param("int", 1),
        "acc_extra_size": Param("int", 64),
        "cdr_extra_size": Param("int", 64),
    }

    def init(self) -> None:
        p = self.param
        if "tm" not in self.script.loaded:
            raise ConfigError("acc: can't load TM API")
        if p("cdr_enable"):
            raise NotSupportedError("acc: CDR generation (cdr_enable) is not emulated by kscript")
        if p("multi_leg_info"):
            raise NotSupportedError("acc: multi_leg_info is not emulated by kscript")
        for f in ("failed_transaction_flag", "log_flag", "log_missed_flag"):
            if p(f) != -1 and not 0 <= p(f) <= 31:
                raise ConfigError(f"acc: {f} set to invalid value")
        self.failed_filter: list[int] = []
        ff = p("failed_filter")
        if ff:
            for part in ff.split(","):
                if len(part) != 3 or not part.isdigit() or int(part) < 300:
                    raise ConfigError("acc: failed to parse failed_filter param")
                self.failed_filter.append(int(part))
        self.log_extra = parse_extra(p("log_extra")) if p("log_extra") is not None else []
        self.db = None
        self.db_extra: list[tuple[str, str]] = []
        self.db_flag = p("db_flag")
        self.db_missed_flag = p("db_missed_flag")
        url = p("db_url")
        if url:
            if p("db_extra") is not None:
                self.db_extra = parse_extra(p("db_extra"))
            try:
                self.db = kdb.connect(self.script, url, lazy_missing=True, who="acc")
            except DbError as e:
                raise ConfigError(f"acc: failed...did you load a database module? ({e})") from None
            for f in ("db_flag", "db_missed_flag"):
                if p(f) != -1 and not 0 <= p(f) <= 31:
                    raise ConfigError(f"acc: {f} set to invalid value")
        else:
            self.db_flag = -1
            self.db_missed_flag = -1
        self._pvs: dict[str, object] = {}

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None

    # ------------------------------------------------------------ flags
    @staticmethod
    def _isset(flags: int, f: int) -> bool:
        return f != -1 and bool(flags & (1 << f))

    def is_log_acc_on(self, flags) -> bool:
        return self._isset(flags, self.param("log_flag"))

    def is_db_acc_on(self, flags) -> bool:
        return self._isset(flags, self.db_flag)

    def is_acc_on(self, flags) -> bool:
        return self.is_log_acc_on(flags) or self.is_db_acc_on(flags)

    def is_log_mc_on(self, flags) -> bool:
        return self._isset(flags, self.param("log_missed_flag"))

    def is_db_mc_on(self, flags) -> bool:
        return self._isset(flags, self.db_missed_flag)

    def is_mc_on(self, flags) -> bool:
        return self.is_log_mc_on(flags) or self.is_db_mc_on(flags)

    def is_failed_acc_on(self, flags) -> bool:
        return self._isset(flags, self.param("failed_transaction_flag"))

    def is_prepare_on(self, flags) -> bool:
        return bool(self.param("acc_prepare_always")) or self._isset(flags, self.param("acc_prepare_flag"))

    # ------------------------------------------------------------ records
    def _pv(self, text: str):
        pv = self._pvs.get(text)
        if pv is None:
            pv = self.script.compiler.pv(text, None)
            self._pvs[text] = pv
        return pv

    def _extras(self, ctx, extras) -> list:
        """``extra2strar``: [(name, str or None, is_int)]."""
        out = []
        for name, pvtext in extras:
            try:
                v = self._pv(pvtext).value(ctx)
            except Exception:  # noqa: BLE001
                self.log(ctx, "ERR", f"failed to get '{name}'")
                v = None
            if v is None:
                out.append((name, None, False))
            else:
                out.append((name, v if isinstance(v, str) else str(v), isinstance(v, int)))
        return out

    @staticmethod
    def _core(ctx, env: dict) -> list[str]:
        """``core2strar``: method, from tag, to tag, call-id, code, reason."""
        msg = ctx.msg
        method = msg.cseq.method if msg.cseq else ""
        try:
            ft = msg.from_.tag if msg.from_ is not None else None
        except Exception:
            ft = None
        to = env.get("to")
        tt = to.tag if to is not None else None
        if not tt and env.get("to_tag"):
            tt = env["to_tag"]
        return [method or "", ft or "", tt or "", msg.call_id or "", env.get("code_s", ""), env.get("reason", "")]

    def _log_record(self, ctx, env: dict, text: str) -> int:
        core = self._core(ctx, env)
        names = ("method", "from_tag", "to_tag", "call_id", "code", "reason")
        parts = [f";{n}={v}" for n, v in zip(names, core)]
        for name, v, _is_int in self._extras(ctx, self.log_extra):
            parts.append(f";{name}={v if v is not None else ''}")
        now = env.get("now")
        if now is None:
            now = self.script.clock()
        ts = int(now)
        tm = self.param("time_mode")
        if tm == 1:
            head = f"timestamp={ts};{self.param('time_exten')}={int((now - ts) * 1e6)}"
        elif tm == 2:
            head = f"timestamp={ts};{self.param('time_attr')}={now:.3f}"
        elif tm in (3, 4):
            t = _time.localtime(ts) if tm == 3 else _time.gmtime(ts)
            head = f"timestamp={ts};{self.param('time_attr')}={_time.strftime(self.param('time_format'), t)}"
        else:
            head = f"timestamp={ts}"
        level = _LEVEL_NAMES.get(self.param("log_level"), "NOTICE")
        ctx.log(level, text + head + "".join(parts), source="acc")
        return 1

    def _db_record(self, ctx, env: dict, table: str) -> int:
        if self.db is None:
            self.log(ctx, "ERR", "db support not configured")
            return -1
        p = self.param
        core = self._core(ctx, env)
        keys = [p("acc_method_column"), p("acc_from_tag_column"), p("acc_to_tag_column"), p("acc_callid_column"),
                p("acc_sip_code_column"), p("acc_sip_reason_column"), p("acc_time_column")]
        vals = [DbVal(STR, v) for v in core]
        now = env.get("now")
        if now is None:
            now = self.script.clock()
        ts = int(now)
        vals.append(DbVal(DATETIME, ts))
        tm = p("time_mode")
        if tm == 1:
            keys += [p("time_attr"), p("time_exten")]
            vals += [DbVal(INT, ts), DbVal(INT, int((now - ts) * 1e6))]
        elif tm == 2:
            keys.append(p("time_attr"))
            vals.append(DbVal(DOUBLE, now))
        elif tm in (3, 4):
            t = _time.localtime(ts) if tm == 3 else _time.gmtime(ts)
            keys.append(p("time_attr"))
            vals.append(DbVal(STRING, _time.strftime(p("time_format"), t)))
        nullable = p("acc_extra_nullable") == 1
        for name, v, _is_int in self._extras(ctx, self.db_extra):
            keys.append(name)
            if v is None and nullable:
                vals.append(DbVal(STR, None))
            else:
                vals.append(DbVal(STR, v if v is not None else ""))
        try:
            self.db.insert(keys, vals, table=table, ctx=ctx)
        except DbError as e:
            self.log(ctx, "ERR", f"failed to insert into database ({e})")
            return -1
        return 1

    # ------------------------------------------------------------ cfg functions
    def _comment_env(self, ctx, comment: str) -> dict:
        code, code_s, reason = parse_comment(comment or "")
        try:
            to = ctx.msg.to
        except Exception:
            to = None
        return {"code": code, "code_s": code_s, "reason": reason, "to": to}

    def _preparse(self, ctx) -> bool:
        try:
            ctx.msg.from_
            return True
        except Exception:
            self.log(ctx, "ERR", "failed to preparse request")
            return False

    @function("acc_log_request", "fmt")
    def acc_log_request(self, ctx, comment):
        if not self._preparse(ctx):
            return -1
        return self._log_record(ctx, self._comment_env(ctx, comment), ACC_REQUEST)

    @function("acc_db_request", "fmt", "fmt")
    def acc_db_request(self, ctx, comment, table):
        if self.db is None:
            self.log(ctx, "ERR", "db support not configured")
            return -1
        if not self._preparse(ctx):
            return -1
        if table is None or len(table) >= 64:
            self.log(ctx, "ERR", "cannot set table name")
            return -1
        return self._db_record(ctx, self._comment_env(ctx, comment), table)

    @function("acc_request", "fmt", "fmt")
    def acc_request(self, ctx, comment, table):
        if "$" in (comment or ""):
            self.log(ctx, "ERR", "cfg variable detected - not supported")
            return -1
        if not self._preparse(ctx):
            return -1
        env = self._comment_env(ctx, comment)
        ret = self._log_record(ctx, env, ACC_REQUEST)
        if self.db is not None:
            ret = self._db_record(ctx, env, table)
            if ret < 0:
                self.log(ctx, "ERR", "acc db request failed")
        return ret

    # ------------------------------------------------------------ tm callbacks
    def tmcb_request_in(self, ctx, t) -> None:
        """TMCB_REQUEST_IN (``acc_onreq``): decide whether the transaction is accounted."""
        flags = ctx.flags
        method = (ctx.msg.method or "").upper()
        if method == "CANCEL" and not self.param("report_cancels"):
            return
        if not (self.is_acc_on(flags) or self.is_mc_on(flags) or self.is_prepare_on(flags)):
            return
        if not self._preparse(ctx):
            return
        t.request.data["acc_tmcb"] = {
            "ack": bool(self.param("report_ack") and self.is_acc_on(flags)),
            "failure": method == "INVITE" and (self.is_mc_on(flags) or self.is_prepare_on(flags)),
        }

    def _registered(self, t) -> dict | None:
        return t.request.data.get("acc_tmcb")

    def _request_ctx(self, t, sink=None, uac_index: int | None = None):
        from .tm.failure import faked_request
        uac = t.uacs[uac_index] if uac_index is not None and 0 <= uac_index < len(t.uacs) else None
        ctx = faked_request(t, sink, uac)
        if uac is not None and uac.uri:
            from ..runtime.context import MsgContext
            MsgContext.__dict__["new_uri"].__set__(ctx, uac.uri)
        return ctx

    def _env(self, t, code: int, reply, reason: str | None, to_tag: str | None) -> dict:
        to = None
        if reply is not None and not isinstance(reply, str):
            try:
                to = reply.msg.to
            except Exception:
                to = None
        if to is None:
            try:
                to = t.request.msg.to
            except Exception:
                to = None
        env = {"code": code, "code_s": str(code), "to": to, "now": self.script.clock()}
        if reply is not None and not isinstance(reply, str) and getattr(reply, "msg", None) is not None:
            msg = reply.msg
            env["code_s"] = "%03d" % msg.status
            r = None
            if self.param("reason_from_hf"):
                r = msg.header("reason")
            env["reason"] = r if r is not None else (msg.reason or "")
        else:
            if reason is None:
                from .tm.reply import error_text
                reason = error_text(code)
            env["reason"] = reason
            env["to_tag"] = to_tag if to_tag is not None else getattr(t, "local_totag", None)
        return env

    def _branch(self, t, code: int) -> int:
        br = getattr(t, "relayed_reply_branch", -1)
        if br is not None and br >= 0:
            return br
        if code >= 300:
            return getattr(t, "picked_branch", -1)
        return -1

    def _should_acc_reply(self, flags: int, reply, code: int) -> bool:
        if code >= 300:
            if not self.is_failed_acc_on(flags):
                return False
            return code not in self.failed_filter
        if not self.is_acc_on(flags):
            return False
        if code < 200:
            if not self.param("early_media"):
                return False
            try:
                cl = reply.msg.content_length if reply is not None and not isinstance(reply, str) else None
            except Exception:
                cl = None
            if not cl:
                return False
        return True

    def on_missed(self, t, code: int, reply, sink=None, reason: str | None = None, to_tag: str | None = None,
                  req_ctx=None) -> None:
        """``on_missed``: the missed-call record; resets the missed-call flags."""
        flags = t.request.flags
        br = self._branch(t, code)
        ctx = self._request_ctx(t, sink, br if br >= 0 else None)
        ctx.flags = flags
        env = self._env(t, code, reply, reason, to_tag)
        reset = 0
        if self.is_log_mc_on(flags):
            self._log_record(ctx, env, ACC_MISSED)
            reset |= 1 << self.param("log_missed_flag")
        if self.is_db_mc_on(flags):
            self._db_record(ctx, env, self.param("db_table_missed_calls"))
            reset |= 1 << self.db_missed_flag
        t.request.flags &= ~reset
        if req_ctx is not None:
            req_ctx.flags &= ~reset

    def tmcb_on_failure(self, t, code: int, reply=None, sink=None, req_ctx=None, reason: str | None = None,
                        to_tag: str | None = None) -> None:
        """TMCB_ON_FAILURE: a negative final reply was picked for an INVITE transaction
        (before the failure_route, whether one is armed or not)."""
        reg = self._registered(t)
        if reg is None or not reg.get("failure"):
            return
        self.on_missed(t, code, reply, sink, reason, to_tag, req_ctx)

    def tmcb_response_out(self, t, code: int, reply=None, sink=None, reason: str | None = None,
                          to_tag: str | None = None) -> None:
        """TMCB_RESPONSE_OUT (``acc_onreply``): a reply was sent upstream; ``reply`` is the
        relayed reply's context, or None / tm's FAKED marker for a locally made reply."""
        reg = self._registered(t)
        if reg is None:
            return
        flags = t.request.flags
        if getattr(t, "is_invite", False) and code >= 300 and self.is_mc_on(flags):
            self.on_missed(t, code, reply, sink, reason, to_tag)
            flags = t.request.flags
        if not self._should_acc_reply(flags, reply, code):
            return
        br = self._branch(t, code)
        ctx = self._request_ctx(t, sink, br if br >= 0 else None)
        ctx.flags = flags
        env = self._env(t, code, reply, reason, to_tag)
        if self.is_log_acc_on(flags):
            self._log_record(ctx, env, ACC_ANSWERED)
        if self.is_db_acc_on(flags):
            self._db_record(ctx, env, self.param("db_table_acc"))

    def tmcb_e2eack_in(self, t, ack_ctx) -> None:
        """TMCB_E2EACK_IN (``acc_onack``): the ACK of a 2xx, with ``report_ack``."""
        reg = self._registered(t)
        if reg is None or not reg.get("ack"):
            return
        if not self._preparse(ack_ctx):
            return
        try:
            to = ack_ctx.msg.to or t.request.msg.to
        except Exception:
            to = None
        from .tm.reply import error_text
        st = getattr(t, "uas_status", 0)
        env = {"code": st, "code_s": str(st), "reason": error_text(st), "to": to, "now": self.script.clock()}
        flags = t.request.flags
        if self.is_log_acc_on(flags):
            self._log_record(ack_ctx, env, ACC_ACKED)
        if self.is_db_acc_on(flags):
            self._db_record(ack_ctx, env, self.param("db_table_acc"))
