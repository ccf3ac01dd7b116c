"""The C pre-trade risk checks against the Python model (tests/risk_model.py):
hypothesis-generated sequences of orders (limit and market), replaces,
fills, cancels, matching's answers to replaces, messages, limit swaps, kill switches, halts and disconnects
with time passing must give the same verdicts and state; then the named edge
cases, written out by hand."""
from __future__ import annotations

import collections
import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import risk_model as model
from dataplane.risk import (BUY, ORDER_DTYPE, REASONS, SCOPE_ACCOUNT, SCOPE_ALL,
                            SCOPE_SESSION, SELL, Limits, Risk)

SIZES = (3, 3, 3)  # accounts, sessions, instruments
BIG = model.BIG


def random_spec(rnd: random.Random) -> dict:
    """Limits tight enough that every reason comes up: {(kind, *ids): fields}."""
    accounts, sessions, instruments = SIZES
    spec = {}
    for a in range(accounts):
        spec["account", a] = dict(
            max_order_qty=rnd.choice([60, 200, 2**32 - 1]),
            max_order_notional=rnd.choice([50_000, 150_000, BIG]),
            credit_limit=rnd.choice([100_000, 400_000, BIG]),
            max_open_orders=rnd.choice([2, 6, 2**32 - 1]), short_sell=rnd.randrange(2))
    for s in range(sessions):
        spec["session", s] = dict(
            msg_interval_ns=rnd.choice([0, 0, 1_000, 10_000]), msg_burst=rnd.randint(1, 6),
            order_interval_ns=rnd.choice([0, 0, 2_000, 20_000]),
            order_burst=rnd.randint(1, 4), cancel_on_disconnect=rnd.randrange(2))
    for i in range(instruments):
        spec["instrument", i] = dict(
            tick_size=rnd.choice([1, 5]), lot_size=rnd.choice([1, 1, 10]),
            ref_price=rnd.choice([0, 1000]), collar_bp=rnd.choice([0, 500, 1500]),
            collar_ticks=rnd.choice([0, 10, 40]), ref_last_trade=rnd.randrange(2))
    for a in range(accounts):
        for i in range(instruments):
            spec["position", a, i] = dict(
                max_long=rnd.choice([100, 400, BIG]), max_short=rnd.choice([0, 100, BIG]),
                restricted=int(rnd.random() < 0.05))
    return spec


def c_limits(spec: dict) -> Limits:
    limits = Limits(*SIZES)
    for (kind, *ids), fields in spec.items():
        getattr(limits, kind)(*ids, **fields)
    return limits


def model_limits(spec: dict) -> model.ModelLimits:
    limits = model.ModelLimits(*SIZES)
    tables = {"account": limits.accounts, "session": limits.sessions,
              "instrument": limits.instruments}
    for (kind, *ids), fields in spec.items():
        entry = limits.positions[tuple(ids)] if kind == "position" else tables[kind][ids[0]]
        for name, value in fields.items():
            setattr(entry, name, value)
    return limits


class Pair:
    """The C checks and the model side by side, fed the same events."""

    def __init__(self, spec: dict, max_orders: int = 40):
        self.c = Risk(c_limits(spec), max_orders)
        self.py = model.ModelRisk(model_limits(spec), max_orders)

    def same(self, kind: str, *args):
        if kind == "swap_limits":
            self.c.swap_limits(c_limits(args[0]))
            assert self.py.swap_limits(model_limits(args[0]))
            return
        c_result = self.c_call(kind, *args)
        py_result = getattr(self.py, kind)(*args)
        if kind in ("kill", "disconnect"):
            c_result = sorted(c_result)
        assert c_result == py_result, (kind, args)

    def c_call(self, kind, *args):
        if kind in ("fill", "cancel", "settle"):
            try:
                getattr(self.c, kind)(*args)
                return True
            except ValueError:
                return False
        return getattr(self.c, kind)(*args)

    def same_state(self):
        accounts, _, instruments = SIZES
        for a in range(accounts):
            assert self.c.account(a) == self.py.account(a), a
            for i in range(instruments):
                assert self.c.position(a, i) == self.py.position_of(a, i), (a, i)
        assert self.c.open_orders() == len(self.py.orders)
        for id_ in self.py.orders:
            assert self.c.open_price(id_) == self.py.open_price(id_), id_


def random_price(rnd: random.Random) -> int:
    """Mostly a limit near 1000 on or off a tick of 5; some market (0), a
    few negative."""
    roll = rnd.random()
    if roll < 0.01:
        return -rnd.randint(1, 5)
    if roll < 0.07:
        return 0
    return 1000 + rnd.randint(-30, 30) * rnd.choice([1, 5, 5, 5])


def random_event(rnd: random.Random, pair: Pair, now: int) -> tuple:
    accounts, sessions, instruments = SIZES
    roll = rnd.random()
    open_ids = list(pair.py.orders)
    if roll < 0.5:
        return ("order", rnd.randrange(40), rnd.randrange(accounts + (rnd.random() < 0.01)),
                rnd.randrange(sessions), rnd.randrange(instruments), rnd.choice([BUY, SELL]),
                random_price(rnd),
                rnd.choice([1, 10, 20, 50, 100, 150]) if rnd.random() < 0.5 else
                rnd.randint(0, 120), now)
    if roll < 0.6 and (open_ids or rnd.random() < 0.1):
        id_ = rnd.choice(open_ids) if open_ids and rnd.random() < 0.9 else rnd.randrange(50)
        leaves = pair.py.orders[id_].leaves if id_ in pair.py.orders else 10
        qty = rnd.choice([leaves, 2 * leaves, leaves // 2, leaves + 10, rnd.randint(0, 150)])
        return ("replace", id_, random_price(rnd), qty, now)
    if roll < 0.75 and open_ids:
        id_ = rnd.choice(open_ids) if rnd.random() < 0.95 else rnd.randrange(50)
        leaves = pair.py.orders[id_].leaves if id_ in pair.py.orders else 5
        qty = rnd.choice([leaves, rnd.randint(1, max(leaves, 1)), leaves + 1, leaves + 30])
        # What matching still has open: mostly the rest, but a replace on
        # its way may have cut what risk holds below it.
        open_ = rnd.choice([max(leaves - qty, 0)] * 3 + [0, rnd.randint(0, 150)])
        kind = rnd.random()
        if kind < 0.15:
            return ("settle", id_, random_price(rnd), rnd.choice([leaves, qty, open_]))
        if kind < 0.6:
            return ("fill", id_, qty, 1000 + rnd.randint(-40, 40), open_)
        return ("cancel", id_, qty, open_)
    if roll < 0.85:
        return ("message", rnd.randrange(sessions), now)
    if roll < 0.88:
        return ("swap_limits", random_spec(rnd))
    if roll < 0.91:
        scope = rnd.choice([SCOPE_ALL, SCOPE_SESSION, SCOPE_SESSION, SCOPE_ACCOUNT,
                            SCOPE_ACCOUNT])
        return ("kill", scope, rnd.randrange(3), rnd.random() < 0.12)
    if roll < 0.94:
        session = rnd.randrange(sessions)
        return ("disconnect", session) if rnd.random() < 0.3 else ("connect", session)
    if roll < 0.97:
        return ("halt", rnd.randrange(instruments), rnd.random() < 0.2)
    return ("trade", rnd.randrange(instruments), 1000 + rnd.randint(-100, 100))


def check_same(seed: int, events: int):
    rnd = random.Random(seed)
    pair = Pair(random_spec(rnd), max_orders=rnd.choice([8, 40]))
    now = rnd.randrange(10**9)
    for _ in range(events):
        now = max(0, now + rnd.choice([0, 100, 700, 3_000, 30_000, -500]))
        pair.same(*random_event(rnd, pair, now))
        pair.same_state()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32))
def test_generated_sequences_match_model(seed):
    check_same(seed, 300)


@settings(max_examples=8, deadline=None)
@given(st.integers(0, 2**32))
def test_long_generated_sequences_match_model(seed):
    check_same(seed, 5000)


# ---- named edge cases ----

def risk(max_orders=16, **spec_by_kind) -> Risk:
    """One account, session and instrument (two of each when asked), with
    the limits given as kind=fields or kind=(id..., fields)."""
    limits = Limits(2, 2, 2)
    for kind, fields in spec_by_kind.items():
        ids, fields = (fields[:-1], fields[-1]) if isinstance(fields, tuple) else ((0,) * (
            2 if kind == "position" else 1), fields)
        getattr(limits, kind)(*ids, **fields)
    return Risk(limits, max_orders)


def buy(r, id, price=100, qty=10, account=0, session=0, instrument=0, time_ns=0):
    return r.order(id, account, session, instrument, BUY, price, qty, time_ns)


def sell(r, id, price=100, qty=10, account=0, session=0, instrument=0, time_ns=0):
    return r.order(id, account, session, instrument, SELL, price, qty, time_ns)


def prepared(reason: str) -> tuple[Risk, str]:
    """A risk stage set up so that a buy of 10 at 100 (id 1) is refused for
    reason, and that verdict."""
    r = risk(max_orders=2)
    setups = {
        "ok": lambda: None,
        "killed_all": lambda: r.kill(SCOPE_ALL),
        "killed_session": lambda: r.kill(SCOPE_SESSION, 0),
        "killed_account": lambda: r.kill(SCOPE_ACCOUNT, 0),
        "disconnected": lambda: r.disconnect(0),
        "duplicate_id": lambda: buy(r, 1),
        "halted": lambda: r.halt(0),
        "orders_full": lambda: [buy(r, 2, account=1), buy(r, 3, account=1)],
    }
    if reason in setups:
        setups[reason]()
        return r, buy(r, 1)
    if reason == "not_open":
        return r, r.replace(1, 100, 10)
    if reason == "no_reference":
        return r, buy(r, 1, price=0)
    limits = {
        "message_rate": dict(session={"msg_interval_ns": 10, "msg_burst": 1}),
        "order_rate": dict(session={"order_interval_ns": 10, "order_burst": 1}),
        "restricted": dict(position={"restricted": 1}),
        "lot_size": dict(instrument={"lot_size": 3}),
        "tick_size": dict(instrument={"tick_size": 3}),
        "max_qty": dict(account={"max_order_qty": 9}),
        "price_collar": dict(instrument={"ref_price": 120, "collar_ticks": 19}),
        "max_notional": dict(account={"max_order_notional": 999}),
        "max_open_orders": dict(account={"max_open_orders": 0}),
        "credit": dict(account={"credit_limit": 999}),
        "position_limit": dict(position={"max_long": 9}),
    }[reason]
    r = risk(**limits)
    if reason == "message_rate":
        r.message(0)
    if reason == "order_rate":
        buy(r, 2, account=1)
    return r, buy(r, 1)


@pytest.mark.parametrize("reason", [r for r in REASONS if r not in (
    "invalid", "short_sell")])
def test_each_reason(reason):
    assert prepared(reason)[1] == reason


def test_invalid_fields():
    r = risk()
    assert buy(r, 1, qty=0) == "invalid"
    assert buy(r, 1, price=-1) == "invalid"
    assert buy(r, 1, account=2) == buy(r, 1, session=2) == buy(r, 1, instrument=2) == "invalid"
    assert r.order(1, 0, 0, 0, 2, 100, 10) == "invalid"
    assert r.message(2) == "invalid"
    assert buy(r, 1) == "ok"
    assert r.replace(1, 0, 10) == r.replace(1, -1, 10) == r.replace(1, 100, 0) == "invalid"


def test_short_selling_allowed_or_not():
    r = risk()  # short selling is off unless allowed
    assert sell(r, 1) == "short_sell"
    assert buy(r, 2, qty=30) == "ok"
    r.fill(2, 30, 100, 0)
    assert sell(r, 3, qty=20) == "ok"
    assert sell(r, 4, qty=20) == "short_sell"   # 20 of the 30 held are already offered
    assert sell(r, 4, qty=10) == "ok"
    r2 = risk(account={"short_sell": 1}, position={"max_short": 15})
    assert sell(r2, 1, qty=10) == "ok"
    assert sell(r2, 2, qty=10) == "position_limit"  # 20 short with the open sell
    assert sell(r2, 2, qty=5) == "ok"


def test_long_position_limit_counts_open_buys_and_fills():
    r = risk(position={"max_long": 25})
    assert buy(r, 1, qty=20) == "ok"
    assert buy(r, 2, qty=10) == "position_limit"
    r.fill(1, 20, 100, 0)
    assert buy(r, 2, qty=5) == "ok"
    assert r.position(0, 0) == {"position": 20, "open_buy_qty": 5, "open_sell_qty": 0}


def test_reservation_released_on_cancel_and_fill():
    r = risk(account={"credit_limit": 1000})
    assert buy(r, 1, price=100, qty=10) == "ok"
    assert r.account(0)["open_buy_notional"] == 1000
    assert buy(r, 2, price=1, qty=1) == "credit"
    r.cancel(1, 4, 6)
    assert r.account(0)["open_buy_notional"] == 600
    assert buy(r, 2, price=100, qty=4) == "ok"
    # A fill below the limit releases at the limit, spends at the trade price.
    r.fill(1, 6, 90, 0)
    assert r.account(0) == {"open_buy_notional": 400, "net_bought": 540, "open_orders": 1,
                            "killed": 0}
    assert buy(r, 3, price=60, qty=1) == "ok"
    assert buy(r, 4, price=1, qty=1) == "credit"
    assert r.open_orders() == 2
    # Selling what was bought gives the credit back.
    assert sell(r, 5, price=100, qty=6) == "ok"
    r.fill(5, 6, 100, 0)
    assert r.account(0)["net_bought"] == -60
    assert buy(r, 4, price=1, qty=1) == "ok"


def test_fill_and_cancel_of_what_is_not_open_refused():
    r = risk()
    assert buy(r, 1) == "ok"
    for call in (lambda: r.fill(2, 1, 100, 0), lambda: r.cancel(1, 0, 10),
                 lambda: r.fill(1, 1, 0, 9), lambda: r.settle(2, 100, 10),
                 lambda: r.settle(1, 0, 10), lambda: r.settle(1, 100, 0)):
        with pytest.raises(ValueError):
            call()
    r.fill(1, 4, 100, 6)
    assert r.open_orders() == 1
    r.fill(1, 6, 100, 0)                            # matching has nothing left open
    assert r.open_orders() == 0
    with pytest.raises(ValueError):
        r.cancel(1, 1, 0)
    assert buy(r, 1) == "ok"  # a finished id may come back


def test_throttle_refill():
    r = risk(session={"msg_interval_ns": 1000, "msg_burst": 2,
                      "order_interval_ns": 5000, "order_burst": 1})
    t = 10**9
    assert buy(r, 1, time_ns=t) == "ok"
    assert r.message(0, t) == "ok"          # a cancel, say: a message, not an order
    assert r.message(0, t) == "message_rate"
    assert r.message(0, t + 999) == "message_rate"
    assert r.message(0, t + 1000) == "ok"   # refilled by one
    assert buy(r, 2, time_ns=t + 2000) == "order_rate"  # took a message token
    assert buy(r, 2, time_ns=t + 5000) == "ok"
    # Time never goes back: no refill; this took the last message token.
    assert buy(r, 3, time_ns=t + 4000) == "order_rate"
    assert r.message(0, t + 4000) == "message_rate"
    # However long the pause, no more than the burst.
    assert [r.message(0, t + 10**9) for _ in range(3)] == ["ok", "ok", "message_rate"]
    assert buy(r, 4, session=1, time_ns=t) == "ok"  # the other session has its own


@pytest.mark.parametrize("scope,id,hit,spared", [
    (SCOPE_ALL, 0, {1, 2, 3}, []),
    (SCOPE_SESSION, 1, {2}, [dict(account=1, session=0)]),
    (SCOPE_ACCOUNT, 1, {2, 3}, [dict(account=0, session=1)]),
])
def test_kill_switch_each_level(scope, id, hit, spared):
    r = risk()
    assert buy(r, 1, account=0, session=0) == "ok"
    assert buy(r, 2, account=1, session=1) == "ok"
    assert buy(r, 3, account=1, session=0) == "ok"
    assert set(r.kill(scope, id)) == hit
    reason = {SCOPE_ALL: "killed_all", SCOPE_SESSION: "killed_session",
              SCOPE_ACCOUNT: "killed_account"}[scope]
    assert buy(r, 10, account=id, session=id) == reason
    for i, where in enumerate(spared):
        assert buy(r, 20 + i, **where) == "ok"
    for order in hit:  # the caller cancels them; reservations go
        r.cancel(order, 10, 0)
    assert r.kill(scope, id, on=False) == []
    assert buy(r, 10, account=id, session=id) == "ok"


def test_cancel_on_disconnect():
    r = risk(session=(0, {"cancel_on_disconnect": 1}))
    assert buy(r, 1, session=0) == "ok"
    assert buy(r, 2, session=1) == "ok"
    assert sell(r, 3, session=0, account=1, instrument=1) == "short_sell"
    assert buy(r, 3, session=0, account=1, instrument=1) == "ok"
    assert sorted(r.disconnect(0)) == [1, 3]
    assert r.disconnect(1) == []    # it did not ask for cancel-on-disconnect
    assert buy(r, 4, session=0) == buy(r, 4, session=1) == "disconnected"
    r.connect(0)
    assert buy(r, 4, session=0) == "ok"


def test_limits_swap_between_two_orders():
    r = risk(account={"max_order_qty": 100})
    assert buy(r, 1, qty=60) == "ok"
    tighter = Limits(2, 2, 2).account(0, max_order_qty=50)
    r.swap_limits(tighter)
    assert buy(r, 2, qty=60) == "max_qty"
    assert buy(r, 2, qty=50) == "ok"
    with pytest.raises(RuntimeError):
        tighter.account(0, max_order_qty=1000)  # in force: never edited in place
    # An invalid or misshapen record is refused whole: the old one stays.
    bad = Limits(2, 2, 2).account(0, max_order_qty=1000).instrument(1, tick_size=0)
    for refused in (bad, Limits(3, 2, 2)):
        with pytest.raises(ValueError):
            r.swap_limits(refused)
    assert buy(r, 3, qty=60) == "max_qty"


def test_collar_by_percent_ticks_and_last_trade():
    r = risk(instrument={"ref_price": 1000, "collar_bp": 500, "collar_ticks": 100,
                         "tick_size": 1})
    assert [buy(r, i, price=p) for i, p in enumerate([949, 950, 1050, 1051])] == [
        "price_collar", "ok", "ok", "price_collar"]  # 5% narrower than 100 ticks
    r = risk(instrument={"ref_price": 1000, "collar_bp": 500, "collar_ticks": 4,
                         "tick_size": 5, "ref_last_trade": 1})
    assert buy(r, 1, price=1020) == "ok" and buy(r, 2, price=1025) == "price_collar"
    r.trade(0, 1200)                        # the last trade is now the reference
    assert buy(r, 3, price=1220) == "ok" and buy(r, 4, price=1020) == "price_collar"
    r.fill(1, 10, 1000, 0)                  # so is a fill's price
    assert buy(r, 4, price=1020) == "ok"


def test_c_driver_gives_the_verdicts_of_single_calls():
    rnd = random.Random(5)
    spec = random_spec(rnd)
    idle = Pair(spec)  # no open orders: the events are orders and control messages
    rows = [random_event(rnd, idle, 1000 * t) for t in range(2000)]
    fields = ("id", "account", "session", "instrument", "side", "price", "qty", "time_ns")
    events = [e[1:] for e in rows if e[0] == "order"]
    orders = np.zeros(len(events), ORDER_DTYPE)
    for column, name in enumerate(fields):
        orders[name] = [e[column] for e in events]
    one_by_one = Risk(c_limits(spec), 40)
    expected = collections.Counter(one_by_one.order(*e) for e in events)
    counts = Risk(c_limits(spec), 40).run(orders)
    assert {k: v for k, v in counts.items() if v} == dict(expected)
    assert len(expected) > 5


# ---- replace ----

def test_replace_up_and_down_keeps_or_fails_credit():
    r = risk(account={"credit_limit": 1000})
    assert buy(r, 1, price=100, qty=10) == "ok"
    assert r.replace(1, 101, 10) == "credit"        # 1010: over, even by one unit
    assert r.account(0)["open_buy_notional"] == 1000
    assert r.replace(1, 100, 8) == "ok"             # down: room for another
    assert r.account(0)["open_buy_notional"] == 800
    assert buy(r, 2, price=100, qty=2) == "ok"
    assert r.replace(1, 100, 9) == "credit"         # 900 + the other's 200
    assert r.replace(1, 114, 7) == "ok"             # up in price, down in qty: 798
    assert r.account(0)["open_buy_notional"] == 998
    r.fill(1, 7, 100, 0)                            # released at the new price
    assert r.account(0) == {"open_buy_notional": 200, "net_bought": 700, "open_orders": 1,
                            "killed": 0}


def test_refused_replace_changes_nothing():
    r = risk(account={"max_order_qty": 20},
             instrument={"tick_size": 5, "lot_size": 10, "ref_price": 100, "collar_ticks": 4})
    assert buy(r, 1, price=100, qty=10) == "ok"
    before = (r.account(0), r.position(0, 0), r.open_orders())
    for price, qty, reason in [(100, 30, "max_qty"), (101, 10, "tick_size"),
                               (100, 15, "lot_size"), (125, 10, "price_collar")]:
        assert r.replace(1, price, qty) == reason
    assert r.replace(2, 100, 10) == "not_open"
    r.halt(0)
    assert r.replace(1, 100, 20) == "halted"
    r.halt(0, False)
    r.kill(SCOPE_ACCOUNT, 0)
    assert r.replace(1, 100, 20) == "killed_account"
    r.kill(SCOPE_ACCOUNT, 0, on=False)
    r.disconnect(0)
    assert r.replace(1, 100, 20) == "disconnected"
    assert (r.account(0), r.position(0, 0), r.open_orders()) == before
    r.cancel(1, 10, 0)
    assert r.account(0)["open_buy_notional"] == 0 and r.open_orders() == 0


def test_replace_over_position_limit():
    r = risk(account={"short_sell": 1}, position={"max_long": 25, "max_short": 15})
    assert buy(r, 1, qty=20) == "ok"
    assert buy(r, 2, qty=5) == "ok"
    assert r.replace(1, 100, 21) == "position_limit"
    assert r.replace(1, 105, 20) == "ok"            # the same shares at a new price
    assert r.position(0, 0)["open_buy_qty"] == 25
    assert sell(r, 3, qty=10) == "ok"
    assert r.replace(3, 100, 16) == "position_limit"
    assert r.replace(3, 100, 15) == "ok"
    assert r.position(0, 0)["open_sell_qty"] == 15


def test_fills_decided_before_a_replace_book_the_position():
    """Enter buy 100 that crosses and a replace to 1 in one datagram: risk
    judges both before matching's fills of all 100 come back. The fills book
    position and notional all the same, the reservation stops at nothing, and
    the order closes when matching has none of it open."""
    r = risk(account={"credit_limit": 15_000}, position={"max_long": 150})
    assert buy(r, 1, price=100, qty=100) == "ok"
    assert r.replace(1, 100, 1) == "ok"
    r.fill(1, 60, 100, 40)
    assert r.position(0, 0) == {"position": 60, "open_buy_qty": 0, "open_sell_qty": 0}
    assert r.open_orders() == 1                     # matching has 40 of it still
    r.fill(1, 40, 100, 0)
    assert r.position(0, 0) == {"position": 100, "open_buy_qty": 0, "open_sell_qty": 0}
    assert r.account(0) == {"open_buy_notional": 0, "net_bought": 10_000, "open_orders": 0,
                            "killed": 0}
    assert buy(r, 2, price=100, qty=51) == "credit"   # the 100 bought count
    assert buy(r, 2, price=90, qty=51) == "position_limit"
    assert buy(r, 2, price=100, qty=50) == "ok"


def test_replace_settles_to_what_matching_has_open():
    """A replace to 50 judged while a fill of 30 of the old 100 is on its way:
    the fill takes its 30 off the 50, then matching's answer (50 open at the
    new price) is what stays reserved."""
    r = risk()
    assert buy(r, 1, price=100, qty=100) == "ok"
    assert r.replace(1, 101, 50) == "ok"
    r.fill(1, 30, 100, 70)
    assert r.position(0, 0) == {"position": 30, "open_buy_qty": 20, "open_sell_qty": 0}
    r.settle(1, 101, 50)
    assert r.position(0, 0) == {"position": 30, "open_buy_qty": 50, "open_sell_qty": 0}
    assert r.account(0)["open_buy_notional"] == 5050
    r.fill(1, 50, 101, 0)
    assert r.account(0) == {"open_buy_notional": 0, "net_bought": 8050, "open_orders": 0,
                            "killed": 0}


def test_replace_refused_by_matching_puts_the_reservation_back():
    """A post-only bid of 10 at 100 replaced to 19 at 105: risk passes it and
    moves the reservation; matching refuses it (it would take) and reports
    the order resting as before, which is what risk reserves again."""
    r = risk(account={"credit_limit": 2000})
    assert buy(r, 1, price=100, qty=10) == "ok"
    assert r.replace(1, 105, 19) == "ok"
    assert buy(r, 2, price=100, qty=1) == "credit"
    r.settle(1, 100, 10)                            # MODIFY_REJECTED post_only: 10 at 100
    assert r.account(0)["open_buy_notional"] == 1000
    assert r.position(0, 0)["open_buy_qty"] == 10
    assert buy(r, 2, price=100, qty=10) == "ok"


def test_replace_is_a_message_not_a_new_order():
    r = risk(account={"max_open_orders": 1},
             session={"msg_interval_ns": 1000, "msg_burst": 2,
                      "order_interval_ns": 10**6, "order_burst": 1})
    t = 10**9
    assert buy(r, 1, time_ns=t) == "ok"
    assert buy(r, 2, time_ns=t) == "order_rate"     # the second message
    assert r.replace(1, 100, 20, t + 1000) == "ok"  # no order throttle, open order count
    assert r.replace(1, 100, 30, t + 1000) == "message_rate"
    assert r.position(0, 0)["open_buy_qty"] == 20


# ---- market orders ----

def test_market_buy_reserved_at_collar_high():
    r = risk(instrument={"ref_price": 1000, "collar_bp": 500, "tick_size": 7},
             account={"short_sell": 1})
    assert buy(r, 1, price=0, qty=10) == "ok"       # off no tick: there is no price
    assert r.account(0)["open_buy_notional"] == 10500
    assert r.open_price(1) == 1050                  # matching's limit for it
    r.fill(1, 4, 1000, 6)
    assert r.account(0)["open_buy_notional"] == 6300
    r.cancel(1, 6, 0)
    assert r.account(0) == {"open_buy_notional": 0, "net_bought": 4000, "open_orders": 0,
                            "killed": 0}
    r2 = risk(instrument={"ref_price": 1000, "collar_bp": 500},
              account={"max_order_notional": 10499})
    assert buy(r2, 1, price=0, qty=10) == "max_notional"   # judged at 1050
    assert sell(r2, 1, price=0, qty=10) == "short_sell"    # at 950: fits the notional
    # A collar reaching below 0: a market sell is at 1, the lowest price.
    r3 = risk(instrument={"ref_price": 100, "collar_bp": 20000},
              account={"max_order_notional": 9, "short_sell": 1})
    assert sell(r3, 1, price=0, qty=10) == "max_notional"
    assert sell(r3, 1, price=0, qty=9) == "ok"


def test_market_order_with_no_reference_rejected():
    r = risk(instrument={"ref_last_trade": 1, "collar_bp": 500})
    assert buy(r, 1, price=0) == sell(r, 1, price=0) == "no_reference"
    assert buy(r, 1, price=-1) == "invalid"
    assert buy(r, 1, price=100) == "ok"             # a limit order needs none
    r.trade(0, 200)                                 # a last trade is a reference
    assert buy(r, 2, price=0) == "ok"
    assert r.account(0)["open_buy_notional"] == 1000 + 2100


def test_market_order_with_reference_but_no_collar():
    r = risk(instrument={"ref_price": 500, "ref_last_trade": 1},
             account={"short_sell": 1})
    assert buy(r, 1, price=0, qty=10) == "ok"
    assert r.account(0)["open_buy_notional"] == 5000
    assert sell(r, 2, price=0, qty=10) == "ok"
    r.trade(0, 600)
    assert buy(r, 3, price=0, qty=1) == "ok"
    assert r.account(0)["open_buy_notional"] == 5600
    r.fill(1, 10, 550, 0)
    assert r.account(0)["open_buy_notional"] == 600
