"""Pre-trade risk checks alone, one core: an array of orders built up front
with numpy and checked by the C driver (risk_run), so no Python runs between
two orders. The baseline is the same loop doing only the lookups every
check starts from (ids validated, account, session and instrument read).

Each run checks every order of the array against the same open-order table:
after a run the accepted orders are cancelled (outside the timing) and the
times moved on, so each run does the same work on warm memory. The figure
is the median over runs of ns per order.

    .venv/bin/python benchmarks/risk_bench.py

run() returns the figure for benchmarks/run.py."""
from __future__ import annotations

import pathlib
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from dataplane.risk import ORDER_DTYPE, SCOPE_ALL, Limits, Risk  # noqa: E402

ORDERS = 300_000
ACCOUNTS, SESSIONS, INSTRUMENTS = 64, 16, 256
REPEAT = 9
STEP_NS = 10             # between two orders, all sessions together


def limits(rng: np.random.Generator, refs: np.ndarray) -> Limits:
    """Limits that most orders pass, so every check runs; a few accounts may
    not sell short."""
    lim = Limits(ACCOUNTS, SESSIONS, INSTRUMENTS)
    for a in range(ACCOUNTS):
        lim.account(a, max_order_qty=5_000, max_order_notional=4 * 10**9, credit_limit=10**15,
                    max_open_orders=100_000, short_sell=int(a % 16 != 0))
    for s in range(SESSIONS):
        lim.session(s, msg_interval_ns=50, msg_burst=10_000, order_interval_ns=50,
                    order_burst=10_000)
    for i in range(INSTRUMENTS):
        lim.instrument(i, tick_size=100, lot_size=10, ref_price=int(refs[i]), collar_bp=1000,
                       collar_ticks=200, ref_last_trade=1)
    return lim


def orders(rng: np.random.Generator, refs: np.ndarray) -> np.ndarray:
    """Orders near each instrument's reference; about 1% each off tick,
    off lot, outside the collar, over max qty."""
    n = ORDERS
    o = np.zeros(n, ORDER_DTYPE)
    o["id"] = np.arange(1, n + 1)
    o["time_ns"] = np.arange(n, dtype=np.uint64) * STEP_NS
    o["account"] = rng.integers(0, ACCOUNTS, n)
    o["session"] = o["account"] % SESSIONS
    o["instrument"] = rng.integers(0, INSTRUMENTS, n)
    o["side"] = rng.integers(0, 2, n)
    o["price"] = refs[o["instrument"]] + 100 * rng.integers(-50, 51, n)
    o["qty"] = 10 * rng.integers(1, 100, n)
    odd = rng.choice(5, n, p=[0.96, 0.01, 0.01, 0.01, 0.01])
    o["price"][odd == 1] += 7
    o["qty"][odd == 2] += 3
    o["price"][odd == 3] += 100 * 300
    o["qty"][odd == 4] = 6_000
    return o


def release(risk: Risk, o: np.ndarray):
    """Cancels what a run left open, and moves the times past it."""
    ids = risk.kill(SCOPE_ALL)
    risk.kill(SCOPE_ALL, on=False)
    for id in ids:
        risk.cancel(id, int(o["qty"][id - 1]), 0)  # nothing left open
    o["time_ns"] += ORDERS * STEP_NS


def timed(fn) -> float:
    t0 = time.perf_counter_ns()
    fn()
    return (time.perf_counter_ns() - t0) / ORDERS


def run() -> list[dict]:
    rng = np.random.default_rng(21)
    refs = 100 * rng.integers(1_000, 50_000, INSTRUMENTS)   # $10 to $500 at 1/10000
    o = orders(rng, refs)
    risk = Risk(limits(rng, refs), ORDERS, sequential_ids=True)
    check_ns, lookup_ns, verdicts = [], [], None
    for i in range(REPEAT + 1):  # the first run warms memory up
        counts = {}
        check = timed(lambda: counts.update(risk.run(o)))
        lookup = timed(lambda: risk.lookup_run(o))
        if verdicts is not None and counts != verdicts:
            raise RuntimeError("runs differ: the benchmark is not repeatable")
        verdicts = counts
        if i > 0:
            check_ns.append(check)
            lookup_ns.append(lookup)
        release(risk, o)
    value, baseline = float(np.median(check_ns)), float(np.median(lookup_ns))
    shown = {k: v for k, v in verdicts.items() if v}
    print(f"risk {ORDERS:,} orders: {value:.1f} ns/order (lookups only {baseline:.1f})  "
          f"{shown}", flush=True)
    return [{"name": "risk_ns_per_order", "value": value, "unit": "ns/order",
             "baseline": "lookups_only_same_loop", "baseline_value": baseline}]


if __name__ == "__main__":
    run()
