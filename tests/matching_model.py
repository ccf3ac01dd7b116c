"""An independent Python model of the matching rules (issue 4, section 1),
written for clarity, not speed: the C engine's reports are checked against it.

A report is a tuple in the order of dataplane.matching.Report:
(type, reason, id, side, price, qty, leaves, maker_id, maker_leaves,
 priority_kept, time_ns).

The rules:
- Price-time priority; a trade prints at the resting order's price; each
  fill names taker (id) and maker, in match order. A market order trades
  like an IOC limited to its price (its protection), but reports price 0.
- A new order is rejected when invalid, its id is live, it could rest and
  the book is full, or it is post-only and would take (checked in that
  order). Otherwise it is accepted, then: FOK and IOC with a minimum are
  cancelled untouched when a dry run of the match would not trade enough;
  then it matches, and the rest rests (limit DAY/GTC) or is cancelled.
- Self-trade prevention: the incoming order's mode decides when the next
  resting order to meet is its own account's; by group, only when it is also
  of the same group. Other accounts always trade, whatever their group.
- Modify: same price and no more qty keeps priority; anything else removes
  the order and enters it again as a taker with its new price and qty. A
  modify refused for qty 0 or post-only reports the price and leaves the
  order still rests with.
- Mass cancel and end of day walk bids then asks, best price first, oldest
  first.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

BUY, SELL = 0, 1
LIMIT, MARKET = 0, 1
DAY, GTC, IOC, FOK = 0, 1, 2, 3
STP_NONE, STP_NEWEST, STP_OLDEST, STP_BOTH, STP_DECREMENT = range(5)


@dataclass
class Resting:
    id: int
    side: int
    price: int
    leaves: int
    account: int
    group: int
    tif: int
    post_only: bool
    stp: int
    stp_by_group: bool


@dataclass
class Taker:
    id: int
    side: int
    type: int
    price: int
    qty: int
    tif: int
    account: int
    group: int
    post_only: int
    stp: int
    stp_by_group: int
    min_qty: int = 0

    @property
    def can_rest(self):
        return self.type == LIMIT and self.tif in (DAY, GTC)

    @property
    def shown_price(self):
        return self.price if self.type == LIMIT else 0

    def reaches(self, price):
        """A market order's price is its protection: it trades no worse."""
        return price <= self.price if self.side == BUY else price >= self.price


def report(type_, id_, side, *, reason="none", price=0, qty=0, leaves=0, maker_id=0,
           maker_leaves=0, priority_kept=0, time_ns=0):
    return (type_, reason, id_, side, price, qty, leaves, maker_id, maker_leaves,
            priority_kept, time_ns)


class ModelBook:
    def __init__(self, max_orders: int):
        self.max_orders = max_orders
        self.queues = ({}, {})  # per side: price -> list of Resting, oldest first
        self.by_id: dict[int, Resting] = {}
        self.time_ns = 0
        self.out: list[tuple] = []

    # -- book --
    def prices(self, side):
        return sorted(self.queues[side], reverse=(side == BUY))

    def best(self, side):
        prices = self.prices(side)
        if not prices:
            return None
        return prices[0], sum(o.leaves for o in self.queues[side][prices[0]])

    def qty_at(self, side, price):
        return sum(o.leaves for o in self.queues[side].get(price, []))

    def live_orders(self):
        return len(self.by_id)

    def _rest(self, t: Taker, leaves):
        o = Resting(t.id, t.side, t.price, leaves, t.account, t.group, t.tif, t.post_only,
                    t.stp, t.stp_by_group)
        self.queues[t.side].setdefault(t.price, []).append(o)
        self.by_id[o.id] = o

    def _take(self, o: Resting, qty):
        o.leaves -= qty
        if o.leaves == 0:
            queue = self.queues[o.side][o.price]
            queue.remove(o)
            if not queue:
                del self.queues[o.side][o.price]
            del self.by_id[o.id]

    def _cancel_resting(self, o: Resting, reason, qty):
        self.out.append(report("cancelled", o.id, o.side, reason=reason, price=o.price,
                               qty=qty, leaves=o.leaves - qty, time_ns=self.time_ns))
        self._take(o, qty)

    def _cancel_taker(self, t: Taker, reason, qty, leaves=0):
        self.out.append(report("cancelled", t.id, t.side, reason=reason, price=t.shown_price,
                               qty=qty, leaves=leaves, time_ns=self.time_ns))

    # -- matching --
    def _next_maker(self, t: Taker):
        opposite = 1 - t.side
        prices = self.prices(opposite)
        if not prices or not t.reaches(prices[0]):
            return None
        return self.queues[opposite][prices[0]][0]

    def _match(self, t: Taker, left):
        """Returns what is left to rest or cancel (0 when STP ended it)."""
        while left > 0:
            m = self._next_maker(t)
            if m is None:
                break
            own = t.account == m.account and (not t.stp_by_group or t.group == m.group)
            if t.stp != STP_NONE and own:
                if t.stp == STP_OLDEST:
                    self._cancel_resting(m, "self_trade", m.leaves)
                elif t.stp == STP_DECREMENT:
                    dec = min(left, m.leaves)
                    self._cancel_resting(m, "self_trade", dec)
                    self._cancel_taker(t, "self_trade", dec, left - dec)
                    left -= dec
                else:
                    if t.stp == STP_BOTH:
                        self._cancel_resting(m, "self_trade", m.leaves)
                    self._cancel_taker(t, "self_trade", left)
                    return 0
                continue
            qty = min(left, m.leaves)
            left -= qty
            self.out.append(report("fill", t.id, t.side, price=m.price, qty=qty, leaves=left,
                                   maker_id=m.id, maker_leaves=m.leaves - qty,
                                   time_ns=self.time_ns))
            self._take(m, qty)
        return left

    def _would_trade(self, t: Taker):
        """Quantity a match would trade, found by matching a copy of the book."""
        trial = copy.deepcopy(self)
        trial.out = []
        trial._match(t, t.qty)
        return sum(r[5] for r in trial.out if r[0] == "fill")

    def _execute(self, t: Taker, qty):
        left = self._match(t, qty)
        if left and t.can_rest:
            self._rest(t, left)
        elif left:
            self._cancel_taker(t, "unfilled", left)

    def _would_take(self, side, price):
        best = self.best(1 - side)
        if best is None:
            return False
        return best[0] <= price if side == BUY else best[0] >= price

    # -- messages --
    def _invalid(self, t: Taker):
        if t.qty <= 0 or t.side not in (BUY, SELL) or t.type not in (LIMIT, MARKET):
            return True
        if t.tif not in (DAY, GTC, IOC, FOK) or t.stp not in range(5):
            return True
        if t.post_only not in (0, 1) or t.stp_by_group not in (0, 1):
            return True
        if t.min_qty and (t.tif != IOC or t.min_qty > t.qty):
            return True
        return bool(t.post_only) and not t.can_rest

    def submit(self, t: Taker, time_ns=0):
        self.time_ns, self.out = time_ns, []
        if self._invalid(t):
            reason = "invalid"
        elif t.id in self.by_id:
            reason = "duplicate_id"
        elif t.can_rest and len(self.by_id) >= self.max_orders:
            reason = "book_full"
        elif t.post_only and self._would_take(t.side, t.price):
            reason = "post_only"
        else:
            reason = None
        if reason:
            side = t.side if t.side in (BUY, SELL) else 0
            self.out.append(report("rejected", t.id, side, reason=reason, time_ns=time_ns))
            return self.out
        self.out.append(report("accepted", t.id, t.side, price=t.shown_price, qty=t.qty,
                               leaves=t.qty, time_ns=time_ns))
        need = t.qty if t.tif == FOK else t.min_qty
        if need and self._would_trade(t) < need:
            self._cancel_taker(t, "fok" if t.tif == FOK else "min_qty", t.qty)
            return self.out
        self._execute(t, t.qty)
        return self.out

    def cancel(self, id_, time_ns=0):
        self.time_ns, self.out = time_ns, []
        o = self.by_id.get(id_)
        if o is None:
            self.out.append(report("cancel_rejected", id_, 0, reason="not_resting",
                                   time_ns=time_ns))
        else:
            self._cancel_resting(o, "user", o.leaves)
        return self.out

    def modify(self, id_, price, qty, time_ns=0):
        self.time_ns, self.out = time_ns, []
        o = self.by_id.get(id_)
        if o is None:
            self.out.append(report("modify_rejected", id_, 0, reason="not_resting",
                                   time_ns=time_ns))
            return self.out
        # Refused, the order rests as it was, and the report says how.
        refused = {"price": o.price, "leaves": o.leaves, "time_ns": time_ns}
        if qty <= 0:
            self.out.append(report("modify_rejected", id_, o.side, reason="invalid", **refused))
            return self.out
        modified = report("modified", id_, o.side, price=price, qty=qty, leaves=qty,
                          time_ns=time_ns)
        if price == o.price and qty <= o.leaves:
            self._take(o, o.leaves - qty)
            self.out.append(modified[:9] + (1,) + modified[10:])
            return self.out
        if o.post_only and self._would_take(o.side, price):
            self.out.append(report("modify_rejected", id_, o.side, reason="post_only",
                                   **refused))
            return self.out
        self._take(o, o.leaves)
        self.out.append(modified)
        t = Taker(o.id, o.side, LIMIT, price, qty, o.tif, o.account, o.group, o.post_only,
                  o.stp, o.stp_by_group)
        self._execute(t, qty)
        return self.out

    def _cancel_all(self, chosen, reason, time_ns):
        self.time_ns, self.out = time_ns, []
        for side in (BUY, SELL):
            for price in self.prices(side):
                for o in list(self.queues[side][price]):
                    if chosen(o):
                        self._cancel_resting(o, reason, o.leaves)
        return self.out

    def mass_cancel(self, account, time_ns=0):
        return self._cancel_all(lambda o: o.account == account, "mass_cancel", time_ns)

    def end_of_day(self, time_ns=0):
        return self._cancel_all(lambda o: o.tif == DAY, "end_of_day", time_ns)
