"""`colo normalize` runs the real DPDK data plane (net_pcap in and out); its
ticks must equal the independent reference model's, tick for tick."""
import datetime

import numpy as np
import pytest

from dataplane.cli import main
from dataplane.normalize import itch_file_to_pcap
from dataplane_helpers import SAMPLE, colo
from feedhandlers.itch50 import read_itch_file, write_itch_file
from feedhandlers.synth import synthesize
from multicast.capture import read_tick_pcap
from reference_model import ReferenceNormalizer, ticks_to_array
from reference_model import normalize as reference_normalize


def assert_sequenced(packets):
    """MoldUDP64 sequence numbers run 1, 2, 3... with no hole, and the
    session ends with an end-of-session packet."""
    expected = 1
    for p in packets:
        assert p.seq == expected
        expected += p.count
    assert packets[-1].end_of_session
    assert all(p.session == b"COLO000001" for p in packets)


def test_real_sample_matches_reference_model(tmp_path):
    out = tmp_path / "ticks.pcap"
    proc = colo("normalize", SAMPLE, "-o", out, "--date", "2010-12-24")
    ticks, packets = read_tick_pcap(out)
    model = ReferenceNormalizer(datetime.date(2010, 12, 24))
    expected = ticks_to_array([t for m in read_itch_file(SAMPLE) for t in model.apply(m)])
    assert len(ticks) == len(expected) == 5584
    assert np.array_equal(ticks, expected)
    assert_sequenced(packets)
    # The sample's executions and cancels of orders added before it began.
    assert model.counters['orphan_refs'] > 0
    assert f"orphan_ref {model.counters['orphan_refs']}" in proc.stdout
    assert "ITCH messages 12012" in proc.stdout


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_synthetic_sessions_match_reference_model(tmp_path, seed):
    messages = synthesize(seed, symbols=6, messages=20_000)
    itch = tmp_path / "session.itch"
    write_itch_file(itch, messages)
    out = tmp_path / "ticks.pcap"
    colo("normalize", itch, "-o", out, "--date", "2026-11-24")
    ticks, packets = read_tick_pcap(out)
    expected = reference_normalize(messages, datetime.date(2026, 11, 24))
    assert len(ticks) == len(expected)
    assert np.array_equal(ticks, expected)
    assert_sequenced(packets)


def test_packets_respect_mtu_and_every_packet_is_full_but_the_last_of_a_burst(tmp_path):
    out = tmp_path / "ticks.pcap"
    colo("normalize", SAMPLE, "-o", out, "--date", "2010-12-24")
    _, packets = read_tick_pcap(out)
    # 1500-byte MTU: 20 IP + 8 UDP + 20 MoldUDP64 + 51 * 28 = 1476.
    assert max(p.count for p in packets) == 51


def test_gzipped_itch_file_and_its_pcap_give_the_same_ticks(tmp_path):
    """NASDAQ ships ITCH files gzipped; a capture of the same session is the other input."""
    gz = tmp_path / "sample.itch.gz"
    write_itch_file(gz, read_itch_file(SAMPLE))
    colo("normalize", gz, "-o", tmp_path / "from_gz.pcap", "--date", "2010-12-24")
    pcap = tmp_path / "feed.pcap"
    itch_file_to_pcap(SAMPLE, pcap)
    colo("normalize", pcap, "-o", tmp_path / "from_pcap.pcap", "--date", "2010-12-24")
    from_gz, _ = read_tick_pcap(tmp_path / "from_gz.pcap")
    from_pcap, _ = read_tick_pcap(tmp_path / "from_pcap.pcap")
    assert len(from_gz) == 5584 and np.array_equal(from_gz, from_pcap)


@pytest.mark.parametrize("option, value, message", [
    ("--port", "70000", "expected a UDP port from 1 to 65535, got '70000'"),
    ("--group", "10.1.2.3", "expected an IPv4 multicast group, got '10.1.2.3'"),
    # was refused only after the input had been converted, against an internal config
    ("--tz", "America/Nueva_York", "expected a time zone such as America/New_York, got 'America/Nueva_York'"),
])
def test_bad_filter_is_a_usage_error(capsys, option, value, message):
    # Once the data plane was up it took the port as a 16-bit field: an
    # OverflowError traceback after the whole input had been read.
    with pytest.raises(SystemExit) as exited:
        main(["normalize", "session.itch", option, value])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err
