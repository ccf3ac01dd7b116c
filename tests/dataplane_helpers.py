"""Running the real data plane from tests: always in a subprocess, since EAL
can start only once per process (DESIGN.md)."""
from __future__ import annotations

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SAMPLE = SHARED / "data" / "ex20101224.TEST_ITCH_50"

# An appliance with the order path on net_null ports, without hugepages; format
# it with an EAL file prefix of its own.
ORDER_PATH_CONFIG = """
eal: {{lcores: [1], memory_mb: 128, hugepages: "off", file_prefix: {prefix}}}
ports:
  feed: {{device: net_null0, ip: 10.0.0.2}}
  out: {{device: net_null1, ip: 10.0.0.1}}
  orders: {{device: net_null2, ip: 10.97.0.1}}
mempool: {{mbufs: 2047, cache: 32}}
feeds:
  - name: f
    protocol: itch50-moldudp64
    session_date: 2026-11-24
    lines: {{a: {{port: feed, group: 233.54.12.111, udp_port: 26477}}}}
outputs:
  - {{name: ticks, port: out, group: 239.10.0.1, udp_port: 31001, session: COLO000001}}
stages: {{md: 1, gateway: 1, risk: 1, matching: 1}}
metrics: {{prometheus_port: 0}}
instruments:
  - {{symbol: COLOA, id: 900001, reference_price: 100.00}}
accounts:
  - {{name: alpha, credit_limit: 5000000}}
sessions:
  - {{name: alpha1, username: ALPHA1, password: secret, account: alpha,
     allowed_sources: [10.97.0.0/24]}}
order_entry: {{port: orders, udp_port: 30001, max_orders: 1024, history: 1024}}
"""


def colo(*args, timeout=120, check=True) -> subprocess.CompletedProcess:
    """Runs the `colo` CLI of this checkout and returns its output."""
    proc = subprocess.run([sys.executable, "-m", "dataplane.cli", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"colo {' '.join(map(str, args))} exited {proc.returncode}\n"
                             f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc


def final_counters(stdout: str) -> dict:
    """The final counters `colo normalize` prints, as numbers: rx_packets, feed_packets,
    messages, tx_ticks, gaps, gap_messages, ip/udp_checksum_errors, and Counters `drops`
    and `events` (by name; absent means 0)."""
    import re
    from collections import Counter

    text = stdout[stdout.index("final counters:"):]

    def number(pattern):
        return int(re.search(pattern, text).group(1))

    def named(label):
        items = re.search(rf"^  {label}: (.*)$", text, re.M).group(1)
        return Counter() if items == "none" else Counter(
            {name: int(n) for name, n in (item.rsplit(" ", 1) for item in items.split(", "))})

    return {"rx_packets": number(r"rx packets (\d+)"),
            "feed_packets": number(r"MoldUDP64 packets (\d+)"),
            "messages": number(r"ITCH messages (\d+)"),
            "tx_ticks": number(r"ticks sent (\d+)"),
            "gaps": number(r"gaps (\d+)"), "gap_messages": number(r"gaps \d+ \((\d+) messages\)"),
            "ip_checksum_errors": number(r"checksum errors: IP (\d+)"),
            "udp_checksum_errors": number(r"checksum errors: IP \d+, UDP (\d+)"),
            "drops": named("drops"), "events": named("message events")}


def normalize_frames(tmp_path, frames, *args, date="2024-03-15"):
    """Writes Ethernet frames to a pcap and runs `colo normalize` on it (extra args such as
    --group G). Returns (ticks, tick packets, final counters, stdout)."""
    from feedhandlers.pcap import PcapWriter
    from multicast.capture import read_tick_pcap

    feed, out = tmp_path / "feed.pcap", tmp_path / "ticks.pcap"
    with PcapWriter(feed) as pcap:
        for frame in frames:
            pcap.write(frame)
    proc = colo("normalize", feed, "-o", out, "--date", date, *args, timeout=300)
    ticks, packets = read_tick_pcap(out)
    return ticks, packets, final_counters(proc.stdout), proc.stdout


def assert_tick_stream_sequenced(packets):
    """Tick packets number their ticks 1, 2, 3... with no hole, and exactly one
    end-of-session packet comes last."""
    expected = 1
    for p in packets:
        assert p.seq == expected
        expected += p.count
    assert [p.end_of_session for p in packets].count(True) == 1
    assert packets[-1].end_of_session


def wait_for(predicate, timeout=30.0):
    """Polls predicate until it is true; RuntimeError counts as not yet (an
    appliance whose telemetry does not answer yet)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except RuntimeError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {predicate}")


def subscribe_in_namespace(saved, idle_timeout: float):
    """A tick subscriber in the demo namespace saving to `saved`, started and
    joined (its group shows on colo-md1) before this returns. It prints only
    its summary: a test may leave its stdout unread for a while."""
    from dataplane import netns

    subscriber = netns.in_namespace(["-m", "multicast.cli", "239.10.0.1:31001", "--iface",
                                     "colo-md1", "--save", str(saved), "--sample", "0", "--timeout",
                                     str(idle_timeout)],
                                    cwd=ROOT, stdout=subprocess.PIPE, text=True)
    wait_for(lambda: "239.10.0.1" in subprocess.run(
        ["ip", "-n", netns.NAMESPACE, "maddr", "show", "dev", "colo-md1"],
        capture_output=True, text=True).stdout)
    return subscriber
