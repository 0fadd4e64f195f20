"""htable: shared hash tables (modules/htable @5.6.3).

Tables are declared with ``modparam("htable", "htable", "name=>size=8;autoexpire=300;initval=0;updateexpire=1")``
(``dbtable``/``cols``/``dbmode``/``dmqreplicate`` are accepted and ignored: no
database offline).  They live as long as the loaded script (all messages share
them, as all Kamailio processes do).  Time comes from ``script.clock``.

PVs: ``$sht(t=>key)`` (read: the value, the table's ``initval`` for a missing key
when one is set, else null; an expired item reads as missing; write: string or
int; ``$null`` deletes), ``$shtex(t=>key)`` (seconds left / set the expiry;
only in tables with ``autoexpire``), ``$shtinc``/``$shtdec`` (add 1/-1, return
the new value; null for string items, or missing ones without ``initval``),
``$shtcn(t=>re)``/``$shtcv(t=>re)`` (count names / string values matching: a
regex, or ``~~re``, ``~%suffix``, ``%~prefix``, ``==str``, ``eqINT`` (values),
``**`` (all)), ``$shtitkey(it)``/``$shtitval(it)`` (iterators), ``$shtrecord(key|value)``
(the item being expired, in ``event_route[htable:expired:<table>]``).

Expiry: reads treat an item past its expiry as missing; the module timer
(``ht_timer``, every ``timer_interval`` s, run by :meth:`Script.tick` /
the clock hook ``on_clock``) removes expired items and runs
``event_route[htable:expired:<table>]`` for each.

Functions: sht_rm, sht_rm_name_re, sht_rm_value_re, sht_rm_name, sht_rm_value,
sht_match_name/sht_has_name, sht_match_str_value/sht_has_str_value, sht_reset,
sht_lock/sht_unlock (no-ops: one process), sht_print (``ht_dbg``'s ERR dump: the
slots, cell hashes, allocation sizes and expiry times), sht_setxs, sht_setxi
(returns 0 on success like Kamailio 5.6.3 -- which ends the script), and the
sht_iterator_* family (``sht_iterator_rm`` moves to the next item, -2 after the
last one).  Iteration order is Kamailio's (slot, key hash, insertion), and
updates follow ``ht_set_cell``: in place when the value fits, else a new cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ConfigError
from ..pv.base import PVClass, PVFailed
from ..runtime.subst import compile_re
from ..runtime.values import str2int, to_str
from .base import Module, Param, function


def _icase(b: int) -> int:
    b = b - 256 if b > 127 else b
    return b | 0x20 if 65 <= b <= 90 else b


def ht_hash(name: str) -> int:
    """core ``core_case_hash`` (the htable key hash)."""
    data = name.encode("utf-8", "surrogateescape")
    h = 0
    n = len(data)
    i = 0
    while i <= n - 4:
        v = ((_icase(data[i]) << 24) + (_icase(data[i + 1]) << 16) + (_icase(data[i + 2]) << 8)
             + _icase(data[i + 3])) & 0xFFFFFFFF
        h = (h + (v ^ (v >> 3))) & 0xFFFFFFFF
        i += 4
    v = 0
    while i < n:
        v = ((v << 8) + _icase(data[i])) & 0xFFFFFFFF
        i += 1
    h = (h + (v ^ (v >> 3))) & 0xFFFFFFFF
    return (h + (h >> 11) + (h >> 13) + (h >> 23)) & 0xFFFFFFFF


CELL_SIZE = 72  # sizeof(ht_cell_t) on x86_64: part of the msize sht_print shows


def _blen(s: str) -> int:
    return len(s.encode("utf-8", "surrogateescape"))


def cell_msize(name: str, value) -> int:
    """``ht_cell_new``'s allocation size (shown by sht_print)."""
    n = CELL_SIZE + _blen(name) + 1
    if isinstance(value, str):
        n += _blen(value) + 1
    return n


@dataclass
class Cell:
    name: str
    value: int | str
    expire: int = 0
    hid: int = 0
    seq: int = 0       # insertion order among cells with the same hash
    msize: int = 0     # allocation size: kept when a value is updated in place

    @property
    def flags(self) -> int:
        return 2 if isinstance(self.value, str) else 0  # AVP_VAL_STR


@dataclass
class HTable:
    name: str
    size: int = 8  # number of slots
    autoexpire: int = 0
    initval: int | None = None
    updateexpire: int = 1
    cells: dict = field(default_factory=dict)
    _seq: int = 0

    def _now(self, clock) -> int:
        return int(clock()) if self.autoexpire > 0 else 0

    def expired(self, c: Cell, clock) -> bool:
        return self.autoexpire > 0 and c.expire != 0 and c.expire < int(clock())

    def get(self, key: str, clock) -> Cell | None:
        c = self.cells.get(key)
        if c is None or self.expired(c, clock):
            return None
        return c

    def new_cell(self, key: str, value, expire: int = 0, seq: int | None = None) -> Cell:
        if seq is None:
            self._seq += 1
            seq = self._seq
        c = self.cells[key] = Cell(key, value, expire, ht_hash(key), seq, cell_msize(key, value))
        return c

    def set(self, key: str, value, clock, exv: int = 0) -> None:
        """``ht_set_cell_ex``: update in place when the value fits (an integer,
        or a string no longer than the old string), else a new cell."""
        now = self._now(clock)
        c = self.cells.get(key)
        if c is None:
            self.new_cell(key, value, now + (exv if exv > 0 else self.autoexpire))
            return
        if isinstance(value, str) and (not isinstance(c.value, str) or _blen(c.value) < _blen(value)):
            nc = self.new_cell(key, value, 0, c.seq)
            if exv <= 0:
                nc.expire = now + self.autoexpire if self.updateexpire else c.expire
            # (exv > 0: Kamailio sets the expiry of the freed old cell: the new one keeps 0)
            return
        c.value = value
        if exv > 0:
            c.expire = now + exv
        elif self.updateexpire:
            c.expire = now + self.autoexpire

    def delete(self, key: str) -> bool:
        return self.cells.pop(key, None) is not None

    def add(self, key: str, delta: int, clock) -> Cell | None:
        """``ht_cell_value_add``."""
        now = self._now(clock)
        c = self.cells.get(key)
        if c is not None:
            if now > 0 and c.expire != 0 and c.expire < now:
                if self.initval is None:
                    return None
                c.value = self.initval
            if isinstance(c.value, str):
                return None
            c.value = _wrap(c.value + delta)
            if self.updateexpire:
                c.expire = now + self.autoexpire
            return c
        if self.initval is None:
            return None
        return self.new_cell(key, _wrap(self.initval + delta), now + self.autoexpire)

    def slot(self, c: Cell) -> int:
        return c.hid & (self.size - 1)

    def ordered(self) -> list[Cell]:
        """All cells in Kamailio's order: slot, then hash, then insertion."""
        mask = self.size - 1
        return sorted(self.cells.values(), key=lambda c: (c.hid & mask, c.hid, c.seq))

    def slot_cells(self, i: int) -> list[Cell]:
        return sorted((c for c in self.cells.values() if self.slot(c) == i), key=lambda c: (c.hid, c.seq))

    def successor(self, c: Cell) -> Cell | None:
        """The cell after ``c`` in its slot's list (``it->next``)."""
        i = self.slot(c)
        best = None
        for o in self.cells.values():
            if self.slot(o) == i and (o.hid, o.seq) > (c.hid, c.seq):
                if best is None or (o.hid, o.seq) < (best.hid, best.seq):
                    best = o
        return best

    def first_from(self, i: int) -> tuple[int, Cell | None]:
        """The first cell in slots ``i``, ``i+1``...: (slot, cell) or (size, None)."""
        by_slot: dict[int, Cell] = {}
        for c in self.cells.values():
            k = self.slot(c)
            if k >= i and (k not in by_slot or (c.hid, c.seq) < (by_slot[k].hid, by_slot[k].seq)):
                by_slot[k] = c
        if not by_slot:
            return self.size, None
        k = min(by_slot)
        return k, by_slot[k]


def _wrap(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >= 1 << 31 else v


def parse_table_spec(spec: str) -> HTable:
    """``ht_table_spec``: ``name=>k=v;k=v``; raises ValueError."""
    name, sep, rest = spec.partition("=>")
    name = name.strip()
    if not sep or not name:
        raise ValueError(f"invalid htable parameter [{spec}]")
    size = 4
    t = HTable(name)
    for item in rest.split(";"):
        item = item.strip()
        if not item:
            continue
        k, eq, v = item.partition("=")
        k, v = k.strip(), v.strip()
        if k in ("dbtable", "cols"):
            continue
        if k in ("autoexpire", "size", "dbmode", "updateexpire", "dmqreplicate"):
            if not v.isdigit():
                raise ValueError(f"invalid htable parameter [{spec}]")
            n = int(v)
            if k == "autoexpire":
                t.autoexpire = n
            elif k == "size":
                size = n
            elif k == "updateexpire":
                t.updateexpire = n
        elif k == "initval":
            n = str2int(v)
            if n is None:
                raise ValueError(f"invalid htable parameter [{spec}]")
            t.initval = n
        else:
            raise ValueError(f"invalid htable parameter [{spec}]")
    t.size = 8 if size <= 1 else (1 << 14 if size > 31 else 1 << size)
    return t


# ---------------------------------------------------------------- PVs
class _ShtBase(PVClass):
    takes_name = True

    def parse_name(self, inner, compiler):
        inner = super().parse_name(inner, compiler)
        text = inner.lstrip(" \t\r\n")
        i = 0
        while i < len(text) and text[i] not in "= \t\r\n":
            i += 1
        tname = text[:i]
        rest = text[i:].lstrip(" \t\r\n")
        if not tname or not rest.startswith("=>"):
            raise ValueError(f"invalid htable name [{inner}] (expected table=>key)")
        return tname, compiler.fmt(rest[2:], None)

    def _table(self, ctx, name):
        return self.module.tables.get(name[0])

    @staticmethod
    def _key(ctx, name) -> str:
        return name[1].render(ctx)


class ShtPV(_ShtBase):
    name = "sht"
    writable = True

    def get(self, ctx, name, idx):
        t = self._table(ctx, name)
        if t is None:
            return None
        c = t.get(self._key(ctx, name), ctx.script.clock)
        if c is None:
            return t.initval
        return c.value

    def set(self, ctx, name, idx, value):
        t = self._table(ctx, name)
        if t is None:
            from ..runtime.compiler import AssignError
            raise AssignError("setting pvar failed")
        key = self._key(ctx, name)
        if value is None:
            t.delete(key)
            return
        t.set(key, value if type(value) is int else to_str(value), ctx.script.clock)


class ShtexPV(_ShtBase):
    name = "shtex"
    writable = True

    def get(self, ctx, name, idx):
        t = self._table(ctx, name)
        if t is None:
            return None
        if t.autoexpire == 0:
            return 0
        c = t.cells.get(self._key(ctx, name))
        if c is None:
            return 0
        return (c.expire - int(ctx.script.clock())) & 0xFFFFFFFF

    def set(self, ctx, name, idx, value):
        t = self._table(ctx, name)
        if t is None:
            from ..runtime.compiler import AssignError
            raise AssignError("setting pvar failed")
        if t.autoexpire == 0:
            return
        n = value if type(value) is int else 0
        c = t.cells.get(self._key(ctx, name))
        if c is not None:
            c.expire = int(ctx.script.clock()) + n if n > 0 else 0


class ShtincPV(_ShtBase):
    name = "shtinc"
    delta = 1

    def get(self, ctx, name, idx):
        t = self._table(ctx, name)
        if t is None:
            return None
        c = t.add(self._key(ctx, name), self.delta, ctx.script.clock)
        return None if c is None else c.value


class ShtdecPV(ShtincPV):
    name = "shtdec"
    delta = -1


def count_cells(t: HTable, expr: str, by_value: bool) -> int:
    """``ht_count_cells_re``."""
    if not expr:
        return 0
    op = 0
    if len(expr) >= 2:
        op = {"~~": 1, "~%": 2, "%~": 3, "==": 4, "eq": 5, "**": 6}.get(expr[:2], 0)
    if op == 6:
        return len(t.cells)
    if op:
        if len(expr) <= 2:
            return 0
        sval = expr[2:]
        if op == 5 and not by_value:
            return 0
    else:
        sval, op = expr, 1
    rx = None
    if op == 1:
        try:
            rx = compile_re(sval)
        except ConfigError:
            return 0
    ival = str2int(sval) if op == 5 else None
    cnt = 0
    for c in t.cells.values():
        if op == 5:
            if not isinstance(c.value, str) and c.value == ival:
                cnt += 1
            continue
        if by_value:
            if not isinstance(c.value, str):
                continue
            tv = c.value
        else:
            tv = c.name
        if op == 1 and rx.search(tv):
            cnt += 1
        elif op == 2 and tv.endswith(sval):
            cnt += 1
        elif op == 3 and tv.startswith(sval):
            cnt += 1
        elif op == 4 and tv == sval:
            cnt += 1
    return cnt


class ShtcnPV(_ShtBase):
    name = "shtcn"
    by_value = False

    def get(self, ctx, name, idx):
        t = self._table(ctx, name)
        if t is None:
            return None
        return count_cells(t, self._key(ctx, name), self.by_value)


class ShtcvPV(ShtcnPV):
    name = "shtcv"
    by_value = True


class ShtitkeyPV(PVClass):
    name = "shtitkey"
    takes_name = True
    field = "key"

    def get(self, ctx, name, idx):
        it = self.module.iterators.get(name)
        if it is None or it.get("cur") is None:
            return None
        c = it["cur"]
        return c.name if self.field == "key" else c.value


class ShtitvalPV(ShtitkeyPV):
    name = "shtitval"
    field = "val"


class ShtrecordPV(PVClass):
    name = "shtrecord"
    takes_name = True

    def parse_name(self, inner, compiler):
        inner = super().parse_name(inner, compiler)
        if inner not in ("key", "value"):
            raise ValueError(f"unknown pv name {inner}")
        return inner

    def get(self, ctx, name, idx):
        # the cell being expired while event_route[htable:expired:<table>] runs
        cell = getattr(self.module, "expired_cell", None)
        if cell is None:
            rec = ctx.data.get("sht_expired")
            if rec is None:
                raise PVFailed("$shtrecord")
            return rec[0] if name == "key" else rec[1]
        return cell.name if name == "key" else cell.value


# ---------------------------------------------------------------- module
class HtableModule(Module):
    name = "htable"
    params = {
        "htable": Param("str", multi=True),
        "db_url": Param("str", ""),
        "key_name_column": Param("str", "key_name"),
        "key_type_column": Param("str", "key_type"),
        "value_type_column": Param("str", "value_type"),
        "key_value_column": Param("str", "key_value"),
        "expires_column": Param("str", "expires"),
        "array_size_suffix": Param("str", "::size"),
        "fetch_rows": Param("int", 100),
        "timer_interval": Param("int", 20),
        "db_expires": Param("int", 0),
        "enable_dmq": Param("int", 0),
        "dmq_init_sync": Param("int", 0),
        "timer_procs": Param("int", 0),
        "event_callback": Param("str", ""),
        "event_callback_mode": Param("int", 0),
    }
    pv_classes = (ShtPV, ShtexPV, ShtincPV, ShtdecPV, ShtcnPV, ShtcvPV, ShtitkeyPV, ShtitvalPV, ShtrecordPV)

    def __init__(self, script):
        super().__init__(script)
        self.tables: dict[str, HTable] = {}
        self.iterators: dict[str, dict] = {}
        self.expired_cell: Cell | None = None
        self.next_timer: float | None = None
        try:
            self._started = float(script.clock())
        except Exception:  # pragma: no cover - a script without a clock yet
            self._started = None

    # ---- the expiry timer (``ht_timer``, every ``timer_interval`` seconds)
    def on_clock(self, now: float):
        """``kscript.testing`` clock hook: run the expiry timer when it is due
        (first ``timer_interval`` s after the first look at the clock)."""
        interval = self.param("timer_interval")
        if interval <= 0:
            interval = 20
        if self.next_timer is None:
            start = self._started if self._started is not None else self.script.clock()
            self.next_timer = start + interval
        if now < self.next_timer:
            return None
        self.next_timer += (int((now - self.next_timer) // interval) + 1) * interval
        return self.timer(now)

    def timer(self, now: float | None = None) -> list:
        """One run of ``ht_timer``: drop the expired items of tables with
        ``autoexpire``, running ``event_route[htable:expired:<table>]`` for each
        (``$shtrecord(key|value)``).  Returns the event routes' results."""
        if now is None:
            now = self.script.clock()
        now = int(now)
        out = []
        for t in reversed(list(self.tables.values())):
            if t.autoexpire <= 0:
                continue
            route = ("event", f"htable:expired:{t.name}")
            for c in t.ordered():
                if c.expire != 0 and c.expire < now:
                    if route in self.script.routes:
                        self.expired_cell = c
                        try:
                            res = self.script.run_event_route(route[1])
                        finally:
                            self.expired_cell = None
                        if res is not None:
                            out.append(res)
                    t.cells.pop(c.name, None)
        return out

    def set_param(self, pname, value, pos=None):
        super().set_param(pname, value, pos)
        if pname == "htable":
            try:
                t = parse_table_spec(value)
            except ValueError as e:
                raise ConfigError(str(e), pos) from None
            if t.name not in self.tables:
                self.tables[t.name] = t

    def table(self, name: str) -> HTable | None:
        """A table by name (API for other modules and tests)."""
        return self.tables.get(name)

    @property
    def clock(self):
        return self.script.clock

    def _t(self, ctx, name):
        t = self.tables.get(name)
        if t is None:
            self.log(ctx, "ERR", f"cannot get hash table [{name}]")
        return t

    # ---- removal
    @function("sht_rm", "fmt", "fmt")
    def sht_rm(self, ctx, tname, key):
        if not tname:
            self.log(ctx, "ERR", "cannot get the hash table name")
            return -1
        if not key:
            self.log(ctx, "ERR", "cannot get the item table name")
            return -1
        t = self._t(ctx, tname)
        if t is None:
            return -1
        t.delete(key)
        return 1

    def _rm_re(self, ctx, spec, by_value):
        tname, _, expr = spec.partition("=>")
        t = self.tables.get(tname.strip())
        if t is None:
            return 1
        try:
            rx = compile_re(expr)
        except ConfigError:
            self.log(ctx, "ERR", f"bad re {expr}")
            return -1
        for k, c in list(t.cells.items()):
            v = c.value if by_value else c.name
            if isinstance(v, str) and rx.search(v):
                del t.cells[k]
        return 1

    @function("sht_rm_name_re", "fmt")
    def sht_rm_name_re(self, ctx, spec):
        return self._rm_re(ctx, spec, False)

    @function("sht_rm_value_re", "fmt")
    def sht_rm_value_re(self, ctx, spec):
        return self._rm_re(ctx, spec, True)

    def _rm_items(self, ctx, tname, op, val, by_value):
        if not tname or not op or not val:
            self.log(ctx, "ERR", "cannot get the hash table name" if not tname else "cannot get the match operation"
                     if not op else "cannot the get match value")
            return -1
        t = self._t(ctx, tname)
        if t is None:
            return -1
        if op == "re":
            try:
                rx = compile_re(val)
            except ConfigError:
                self.log(ctx, "ERR", f"bad re {val}")
                return -1
            test = rx.search
        elif op == "sw":
            test = lambda s: s.startswith(val)  # noqa: E731
        else:
            self.log(ctx, "WARN", f"unsupported match operator: {op}")
            return -1
        for k, c in list(t.cells.items()):
            v = c.value if by_value else c.name
            if isinstance(v, str) and test(v):
                del t.cells[k]
        return 1

    @function("sht_rm_name", "fmt", "fmt", "fmt")
    def sht_rm_name(self, ctx, tname, op, val):
        return self._rm_items(ctx, tname, op, val, False)

    @function("sht_rm_value", "fmt", "fmt", "fmt")
    def sht_rm_value(self, ctx, tname, op, val):
        return self._rm_items(ctx, tname, op, val, True)

    def _match(self, ctx, tname, op, val, by_value):
        if not tname or not op or not val:
            return -1
        t = self._t(ctx, tname)
        if t is None:
            return -1
        if op == "eq":
            test = lambda s: s == val  # noqa: E731
        elif op == "ne":
            test = lambda s: s != val  # noqa: E731
        elif op == "sw":
            test = lambda s: s.startswith(val)  # noqa: E731
        elif op == "re":
            try:
                rx = compile_re(val)
            except ConfigError:
                self.log(ctx, "ERR", f"bad re {val}")
                return -1
            test = lambda s: rx.search(s) is not None  # noqa: E731
        else:
            self.log(ctx, "WARN", f"unsupported match operator: {op}")
            return -1
        for c in t.cells.values():
            v = c.value if by_value else c.name
            if isinstance(v, str) and test(v):
                return 1
        return -1

    @function("sht_match_name", "fmt", "fmt", "fmt")
    @function("sht_has_name", "fmt", "fmt", "fmt")
    def sht_match_name(self, ctx, tname, op, val):
        return self._match(ctx, tname, op, val, False)

    @function("sht_match_str_value", "fmt", "fmt", "fmt")
    @function("sht_has_str_value", "fmt", "fmt", "fmt")
    def sht_match_str_value(self, ctx, tname, op, val):
        return self._match(ctx, tname, op, val, True)

    @function("sht_reset", "fmt")
    def sht_reset(self, ctx, tname):
        if not tname:
            self.log(ctx, "ERR", "cannot get hash table name")
            return -1
        t = self._t(ctx, tname)
        if t is None:
            return -1
        t.cells.clear()
        return 1

    @function("sht_lock", "fmt")
    @function("sht_unlock", "fmt")
    def sht_lock(self, ctx, spec):
        tname = spec.partition("=>")[0].strip()
        if tname not in self.tables:
            self.log(ctx, "ERR", "cannot get $sht root")
            return -11
        return 1

    @function("sht_print")
    def sht_print(self, ctx):
        """``ht_dbg``: every table (the last declared first), slot by slot, at ERR."""
        for t in reversed(list(self.tables.values())):
            self.log(ctx, "ERR", f"htable[{t.name}] hid: {ht_hash(t.name)} exp: {t.autoexpire}>")
            for i in range(t.size):
                cells = t.slot_cells(i)
                self.log(ctx, "ERR", f"htable[{i}] -- <{len(cells)}>")
                for c in cells:
                    self.log(ctx, "ERR", f"\tcell: {c.name}")
                    self.log(ctx, "ERR", f"\thid: {c.hid} msize: {c.msize} flags: {c.flags} "
                             f"expire: {c.expire & 0xFFFFFFFF}")
                    if isinstance(c.value, str):
                        self.log(ctx, "ERR", f"\tv-s:{c.value}")
                    else:
                        self.log(ctx, "ERR", f"\tv-i:{c.value}")
        return 1

    @function("sht_setxs", "fmt", "fmt", "fmt", "igp")
    def sht_setxs(self, ctx, tname, key, value, exval):
        if not tname or not key or exval is None:
            return -1
        t = self.tables.get(tname)
        if t is None:
            self.log(ctx, "ERR", f"No such htable: {tname}")
            return -1
        t.set(key, value, self.clock, exval)
        return 1

    @function("sht_setxi", "fmt", "fmt", "igp", "igp")
    def sht_setxi(self, ctx, tname, key, value, exval):
        if not tname or not key or value is None or exval is None:
            return -1
        t = self.tables.get(tname)
        if t is None:
            self.log(ctx, "ERR", f"No such htable: {tname}")
            return -1
        t.set(key, value, self.clock, exval)
        return 0  # sic: 5.6.3 returns 0 here (the script ends)

    # ---- iterators (Kamailio's: a current cell and its slot; the walk follows
    # each slot's list, so writes through the iterator keep the position)
    @function("sht_iterator_start", "fmt", "fmt")
    def sht_iterator_start(self, ctx, iname, tname):
        if not iname or not tname:
            return -1
        t = self.tables.get(tname)
        self.iterators[iname] = {"table": t, "cur": None, "slot": 0}
        if t is None:
            self.log(ctx, "ERR", f"cannot get hash table [{tname}]")
            return -1
        return 1

    def _iter(self, ctx, iname):
        it = self.iterators.get(iname)
        if it is None:
            self.log(ctx, "ERR", f"iterator not found [{iname}]")
            return None
        if it["table"] is None:
            self.log(ctx, "ERR", f"iterator not initialized [{iname}]")
            return None
        return it

    @staticmethod
    def _advance(it, start_slot: int) -> bool:
        it["slot"], it["cur"] = it["table"].first_from(start_slot)
        return it["cur"] is not None

    @function("sht_iterator_next", "fmt")
    def sht_iterator_next(self, ctx, iname):
        it = self._iter(ctx, iname)
        if it is None:
            return -1
        t, cur = it["table"], it["cur"]
        if cur is None:  # first call (or after the walk ended): from slot 0
            return 1 if self._advance(it, 0) else -1
        nxt = t.successor(cur)
        if nxt is not None:
            it["cur"] = nxt
            return 1
        return 1 if self._advance(it, it["slot"] + 1) else -1

    @function("sht_iterator_end", "fmt")
    def sht_iterator_end(self, ctx, iname):
        if iname not in self.iterators:
            self.log(ctx, "ERR", f"iterator not found [{iname}]")
            return -1
        del self.iterators[iname]
        return 1

    def _cur(self, ctx, iname):
        it = self._iter(ctx, iname)
        if it is None:
            return None, None
        if it["cur"] is None:
            self.log(ctx, "ERR", f"iterator not used [{iname}]")
            return None, None
        return it, it["cur"]

    @function("sht_iterator_rm", "fmt")
    def sht_iterator_rm(self, ctx, iname):
        """Remove the current item and move to the next one: -2 when none is left
        (a following sht_iterator_next starts over)."""
        it, c = self._cur(ctx, iname)
        if it is None:
            return -1
        t = it["table"]
        nxt = t.successor(c)
        t.cells.pop(c.name, None)
        if nxt is not None:
            it["cur"] = nxt
            return 1
        return 1 if self._advance(it, it["slot"] + 1) else -2

    @function("sht_iterator_sets", "fmt", "fmt")
    def sht_iterator_sets(self, ctx, iname, value):
        it, c = self._cur(ctx, iname)
        if it is None:
            return -1
        t = it["table"]
        now = int(self.clock())
        if isinstance(c.value, str) and _blen(c.value) >= _blen(value):
            c.value = value
            if t.updateexpire:
                c.expire = now + t.autoexpire
            return 1
        nc = t.new_cell(c.name, value, now + t.autoexpire if t.updateexpire else c.expire, c.seq)
        it["cur"] = nc
        return 1

    @function("sht_iterator_seti", "fmt", "igp")
    def sht_iterator_seti(self, ctx, iname, value):
        if value is None:
            self.log(ctx, "ERR", "cannot get value")
            return -1
        it, c = self._cur(ctx, iname)
        if it is None:
            return -1
        c.value = value
        if it["table"].updateexpire:
            c.expire = int(self.clock()) + it["table"].autoexpire
        return 1

    @function("sht_iterator_setex", "fmt", "igp")
    def sht_iterator_setex(self, ctx, iname, exval):
        if exval is None:
            self.log(ctx, "ERR", "cannot get value")
            return -1
        it, c = self._cur(ctx, iname)
        if it is None:
            return -1
        c.expire = int(self.clock()) + exval
        return 1
