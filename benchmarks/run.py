"""`make bench`: every figure printed with its same-run baseline, and written
to benchmarks/results.json. Figures are measured, never asserted."""
from __future__ import annotations

import contextlib
import datetime
import json
import os
import pathlib
import random
import struct
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from dataplane.appliance import midnight_ns  # noqa: E402
from dataplane.binding import Normalizer  # noqa: E402
from feedhandlers import itch50  # noqa: E402
from feedhandlers.synth import synthesize  # noqa: E402
from hwconfig.hugepages import Reservation  # noqa: E402
from reference_model import ReferenceNormalizer  # noqa: E402

import matching_bench  # noqa: E402  (beside this script)
import risk_bench  # noqa: E402

SESSION_DATE = datetime.date(2026, 11, 24)
results: list[dict] = []


def record(name, value, unit, baseline=None, baseline_value=None):
    entry = {"name": name, "value": value, "unit": unit}
    line = f"{name:34s} {value:>16,.1f} {unit}"
    if baseline is not None:
        entry.update(baseline=baseline, baseline_value=baseline_value)
        line += f"   (baseline {baseline}: {baseline_value:,.1f}, ratio {value / baseline_value:.2f})"
    results.append(entry)
    print(line, flush=True)


def median(xs):
    return sorted(xs)[len(xs) // 2]


def normalizer_rate(messages: list[bytes], repeat: int = 7) -> float:
    """Messages/s of the C normalizer, the median of fresh-book runs."""
    blocks = b"".join(struct.pack(">H", len(m)) + m for m in messages)
    midnight = midnight_ns(SESSION_DATE, "America/New_York")
    out = Normalizer.ticks_buffer(blocks)
    out[0:len(out)] = bytes(len(out))  # touched once, so no run pays its page faults
    rates = []
    for _ in range(repeat):
        n = Normalizer(midnight)  # a fresh book each run: the same work every time
        t0 = time.perf_counter()
        n.run_into(blocks, out)  # the C normalizer's time, not Python's copies
        rates.append(len(messages) / (time.perf_counter() - t0))
    return median(rates)


def deep_book_session(levels: int = 5_000, adds: int = 100_000) -> list[bytes]:
    """One stock's bids laddered every other cent, levels deep, then new
    levels added (and deleted) at the free cents in between, anywhere in it."""
    rng = random.Random(5)
    ladder = list(range(1_000_000, 1_000_000 + levels * 200, 200))
    rng.shuffle(ladder)
    messages = [itch50.system_event(1, b"O"), itch50.stock_directory(2, "DEEP", locate=1)]
    messages += [itch50.add_order(3, ref, b"B", 100, "DEEP", p, locate=1)
                 for ref, p in enumerate(ladder, start=1)]
    for ref in range(levels + 1, levels + 1 + adds):
        price = rng.choice(ladder) + 100
        messages += [itch50.add_order(4, ref, b"B", 100, "DEEP", price, locate=1),
                     itch50.order_delete(5, ref, locate=1)]
    return messages


def bench_normalizer(messages: list[bytes]) -> float:
    rate = normalizer_rate(messages)
    subset = messages[:50_000]
    ref = ReferenceNormalizer(SESSION_DATE)
    t0 = time.perf_counter()
    for m in subset:
        ref.apply(m)
    ref_rate = len(subset) / (time.perf_counter() - t0)
    record("normalizer_msgs_per_s", rate, "msgs/s", "python_reference_model", ref_rate)
    record("normalizer_ns_per_msg", 1e9 / rate, "ns/msg")
    # New levels deep in a 5,000-level book: linked from a neighbour the level
    # index finds, not by a walk from the top.
    record("normalizer_deep_book_ns_per_msg", 1e9 / normalizer_rate(deep_book_session()),
           "ns/msg", "normalizer_ns_per_msg", 1e9 / rate)
    return rate


def bench_process(script: str, *args) -> dict:
    """A bench that starts EAL runs in a process of its own (EAL starts once
    per process); it prints its figures as JSON last."""
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *args],
                         capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(f"{script} failed:\n{out.stdout}\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def dataplane_run(hugepages: bool, full_packets: bool = False) -> dict:
    return bench_process("dataplane_bench.py", *(["--hugepages"] if hugepages else []),
                         *(["--full-packets"] if full_packets else []))


def bench_order_path(runs: int = 5):
    """Medians over runs: one core taken away for milliseconds moves a run's
    tail, and about one process in six here runs everything ~3x slower."""
    o = median_of_runs([bench_process("order_path_bench.py") for _ in range(runs)])
    record("order_path_orders_per_s", o["orders_per_s"], "orders/s",
           "bare_forwarding_same_frames_pps", o["forward_pps"])
    for q in ("p50", "p99", "p999"):
        record(f"order_path_{q}_ns", o[f"{q}_ns"],
               f"ns gateway rx to response tx, at {o['paced_rate']:,} orders/s")
    # Rounds of the worker's loop over 50 us: the core taken away, which no
    # code of ours can shorten (the tail above is made of them on a shared VM).
    record("order_path_worker_stalls", o["worker_stalls"],
           f"stalls over 50us, longest {o['longest_stall_us']:,.0f} us")


def median_of_runs(runs: list[dict]) -> dict:
    """Each figure's median over the runs (counts by name are left out)."""
    return {key: median([r[key] for r in runs]) for key, value in runs[0].items()
            if isinstance(value, (int, float))}


def bench_dataplane(normalizer_rate: float, pairs: int = 3):
    """Without and (as root) with hugepages, alternating, so both see the
    same noise; each figure is the median over the runs. Then packets as a
    real feed fills them, beside the normalizer alone."""
    root = os.geteuid() == 0
    runs = {False: [], True: []}
    with Reservation(1024 + 64) if root else contextlib.nullcontext():
        for _ in range(pairs):
            for huge in (False, True) if root else (False,):
                runs[huge].append(dataplane_run(hugepages=huge))
    plain = median_of_runs(runs[False])
    record("dataplane_pps", plain["dataplane_pps"], "packets/s",
           "bare_forwarding_pps_same_vdevs", plain["forward_pps"])
    record("dataplane_msgs_per_s", plain["dataplane_pps"], "msgs/s (1 msg/packet)")
    full = median_of_runs([dataplane_run(False, full_packets=True) for _ in range(pairs)])
    record("dataplane_full_packets_msgs_per_s", full["dataplane_msgs_per_s"],
           f"msgs/s ({full['messages_per_packet']:.0f} msgs/packet)",
           "normalizer_msgs_per_s", normalizer_rate)
    for q in ("p50", "p99", "p999"):
        record(f"burst_{q}_ns", plain[f"burst_{q}_ns"], "ns per 32-packet burst")
    if not root:
        print("not root: hugepage figures skipped")
        return
    huge = median_of_runs(runs[True])
    record("dataplane_pps_hugepages", huge["dataplane_pps"], "packets/s",
           "dataplane_pps_no_huge", plain["dataplane_pps"])
    record("bare_forwarding_pps_hugepages", huge["forward_pps"], "packets/s",
           "bare_forwarding_pps_no_huge", plain["forward_pps"])
    record("hugepages_speedup", huge["dataplane_pps"] / plain["dataplane_pps"], "x",
           "no_huge", 1.0)
    for q in ("p50", "p99", "p999"):  # as the appliance runs when hugepages are reserved
        record(f"burst_{q}_ns_hugepages", huge[f"burst_{q}_ns"], "ns per 32-packet burst",
               f"burst_{q}_ns_no_huge", plain[f"burst_{q}_ns"])


def main():
    messages = synthesize(3, 50, 300_000)
    bench_dataplane(bench_normalizer(messages))
    bench_order_path()
    results.extend(matching_bench.run())
    for entry in risk_bench.run():
        record(**entry)
    path = ROOT / "benchmarks" / "results.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {path}")


if __name__ == "__main__":
    main()
