"""An independent Python model of the pre-trade risk rules (issue 4,
section 2), written for clarity, not speed: the C checks are compared
against it verdict by verdict.

The rules, checked in this order; the first that fails is the verdict:
- invalid: account, session or instrument unknown, side not buy/sell,
  qty 0, price < 0 (price 0 is a market order);
- kill switches: global, the session's, the account's; then a session
  marked disconnected;
- throttles: a token bucket per session for messages (every message) and
  one for new orders. A bucket holds credit in ns, at most interval * burst,
  gains the time passed (time never runs backwards for it) and each message
  costs one interval; interval 0 means no throttle;
- duplicate: the order id is already open;
- restricted (this account in this instrument), halted;
- lot size; no reference (market orders) or tick size (limit orders);
  max order qty, price collar, max order notional;
- max open orders of the account, the open-order table full;
- buys: open buy notional + net bought notional + this one over the credit
  limit; position + open buys + qty over max long;
- sells: open sells + qty - position is what would be short: above 0 needs
  short selling allowed, and it may not exceed max short.
A market order is judged at a protection price, the worst it may trade at
(matching takes it as the order's limit):
with a collar its bound on the order's side (a buy the top, a sell the
bottom but at least 1), else the reference; no reference, no market order.
An accepted order is open: its notional (buys) and qty are reserved, a
market order's at its protection price. Matching reports each fill and
cancel with what it still has open of the order. A fill always moves
position and net bought notional (at the trade price); a cancel does not.
Either releases the reservation at the order's own price, by its qty but
never below nothing reserved; when matching has nothing open, the order is
gone and so is all it reserved. A trade price becomes the collar reference
of instruments that ask for the last trade.
Collar: the band is the narrower of price * bp / 10000 (rounded down) and
ticks * tick size (0 turns either off); no band or no reference, no collar.

A replace gives an open order a new limit price (> 0) and a new total open
qty (> 0). Checked in this order: invalid (price or qty), not open (the id),
the kill switches and disconnect of the order's session and account, the
message throttle; then the order is judged from restricted on as a new one
would be with the old one gone, except for the limits on how many orders
are open. Accepted, the order is at its new price and qty; refused, it is
as it was. Matching answers a replace later with what it then has open of
the order (at least 1) and at what price (settle): that is what is
reserved from then on.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

BUY, SELL = 0, 1
SCOPE_ALL, SCOPE_SESSION, SCOPE_ACCOUNT = 0, 1, 2
BIG = 1 << 62


@dataclass
class AccountLimits:
    max_order_notional: int = BIG
    credit_limit: int = BIG
    max_order_qty: int = 2**32 - 1
    max_open_orders: int = 2**32 - 1
    short_sell: int = 0


@dataclass
class SessionLimits:
    msg_interval_ns: int = 0
    order_interval_ns: int = 0
    msg_burst: int = 0
    order_burst: int = 0
    cancel_on_disconnect: int = 0


@dataclass
class InstrumentLimits:
    tick_size: int = 1
    ref_price: int = 0
    collar_ticks: int = 0
    lot_size: int = 1
    collar_bp: int = 0
    ref_last_trade: int = 0


@dataclass
class PositionLimits:
    max_long: int = BIG
    max_short: int = BIG
    restricted: int = 0


class ModelLimits:
    def __init__(self, accounts, sessions, instruments):
        self.sizes = (accounts, sessions, instruments)
        self.accounts = [AccountLimits() for _ in range(accounts)]
        self.sessions = [SessionLimits() for _ in range(sessions)]
        self.instruments = [InstrumentLimits() for _ in range(instruments)]
        self.positions = {(a, i): PositionLimits() for a in range(accounts)
                          for i in range(instruments)}


@dataclass
class Bucket:
    credit: int | None = None  # None: never limited yet, full
    last: int = 0

    def take(self, interval, burst, now):
        if interval == 0:
            return True
        if now > self.last:
            self.credit += now - self.last
            self.last = now
        self.credit = min(self.credit, interval * burst)
        if self.credit < interval:
            return False
        self.credit -= interval
        return True

    def fit(self, interval, burst):
        """A new limits record: no more credit than the new bucket holds."""
        if interval != 0:
            cap = interval * burst
            self.credit = cap if self.credit is None else min(self.credit, cap)


@dataclass
class Open:
    id: int
    account: int
    session: int
    instrument: int
    side: int
    price: int
    leaves: int


@dataclass
class ModelRisk:
    limits: ModelLimits
    max_orders: int
    killed_all: bool = False
    killed_sessions: set = field(default_factory=set)
    killed_accounts: set = field(default_factory=set)
    disconnected: set = field(default_factory=set)
    halted: set = field(default_factory=set)
    last_trade: dict = field(default_factory=dict)
    orders: dict = field(default_factory=dict)      # id -> Open
    position: dict = field(default_factory=dict)    # (account, instrument) -> shares
    net_bought: dict = field(default_factory=dict)  # account -> notional

    def __post_init__(self):
        n_sessions = self.limits.sizes[1]
        self.msgs = [Bucket() for _ in range(n_sessions)]
        self.order_buckets = [Bucket() for _ in range(n_sessions)]
        self._fit_buckets()

    def _fit_buckets(self):
        for s, lim in enumerate(self.limits.sessions):
            self.msgs[s].fit(lim.msg_interval_ns, lim.msg_burst)
            self.order_buckets[s].fit(lim.order_interval_ns, lim.order_burst)

    def swap_limits(self, limits: ModelLimits) -> bool:
        if limits.sizes != self.limits.sizes:
            return False
        self.limits = copy.deepcopy(limits)
        self._fit_buckets()
        return True

    # ---- what the checks read ----

    def open_of(self, **match):
        return [o for o in self.orders.values()
                if all(getattr(o, k) == v for k, v in match.items())]

    def open_buy_notional(self, account):
        return sum(o.leaves * o.price for o in self.open_of(account=account, side=BUY))

    def open_qty(self, account, instrument, side):
        return sum(o.leaves for o in self.open_of(account=account, instrument=instrument,
                                                  side=side))

    def reference(self, instrument):
        lim = self.limits.instruments[instrument]
        if lim.ref_last_trade and self.last_trade.get(instrument):
            return self.last_trade[instrument]
        return lim.ref_price

    def collar(self, instrument):
        lim = self.limits.instruments[instrument]
        ref = self.reference(instrument)
        bands = []
        if lim.collar_bp:
            bands.append(ref * lim.collar_bp // 10000)
        if lim.collar_ticks:
            bands.append(lim.collar_ticks * lim.tick_size)
        if ref == 0 or not bands:
            return None
        return ref - min(bands), ref + min(bands)

    def protection_price(self, instrument, side):
        """What a market order is judged at, or None."""
        collar = self.collar(instrument)
        if collar:
            return collar[1] if side == BUY else max(collar[0], 1)
        return self.reference(instrument) or None

    # ---- messages ----

    def order(self, id, account, session, instrument, side, price, qty, time_ns):
        accounts, sessions, instruments = self.limits.sizes
        if not (account < accounts and session < sessions and instrument < instruments
                and side in (BUY, SELL) and qty > 0 and price >= 0):
            return "invalid"
        at = price or self.protection_price(instrument, side)
        reason = (self._sender(account, session, time_ns) or
                  self._new_order(id, session, time_ns) or
                  self._judged(account, instrument, side, price, at, qty, new=True))
        if reason == "ok":
            self.orders[id] = Open(id, account, session, instrument, side, at, qty)
        return reason

    def replace(self, id, price, qty, time_ns):
        if price <= 0 or qty <= 0:
            return "invalid"
        o = self.orders.get(id)
        if o is None:
            return "not_open"
        reason = self._sender(o.account, o.session, time_ns)
        if reason:
            return reason
        del self.orders[id]  # judged as if it were gone
        reason = self._judged(o.account, o.instrument, o.side, price, price, qty, new=False)
        if reason == "ok":
            o.price, o.leaves = price, qty
        self.orders[id] = o
        return reason

    def _sender(self, account, session, now):
        if self.killed_all:
            return "killed_all"
        if session in self.killed_sessions:
            return "killed_session"
        if account in self.killed_accounts:
            return "killed_account"
        if session in self.disconnected:
            return "disconnected"
        sl = self.limits.sessions[session]
        if not self.msgs[session].take(sl.msg_interval_ns, sl.msg_burst, now):
            return "message_rate"
        return None

    def _new_order(self, id, session, now):
        sl = self.limits.sessions[session]
        if not self.order_buckets[session].take(sl.order_interval_ns, sl.order_burst, now):
            return "order_rate"
        if id in self.orders:
            return "duplicate_id"
        return None

    def _judged(self, account, instrument, side, price, at, qty, new):
        """price as sent (0: market), at: what it is judged at (None: no
        reference); new: the limits on how many orders are open apply."""
        al = self.limits.accounts[account]
        il = self.limits.instruments[instrument]
        pl = self.limits.positions[account, instrument]
        if pl.restricted:
            return "restricted"
        if instrument in self.halted:
            return "halted"
        if qty % il.lot_size:
            return "lot_size"
        if at is None:
            return "no_reference"
        if price and price % il.tick_size:
            return "tick_size"
        if qty > al.max_order_qty:
            return "max_qty"
        collar = self.collar(instrument)
        if collar and not collar[0] <= at <= collar[1]:
            return "price_collar"
        if at * qty > al.max_order_notional:
            return "max_notional"
        if new and len(self.open_of(account=account)) >= al.max_open_orders:
            return "max_open_orders"
        if new and len(self.orders) == self.max_orders:
            return "orders_full"
        held = self.position.get((account, instrument), 0)
        if side == BUY:
            used = self.net_bought.get(account, 0) + self.open_buy_notional(account)
            if used + at * qty > al.credit_limit:
                return "credit"
            if held + self.open_qty(account, instrument, BUY) + qty > pl.max_long:
                return "position_limit"
            return "ok"
        short = self.open_qty(account, instrument, SELL) + qty - held
        if short > 0 and not al.short_sell:
            return "short_sell"
        if short > pl.max_short:
            return "position_limit"
        return "ok"

    def open_price(self, id):
        o = self.orders.get(id)
        return o.price if o else 0

    def message(self, session, time_ns):
        if session >= self.limits.sizes[1]:
            return "invalid"
        sl = self.limits.sessions[session]
        return "ok" if self.msgs[session].take(sl.msg_interval_ns, sl.msg_burst,
                                               time_ns) else "message_rate"

    def _take(self, id, qty, open_) -> Open | None:
        o = self.orders.get(id)
        if o is None or qty <= 0:
            return None
        o.leaves = max(o.leaves - qty, 0)
        if open_ == 0:
            del self.orders[id]
        return o

    def fill(self, id, qty, price, open_) -> bool:
        if price <= 0:
            return False
        o = self._take(id, qty, open_)
        if o is None:
            return False
        sign = 1 if o.side == BUY else -1
        key = (o.account, o.instrument)
        self.position[key] = self.position.get(key, 0) + sign * qty
        self.net_bought[o.account] = self.net_bought.get(o.account, 0) + sign * qty * price
        self.last_trade[o.instrument] = price
        return True

    def cancel(self, id, qty, open_) -> bool:
        return self._take(id, qty, open_) is not None

    def settle(self, id, price, open_) -> bool:
        o = self.orders.get(id)
        if o is None or open_ <= 0 or price <= 0:
            return False
        o.price, o.leaves = price, open_
        return True

    def trade(self, instrument, price):
        self.last_trade[instrument] = price

    def halt(self, instrument, halted):
        (self.halted.add if halted else self.halted.discard)(instrument)

    def kill(self, scope, id, on) -> list[int]:
        flags = {SCOPE_SESSION: self.killed_sessions, SCOPE_ACCOUNT: self.killed_accounts}
        if scope == SCOPE_ALL:
            self.killed_all = on
        else:
            (flags[scope].add if on else flags[scope].discard)(id)
        if not on:
            return []
        match = {SCOPE_ALL: {}, SCOPE_SESSION: {"session": id},
                 SCOPE_ACCOUNT: {"account": id}}[scope]
        return sorted(o.id for o in self.open_of(**match))

    def disconnect(self, session) -> list[int]:
        self.disconnected.add(session)
        if not self.limits.sessions[session].cancel_on_disconnect:
            return []
        return sorted(o.id for o in self.open_of(session=session))

    def connect(self, session):
        self.disconnected.discard(session)

    def account(self, account):
        return {"open_buy_notional": self.open_buy_notional(account),
                "net_bought": self.net_bought.get(account, 0),
                "open_orders": len(self.open_of(account=account)),
                "killed": int(account in self.killed_accounts)}

    def position_of(self, account, instrument):
        return {"position": self.position.get((account, instrument), 0),
                "open_buy_qty": self.open_qty(account, instrument, BUY),
                "open_sell_qty": self.open_qty(account, instrument, SELL)}
