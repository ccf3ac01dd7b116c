"""End to end through the kernel: `colo run` drives net_af_packet on veth
pairs; an exchange in a network namespace multicasts the feed in, and a
subscriber there joins the tick group with a real socket."""
import datetime
import os
import re
import signal
import subprocess
import sys
import urllib.request

import numpy as np
import pytest

from dataplane import netns, telemetry
from dataplane.config import example_config_text
from dataplane_helpers import ROOT, colo, subscribe_in_namespace, wait_for
from feedhandlers.itch50 import write_itch_file
from feedhandlers.synth import synthesize
from multicast.ticks import decode_packet
from reference_model import normalize as reference_normalize

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root for netns and veth")


@pytest.fixture
def virtual_network():
    netns.setup()
    yield
    netns.teardown()


def test_subscriber_in_namespace_receives_every_tick(tmp_path, virtual_network):
    messages = synthesize(11, symbols=5, messages=15_000)
    write_itch_file(tmp_path / "session.itch", messages)
    config = tmp_path / "colo.yaml"
    config.write_text(example_config_text().replace("prometheus_port: 9108", "prometheus_port: 19108")
                      .replace("file_prefix: colo ", "file_prefix: colo-e2e "))
    saved = tmp_path / "ticks.npy"

    appliance = subprocess.Popen([sys.executable, "-m", "dataplane.cli", "run", str(config)],
                                 cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 text=True)
    subscriber = exchange = None
    try:
        # Sent only once the appliance runs and the subscriber has joined: nothing
        # here may depend on how fast a loaded machine starts processes.
        # Quiet before the feed starts: the appliance joins the feed group itself (no
        # kernel does it for a DPDK port) and heartbeats its subscribers.
        wait_for(lambda: telemetry.query("colo-e2e")["tx_heartbeats"] > 0)
        assert telemetry.query("colo-e2e")["igmp_reports"] > 0
        subscriber = subscribe_in_namespace(saved, idle_timeout=30)
        exchange = netns.in_namespace(["-m", "feedhandlers.replay", str(tmp_path / "session.itch"),
                                       "--source-ip", "10.98.0.2", "--rate", "1000"], cwd=ROOT)
        assert exchange.wait(timeout=90) == 0
        # The stream carries the order path's books too: the feed's end of
        # session does not end it (heartbeats go on) until the order path's
        # day ends as well.
        wait_for(lambda: telemetry.query("colo-e2e")["feed_end_of_session"] == 1)
        # Meanwhile a client re-requests four times a second: the unicast
        # answers must not hold back the heartbeats every subscriber waits for.
        beats = telemetry.query("colo-e2e")["tx_heartbeats"]
        rerequests = netns.in_namespace(["-c", REREQUEST, "5", "1", str(REPEATS), "0.25"],
                                        stdout=subprocess.PIPE)
        rerequests.communicate(timeout=30)
        assert telemetry.query("colo-e2e")["tx_heartbeats"] >= beats + 2
        assert subscriber.poll() is None
        assert telemetry.query("colo-e2e")["tx_end_of_session"] == 0
        assert "the tick stream ends once the feed has too" in colo("eod", config).stdout
        sub_out, _ = subscriber.communicate(timeout=90)
        assert telemetry.query("colo-e2e")["tx_end_of_session"] == 1
        resent = rerequest_from_namespace(seq=5, count=3)
        live = telemetry.query("colo-e2e")
        placement = thread_cpus(appliance.pid)
        metrics = urllib.request.urlopen("http://127.0.0.1:19108/metrics", timeout=5).read().decode()
    finally:
        appliance.send_signal(signal.SIGINT)
        app_out, _ = appliance.communicate(timeout=30)

    assert appliance.returncode == 0, app_out
    assert "final counters" in app_out and "ITCH messages 15000" in app_out
    assert re.search(r"lcore 1: \d+ stalls over 50us in [1-9]\d* polling rounds", app_out)
    assert re.search(r"md stage: [1-9]\d* passes with work, p50 [\d.]+us", app_out)
    assert "end of session" in sub_out and "gaps 0" in sub_out, sub_out
    expected = reference_normalize(messages, datetime.date(2026, 11, 24))
    # The feed's symbols are numbered after the config's instruments (the order
    # path's books, ids 900001 and 900002).
    expected["symbol_id"][expected["symbol_id"] != 0] += 900002
    received = np.load(saved)
    assert len(received) == len(expected)
    assert np.array_equal(received, expected)
    # A subscriber that missed ticks 5..7 asks for them by unicast and gets them.
    assert (resent.seq, resent.count) == (5, 3)
    assert np.array_equal(resent.ticks.astype(expected.dtype), expected[4:7])
    assert f"re-requests answered {REPEATS + 1} ({REPEATS + 3} ticks)" in app_out
    # Operators read the same counters live: telemetry, Prometheus, the status line.
    assert (live["messages"], live["tx_ticks"], live["gaps"]) == (15000, len(expected), 0)
    assert "colo_md_messages_total 15000.0" in metrics
    assert "colo_md_feed_ended 1.0" in metrics and "colo_md_stream_ended 1.0" in metrics
    assert f'colo_md_ticks_total{{type="T"}} {float(sum(expected["type"] == b"T"))}' in metrics
    assert "burst p50" in app_out
    # The md stage alone on its lcore; every other thread on the main lcore's CPU.
    assert placement.pop("rte-worker-1") == {"1"} and set().union(*placement.values()) == {"0"}


def thread_cpus(pid) -> dict[str, set[str]]:
    """thread name -> the CPU lists its threads may run on. A thread that ends
    meanwhile (DPDK telemetry serves each connection on a thread) is skipped."""
    cpus = {}
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/comm") as f:
                name = f.read().strip()
            with open(f"/proc/{pid}/task/{task}/status") as f:
                allowed = re.search(r"Cpus_allowed_list:\s*(\S+)", f.read()).group(1)
        except FileNotFoundError:
            continue
        cpus.setdefault(name, set()).add(allowed)
    return cpus


REREQUEST = """
import socket, struct, sys, time
seq, count, times, every = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
for _ in range(times):
    s.sendto(struct.pack(">10sQH", b"COLO000001", seq, count), ("10.99.0.1", 31002))
    answer = s.recv(65535)
    time.sleep(every)
sys.stdout.buffer.write(answer)
"""
REPEATS = 12


def rerequest_from_namespace(seq, count):
    """A MoldUDP64 re-request from the subscribers' namespace; the decoded answer."""
    proc = netns.in_namespace(["-c", REREQUEST, str(seq), str(count), "1", "0"],
                              stdout=subprocess.PIPE)
    answer, _ = proc.communicate(timeout=15)
    assert proc.returncode == 0
    return decode_packet(answer)
