"""Thin Python layer over the C matching engine (colo.h, match_*): one
MatchingBook per instrument, each call returning its reports as namedtuples."""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from dataplane._colo import ffi, lib

BUY, SELL = lib.MATCH_BUY, lib.MATCH_SELL
LIMIT, MARKET = lib.MATCH_LIMIT, lib.MATCH_MARKET
DAY, GTC, IOC, FOK = lib.MATCH_DAY, lib.MATCH_GTC, lib.MATCH_IOC, lib.MATCH_FOK
STP_NONE, STP_CANCEL_NEWEST, STP_CANCEL_OLDEST, STP_CANCEL_BOTH, STP_DECREMENT = (
    lib.MATCH_STP_NONE, lib.MATCH_STP_CANCEL_NEWEST, lib.MATCH_STP_CANCEL_OLDEST,
    lib.MATCH_STP_CANCEL_BOTH, lib.MATCH_STP_DECREMENT)
CMD_SUBMIT, CMD_CANCEL, CMD_MODIFY, CMD_MASS_CANCEL, CMD_END_OF_DAY = (
    lib.MATCH_CMD_SUBMIT, lib.MATCH_CMD_CANCEL, lib.MATCH_CMD_MODIFY,
    lib.MATCH_CMD_MASS_CANCEL, lib.MATCH_CMD_END_OF_DAY)


def _enum_names(ctype: str, prefix: str) -> tuple[str, ...]:
    """An enum's names in value order, lower case, without their prefix."""
    elements = ffi.typeof(ctype).elements
    return tuple(elements[v][len(prefix):].lower() for v in sorted(elements) if
                 not elements[v].endswith("_N"))


REPORT_TYPES = _enum_names("enum match_report_type", "MATCH_")   # "accepted", "fill", ...
REASONS = _enum_names("enum match_reason", "MATCH_REASON_")      # "none", "user", ...

Report = namedtuple("Report", "type reason id side price qty leaves maker_id maker_leaves "
                              "priority_kept time_ns")


def _struct_dtype(ctype: str, fields: dict[str, str]) -> np.dtype:
    """A numpy dtype laid out as the C struct, from cffi's offsets."""
    return np.dtype({"names": list(fields), "formats": list(fields.values()),
                     "offsets": [ffi.offsetof(ctype, f) for f in fields],
                     "itemsize": ffi.sizeof(ctype)})


REPORT_DTYPE = _struct_dtype("struct match_report", {
    "type": "u1", "reason": "u1", "id": "u8", "side": "u1", "price": "i8", "qty": "u4",
    "leaves": "u4", "maker_id": "u8", "maker_leaves": "u4", "priority_kept": "u1",
    "time_ns": "u8"})
ORDER_FIELDS = {"id": "u8", "price": "i8", "qty": "u4", "min_qty": "u4", "account": "u4",
                "group": "u4", "side": "u1", "type": "u1", "tif": "u1", "post_only": "u1",
                "stp": "u1", "stp_by_group": "u1"}
COMMAND_DTYPE = np.dtype({
    "names": ["time_ns", "cmd"] + [f"order_{f}" for f in ORDER_FIELDS],
    "formats": ["u8", "u1"] + list(ORDER_FIELDS.values()),
    "offsets": [ffi.offsetof("struct match_command", "time_ns"),
                ffi.offsetof("struct match_command", "type")] +
               [ffi.offsetof("struct match_command", "order") +
                ffi.offsetof("struct match_order", f) for f in ORDER_FIELDS],
    "itemsize": ffi.sizeof("struct match_command")})

# Report buffers can be large (2 per order of capacity); only what is written
# is touched, so skip zeroing them.
_new_unzeroed = ffi.new_allocator(should_clear_after_alloc=False)


class MatchingBook:
    """One instrument's book, holding at most max_orders resting orders.
    sequential_ids: ids come from a counter (faster); else any ids."""

    def __init__(self, max_orders: int = 1 << 16, sequential_ids: bool = False):
        self._book = ffi.gc(lib.match_book_create(max_orders, sequential_ids),
                            lib.match_book_destroy)
        if self._book == ffi.NULL:
            raise MemoryError(f"cannot create a book of {max_orders} orders")
        self._room = lib.match_report_room(self._book)
        self._out = _new_unzeroed("struct match_report[]", self._room)

    def _reports(self, n: int) -> list[Report]:
        if n < 0:
            raise ValueError("the engine refused the message")
        rows = np.frombuffer(ffi.buffer(self._out, n * REPORT_DTYPE.itemsize), REPORT_DTYPE)
        return [Report(REPORT_TYPES[r[0]], REASONS[r[1]], *r[2:])
                for r in rows[list(Report._fields)].tolist()]

    def submit(self, id: int, side: int, price: int, qty: int, *, type: int = LIMIT,
               tif: int = DAY, min_qty: int = 0, post_only: bool = False, account: int = 0,
               group: int = 0, stp: int = STP_NONE, stp_by_group: bool = False,
               time_ns: int = 0) -> list[Report]:
        order = ffi.new("struct match_order *", {
            "id": id, "side": side, "price": price, "qty": qty, "type": type, "tif": tif,
            "min_qty": min_qty, "post_only": post_only, "account": account, "group": group,
            "stp": stp, "stp_by_group": stp_by_group})
        return self._reports(lib.match_submit(self._book, order, time_ns, self._out,
                                              self._room))

    def cancel(self, id: int, time_ns: int = 0) -> list[Report]:
        return self._reports(lib.match_cancel(self._book, id, time_ns, self._out, self._room))

    def modify(self, id: int, price: int, qty: int, time_ns: int = 0) -> list[Report]:
        return self._reports(lib.match_modify(self._book, id, price, qty, time_ns, self._out,
                                              self._room))

    def mass_cancel(self, account: int, time_ns: int = 0) -> list[Report]:
        return self._reports(lib.match_mass_cancel(self._book, account, time_ns, self._out,
                                                   self._room))

    def end_of_day(self, time_ns: int = 0) -> list[Report]:
        return self._reports(lib.match_end_of_day(self._book, time_ns, self._out, self._room))

    def best(self, side: int) -> tuple[int, int] | None:
        """(price, total open qty) of the side's best level, or None."""
        price, qty = ffi.new("int64_t *"), ffi.new("uint64_t *")
        return (price[0], qty[0]) if lib.match_best(self._book, side, price, qty) else None

    def qty_at(self, side: int, price: int) -> int:
        return lib.match_qty_at(self._book, side, price)

    def live_orders(self) -> int:
        return lib.match_live_orders(self._book)

    def run(self, commands: np.ndarray, report_ring=None, drain_lcore: int = 1) -> dict:
        """Replays a COMMAND_DTYPE array in C, one message at a time; returns
        the totals (messages, reports, traded_qty, by report type). With a
        report ring (colo_report_ring_create; EAL running), the reports go
        through it to a drain on drain_lcore, which keeps the totals."""
        if commands.dtype != COMMAND_DTYPE or not commands.flags.c_contiguous:
            raise TypeError("commands must be a contiguous COMMAND_DTYPE array")
        totals = ffi.new("struct match_totals *")
        cmds = ffi.cast("struct match_command *", ffi.from_buffer(commands))
        if report_ring is None:
            ret = lib.match_run(self._book, cmds, len(commands), self._out, self._room, totals)
        else:
            if lib.colo_report_drain_launch(drain_lcore, report_ring, totals) != 0:
                raise RuntimeError(f"cannot launch the report drain on lcore {drain_lcore}")
            ret = lib.colo_match_run_to_ring(self._book, cmds, len(commands), self._out,
                                             self._room, report_ring)
            lib.colo_lcore_wait(drain_lcore)
            totals.messages = len(commands) if ret == 0 else 0
        if ret != 0:
            raise ValueError("the engine refused a command")
        return {"messages": totals.messages, "reports": totals.reports,
                "traded_qty": totals.traded_qty,
                "by_type": dict(zip(REPORT_TYPES, totals.by_type))}
