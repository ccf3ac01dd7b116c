"""Matching engine alone, one core, one message at a time, its reports handed
to another core through a ring: five workloads of about 2 million messages,
built up front with numpy and replayed by the C driver, so no Python runs
between two messages.

    .venv/bin/python benchmarks/matching_bench.py

run() returns the figures for benchmarks/run.py."""
from __future__ import annotations

import pathlib
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from dataplane import eal  # noqa: E402
from dataplane import matching as m  # noqa: E402
from dataplane._colo import ffi, lib  # noqa: E402
from dataplane.config import EalConfig  # noqa: E402
from dataplane.matching import BUY, SELL, MatchingBook  # noqa: E402

MESSAGES = 2_000_000
MID = 10_000             # ticks: $100.00 at one cent
REPEAT = 3               # runs per workload, each on a fresh book; the median is kept
DRAIN_LCORE = 1          # the core the reports are handed to
EAL_PREFIX = "colo-matching-bench"


class Flow:
    """A workload under construction: columns of a COMMAND_DTYPE array.
    Place every submit first: ids then go by position (the k-th is id k),
    as a gateway's counter would hand them out."""

    def __init__(self, n: int, seed: int):
        self.rng = np.random.default_rng(seed)
        self.cmds = np.zeros(n, m.COMMAND_DTYPE)
        self.cmds["time_ns"] = np.arange(n, dtype=np.uint64) * 100
        self.cmds["order_account"] = self.rng.integers(0, 64, n)
        # One order in ten asks for self-trade prevention.
        self.cmds["order_stp"] = np.where(self.rng.random(n) < 0.1, m.STP_CANCEL_NEWEST,
                                          m.STP_NONE)
        self.is_submit = np.zeros(n, bool)

    def submits(self, where, side, price, qty, tif=m.GTC):
        c = self.cmds
        c["cmd"][where] = m.CMD_SUBMIT
        c["order_side"][where], c["order_price"][where] = side, price
        c["order_qty"][where], c["order_tif"][where] = qty, tif
        self.is_submit[where] = True
        c["order_id"][self.is_submit] = np.arange(1, self.is_submit.sum() + 1)

    def earlier_ids(self, where, back):
        """For each position, the id of the resting (GTC) order submitted
        `back` such orders before it; back None: any earlier one, uniformly."""
        resting = self.is_submit & (self.cmds["order_tif"] == m.GTC)
        ids = self.cmds["order_id"][resting]
        before = (np.cumsum(resting) - resting)[where]
        if back is None:
            back = (self.rng.random(len(where)) * before).astype(np.int64) + 1
        return np.where(before > 0, ids[np.maximum(before - np.minimum(back, before), 0)], 0)

    def cancels(self, where, back):
        self.cmds["cmd"][where] = m.CMD_CANCEL
        self.cmds["order_id"][where] = self.earlier_ids(where, back)

    def modifies(self, where, back, max_shift):
        """Half shrink to 1 in place (priority kept), half move up to
        max_shift ticks with a new qty (re-queued, may trade)."""
        ids = self.earlier_ids(where, back)
        price_of = np.concatenate([[0], self.cmds["order_price"][self.is_submit]])
        shrink = self.rng.random(len(where)) < 0.5
        shift = self.rng.integers(-max_shift, max_shift + 1, len(where))
        c = self.cmds
        c["cmd"][where] = m.CMD_MODIFY
        c["order_id"][where] = ids
        c["order_price"][where] = price_of[ids] + np.where(shrink, 0, shift)
        c["order_qty"][where] = np.where(shrink, 1, self.rng.integers(1, 200, len(where)))


def mixed_flow(mid_path: np.ndarray, seed: int) -> np.ndarray:
    """Limit orders within 20 ticks of a moving mid (most within 5), IOCs
    taking up to 6 ticks through it the way it moves, cancels and modifies of
    recent orders."""
    n = len(mid_path)
    f = Flow(n, seed)
    rng = f.rng
    kind = rng.choice(4, n, p=[0.50, 0.12, 0.24, 0.14])
    trend = np.sign(np.gradient(mid_path.astype(np.float64)))
    trend = np.where(trend == 0, rng.choice([-1, 1], n), trend)

    adds = np.flatnonzero(kind == 0)
    side = rng.integers(0, 2, len(adds)).astype(np.uint8)
    away = 1 + np.minimum(rng.geometric(1 / 4, len(adds)), 20)
    f.submits(adds, side, mid_path[adds] + np.where(side == BUY, -away, away),
              rng.integers(1, 200, len(adds)))
    takers = np.flatnonzero(kind == 1)
    buy = trend[takers] > 0
    f.submits(takers, np.where(buy, BUY, SELL), mid_path[takers] + np.where(buy, 6, -6),
              rng.integers(1, 200, len(takers)), m.IOC)
    cancels, modifies = np.flatnonzero(kind == 2), np.flatnonzero(kind == 3)
    f.cancels(cancels, rng.geometric(1 / 300, len(cancels)))
    f.modifies(modifies, rng.geometric(1 / 300, len(modifies)), 2)
    return f.cmds


def normal() -> np.ndarray:
    """A random walk within 1% of the mid."""
    rng = np.random.default_rng(1)
    walk = np.cumsum(rng.choice([-1, 0, 1], MESSAGES, p=[0.001, 0.998, 0.001]))
    return mixed_flow(MID + np.clip(walk, -MID // 100, MID // 100), seed=11)


def swing(amplitude: float, swings: int = 4):
    """The mid goes up `amplitude` and back, `swings` times."""
    def build() -> np.ndarray:
        phase = np.linspace(0, swings, MESSAGES, endpoint=False) % 1.0
        tri = np.where(phase < 0.5, phase * 2, 2 - phase * 2)
        return mixed_flow((MID * (1 + amplitude * tri)).astype(np.int64), seed=12)
    return build


def static() -> np.ndarray:
    """Four bid and four ask prices, 100,000 orders queued at each, then
    cancels deep in the queues, shrinks, re-adds and small IOCs at the top."""
    preload = 800_000
    f = Flow(MESSAGES, seed=13)
    rng = f.rng
    prices = MID + np.array([-4, -3, -2, -1, 1, 2, 3, 4])

    def adds(where):
        which = rng.integers(0, 8, len(where))
        f.submits(where, which >= 4, prices[which], rng.integers(1, 100, len(where)))

    adds(np.arange(preload))
    rest = np.arange(preload, MESSAGES)
    kind = rng.choice(4, len(rest), p=[0.40, 0.35, 0.15, 0.10])
    adds(rest[kind == 1])
    takers = rest[kind == 3]
    buy = rng.random(len(takers)) < 0.5
    f.submits(takers, np.where(buy, BUY, SELL), np.where(buy, MID + 1, MID - 1),
              rng.integers(1, 50, len(takers)), m.IOC)
    # Any earlier order, so mostly deep in a queue of 100,000.
    f.cancels(rest[kind == 0], None)
    f.modifies(rest[kind == 2], None, 0)
    return f.cmds


def flash_crash() -> np.ndarray:
    """Cycles of 800 orders laddered over 200 ticks on one side of the mid,
    100 on the other, 100 cancels, then one IOC sweeping 100 ticks of the
    ladder (400+ orders): the mid moves 100 ticks a cycle, down for 20
    cycles (20%), then back up for 20, and so on."""
    ladder, other, cancels = 800, 100, 100
    cycle = ladder + other + cancels + 1
    cycles = MESSAGES // cycle
    f = Flow(cycles * cycle, seed=14)
    rng = f.rng
    down = (np.arange(cycles) // 20) % 2 == 0
    step = np.where(down, -100, 100)[:, None]
    mid = MID + np.cumsum(step)[:, None] - step
    start = np.arange(cycles)[:, None] * cycle
    toward = np.sign(step)                     # the way the sweeps go
    sweeper = np.where(down, SELL, BUY)[:, None]

    def at(first, count):
        return (start + np.arange(first, first + count)[None, :]).ravel()

    f.submits(at(0, ladder), np.repeat(1 - sweeper, ladder, 1).ravel(),
              (mid + toward * (np.arange(ladder)[None, :] // 4 + 1)).ravel(),
              rng.integers(1, 100, cycles * ladder))
    f.submits(at(ladder, other), np.repeat(sweeper, other, 1).ravel(),
              (mid - toward * (np.arange(other)[None, :] // 2 + 1)).ravel(),
              rng.integers(1, 100, cycles * other))
    sweeps = at(cycle - 1, 1)
    f.submits(sweeps, sweeper.ravel(), (mid + step).ravel(), 1_000_000, m.IOC)
    f.cmds["order_stp"][sweeps] = m.STP_NONE  # the crash takes everything
    f.cancels(at(ladder + other, cancels), rng.integers(1, 3_000, cycles * cancels))
    return f.cmds


WORKLOADS = {"normal": normal, "static": static, "flash_crash": flash_crash,
             "swing_25": swing(0.25), "swing_40": swing(0.40)}


def measure(cmds: np.ndarray, ring) -> tuple[float, dict]:
    """Median messages/s over fresh books, and the totals of the last run:
    the engine on this core, its reports drained on another through ring."""
    rates = []
    for _ in range(REPEAT):
        book = MatchingBook(int(np.sum(cmds["cmd"] == m.CMD_SUBMIT)), sequential_ids=True)
        t0 = time.perf_counter()
        totals = book.run(cmds, report_ring=ring, drain_lcore=DRAIN_LCORE)
        rates.append(len(cmds) / (time.perf_counter() - t0))
    return sorted(rates)[len(rates) // 2], totals


def start_eal(prefix: str = EAL_PREFIX):
    """EAL for the report ring and the drain lcore (once per process)."""
    config = EalConfig(main_lcore=0, lcores=(DRAIN_LCORE,), memory_mb=256, hugepages="off",
                       file_prefix=prefix)
    if not eal.init(eal.eal_args(config, [], hugepages=False), prefix):
        raise SystemExit("EAL did not start")
    ring = lib.colo_report_ring_create(b"match_reports", 1 << 16)
    if ring == ffi.NULL:
        raise SystemExit("no report ring")
    return ring


def run() -> list[dict]:
    results = []
    ring = start_eal()
    for name, build in WORKLOADS.items():
        cmds = build()
        rate, totals = measure(cmds, ring)
        t = totals["by_type"]
        print(f"matching {name:12s} {len(cmds):>9,} msgs {rate:>14,.0f} msgs/s   "
              f"fills {t['fill']:,}  cancelled {t['cancelled']:,}  rejected "
              f"{t['rejected'] + t['cancel_rejected'] + t['modify_rejected']:,}", flush=True)
        results.append({"name": f"matching_{name}_msgs_per_s", "value": rate,
                        "unit": "msgs/s"})
    worst = min(r["value"] for r in results)
    print(f"matching worst        {worst:>24,.0f} msgs/s")
    results.append({"name": "matching_worst_msgs_per_s", "value": worst, "unit": "msgs/s"})
    eal.cleanup(EAL_PREFIX)
    return results


if __name__ == "__main__":
    run()
