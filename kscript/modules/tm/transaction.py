"""Transaction state and matching (modules/tm/h_table.c, t_lookup.c @5.6.3).

A :class:`Transaction` is Kamailio's ``struct cell`` for a proxied request: the
request as it was when the transaction was created (its *UAS* side, kept as a
:class:`RequestState` snapshot the failure route is run on), the reply sent
upstream, and one :class:`Uac` per branch sent downstream.

The :class:`TransactionTable` is tm's hash table: transactions are filed under
the hash of Call-ID and CSeq number, and found again by

* :meth:`~TransactionTable.lookup_request` -- retransmissions, ACKs to negative
  replies (RFC 3261 branch matching when the top Via branch has the magic
  cookie, the old header comparison otherwise), and pre-existing CANCELs;
* :meth:`~TransactionTable.lookup_original` -- the INVITE a CANCEL cancels;
* :meth:`~TransactionTable.match_reply` -- the transaction and branch a reply
  belongs to, from the branch tm put in its Via: ``z9hG4bK<hash>.<md5>.<branch>``
  (hash and branch as reversed hex).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any

from ...sip.output import char_msg_val

MCOOKIE = "z9hG4bK"

#: a reply tm generated itself (timeout 408, 487 for an unreplied canceled branch)
FAKED_REPLY = "<faked reply>"

# request retransmission-buffer flags (F_RB_*)
RB_TIMEOUT = "timeout"        # F_RB_TIMEOUT: the FR timer fired on this branch
RB_REPLIED = "replied"        # F_RB_REPLIED: a reply was received
RB_CANCELED = "canceled"      # F_RB_CANCELED: the branch was canceled
RB_RELAYREPLY = "relayreply"  # F_RB_RELAYREPLY: a faked reply is being relayed
RB_FR_INV = "fr_inv"          # F_RB_FR_INV: the FR timer runs with fr_inv_timeout

# kill reasons (enum kill_reason): what the script did with the transaction
KR_EXIST = 1
KR_RPLD = 2
KR_FWDED = 4
KR_RLSD = 8
KR_ERR_DELAYED = 16


def reverse_hex2int(s: str) -> int | None:
    """Kamailio's ``reverse_hex2int`` (least significant digit first); None when bad."""
    if not s or len(s) > 8:
        return None
    n = 0
    for i, ch in enumerate(s):
        try:
            d = int(ch, 16)
        except ValueError:
            return None
        n |= d << (4 * i)
    return n


@dataclass(slots=True)
class RequestState:
    """The request as tm keeps it (``t->uas.request``): what a failure route sees."""

    msg: Any                      # SipMessage (never edited)
    src: Any
    rcv: Any
    new_uri: str | None = None
    dst_uri: str | None = None
    flags: int = 0
    force_rport: bool = False
    add_local_rport: bool = False
    force_socket: Any = None
    avps: dict = field(default_factory=dict)     # shared with the request context
    xavps: dict = field(default_factory=dict)    # shared with the request context
    lumps: Any = None                            # saved at the first t_relay
    reply_lumps: list = field(default_factory=list)
    lumps_saved: bool = False
    data: dict = field(default_factory=dict)     # selected per-message module state
    script: Any = None
    received_at: float = 0.0


@dataclass(eq=False, slots=True)
class Uac:
    """One branch (``struct ua_client``)."""

    index: int
    uri: str = ""                 # R-URI of the branch
    dst: Any = None               # Socket the request went to
    send_sock: Any = None         # local Socket it left from
    request: str | None = None    # the request text (None: blind / not built)
    last_received: int = 0
    reply: Any = None             # None, FAKED_REPLY or the stored reply context
    flags: set = field(default_factory=set)     # RB_* flags
    first_in_step: bool = False   # TM_UAC_FLAG_FB: first branch of a t_relay() step
    blind: bool = False
    on_reply: str | None = None
    on_failure: str | None = None
    on_branch_failure: str | None = None
    branch_flags: int = 0
    local_cancel: str | None = None   # the CANCEL sent on this branch
    cancel_busy: bool = False         # BUSY_BUFFER: a CANCEL is due on this branch
    fr_deadline: float | None = None  # when the final response timer fires
    path: str | None = None
    instance: str | None = None
    ruid: str | None = None
    location_ua: str | None = None
    icode: int = 0

    @property
    def active(self) -> bool:
        """A branch still waiting for a final reply."""
        return self.last_received < 200


@dataclass(eq=False, slots=True)
class Transaction:
    """A server transaction with its client branches (``struct cell``)."""

    hash_index: int
    label: int
    #: MD5 of the transaction key (``char_msg_val``); None until first read (:attr:`md5`)
    _md5: str | None
    request: RequestState
    method: str                        # upper-case request method
    uacs: list = field(default_factory=list)
    flags: set = field(default_factory=set)   # "invite", "canceled", "6xx", "local", "auto_inv_100",...
    uas_status: int = 0
    uas_response: str | None = None    # the last reply sent upstream (for retransmissions)
    uas_dst: Any = None                # where replies go upstream
    uas_sock: Any = None               # local socket replies leave from
    relayed_reply_branch: int = -1     # -2: replied locally
    local_totag: str | None = None
    fwded_totags: list = field(default_factory=list)   # [to-tag, acked] of relayed 2xx (e2e ACKs)
    tmcb: set = field(default_factory=set)             # callbacks other modules registered
    on_failure: str | None = None
    on_branch_failure: str | None = None
    on_reply: str | None = None
    on_branch: str | None = None
    on_branch_delayed: str | None = None
    fr_timeout: float = 30.0           # seconds
    fr_inv_timeout: float = 120.0      # seconds
    created: float = 0.0
    end_of_life: float = 0.0
    kr: int = 0                        # KR_* bits
    tm_error: int = 0
    picked_branch: int = -1
    wait_until: float | None = None    # put on wait: removed from the table then
    cancel_reason: str | None = None   # Reason headers copied from a received CANCEL
    cancel_trans: Any = None           # the CANCEL transaction that canceled us

    @property
    def md5(self) -> str:
        """The key MD5 used in tm branch ids; computed when first needed (relaying,
        matching a reply): most locally answered transactions never need it."""
        v = self._md5
        if v is None:
            v = self._md5 = char_msg_val(self.request.msg)
        return v

    @property
    def is_invite(self) -> bool:
        return "invite" in self.flags

    @property
    def is_local(self) -> bool:
        return "local" in self.flags

    @property
    def canceled(self) -> bool:
        return "canceled" in self.flags

    @property
    def nr_of_outgoings(self) -> int:
        return len(self.uacs)

    @property
    def msg(self):
        return self.request.msg

    def __repr__(self) -> str:
        m = self.request.msg
        return (f"<Transaction {self.method} {m.call_id} cseq={m.cseq.number if m.cseq else '?'} "
                f"status={self.uas_status} branches={len(self.uacs)}>")


# ---------------------------------------------------------------- helpers
def method_of(msg) -> str:
    return (msg.method or "").upper()


def _tid(via) -> str | None:
    br = via.branch
    if br and len(br) > len(MCOOKIE) and br.startswith(MCOOKIE):
        return br[len(MCOOKIE):]
    return None


def _via_matching(inv_via, ack_via) -> bool:
    """``via_matching``: tid, host, port (0 = default), transport."""
    if _tid(inv_via) != _tid(ack_via):
        return False
    if inv_via.host != ack_via.host:
        return False
    p1, p2 = inv_via.port_no, ack_via.port_no
    if p1 != p2:
        if p1 == 0 and p2 not in (5060, 5061):
            return False
        if p2 == 0 and p1 not in (5060, 5061):
            return False
    if inv_via.transport != ack_via.transport:
        return False
    if p1 != p2 and (p1 == 0 or p2 == 0) and (p1 == 5061 or p2 == 5061):
        if inv_via.transport.upper() != "TLS":
            return False
    return True


def _raw_header(msg, key: str) -> str | None:
    """The whole header line of the first ``key`` header (name included, as EQ_STR compares)."""
    for i, h in enumerate(msg.headers):
        if h.key == key:
            start, _, _, end = msg.spans[i]
            return msg.text[start:end]
    return None


def _via1_body(msg) -> str:
    v = msg.vias[0]
    return v.raw or str(v)


def _from_tag(msg) -> str:
    f = msg.from_
    return (f.tag or "") if f is not None else ""


def _to_tag(msg) -> str:
    t = msg.to
    return (t.tag or "") if t is not None else ""


def _to_uri(msg) -> str:
    t = msg.to
    return t.uri if t is not None else ""


def _cseq_num(msg) -> str:
    cs = msg.cseq
    return cs.number if cs is not None else ""


class TransactionTable:
    """tm's hash table: transactions by hash index (Call-ID + CSeq number)."""

    def __init__(self, params: dict | None = None):
        self.entries: dict[int, list[Transaction]] = {}
        self.params = params or {}
        self._label = 0

    # ------------------------------------------------------------ housekeeping
    def next_label(self) -> int:
        self._label += 1
        return self._label

    def insert(self, t: Transaction) -> None:
        self.entries.setdefault(t.hash_index, []).append(t)

    def remove(self, t: Transaction) -> None:
        lst = self.entries.get(t.hash_index)
        if lst and t in lst:
            lst.remove(t)
            if not lst:
                del self.entries[t.hash_index]

    def all(self) -> list[Transaction]:
        return [t for lst in self.entries.values() for t in lst]

    def __len__(self) -> int:
        return sum(len(v) for v in self.entries.values())

    def schedule_wait(self, t: Transaction, until: float) -> None:
        """Put ``t`` on wait: it leaves the table once ``until`` has passed (see purge)."""
        t.wait_until = until
        heap = self.__dict__.setdefault("_wait_heap", [])
        heapq.heappush(heap, (until, id(t), t))

    def purge(self, now: float) -> None:
        """Remove transactions whose wait timer ran out (a heap: no walk of the table)."""
        heap = self.__dict__.get("_wait_heap")
        while heap and heap[0][0] <= now:
            _, _, t = heapq.heappop(heap)
            if t.wait_until is not None and t.wait_until <= now:
                self.remove(t)

    def _param(self, name: str, default: int) -> int:
        v = self.params.get(name, default)
        return v if isinstance(v, int) else default

    # ------------------------------------------------------------ requests
    def lookup_request(self, msg, hash_index: int) -> tuple[int, Transaction | None, bool]:
        """``t_lookup_request``: (1 found | -1 not found | -2 e2e ACK | 0 error,
        transaction, a CANCEL for it already exists)."""
        if not msg.vias or msg.cseq is None or msg.call_id is None or msg.from_ is None or msg.to is None:
            return 0, None, False
        via1 = msg.vias[0]
        entries = self.entries.get(hash_index)
        if not entries and _tid(via1) is not None:
            return -1, None, False  # an empty hash bucket: nothing can match
        method = method_of(msg)
        is_ack = method == "ACK"
        bucket = list(entries or ())
        if _tid(via1) is not None:
            if is_ack:
                def skip(m):  # ~METHOD_INVITE
                    return m != "INVITE"
            else:
                def skip(m):  # ~p_msg->REQ_METHOD
                    return m != method
            st, t, canceled = self._matching_3261(msg, bucket, skip)
            if st == 1:
                return 1, t, canceled
            if st == 2:
                return -2, t, canceled
            return -1, None, canceled
        return self._matching_old(msg, bucket)

    def _matching_3261(self, msg, bucket, skip) -> tuple[int, Transaction | None, bool]:
        method = method_of(msg)
        is_ack = method == "ACK"
        via1 = msg.vias[0]
        canceled = False
        for t in bucket:
            tmsg = t.request.msg
            if (is_ack or t.method != "CANCEL") and skip(t.method):
                continue
            if is_ack and t.uas_status < 300:
                # dialog matching for ACK/2xx: locally replied transactions, or proxied ones
                # with end-to-end ACK callbacks (acc's report_ack)
                if t.relayed_reply_branch == -2 or "e2eack" in t.tmcb:
                    if not (_cseq_num(tmsg) == _cseq_num(msg) and tmsg.call_id == msg.call_id
                            and _from_tag(tmsg) == _from_tag(msg)):
                        continue
                    if t.relayed_reply_branch != -2:
                        if any(tag == _to_tag(msg) for tag, _ in t.fwded_totags):
                            return 2, t, canceled
                        continue
                    if _to_tag(msg) == (t.local_totag or ""):
                        return 1, t, canceled
                continue
            if not _via_matching(tmsg.vias[0], via1):
                continue
            if self._param("callid_matching", 0) and tmsg.call_id != msg.call_id:
                continue
            if t.method == "CANCEL":
                if method != "CANCEL" and not is_ack:
                    canceled = True
                if skip("CANCEL"):
                    continue
            return 1, t, canceled
        return 0, None, canceled

    def _matching_old(self, msg, bucket) -> tuple[int, Transaction | None, bool]:
        method = method_of(msg)
        ruri_m = self._param("ruri_matching", 1)
        via_m = self._param("via1_matching", 1)
        canceled = False
        if method != "ACK":
            for t in bucket:
                tmsg = t.request.msg
                if t.method != method and t.method != "CANCEL":
                    continue
                if tmsg.call_id != msg.call_id or _cseq_num(tmsg) != _cseq_num(msg):
                    continue
                if _raw_header(tmsg, "from") != _raw_header(msg, "from"):
                    continue
                if _raw_header(tmsg, "to") != _raw_header(msg, "to"):
                    continue
                if ruri_m and tmsg.ruri != msg.ruri:
                    continue
                if via_m and _via1_body(tmsg) != _via1_body(msg):
                    continue
                if t.method == "CANCEL" and method != "CANCEL":
                    canceled = True
                    continue
                return 1, t, canceled
            return -1, None, canceled
        for t in bucket:
            tmsg = t.request.msg
            if t.method != "INVITE":
                continue
            if tmsg.call_id != msg.call_id or _cseq_num(tmsg) != _cseq_num(msg):
                continue
            if _to_uri(tmsg) != _to_uri(msg):
                continue
            if t.uas_status < 300:
                if _from_tag(tmsg) != _from_tag(msg):
                    continue
                if t.relayed_reply_branch != -2:
                    if "e2eack" in t.tmcb and any(tag == _to_tag(msg) for tag, _ in t.fwded_totags):
                        return -2, t, canceled
                    continue
                if _to_tag(msg) == (t.local_totag or ""):
                    return 1, t, canceled
                continue
            if _raw_header(tmsg, "from") != _raw_header(msg, "from"):
                continue
            if ruri_m and tmsg.ruri != msg.ruri:
                continue
            if via_m and _via1_body(tmsg) != _via1_body(msg):
                continue
            return 1, t, canceled
        return -1, None, canceled

    def lookup_original(self, msg, hash_index: int) -> Transaction | None:
        """``t_lookupOriginalT``: the transaction a CANCEL refers to."""
        if not msg.vias or msg.cseq is None or msg.call_id is None:
            return None
        bucket = list(self.entries.get(hash_index, ()))
        if _tid(msg.vias[0]) is not None:
            st, t, _ = self._matching_3261(msg, bucket, lambda m: m == "CANCEL")
            return t if st == 1 else None
        ruri_m = self._param("ruri_matching", 1)
        via_m = self._param("via1_matching", 1)
        for t in bucket:
            tmsg = t.request.msg
            if t.method == "CANCEL":
                continue
            if tmsg.call_id != msg.call_id or _cseq_num(tmsg) != _cseq_num(msg):
                continue
            if _raw_header(tmsg, "from") != _raw_header(msg, "from"):
                continue
            if _to_uri(tmsg) != _to_uri(msg):
                continue
            if ruri_m and tmsg.ruri != msg.ruri:
                continue
            if via_m and _via1_body(tmsg) != _via1_body(msg):
                continue
            return t
        return None

    # ------------------------------------------------------------ replies
    @staticmethod
    def parse_branch(br: str | None) -> tuple[int, str, int] | None:
        """(hash index, md5, branch) of a tm branch id, or None."""
        if not br or len(br) <= len(MCOOKIE) or not br.startswith(MCOOKIE):
            return None
        parts = br[len(MCOOKIE):].split(".")
        if len(parts) != 3 or not all(parts):
            return None
        hash_index = reverse_hex2int(parts[0])
        branch = reverse_hex2int(parts[2])
        md5 = parts[1]
        if hash_index is None or branch is None or len(md5) != 32 or hash_index >= 65536:
            return None
        return hash_index, md5, branch

    def match_reply_branch(self, br: str | None) -> tuple[Transaction | None, int]:
        """The transaction and branch a tm branch id belongs to (no method check)."""
        p = self.parse_branch(br)
        if p is None:
            return None, -1
        hash_index, md5, branch = p
        for t in self.entries.get(hash_index, ()):
            if t.md5 == md5 and branch < len(t.uacs):
                return t, branch
        return None, -1

    def match_reply(self, msg) -> tuple[Transaction | None, int]:
        """``t_reply_matching``: (transaction, branch) or (None, -1)."""
        if not msg.vias or msg.cseq is None:
            return None, -1
        p = self.parse_branch(msg.vias[0].branch)
        if p is None:
            return None, -1
        hash_index, md5, branch = p
        cseq_method = msg.cseq.method
        is_cancel = cseq_method == "CANCEL"
        for t in list(self.entries.get(hash_index, ())):
            if t.md5 != md5:
                continue
            if branch >= len(t.uacs):
                continue
            if not (cseq_method == t.request.msg.method
                    or (is_cancel and t.is_invite and t.uacs[branch].local_cancel)):
                continue
            if self._param("callid_matching", 0) and t.request.msg.call_id != msg.call_id:
                continue
            return t, branch
        return None, -1
