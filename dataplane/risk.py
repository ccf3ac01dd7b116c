"""Thin Python layer over the C pre-trade risk checks (colo.h, risk_*):
Limits builds a whole limits record, Risk judges orders and takes the
events that feed back from matching. Verdicts are reason names ("ok",
"max_qty", ...) from the C table risk_reason_names."""
from __future__ import annotations

import numpy as np

from dataplane._colo import ffi, lib

BUY, SELL = lib.MATCH_BUY, lib.MATCH_SELL
SCOPE_ALL, SCOPE_SESSION, SCOPE_ACCOUNT = (lib.RISK_SCOPE_ALL, lib.RISK_SCOPE_SESSION,
                                           lib.RISK_SCOPE_ACCOUNT)
REASONS = tuple(ffi.string(lib.risk_reason_names[i]).decode()
                for i in range(lib.RISK_REASON_N))

ORDER_FIELDS = {"id": "u8", "time_ns": "u8", "price": "i8", "qty": "u4", "account": "u4",
                "session": "u4", "instrument": "u4", "side": "u1"}
ORDER_DTYPE = np.dtype({"names": list(ORDER_FIELDS), "formats": list(ORDER_FIELDS.values()),
                        "offsets": [ffi.offsetof("struct risk_order", f) for f in ORDER_FIELDS],
                        "itemsize": ffi.sizeof("struct risk_order")})


def _fields(cdata, names) -> dict:
    return {name: getattr(cdata, name) for name in names}


class Limits:
    """A whole limits record for fixed numbers of accounts, sessions and
    instruments: everything allowed but short selling until set. Fields are
    those of the C structs risk_*_limits. It is put in force by Risk() or
    Risk.swap_limits(), which check it first; C then reads it, so it is not
    changed afterwards (Risk keeps it alive)."""

    def __init__(self, accounts: int, sessions: int, instruments: int):
        self.sizes = (accounts, sessions, instruments)
        self._ptr = ffi.gc(lib.risk_limits_create(accounts, sessions, instruments),
                           lib.risk_limits_destroy)
        if self._ptr == ffi.NULL:
            raise ValueError(f"cannot make limits for {self.sizes}")
        self.in_force = False

    def _set(self, entry, fields: dict):
        if self.in_force:
            raise RuntimeError("these limits are in force: build a new record and swap it")
        if entry == ffi.NULL:
            raise IndexError("no such account, session or instrument")
        for name, value in fields.items():
            setattr(entry, name, value)
        return self

    def account(self, account: int, **fields) -> "Limits":
        return self._set(lib.risk_limits_account(self._ptr, account), fields)

    def session(self, session: int, **fields) -> "Limits":
        return self._set(lib.risk_limits_session(self._ptr, session), fields)

    def instrument(self, instrument: int, **fields) -> "Limits":
        return self._set(lib.risk_limits_instrument(self._ptr, instrument), fields)

    def position(self, account: int, instrument: int, **fields) -> "Limits":
        return self._set(lib.risk_limits_position(self._ptr, account, instrument), fields)


class Risk:
    """The checks for one risk stage, holding at most max_orders open orders."""

    def __init__(self, limits: Limits, max_orders: int = 1 << 16, sequential_ids: bool = False):
        self._risk = ffi.gc(lib.risk_create(limits._ptr, max_orders, sequential_ids),
                            lib.risk_destroy)
        if self._risk == ffi.NULL:
            raise ValueError("invalid limits, or out of memory")
        self._use(limits)
        self._ids = ffi.new("uint64_t[]", max_orders)

    def _use(self, limits: Limits):
        limits.in_force = True
        self.limits = limits

    def swap_limits(self, limits: Limits):
        """The whole new record in force from the next order on, or ValueError
        and nothing changed."""
        if lib.risk_swap_limits(self._risk, limits._ptr) != 0:
            raise ValueError("limits refused: invalid or sized differently")
        self._use(limits)

    def order(self, id: int, account: int, session: int, instrument: int, side: int,
              price: int, qty: int, time_ns: int = 0) -> str:
        o = ffi.new("struct risk_order *", {
            "id": id, "account": account, "session": session, "instrument": instrument,
            "side": side, "price": price, "qty": qty, "time_ns": time_ns})
        return REASONS[lib.risk_check_order(self._risk, o)]

    def open_price(self, id: int) -> int:
        """What open order id is reserved at (a market order: its protection
        price), 0 when not open."""
        return lib.risk_open_price(self._risk, id)

    def message(self, session: int, time_ns: int = 0) -> str:
        return REASONS[lib.risk_check_message(self._risk, session, time_ns)]

    def replace(self, id: int, price: int, qty: int, time_ns: int = 0) -> str:
        """Open order id to a new limit price and total open qty: "ok" and
        its reservation moved, or why not and nothing moved."""
        return REASONS[lib.risk_replace(self._risk, id, price, qty, time_ns)]

    @staticmethod
    def _ok(rc: int, what: str):
        if rc != 0:
            raise ValueError(what)

    def fill(self, id: int, qty: int, price: int, open: int):
        """qty of order id traded at price, with open still open in matching."""
        self._ok(lib.risk_fill(self._risk, id, qty, price, open),
                 f"fill of {qty} for {id} refused")

    def cancel(self, id: int, qty: int, open: int):
        self._ok(lib.risk_cancel(self._risk, id, qty, open),
                 f"cancel of {qty} for {id} refused")

    def settle(self, id: int, price: int, open: int):
        """Matching's answer to a replace: order id has open (> 0) open at price."""
        self._ok(lib.risk_settle(self._risk, id, price, open), f"settle of {id} refused")

    def trade(self, instrument: int, price: int):
        self._ok(lib.risk_trade(self._risk, instrument, price), "trade refused")

    def halt(self, instrument: int, halted: bool = True):
        self._ok(lib.risk_halt(self._risk, instrument, halted), "no such instrument")

    def _open_ids(self, n: int) -> list[int]:
        if n < 0:
            raise ValueError("no such scope, session or account")
        return list(self._ids[0:n])

    def kill(self, scope: int, id: int = 0, on: bool = True) -> list[int]:
        """Kill switch on (or off); on: the open orders in scope, to cancel."""
        return self._open_ids(lib.risk_kill(self._risk, scope, id, on, self._ids,
                                            len(self._ids)))

    def disconnect(self, session: int) -> list[int]:
        """The session's open orders to cancel, if it asked for cancel-on-disconnect."""
        return self._open_ids(lib.risk_disconnect(self._risk, session, self._ids,
                                                  len(self._ids)))

    def connect(self, session: int):
        self._ok(lib.risk_connect(self._risk, session), "no such session")

    def open_orders(self) -> int:
        return lib.risk_open_orders(self._risk)

    def account(self, account: int) -> dict:
        out = ffi.new("struct risk_account_state *")
        self._ok(lib.risk_account(self._risk, account, out), "no such account")
        return _fields(out, ("open_buy_notional", "net_bought", "open_orders", "killed"))

    def position(self, account: int, instrument: int) -> dict:
        out = ffi.new("struct risk_position_state *")
        self._ok(lib.risk_position(self._risk, account, instrument, out), "no such position")
        return _fields(out, ("position", "open_buy_qty", "open_sell_qty"))

    def _orders(self, orders: np.ndarray):
        if orders.dtype != ORDER_DTYPE or not orders.flags.c_contiguous:
            raise TypeError("orders must be a contiguous ORDER_DTYPE array")
        return ffi.cast("struct risk_order *", ffi.from_buffer(orders))

    def run(self, orders: np.ndarray) -> dict[str, int]:
        """Checks an ORDER_DTYPE array in C, one order at a time; verdict counts."""
        counts = ffi.new("uint64_t[]", lib.RISK_REASON_N)
        lib.risk_run(self._risk, self._orders(orders), len(orders), counts)
        return dict(zip(REASONS, counts))

    def lookup_run(self, orders: np.ndarray) -> int:
        """The benchmark baseline: the same loop doing only the lookups."""
        return lib.risk_lookup_run(self._risk, self._orders(orders), len(orders))
