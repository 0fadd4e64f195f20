"""Serial forking by q-value: ``t_load_contacts()`` / ``t_next_contacts()``
(modules/tm/t_serial.c @5.6.3, standard mode).

``t_load_contacts()`` moves the R-URI (when not used yet) and the appended
branches into the XAVP named by the ``contacts_avp`` modparam, highest q first;
each entry has ``uri``, ``dst_uri``, ``path``, ``sock``, ``flags``, ``q_flag``
(set on the last contact of a priority class), ``instance``, ``ruid``, ``ua``.
``t_next_contacts()`` takes the contacts of the next priority class: the first
becomes the R-URI (``$du``, path, socket, branch flags too), the others are
appended as branches; contacts whose ``+sip.instance`` repeats go to the
``contact_flows_avp`` XAVP instead.  It returns -2 when no contact is left.
"""

from __future__ import annotations

from ...sip.output import Branch
from .failure import consume_ruri, ruri_is_new

Q_FLAG = 1 << 2
Q_UNSPECIFIED = -1


def _q(b) -> int:
    q = getattr(b, "q", Q_UNSPECIFIED)
    return Q_UNSPECIFIED if q is None else q


def _sock_str(sock) -> str | None:
    return str(sock) if sock is not None else None


def t_load_contacts(tm, ctx, mode: int = 0) -> int:
    name = tm.param("contacts_avp")
    if not name:
        tm.log(ctx, "ERR", "feature has been disabled - to enable define contacts_avp module parameter")
        return -1
    if mode not in (0, 1):
        tm.log(ctx, "ERR", f"invalid load_contact mode: {mode}, please use 0 (standard) or 1 (proportional)")
        return -1
    branches = list(ctx.branches)
    ruri_new = ruri_is_new(ctx)
    if not branches or (len(branches) == 1 and not ruri_new):
        return 1
    if ruri_new:
        first = {"uri": ctx.ruri, "dst_uri": ctx.dst_uri, "sock": ctx.force_socket, "flags": ctx.bflags,
                 "path": ctx.data.get("path_vec"), "q": ctx.data.get("ruri_q", Q_UNSPECIFIED),
                 "instance": ctx.data.get("instance"), "ruid": ctx.data.get("ruid"),
                 "ua": ctx.data.get("location_ua")}
        rest = branches
    else:
        first, rest = _contact(branches[0]), branches[1:]
    contacts = [first]
    for b in rest:
        c = _contact(b)
        i = 0
        while i < len(contacts) and (contacts[i]["q"] < c["q"] or (contacts[i]["q"] == c["q"] and not c["path"])):
            i += 1
        contacts.insert(i, c)
    contacts[0]["q_flag"] = 0
    for prev, nxt in zip(contacts, contacts[1:]):
        nxt["q_flag"] = Q_FLAG if prev["q"] < nxt["q"] else 0
    items = ctx.xavps.setdefault(name, [])
    for c in contacts:  # lowest q first, each added at the head: the highest q ends up first
        item = {"uri": [c["uri"]]}
        if c["dst_uri"]:
            item["dst_uri"] = [c["dst_uri"]]
        if c["path"]:
            item["path"] = [c["path"]]
        if c["sock"] is not None:
            item["sock"] = [_sock_str(c["sock"])]
        item["flags"] = [c["flags"] or 0]
        item["q_flag"] = [c["q_flag"]]
        for k in ("instance", "ruid", "ua"):
            if c[k]:
                item[k] = [c[k]]
        items.insert(0, item)
    ctx.branches.clear()
    consume_ruri(ctx)
    return 1


def _contact(b) -> dict:
    return {"uri": getattr(b, "uri", b), "dst_uri": getattr(b, "dst_uri", None), "sock": getattr(b, "socket", None),
            "flags": getattr(b, "flags", 0), "path": getattr(b, "path", None), "q": _q(b),
            "instance": getattr(b, "instance", None), "ruid": getattr(b, "ruid", None),
            "ua": getattr(b, "location_ua", None)}


def _field(item: dict, name: str):
    v = item.get(name)
    return v[0] if v else None


def _socket(tm, ctx, text):
    if not text:
        return None, True
    from ...runtime.context import Socket
    try:
        sock = Socket.parse(text)
    except ValueError:
        tm.log(ctx, "ERR", f"parsing of socket info <{text}> failed")
        return None, False
    for s in ctx.script.listen:
        if s.ip == sock.ip and s.port == sock.port and s.proto == sock.proto:
            return s, True
    return None, False


def t_next_contacts(tm, ctx) -> int:
    name = tm.param("contacts_avp")
    if not name:
        tm.log(ctx, "ERR", "feature has been disabled - to enable define contacts_avp module parameter")
        return -1
    items = ctx.xavps.get(name)
    if not items:
        return -2
    first = items[0]
    sock, ok = _socket(tm, ctx, _field(first, "sock"))
    if not ok:
        ctx.xavps.pop(name, None)
        return -1
    q_flag = _field(first, "q_flag") or 0
    instances: list[str] = []
    inst = _field(first, "instance")
    if inst and not q_flag:
        instances.append(inst)
        ctx.data["instance"] = inst
    ctx.new_uri = _field(first, "uri")
    ctx.dst_uri = _field(first, "dst_uri") or None
    path = _field(first, "path")
    if path:
        ctx.data["path_vec"] = path
    else:
        ctx.data.pop("path_vec", None)
    ctx.force_socket = sock
    ctx.bflags = _field(first, "flags") or 0
    ctx.data["ruid"] = _field(first, "ruid")
    ctx.data["location_ua"] = _field(first, "ua")
    del items[0]
    if q_flag:
        _cleanup(ctx, name)
        return 1
    flows = tm.param("contact_flows_avp")
    if flows:
        ctx.xavps.pop(flows, None)
    while items:
        item = items.pop(0)
        q_flag = _field(item, "q_flag") or 0
        sock, ok = _socket(tm, ctx, _field(item, "sock"))
        if not ok:
            ctx.xavps.pop(name, None)
            return -1
        b = Branch(uri=_field(item, "uri") or "", dst_uri=_field(item, "dst_uri"), path=_field(item, "path"),
                   q=0, flags=_field(item, "flags") or 0, socket=sock, instance=_field(item, "instance"),
                   ruid=_field(item, "ruid"), location_ua=_field(item, "ua"))
        if b.instance and b.instance in instances:
            if flows:
                rec = {k: list(v) for k, v in item.items() if k != "q_flag"}
                ctx.xavps.setdefault(flows, []).insert(0, rec)
        else:
            if b.instance and not q_flag:
                instances.append(b.instance)
            ctx.branches.append(b)
        if q_flag:
            break
    _cleanup(ctx, name)
    return 1


def _cleanup(ctx, name: str) -> None:
    if not ctx.xavps.get(name):
        ctx.xavps.pop(name, None)
