"""`colo run` from a config with feed lines A and B: first copy wins, each
line's gaps are counted, the arbitrated stream has none, and SIGINT stops
the appliance cleanly with its final counters."""
import datetime
import signal
import subprocess
import sys

import numpy as np

from dataplane import telemetry
from dataplane_helpers import ROOT, final_counters, wait_for
from feedhandlers.moldudp64 import frame_messages
from feedhandlers.pcap import PcapWriter, udp_frame
from feedhandlers.synth import synthesize
from multicast.capture import read_tick_pcap
from reference_model import normalize as reference_normalize

LINES = {"a": ("233.54.12.111", 26477), "b": ("233.54.12.112", 26478)}
CONFIG = """
eal: {{lcores: [1], file_prefix: colo-lines}}
ports:
  feed: {{device: "net_pcap0,rx_pcap={feed}"}}
  out: {{device: "net_pcap1,tx_pcap={out}", ip: 10.0.0.1}}
feeds:
  - name: totalview
    protocol: itch50-moldudp64
    session_date: 2026-11-24
    lines:
      a: {{port: feed, group: 233.54.12.111, udp_port: 26477}}
      b: {{port: feed, group: 233.54.12.112, udp_port: 26478}}
outputs:
  - {{name: ticks, port: out, group: 239.10.0.1, udp_port: 31001, session: COLO000001}}
stages: {{md: 1}}
metrics: {{prometheus_port: 0}}
"""


def test_lines_a_and_b_fill_each_others_gaps(tmp_path):
    messages = synthesize(21, symbols=4, messages=6_000)
    packets = list(frame_messages(messages, b"NASDAQ0001", max_payload=600))
    lost = {"a": set(range(5, len(packets), 7)), "b": set(range(8, len(packets), 11))} 
    lost["b"] -= lost["a"]  # never on neither line: the stream itself stays whole
    frames = []
    for i, payload in enumerate(packets):
        for line in ("b", "a") if i % 2 else ("a", "b"):  # either line may be first
            if i not in lost[line]:
                group, port = LINES[line]
                frames.append(udp_frame(payload, "10.1.1.1", group, 26400, port))
    feed, out, config = tmp_path / "feed.pcap", tmp_path / "ticks.pcap", tmp_path / "colo.yaml"
    with PcapWriter(feed) as pcap:
        for f in frames:
            pcap.write(f)
    config.write_text(CONFIG.format(feed=feed, out=out))

    appliance = subprocess.Popen([sys.executable, "-m", "dataplane.cli", "run", str(config)],
                                 cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 text=True)
    try:
        wait_for(lambda: telemetry.query("colo-lines")["rx_packets"] == len(frames))
    finally:
        appliance.send_signal(signal.SIGINT)
        output, _ = appliance.communicate(timeout=30)
    assert appliance.returncode == 0, output

    counters = final_counters(output)
    assert counters["gaps"] == 0
    assert counters["drops"]["duplicate"] == len(frames) - len(packets)
    a_gaps = len([i for i in lost["a"] if i - 1 not in lost["a"]])
    assert f"line A {a_gaps}," in output
    ticks, tick_packets = read_tick_pcap(out)
    assert np.array_equal(ticks, reference_normalize(messages, datetime.date(2026, 11, 24)))
    assert tick_packets[-1].end_of_session
