"""The whole order path through a DPDK port: gateway, risk and matching on
one lcore, as on this 2-core machine; the main lcore plays the client on
the port's far side (two rings). Orders come in pairs that trade with each
other, one per datagram, so the book stays shallow and every order makes
responses. Figures: orders/s sent as fast as the path takes them; the
path's internal latency (gateway rx to response tx, TSC) at 1 M orders/s;
and, as the same-run baseline, bare forwarding of the same frames.

    .venv/bin/python benchmarks/order_path_bench.py   (prints JSON)"""
from __future__ import annotations

import json
import pathlib
import sys
import time
from types import SimpleNamespace

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from dataplane import eal  # noqa: E402
from dataplane._colo import ffi, lib  # noqa: E402
from dataplane.binding import burst_percentiles_ns  # noqa: E402
from dataplane.config import parse_config  # noqa: E402
from dataplane.order_path import OrderPath  # noqa: E402
from feedhandlers.ouch50 import CLIENT_PACKETS, ORDERS, encode_datagram  # noqa: E402
from feedhandlers.pcap import udp_frame  # noqa: E402

PREFIX = "colo-order-bench"
WORKER = 1
ORDERS_N = 400_000         # per run: one as fast as possible, one paced
PACED_RATE = 1_000_000  # orders/s for the latency figure
GATEWAY, CLIENT = ("10.0.0.1", 30001), ("10.0.0.2", 40001)
CONFIG = f"""
eal: {{lcores: [{WORKER}], hugepages: off, file_prefix: {PREFIX}}}
ports: {{orders: {{device: net_null0, ip: {GATEWAY[0]}}}, md_out: {{device: net_null1, ip: 10.9.0.1}},
        feed: {{device: net_null2}}}}
feeds: [{{name: f, protocol: itch50-moldudp64, session_date: 2026-11-24,
         lines: {{a: {{port: feed, group: 233.1.1.1, udp_port: 1}}}}}}]
outputs: [{{name: t, port: md_out, group: 239.1.1.1, udp_port: 2, session: BENCH}}]
stages: {{md: {WORKER}, gateway: {WORKER}, risk: {WORKER}, matching: {WORKER}}}
instruments: [{{symbol: BENCH, id: 1}}]
accounts: [{{name: a, short_selling: true}}]
sessions: [{{name: s1, username: BENCH1, password: pw, account: a,
            allowed_sources: [10.0.0.0/24]}}]
order_entry: {{port: orders, udp_port: {GATEWAY[1]}, timeout_s: 3600}}
"""


def frame(packet: bytes) -> bytes:
    return udp_frame(encode_datagram([packet]), CLIENT[0], GATEWAY[0], CLIENT[1], GATEWAY[1],
                     dst_mac="02:00:00:00:00:10")


def order_frames(n: int, first_ref: int) -> tuple[bytes, np.ndarray]:
    frames = [frame(CLIENT_PACKETS.encode("U", payload=ORDERS.encode(
        "O", user_ref_num=first_ref + i, side="BS"[i % 2], quantity=100, symbol="BENCH",
        price=1_000_000, time_in_force="0", display="Y", capacity="A", intermarket_sweep="N",
        cross_type="N", cl_ord_id="", appendage={}))) for i in range(n)]
    return b"".join(frames), np.array([len(f) for f in frames], np.uint16)


def send(pool, frames, lens, burst, gap_cycles, linger_s=0.2):
    return lib.colo_order_bench_send(pool, frames, ffi.cast("uint16_t *", lens.ctypes.data),
                                     len(lens), burst, gap_cycles,
                                     int(linger_s * lib.colo_tsc_hz()))


def run() -> dict:
    config = parse_config(CONFIG)
    if not eal.init(eal.eal_args(config.eal, [], hugepages=False), PREFIX):
        raise SystemExit("EAL did not start")
    hz = lib.colo_tsc_hz()
    pool = lib.colo_mempool_create(b"bench_mbufs", 16383, 256, 2176, -1)
    port = lib.colo_order_bench_port_create(4096, pool)
    frames, lens = order_frames(2 * ORDERS_N, 2)
    half = int(lens[:ORDERS_N].sum())

    # Baseline: the same frames forwarded back out of the same port, bare.
    start = time.perf_counter()
    lib.colo_forward_launch(WORKER, port, port, ORDERS_N)
    send(pool, frames[:half], lens[:ORDERS_N], 32, 0, linger_s=0)
    lib.colo_lcore_wait(WORKER)
    forward_pps = ORDERS_N / (time.perf_counter() - start)

    info = SimpleNamespace(port_id=port, mac=b"\x02\x00\x00\x00\x00\x10")
    path = OrderPath(config, info, pool, midnight_ns=0)
    path.place(WORKER, WORKER, WORKER)
    lib.colo_lcores_launch()
    login = frame(CLIENT_PACKETS.encode("L", username="BENCH1", password="pw", session="",
                                        sequence=0))
    send(pool, login, np.array([len(login)], np.uint16), 1, 0)

    def orders_done():
        return path.counters()["matching"]["commands"]

    # As fast as the path takes them: the client waits only for ring room.
    start, before = time.perf_counter(), orders_done()
    send(pool, frames[:half], lens[:ORDERS_N], 32, 0, linger_s=0)
    while orders_done() - before < ORDERS_N:
        time.sleep(0.001)
    orders_per_s = ORDERS_N / (time.perf_counter() - start)

    # Latency at PACED_RATE: one order per datagram, one datagram every 1/rate s.
    hist_before = path.counters()["gateway"]["latency_cycles"]
    send(pool, frames[half:], lens[ORDERS_N:], 1, hz // PACED_RATE)
    c = path.counters()
    lib.colo_lcores_stop()
    stalls = lib.colo_lcore_stats(WORKER)
    pct = burst_percentiles_ns(c["gateway"]["latency_cycles"] - hist_before, hz)
    path.destroy()
    eal.cleanup(PREFIX)
    return {"orders": 2 * ORDERS_N, "orders_per_s": orders_per_s, "forward_pps": forward_pps,
            "p50_ns": pct[0.5], "p99_ns": pct[0.99], "p999_ns": pct[0.999],
            "paced_rate": PACED_RATE, "trades": c["matching"]["trades"],
            "rejects": c["gateway"]["responses"]["J"], "drops": c["gateway"]["drops"],
            "tx_dropped": c["gateway"]["tx_dropped"], "worker_stalls": stalls.stalls,
            "longest_stall_us": stalls.longest_stall_cycles / hz * 1e6}


if __name__ == "__main__":
    print(json.dumps(run()))
