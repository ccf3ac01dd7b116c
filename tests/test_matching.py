"""The C matching engine against the Python model (tests/matching_model.py):
hypothesis-generated message sequences must give identical reports, and the
named edge cases of issue 4 give the reports written out here by hand."""
from __future__ import annotations

import json
import random
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import matching_model as model
from dataplane_helpers import ROOT
from dataplane import matching as m
from dataplane.matching import BUY, DAY, FOK, GTC, IOC, LIMIT, MARKET, SELL, MatchingBook

PRICES = range(94, 107)  # every price the generated messages use


def taker(o: dict) -> model.Taker:
    return model.Taker(o["id"], o["side"], o["type"], o["price"], o["qty"], o["tif"],
                       o["account"], o["group"], o["post_only"], o["stp"],
                       o["stp_by_group"], o["min_qty"])


def apply(book, msg, time_ns):
    """One message to the C book or to the model; its reports as tuples."""
    kind, *args = msg
    if isinstance(book, model.ModelBook) and kind == "submit":
        return book.submit(taker(args[0]), time_ns)
    if kind == "submit":
        return [tuple(r) for r in book.submit(**args[0], time_ns=time_ns)]
    return [tuple(r) for r in getattr(book, kind)(*args, time_ns=time_ns)]


def check_same(messages, max_orders=30, sequential_ids=False):
    c_book = MatchingBook(max_orders, sequential_ids)
    py_book = model.ModelBook(max_orders)
    for t, msg in enumerate(messages):
        assert apply(c_book, msg, t) == apply(py_book, msg, t), (t, msg)
        for side in (BUY, SELL):
            assert c_book.best(side) == py_book.best(side), (t, msg, side)
        assert c_book.live_orders() == py_book.live_orders()
    for side in (BUY, SELL):
        for price in PRICES:
            assert c_book.qty_at(side, price) == py_book.qty_at(side, price)


def order(id, side, price, qty, **kw):
    """A submit message, plain limit DAY unless told otherwise."""
    fields = dict(id=id, side=side, price=price, qty=qty, type=LIMIT, tif=DAY, min_qty=0,
                  post_only=0, account=0, group=0, stp=m.STP_NONE, stp_by_group=0)
    fields.update(kw)
    return ("submit", fields)


# ---- generated sequences ----

class MessageMaker:
    """Mostly valid, often crossing messages on few ids, prices and accounts,
    so reuse, duplicates, STP and full books all come up; cancels and
    modifies mostly name an id submitted before."""

    def __init__(self, n_ids=60):
        self.n_ids, self.submitted = n_ids, []

    def target(self, rnd):
        if self.submitted and rnd.random() < 0.85:
            return rnd.choice(self.submitted[-50:])
        return rnd.randrange(self.n_ids)

    def __call__(self, rnd: random.Random) -> tuple:
        roll = rnd.random()
        if roll < 0.15:
            return ("cancel", self.target(rnd))
        if roll < 0.30:
            return ("modify", self.target(rnd), rnd.choice(PRICES),
                    rnd.choice([0, 1, 3, 8, 20]))
        if roll < 0.303:
            return ("mass_cancel", rnd.randrange(4))
        if roll < 0.304:
            return ("end_of_day",)
        side = rnd.choice([BUY, SELL])
        tif = rnd.choice([DAY, DAY, GTC, GTC, GTC, IOC, FOK])
        self.submitted.append(rnd.randrange(self.n_ids))
        market = rnd.random() < 0.05
        price = 100 + rnd.randint(-6, 1) * (1 - 2 * side)
        if market and rnd.random() < 0.5:  # a protection beyond every price
            price = 1 if side == SELL else 1000
        msg = order(self.submitted[-1], side, price,
                    rnd.choice([0] + [rnd.randint(1, 25)] * 40),
                    type=MARKET if market else LIMIT, tif=tif,
                    min_qty=rnd.choice([1, 5, 15, 30]) if rnd.random() < 0.05 + 0.5 * (
                        tif == IOC) else 0,
                    post_only=int(rnd.random() < 0.1 + 0.1 * (tif < IOC)),
                    account=rnd.randrange(4), group=rnd.randrange(2),
                    stp=rnd.randrange(m.STP_DECREMENT + 1),
                    stp_by_group=int(rnd.random() < 0.3))
        if rnd.random() < 0.01:  # a field out of its range
            field = rnd.choice(["side", "type", "tif", "post_only", "stp", "stp_by_group"])
            msg[1][field] = rnd.choice([2, 5, 255])
        return msg


def messages_from(seeds, n_ids=60):
    make = MessageMaker(n_ids)
    return [make(random.Random(seed)) for seed in seeds]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(0, 2**32), min_size=50, max_size=400), st.booleans())
def test_generated_sequences_match_model(seeds, sequential_ids):
    check_same(messages_from(seeds), sequential_ids=sequential_ids)


@settings(max_examples=12, deadline=None)
@given(st.integers(0, 2**32))
def test_long_generated_sequences_match_model(seed):
    rnd = random.Random(seed)
    check_same(messages_from([rnd.getrandbits(32) for _ in range(4000)], n_ids=1000),
               max_orders=300, sequential_ids=seed % 2)


# ---- named edge cases ----

def test_ioc_residual_cancelled():
    b = MatchingBook()
    b.submit(1, SELL, 100, 5)
    r = b.submit(2, BUY, 101, 8, tif=IOC)
    assert [x.type for x in r] == ["accepted", "fill", "cancelled"]
    assert (r[1].price, r[1].qty, r[1].leaves, r[1].maker_id) == (100, 5, 3, 1)
    assert (r[2].reason, r[2].qty, r[2].leaves) == ("unfilled", 3, 0)
    assert b.best(BUY) is None and b.best(SELL) is None


def test_fok_leaves_book_untouched():
    b = MatchingBook()
    b.submit(1, SELL, 100, 5)
    b.submit(2, SELL, 101, 5)
    r = b.submit(3, BUY, 101, 11, tif=FOK)
    assert [(x.type, x.reason) for x in r] == [("accepted", "none"), ("cancelled", "fok")]
    assert (b.qty_at(SELL, 100), b.qty_at(SELL, 101), b.live_orders()) == (5, 5, 2)
    r = b.submit(4, BUY, 101, 10, tif=FOK)
    assert [(x.type, x.maker_id, x.qty) for x in r[1:]] == [("fill", 1, 5), ("fill", 2, 5)]


def test_post_only_rejected_when_it_would_take():
    b = MatchingBook()
    b.submit(1, SELL, 100, 5)
    r = b.submit(2, BUY, 100, 1, post_only=True)
    assert [(x.type, x.reason) for x in r] == [("rejected", "post_only")]
    assert b.submit(3, BUY, 99, 1, post_only=True)[0].type == "accepted"
    refused = b.modify(3, 100, 2)[0]
    assert (refused.type, refused.reason, refused.price, refused.leaves) == (
        "modify_rejected", "post_only", 99, 1)  # as it still rests
    assert b.best(BUY) == (99, 1)


def test_modify_crossing_the_spread_trades():
    b = MatchingBook()
    b.submit(1, SELL, 101, 4)
    b.submit(2, BUY, 99, 10)
    r = b.modify(2, 101, 10)
    assert [x.type for x in r] == ["modified", "fill"]
    assert (r[0].priority_kept, r[1].price, r[1].qty, r[1].leaves) == (0, 101, 4, 6)
    assert b.best(BUY) == (101, 6) and b.best(SELL) is None


def test_modify_priority():
    b = MatchingBook()
    for i in (1, 2, 3):
        b.submit(i, BUY, 100, 10)
    assert b.modify(1, 100, 4)[0].priority_kept == 1   # decrease: stays first
    assert b.modify(2, 100, 12)[0].priority_kept == 0  # increase: goes last
    r = b.submit(9, SELL, 100, 30)
    assert [x.maker_id for x in r if x.type == "fill"] == [1, 3, 2]


def test_cancel_after_full_fill_rejected_and_id_reused():
    b = MatchingBook()
    b.submit(7, SELL, 100, 5)
    b.submit(8, BUY, 100, 5)
    assert b.cancel(7)[0][:2] == ("cancel_rejected", "not_resting")
    assert b.modify(7, 100, 1)[0][:2] == ("modify_rejected", "not_resting")
    assert b.submit(7, BUY, 99, 3)[0].type == "accepted"  # a finished id may be reused
    assert b.submit(7, BUY, 98, 3)[0][:2] == ("rejected", "duplicate_id")
    assert b.cancel(7)[0][:3] == ("cancelled", "user", 7)


def test_sweep_of_5000_resting_orders():
    b = MatchingBook(10_000)
    for i in range(5000):
        b.submit(i, SELL, 1000 + i // 10, 2)
    r = b.submit(99_999, BUY, 2000, 10_001)
    fills = [x for x in r if x.type == "fill"]
    assert [x.maker_id for x in fills] == list(range(5000))
    assert fills[-1].leaves == 1 and b.best(BUY) == (2000, 1)
    assert b.best(SELL) is None and b.live_orders() == 1


def test_best_price_after_level_empties():
    b = MatchingBook()
    b.submit(1, BUY, 100, 5)
    b.submit(2, BUY, 100, 5)
    b.submit(3, BUY, 98, 5)
    b.cancel(1)
    assert b.best(BUY) == (100, 5)
    b.submit(4, SELL, 100, 5)
    assert b.best(BUY) == (98, 5) and b.qty_at(BUY, 100) == 0
    b.cancel(3)
    assert b.best(BUY) is None
    b.submit(5, BUY, 97, 1)
    assert b.best(BUY) == (97, 1)


@pytest.mark.parametrize("stp, expect, sell_left, best_bid", [
    (m.STP_CANCEL_NEWEST, [("cancelled", 9, 8, 0)], 10, None),
    (m.STP_CANCEL_OLDEST, [("cancelled", 1, 5, 0), ("fill", 9, 5, 3)], 0, (100, 3)),
    (m.STP_CANCEL_BOTH, [("cancelled", 1, 5, 0), ("cancelled", 9, 8, 0)], 5, None),
    (m.STP_DECREMENT, [("cancelled", 1, 5, 0), ("cancelled", 9, 5, 3), ("fill", 9, 3, 0)],
     2, None),
])
def test_self_trade_prevention(stp, expect, sell_left, best_bid):
    """Order 9 (account 7) meets its own order 1, then order 2 of account 8."""
    b = MatchingBook()
    b.submit(1, SELL, 100, 5, account=7)
    b.submit(2, SELL, 100, 5, account=8)
    r = b.submit(9, BUY, 100, 8, account=7, stp=stp)
    assert [(x.type, x.id, x.qty, x.leaves) for x in r[1:]] == expect
    assert all(x.reason == "self_trade" for x in r if x.type == "cancelled")
    assert b.qty_at(SELL, 100) == sell_left and b.best(BUY) == best_bid


def test_self_trade_by_group_is_within_the_account():
    """Order 3 (account 1, group 4) trades with its account's group 3, not its own group."""
    b = MatchingBook()
    b.submit(1, SELL, 100, 5, account=1, group=3)
    b.submit(2, SELL, 100, 5, account=1, group=4)
    r = b.submit(3, BUY, 100, 8, account=1, group=4, stp=m.STP_CANCEL_OLDEST, stp_by_group=True)
    assert [(x.type, x.reason, x.id, x.qty) for x in r[1:]] == [
        ("fill", "none", 3, 5), ("cancelled", "self_trade", 2, 5)]
    assert b.best(BUY) == (100, 3)
    r = b.submit(4, SELL, 100, 5, account=1, group=3, stp=m.STP_CANCEL_NEWEST)
    assert [(x.type, x.reason) for x in r[1:]] == [("cancelled", "self_trade")]  # by account


@pytest.mark.parametrize("stp", [m.STP_CANCEL_NEWEST, m.STP_CANCEL_OLDEST, m.STP_CANCEL_BOTH,
                                 m.STP_DECREMENT])
def test_other_accounts_with_the_same_group_trade(stp):
    """Group ids are the accounts' own: equal groups of two accounts are not one owner."""
    b = MatchingBook()
    b.submit(1, SELL, 100, 5, account=1, group=0)
    b.submit(2, SELL, 100, 5, account=2, group=0)
    r = b.submit(3, BUY, 100, 10, account=3, group=0, stp=stp, stp_by_group=True)
    assert [(x.type, x.maker_id, x.qty) for x in r[1:]] == [("fill", 1, 5), ("fill", 2, 5)]
    assert b.live_orders() == 0


def test_minimum_quantity():
    b = MatchingBook()
    b.submit(1, SELL, 100, 3)
    b.submit(2, SELL, 102, 3)
    r = b.submit(3, BUY, 101, 10, tif=IOC, min_qty=4)
    assert [(x.type, x.reason) for x in r] == [("accepted", "none"), ("cancelled", "min_qty")]
    assert b.live_orders() == 2
    r = b.submit(4, BUY, 102, 10, tif=IOC, min_qty=6)
    assert [(x.type, x.qty) for x in r[1:]] == [("fill", 3), ("fill", 3), ("cancelled", 4)]
    assert b.submit(5, BUY, 102, 10, tif=DAY, min_qty=6)[0][:2] == ("rejected", "invalid")


def test_market_never_rests_and_day_orders_end():
    b = MatchingBook()
    b.submit(1, SELL, 100, 2)
    r = b.submit(2, BUY, 105, 5, type=MARKET, tif=GTC)
    assert [(x.type, x.qty) for x in r] == [("accepted", 5), ("fill", 2), ("cancelled", 3)]
    b.submit(3, BUY, 90, 1, tif=DAY)
    b.submit(4, BUY, 91, 1, tif=GTC)
    b.submit(5, SELL, 110, 1, tif=DAY)
    assert [(x.id, x.reason) for x in b.end_of_day()] == [(3, "end_of_day"), (5, "end_of_day")]
    assert b.live_orders() == 1 and b.best(BUY) == (91, 1)


def test_market_order_trades_no_worse_than_its_protection_price():
    """Risk judged the buy at 101 (its collar top, say): it takes 100 and
    101, and its rest is cancelled rather than taking 102."""
    b = MatchingBook()
    for id, price in ((1, 100), (2, 101), (3, 102)):
        b.submit(id, SELL, price, 5)
    r = b.submit(9, BUY, 101, 12, type=MARKET, tif=IOC)
    assert [(x.type, x.reason, x.price, x.qty) for x in r] == [
        ("accepted", "none", 0, 12), ("fill", "none", 100, 5), ("fill", "none", 101, 5),
        ("cancelled", "unfilled", 0, 2)]
    assert b.best(SELL) == (102, 5) and b.live_orders() == 1
    r = b.submit(10, BUY, 101, 6, type=MARKET, tif=FOK)  # a FOK counts within it too
    assert [(x.type, x.reason) for x in r] == [("accepted", "none"), ("cancelled", "fok")]


def test_book_full_and_mass_cancel():
    b = MatchingBook(2)
    b.submit(1, BUY, 99, 1, account=5)
    b.submit(2, SELL, 101, 1, account=6)
    assert b.submit(3, BUY, 98, 1)[0][:2] == ("rejected", "book_full")
    assert b.submit(3, BUY, 101, 1, tif=IOC)[1].type == "fill"  # IOC needs no room
    assert [(x.id, x.reason) for x in b.mass_cancel(5)] == [(1, "mass_cancel")]


def test_reports_are_deterministic_and_carry_time():
    msgs = messages_from(range(2000))
    runs = []
    for _ in range(2):
        b = MatchingBook(40)
        runs.append([apply(b, msg, 1_000 + t) for t, msg in enumerate(msgs)])
    assert runs[0] == runs[1]
    assert all(r[-1] == 1_000 + t for t, reps in enumerate(runs[0]) for r in reps)


COMMAND_ARGS = {"cancel": ("id",), "modify": ("id", "price", "qty"),
                "mass_cancel": ("account",), "end_of_day": ()}


def test_command_replay_matches_calls(tmp_path):
    """match_run (the benchmark driver) adds up what one call at a time gives."""
    msgs = messages_from(range(3000, 6000))
    cmds = np.zeros(len(msgs), m.COMMAND_DTYPE)
    for t, (c, (kind, *args)) in enumerate(zip(cmds, msgs)):
        c["time_ns"], c["cmd"] = t, getattr(m, "CMD_" + kind.upper())
        fields = args[0] if kind == "submit" else dict(zip(COMMAND_ARGS[kind], args))
        for name, value in fields.items():
            c["order_" + name] = value
    book, by_type, traded = MatchingBook(40), dict.fromkeys(m.REPORT_TYPES, 0), 0
    for t, msg in enumerate(msgs):
        for r in apply(book, msg, t):
            by_type[r[0]] += 1
            traded += r[5] if r[0] == "fill" else 0
    totals = MatchingBook(40).run(cmds)
    assert totals == {"messages": len(msgs), "reports": sum(by_type.values()),
                      "traded_qty": traded, "by_type": by_type}
    # Handed to another core through a ring (the benchmark's way), every
    # report arrives: EAL runs in a process of its own.
    (tmp_path / "cmds.bin").write_bytes(cmds.tobytes())
    drained = subprocess.run([sys.executable, "-c", RING_REPLAY, str(tmp_path / "cmds.bin")],
                             cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert drained.returncode == 0, drained.stderr
    assert json.loads(drained.stdout.splitlines()[-1]) == totals


RING_REPLAY = """
import json, sys
import numpy as np
from benchmarks.matching_bench import start_eal, DRAIN_LCORE
from dataplane import eal
from dataplane.matching import COMMAND_DTYPE, MatchingBook
cmds = np.frombuffer(open(sys.argv[1], "rb").read(), COMMAND_DTYPE)
ring = start_eal("colo-matching-test")  # not the bench's: make bench may be running
print(json.dumps(MatchingBook(40).run(cmds, report_ring=ring, drain_lcore=DRAIN_LCORE)))
eal.cleanup("colo-matching-test")
"""


def test_extreme_prices_keep_their_order():
    lo, hi = -2**63, 2**63 - 1
    b = MatchingBook()
    for i, price in enumerate([lo + 1, lo, hi, lo + 2]):
        b.submit(i, BUY, price, 1)
    for i, price in enumerate([hi, hi - 1, lo + 3], start=10):
        b.submit(i, SELL, price, 1)
    assert b.best(BUY) == (lo + 2, 1) and b.best(SELL) == (lo + 3, 1)  # 2 traded at hi
    r = b.submit(20, SELL, lo, 10, type=MARKET)
    assert [x.price for x in r if x.type == "fill"] == [lo + 2, lo + 1, lo]
