"""`colo run` from a config with feed lines A and B: first copy wins, a
packet lost on one line is taken from the other even when it comes late,
each line's gaps are counted, and SIGINT stops the appliance cleanly with
its final counters."""
import datetime
import signal
import socket
import struct
import subprocess
import sys

import numpy as np
from scapy.layers.inet import IP
from scapy.layers.l2 import Ether
from scapy.utils import rdpcap

from dataplane import telemetry
from dataplane_helpers import ROOT, assert_tick_stream_sequenced, final_counters, wait_for
from feedhandlers.moldudp64 import decode_packet, end_of_session, frame_messages
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
    # Long enough that a loaded machine pausing the stage cannot give up a hole
    # the other line is about to fill; holes still end when the hold is full
    # or the appliance stops.
    arbitration_wait_us: 1000000
outputs:
  - {{name: ticks, port: out, group: 239.10.0.1, udp_port: 31001, session: COLO000001}}
stages: {{md: 1}}
metrics: {{prometheus_port: 0}}
"""
# Lines A and B on two networks, each on a port of its own, with the same
# group; what the ports send (IGMP reports) is captured.
CONFIG_TWO_PORTS = CONFIG.replace(
    '  feed: {{device: "net_pcap0,rx_pcap={feed}"}}',
    '  feed: {{device: "net_pcap0,rx_pcap={feed},tx_pcap={feed}.tx", ip: 10.1.0.1}}\n'
    '  feed_b: {{device: "net_pcap2,rx_pcap={feed_b},tx_pcap={feed_b}.tx", ip: 10.2.0.1}}').replace(
    "b: {{port: feed, group: 233.54.12.112, udp_port: 26478}}",
    "b: {{port: feed_b, group: 233.54.12.111, udp_port: 26477}}")
MESSAGES = synthesize(21, symbols=4, messages=6_000)
PACKETS = list(frame_messages(MESSAGES, b"NASDAQ0001", max_payload=600))


def frame(index, line):
    group, port = LINES[line]
    return udp_frame(PACKETS[index], "10.1.1.1", group, 26400, port)


def run_appliance(tmp_path, frames, frames_b=None, until=None):
    """colo run on the frames, stopped by SIGINT once it has read them all
    (and until(md telemetry) holds); with frames_b, line B's come in on a
    port of its own. The tick stream must be numbered without a hole."""
    out, config = tmp_path / "ticks.pcap", tmp_path / "colo.yaml"
    pcaps = {"feed": frames, "feed_b": frames_b or []}
    for name, port_frames in pcaps.items():
        with PcapWriter(tmp_path / f"{name}.pcap") as pcap:
            for f in port_frames:
                pcap.write(f)
    config.write_text((CONFIG if frames_b is None else CONFIG_TWO_PORTS).format(
        out=out, **{name: tmp_path / f"{name}.pcap" for name in pcaps}))
    frames = frames + (frames_b or [])
    appliance = subprocess.Popen([sys.executable, "-m", "dataplane.cli", "run", str(config)],
                                 cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 text=True)
    try:
        wait_for(lambda: telemetry.query("colo-lines")["rx_packets"] == len(frames))
        if until is not None:
            wait_for(lambda: until(telemetry.query("colo-lines")))
    finally:
        appliance.send_signal(signal.SIGINT)
        output, _ = appliance.communicate(timeout=30)
    assert appliance.returncode == 0, output
    ticks, tick_packets = read_tick_pcap(out)
    assert_tick_stream_sequenced(tick_packets)
    return ticks, final_counters(output), output


def messages_without(lost_packets):
    return [m for i, p in enumerate(PACKETS) if i not in lost_packets for m in decode_packet(p)[3]]


def test_lines_a_and_b_fill_each_others_gaps(tmp_path):
    lost = {"a": set(range(5, len(PACKETS), 7)), "b": set(range(8, len(PACKETS), 11))}
    lost["b"] -= lost["a"]  # never on neither line: the stream itself stays whole
    frames = [frame(i, line) for i in range(len(PACKETS))
              for line in (("b", "a") if i % 2 else ("a", "b")) if i not in lost[line]]
    ticks, counters, output = run_appliance(tmp_path, frames)
    assert counters["gaps"] == 0
    assert counters["drops"]["duplicate"] == len(frames) - len(PACKETS)
    assert f"line A {len(lost['a'])}," in output
    assert np.array_equal(ticks, reference_normalize(MESSAGES, datetime.date(2026, 11, 24)))


def test_a_packet_lost_on_a_is_taken_from_b_arriving_later(tmp_path):
    """Line B lags three packets behind A: when A loses one, A's next packets
    come before B's copy of the lost one, and must wait for it."""
    lost_on_a = {10, 11, 40}
    frames = []
    for step in range(len(PACKETS) + 3):
        if step < len(PACKETS) and step not in lost_on_a:
            frames.append(frame(step, "a"))
        if step >= 3:
            frames.append(frame(step - 3, "b"))
    ticks, counters, _ = run_appliance(tmp_path, frames)
    assert counters["gaps"] == 0
    assert np.array_equal(ticks, reference_normalize(MESSAGES, datetime.date(2026, 11, 24)))


def test_a_packet_lost_on_both_lines_is_one_gap(tmp_path):
    lost = 25
    frames = [frame(i, line) for i in range(len(PACKETS)) if i != lost for line in ("a", "b")]
    ticks, counters, _ = run_appliance(tmp_path, frames)
    assert (counters["gaps"], counters["gap_messages"]) == (1, len(decode_packet(PACKETS[lost])[3]))
    expected = reference_normalize(messages_without({lost}), datetime.date(2026, 11, 24))
    assert np.array_equal(ticks, expected)


def test_with_line_b_silent_a_hole_waits_then_counts_as_one_gap(tmp_path):
    """Line B configured but sending nothing: the hole waits for it (until the
    hold is full or arbitration_wait_us ends), then the feed goes on from A."""
    lost = 30
    ticks, counters, _ = run_appliance(tmp_path, [frame(i, "a") for i in range(len(PACKETS))
                                                  if i != lost])
    assert (counters["gaps"], counters["gap_messages"]) == (1, len(decode_packet(PACKETS[lost])[3]))
    expected = reference_normalize(messages_without({lost}), datetime.date(2026, 11, 24))
    assert np.array_equal(ticks, expected)


def feed_end(line):
    """Line `line`'s end of session, numbered after the last message."""
    group, port = LINES[line]
    return udp_frame(end_of_session(b"NASDAQ0001", len(MESSAGES) + 1), "10.1.1.1", group,
                     26400, port)


def noise(n):
    """Frames for a group nobody subscribed: more than an rx burst of them puts
    what follows into a later burst, with the stage's idle work between."""
    return [udp_frame(PACKETS[0], "10.1.1.1", "233.54.12.200", 26400, 26499)] * n


def test_an_end_of_session_does_not_jump_the_packets_held_behind_a_hole(tmp_path):
    """Both lines lose the same packets near the end. A's later packets wait
    for B; B's end of session then shows every line past the hole: the held
    packets are applied after the gap, not jumped over by it."""
    n = len(PACKETS)
    lost = {n - 10, n - 9, n - 8}
    frames = [frame(i, line) for i in range(n - 10) for line in ("a", "b")]
    frames += [frame(i, "a") for i in range(n - 7, n)] + [feed_end("a"), feed_end("b")]
    ticks, counters, _ = run_appliance(tmp_path, frames)
    lost_messages = sum(len(decode_packet(PACKETS[i])[3]) for i in lost)
    assert (counters["gaps"], counters["gap_messages"]) == (1, lost_messages)
    assert counters["messages"] == len(MESSAGES) - lost_messages
    expected = reference_normalize(messages_without(lost), datetime.date(2026, 11, 24))
    assert np.array_equal(ticks, expected)


def test_our_end_of_session_waits_for_the_line_that_may_fill_the_last_hole(tmp_path):
    """A loses its last packets and ends; B, behind, still brings them. The
    ticks stream must carry them before its own end of session."""
    n = len(PACKETS)
    frames = [frame(i, line) for i in range(n - 3) for line in ("a", "b")]
    frames += [feed_end("a")] + noise(40)
    frames += [frame(i, "b") for i in range(n - 3, n)] + [feed_end("b")]
    ticks, counters, _ = run_appliance(tmp_path, frames)  # it checks the end comes last
    assert counters["gaps"] == 0 and counters["messages"] == len(MESSAGES)
    assert np.array_equal(ticks, reference_normalize(MESSAGES, datetime.date(2026, 11, 24)))


def test_lines_on_two_ports_with_the_same_group_are_told_apart_by_port(tmp_path):
    lost_on_a = {12, 13, 50}
    frames_a = [frame(i, "a") for i in range(len(PACKETS)) if i not in lost_on_a]
    frames_b = [frame(i, "a") for i in range(len(PACKETS))]  # A's group and port
    ticks, counters, output = run_appliance(tmp_path, frames_a, frames_b)
    assert counters["gaps"] == 0
    assert "line A 2, line B 0" in output  # 12-13 is one hole on A, 50 another
    assert f"packets by line: A {len(frames_a)}, B {len(frames_b)}" in output
    assert np.array_equal(ticks, reference_normalize(MESSAGES, datetime.date(2026, 11, 24)))
    # Each line joins its group from its own port, with that port's address,
    # and on stopping leaves it there (IGMPv2 Leave Group, to all routers), so
    # the switch stops sending the feed at once.
    group = LINES["a"][0]
    igmp = {name: [p for p in rdpcap(str(tmp_path / f"{name}.pcap.tx")) if IP in p]
            for name in ("feed", "feed_b")}
    for name, address in (("feed", "10.1.0.1"), ("feed_b", "10.2.0.1")):
        *reports, leave = igmp[name]
        assert reports and {(p[IP].src, p[IP].dst) for p in reports} == {(address, group)}
        assert all(bytes(p[IP].payload)[0] == 0x16 for p in reports)  # membership report
        message = bytes(leave[IP].payload)[:8]
        assert (leave[IP].src, leave[IP].dst, leave[Ether].dst) == (address, "224.0.0.2", "01:00:5e:00:00:02")
        assert (message[0], message[4:]) == (0x17, socket.inet_aton(group))
        assert sum(struct.unpack(">4H", message)) % 0xFFFF == 0  # a valid checksum
    assert igmp["feed"][0][Ether].src != igmp["feed_b"][0][Ether].src
    assert "IGMP reports" in output and ", leaves 2" in output


def test_packets_released_after_the_wait_go_out_before_the_next_heartbeat(tmp_path):
    """Line B silent; A loses a packet near the end, so the few behind it wait
    arbitration_wait_us with no frame arriving after. When they are released
    between bursts, their ticks go out at once: a heartbeat (which names the
    next tick) must never come before them."""
    n = len(PACKETS)
    lost = n - 5
    ticks, counters, _ = run_appliance(
        tmp_path, [frame(i, "a") for i in range(n) if i != lost],
        until=lambda md: md["gaps"] == 1 and md["tx_heartbeats"] >= 2)
    expected = reference_normalize(messages_without({lost}), datetime.date(2026, 11, 24))
    assert np.array_equal(ticks, expected)
