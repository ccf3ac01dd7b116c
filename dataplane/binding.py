"""Thin, safe Python layer over the compiled data plane (dataplane._colo)."""
from __future__ import annotations

import numpy as np

from dataplane._colo import ffi, lib

TICK_SIZE = 26
DROP_REASONS = tuple(ffi.string(lib.colo_drop_reason_names[i]).decode()
                     for i in range(lib.COLO_DROP_N))
MSG_EVENTS = tuple(ffi.string(lib.colo_msg_event_names[i]).decode()
                   for i in range(lib.COLO_MSG_EVENT_N))
_SCALARS = ("rx_packets", "rx_bytes", "feed_packets", "messages", "ip_checksum_errors",
            "udp_checksum_errors", "gaps", "gap_messages", "feed_end_of_session",
            "tx_packets", "tx_bytes", "tx_ticks", "tx_heartbeats", "tx_end_of_session", "tx_dropped",
            "igmp_reports", "igmp_leaves", "arp_replies", "rerequests", "rerequest_ticks",
            "rerequests_refused", "bursts")


def _type_name(t: int) -> str:
    """ITCH types are letters; hostile bytes are shown in hex, not raw."""
    return chr(t) if 0x21 <= t <= 0x7e else f"0x{t:02x}"


def counters_snapshot(c) -> dict:
    """A plain dict of a struct md_counters, read while the stage runs."""
    snap = {name: getattr(c, name) for name in _SCALARS}
    for i, line in enumerate("ab"):
        snap[f"line_{line}_packets"] = c.line_packets[i]
        snap[f"line_{line}_gaps"] = c.line_gaps[i]
        snap[f"line_{line}_gap_messages"] = c.line_gap_messages[i]
    snap["drops"] = {name: c.drops[i] for i, name in enumerate(DROP_REASONS)}
    snap["events"] = {name: c.msg_events[i] for i, name in enumerate(MSG_EVENTS)}
    snap["messages_by_type"] = {_type_name(t): c.messages_by_type[t] for t in range(256)
                                if c.messages_by_type[t]}
    snap["ticks_by_type"] = {chr(t): c.ticks_by_type[t] for t in b"TQRHS"}
    snap["burst_cycles"] = np.frombuffer(
        ffi.buffer(c.burst_cycles, 8 * lib.COLO_HIST_BUCKETS), dtype=np.uint64).copy()
    return snap


def _bucket_upper_cycles(i: np.ndarray) -> np.ndarray:
    """Upper bound of each histogram bucket (layout in colo.h)."""
    i = i.astype(np.float64)
    msb = np.floor(i / 8) + 2
    upper = (8 + i % 8 + 1) * 2.0 ** (msb - 3)
    return np.where(i < 8, i + 1, upper)


def burst_percentiles_ns(hist: np.ndarray, tsc_hz: int, quantiles=(0.5, 0.99, 0.999)):
    """Percentiles of burst processing time in ns (upper bucket bounds, so
    never flattering); None when no burst was seen."""
    total = int(hist.sum())
    if total == 0:
        return {q: None for q in quantiles}
    cumulative = np.cumsum(hist)
    uppers = _bucket_upper_cycles(np.arange(len(hist)))
    return {q: float(uppers[np.searchsorted(cumulative, q * total)]) * 1e9 / tsc_hz
            for q in quantiles}


class Normalizer:
    """The C ITCH normalizer alone, in memory: no EAL, no ports."""

    def __init__(self, midnight_ns: int, max_orders: int = 1 << 20, max_symbols: int = 16384,
                 instruments: dict[bytes, int] | None = None):
        params = ffi.new("struct itch_normalizer_params *", {
            "max_orders": max_orders, "max_symbols": max_symbols, "midnight_ns": midnight_ns})
        self._cn = ffi.gc(lib.colo_normalizer_create(params), lib.colo_normalizer_destroy)
        if self._cn == ffi.NULL:
            raise MemoryError(f"cannot allocate a book of {max_orders} orders")
        for symbol, sid in (instruments or {}).items():
            if lib.colo_normalizer_set_symbol_id(self._cn, symbol.ljust(8), sid) != 0:
                raise ValueError(f"instrument {symbol!r} id {sid}: duplicate or invalid")

    @staticmethod
    def ticks_buffer(blocks: bytes):
        """Room for every tick blocks can give: a ticking message is >= 12
        bytes + 2 of length and gives <= 2 ticks."""
        return ffi.new("uint8_t[]", (len(blocks) // 7 + 2) * TICK_SIZE)

    def run_into(self, blocks: bytes, out) -> int:
        """Normalizes MoldUDP64-block-framed messages into out (from
        ticks_buffer); returns how many ticks it wrote."""
        consumed = ffi.new("size_t *")
        n = lib.colo_normalizer_run(self._cn, blocks, len(blocks), out, len(out) // TICK_SIZE,
                                    consumed)
        if consumed[0] != len(blocks):
            raise ValueError(f"blocks truncated at byte {consumed[0]} of {len(blocks)}")
        return n

    def run(self, blocks: bytes) -> bytes:
        """Normalizes MoldUDP64-block-framed messages; returns the ticks."""
        out = self.ticks_buffer(blocks)
        return bytes(ffi.buffer(out, self.run_into(blocks, out) * TICK_SIZE))

    def counters(self) -> dict:
        return counters_snapshot(lib.colo_normalizer_counters(self._cn))
