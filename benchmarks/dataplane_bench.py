"""The whole md stage on one lcore, net_ring in, net_null out, beside bare
forwarding on the same devices, in the same process. The main lcore feeds
the ring as a NIC would, so the packets are fresh in cache, not a preloaded
backlog that has gone cold. A first, unrecorded run warms the pools and
caches up, as the risk bench does. Run by benchmarks/run.py in a process of
its own (EAL starts once per process); prints one JSON object."""
from __future__ import annotations

import argparse
import json
import time

from dataplane import eal
from dataplane._colo import ffi, lib
from dataplane.appliance import midnight_ns
from dataplane.binding import burst_percentiles_ns, counters_snapshot
from feedhandlers.moldudp64 import frame_messages
from feedhandlers.pcap import udp_frame
from feedhandlers.synth import synthesize

GROUP, PORT = "233.54.12.111", 26477
WORKER = 1
RING_SIZE = 4096  # a NIC rx ring's worth of packets in flight


def feed_frames(messages: int, per_packet: int | None) -> tuple[bytes, list[int]]:
    """per_packet ITCH messages in each packet (1 as the issue's target asks),
    or None: as many as fit 1,400 bytes, as a real feed sends them."""
    frames = [udp_frame(p, "10.1.1.1", GROUP, 26400, PORT)
              for p in frame_messages(synthesize(5, 50, messages), b"BENCH00001",
                                      max_count=per_packet)]
    return b"".join(frames), [len(f) for f in frames]


def start(hugepages: bool, memory_mb: int):
    class Eal:
        main_lcore, lcores, file_prefix, extra_args = 0, (WORKER,), "colo-bench", ()
    Eal.memory_mb = memory_mb
    if not eal.init(eal.eal_args(Eal, ["net_null0"], hugepages=hugepages), Eal.file_prefix):
        raise SystemExit("EAL did not start")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--hugepages", action="store_true")
    p.add_argument("--messages", type=int, default=500_000)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--full-packets", action="store_true",
                   help="as many messages per packet as fit, not one")
    a = p.parse_args()
    frames, lens = feed_frames(a.messages, None if a.full_packets else 1)
    n = len(lens)
    start(a.hugepages, 1024)
    pool = lib.colo_mempool_create(b"bench", 16383, 256, 2176, -1)
    if pool == ffi.NULL:
        raise SystemExit("no mempool")
    ring = lib.colo_ring_port_create(b"bench_in", RING_SIZE, pool)
    info = ffi.new("struct colo_port_info *")
    if ring < 0 or lib.colo_port_start(b"net_null0", pool, 1024, 1024, 0, info) != 0:
        raise SystemExit("bench ports did not start")
    null_port = info.port_id
    c_lens = ffi.new("uint16_t[]", lens)

    def timed(launch, wait):
        t0 = time.perf_counter()
        launch()
        lib.colo_frames_send(ring, pool, frames, c_lens, n)
        wait()
        return n / (time.perf_counter() - t0)

    forward_pps, stage_pps, hist = [], [], None
    for run in range(a.repeat + 1):  # run 0 warms caches and pools up
        forward = timed(lambda: lib.colo_forward_launch(WORKER, ring, null_port, n),
                        lambda: lib.colo_lcore_wait(WORKER))
        params = ffi.new("struct md_stage_params *")
        params.lines[0].port_id = ring
        params.lines[0].group = int.from_bytes(bytes(map(int, GROUP.split("."))), "big")
        params.lines[0].udp_port = PORT
        params.n_lines = 1
        params.normalizer.max_orders = 1 << 20
        params.normalizer.max_symbols = 1024
        params.normalizer.midnight_ns = midnight_ns(__import__("datetime").date(2026, 11, 24),
                                                    "America/New_York")
        params.out_port_id = null_port
        params.out_group = 0xEF0A0001
        params.out_src_port = params.out_dst_port = 31001
        params.mtu, params.ttl = 1500, 8
        params.out_session = b"BENCH00001"
        params.tx_pool = pool
        params.retransmit_ticks = 1 << 16
        params.stop_after_rx = n
        stage = lib.md_stage_create(params)
        stage_rate = timed(lambda: (lib.md_stage_place(stage, WORKER), lib.colo_lcores_launch()),
                           lib.colo_lcores_wait)
        c = counters_snapshot(lib.md_stage_counters(stage))
        if c["messages"] != a.messages or sum(c["drops"].values()):
            raise SystemExit(f"stage did not take every message: {c['messages']} of "
                             f"{a.messages}")
        lib.md_stage_destroy(stage)
        if run > 0:
            forward_pps.append(forward)
            stage_pps.append(stage_rate)
            hist = c["burst_cycles"] if hist is None else hist + c["burst_cycles"]
    pct = burst_percentiles_ns(hist, lib.colo_tsc_hz())
    best = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731  median of the runs
    print(json.dumps({"packets": n, "forward_pps": best(forward_pps),
                      "dataplane_pps": best(stage_pps),
                      "dataplane_msgs_per_s": best(stage_pps) * a.messages / n,
                      "messages_per_packet": a.messages / n,
                      "burst_p50_ns": pct[0.5],
                      "burst_p99_ns": pct[0.99], "burst_p999_ns": pct[0.999]}))
    lib.colo_port_close(ring)
    lib.colo_port_close(null_port)
    eal.cleanup("colo-bench")


if __name__ == "__main__":
    main()
