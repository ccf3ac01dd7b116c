"""Feed edge cases through the real data plane (`colo normalize` on crafted captures).

Each test frames ITCH 5.0 messages in MoldUDP64 packets and checks the ticks against
the independent reference model run on exactly the messages the data plane should
have applied, and the counters an operator reads."""
import datetime
import itertools
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Dot1Q, Ether

from dataplane_helpers import ROOT, assert_tick_stream_sequenced, final_counters, normalize_frames
from feedhandlers import itch50
from feedhandlers.moldudp64 import encode_packet
from feedhandlers.pcap import PcapWriter, udp_frame
from multicast.capture import read_tick_pcap
from reference_model import TICK_DTYPE, ReferenceNormalizer, local_midnight_ns, ticks_to_array

DATE = datetime.date(2024, 3, 15)
MIDNIGHT_NS = local_midnight_ns(DATE, 'America/New_York')
SESSION = b'NASDAQ0001'
FEED = ('233.54.12.111', 26477)
OTHER = ('233.54.12.112', 26478)
OPEN_NS = 34_200_000_000_000  # 09:30, ns since midnight
U32_MAX = 2**32 - 1


def frames(packets, dest=FEED, vlan=None):
    return [udp_frame(p, '10.1.1.1', dest[0], 26400, dest[1], vlan=vlan) for p in packets]


def packets(messages, first_seq=1, per_packet=4, session=SESSION):
    return [encode_packet(session, first_seq + i, messages[i:i + per_packet])
            for i in range(0, len(messages), per_packet)]


def run(tmp_path, frame_list, *args):
    """Runs the data plane; checks every frame was taken in and the tick stream is whole."""
    ticks, out, counters, stdout = normalize_frames(tmp_path, frame_list, *args,
                                                    date=DATE.isoformat())
    assert counters['rx_packets'] == len(frame_list)
    assert counters['feed_packets'] + sum(counters['drops'].values()) == len(frame_list)
    assert_tick_stream_sequenced(out)
    return ticks, counters, stdout


def reference(messages):
    """The reference model's ticks and counters for messages applied in this order."""
    model = ReferenceNormalizer(DATE)
    return ticks_to_array([t for m in messages for t in model.apply(m)]), model.counters


def expected_ticks(*rows):
    """Literal ticks: (ITCH ns since midnight, symbol id, price 1e-9, qty, side, type)."""
    return np.array([(MIDNIGHT_NS + ts, *rest) for ts, *rest in rows], dtype=TICK_DTYPE)


def every_message_type():
    t = itertools.count(OPEN_NS, 1_000)
    m = itch50
    return [
        m.system_event(next(t), b'O'),
        m.stock_directory(next(t), 'AAPL', round_lot=100),
        m.stock_directory(next(t), 'BRK.A', round_lot=1),
        m.trading_action(next(t), 'AAPL', b'T'),
        m.encode('Y', next(t), stock='AAPL', reg_sho_action=b'0'),
        m.encode('L', next(t), mpid='GSCO', stock='AAPL', primary_market_maker=b'Y',
                 market_maker_mode=b'N', participant_state=b'A'),
        m.encode('V', next(t), level1=80_000_000_000, level2=60_000_000_000,
                 level3=40_000_000_000),
        m.encode('W', next(t), breached_level=b'1'),
        m.encode('K', next(t), stock='NEWCO', release_time=34_200, release_qualifier=b'A',
                 ipo_price=200_000),
        m.encode('J', next(t), stock='AAPL', reference_price=1_500_000, upper_price=1_650_000,
                 lower_price=1_350_000, extension=0),
        m.encode('h', next(t), stock='AAPL', market_code=b'Q', halt_action=b'0'),
        m.add_order(next(t), 1, b'B', 100, 'AAPL', 1_500_000),
        m.add_order_mpid(next(t), 2, b'B', 200, 'AAPL', 1_500_000, mpid=b'GSCO'),
        m.add_order(next(t), 3, b'S', 300, 'AAPL', 1_501_000),
        m.add_order(next(t), 4, b'B', 50, 'AAPL', 1_499_000),  # below the top: no tick
        m.order_executed(next(t), 1, 40, 1),
        m.order_executed_with_price(next(t), 2, 50, 2, b'Y', 1_500_100),
        m.order_executed_with_price(next(t), 2, 50, 3, b'N', 1_500_100),  # no trade tick
        m.order_cancel(next(t), 3, 100),
        m.order_delete(next(t), 4),
        m.order_replace(next(t), 3, 5, 500, 1_500_500),
        m.trade(next(t), 0, b'S', 100, 'AAPL', 1_500_200, 4),
        m.cross_trade(next(t), 10_000, 'AAPL', 1_500_000, 5, b'O'),
        m.broken_trade(next(t), 4),
        m.encode('I', next(t), paired_shares=1_000, imbalance_shares=200,
                 imbalance_direction=b'B', stock='AAPL', far_price=1_500_000,
                 near_price=1_500_100, reference_price=1_500_000, cross_type=b'C',
                 price_variation=b'L'),
        m.encode('N', next(t), stock='AAPL', interest_flag=b'B'),
        m.encode('O', next(t), stock='AAPL', open_eligibility=b'Y', min_price=1_400_000,
                 max_price=1_600_000, near_price=1_500_000, near_time=34_200_000_000_000,
                 lower_collar=1_350_000, upper_collar=1_650_000),
        m.trading_action(next(t), 'AAPL', b'H', reason=b'LUDP'),
        m.system_event(next(t), b'C'),
    ]


def test_every_itch_message_type_gives_the_reference_ticks_and_is_counted_by_type(tmp_path):
    messages = every_message_type()
    ticks, counters, stdout = run(tmp_path, frames(packets(messages)))
    assert np.array_equal(ticks, reference(messages)[0])
    assert set(ticks['type']) == {b'S', b'R', b'H', b'Q', b'T'}
    by_type = re.search(r'messages by type: (.*)', stdout).group(1)
    assert dict(item.rsplit(' ', 1) for item in by_type.split(', ')) == {
        kind: str(n) for kind, n in
        ((chr(k), sum(msg[0] == k for msg in messages)) for k in {msg[0] for msg in messages})}
    assert counters['messages'] == len(messages) and not counters['drops']


def test_vlan_tagged_feed_is_normalized_like_an_untagged_one(tmp_path):
    messages = every_message_type()
    tagged = [bytes(Ether(dst='01:00:5e:36:0c:6f') / Dot1Q(vlan=101, prio=5)
                    / IP(src='10.1.1.1', dst=FEED[0]) / UDP(sport=26400, dport=FEED[1]) / p)
              for p in packets(messages)]
    ticks, counters, _ = run(tmp_path, tagged)
    assert np.array_equal(ticks, reference(messages)[0])
    assert counters['feed_packets'] == len(tagged) and not counters['drops']
    assert (counters['ip_checksum_errors'], counters['udp_checksum_errors']) == (0, 0)


def test_ab_duplicates_first_copy_wins_and_the_second_is_counted(tmp_path):
    messages = every_message_type()
    feed = packets(messages, per_packet=3)
    frame_list = []
    for i, (a, b) in enumerate(zip(frames(feed), frames(feed, OTHER))):
        frame_list += [a, b] if i % 2 else [b, a]  # either line may be first
    ticks, counters, _ = run(tmp_path, frame_list)
    assert np.array_equal(ticks, reference(messages)[0])
    assert counters['drops'] == {'duplicate': len(feed)}
    assert (counters['feed_packets'], counters['messages'], counters['gaps']) == (
        len(feed), len(messages), 0)


def test_partially_overlapping_packets_apply_only_their_new_messages(tmp_path):
    messages = every_message_type()
    feed = [encode_packet(SESSION, 1, messages[0:6]),
            encode_packet(SESSION, 4, messages[3:10]),  # 4-6 again (an H tick among them)
            encode_packet(SESSION, 11, messages[10:]),
            encode_packet(SESSION, 9, messages[8:12])]  # nothing new: a duplicate
    ticks, counters, _ = run(tmp_path, frames(feed))
    assert np.array_equal(ticks, reference(messages)[0])
    assert counters['messages'] == len(messages)
    assert counters['drops'] == {'duplicate': 1} and counters['gaps'] == 0


def test_a_sequence_gap_is_counted_and_later_messages_still_apply(tmp_path):
    messages = every_message_type()
    feed = packets(messages, per_packet=4)
    lost = range(12, 16)  # the packet at seq 13: adds of orders 2-4 and an execution
    ticks, counters, stdout = run(tmp_path, frames(feed[:3] + feed[4:]))
    applied = [m for i, m in enumerate(messages) if i not in lost]
    want, model = reference(applied)
    assert np.array_equal(ticks, want)
    assert 'gaps 1 (4 messages)' in stdout
    assert counters['events']['orphan_ref'] == model['orphan_refs'] > 0


def test_a_capture_starting_mid_session_is_not_a_gap(tmp_path):
    t = itertools.count(OPEN_NS)
    earlier = [itch50.order_executed(next(t), 900, 100, 1), itch50.order_delete(next(t), 901)]
    messages = earlier + every_message_type()
    ticks, counters, _ = run(tmp_path, frames(packets(messages, first_seq=1000)))
    assert np.array_equal(ticks, reference(messages)[0])
    assert (counters['gaps'], counters['gap_messages']) == (0, 0)
    assert counters['events']['orphan_ref'] == 2  # orders placed before the capture


def test_orphan_references_are_counted_and_emit_nothing(tmp_path):
    m = itch50
    messages = [m.add_order(1, 1, b'B', 100, 'AAPL', 1_000_000),
                m.order_executed(2, 77, 10, 1),
                m.order_executed_with_price(3, 78, 10, 2, b'Y', 1_000_000),
                m.order_cancel(4, 79, 10),
                m.order_delete(5, 80),
                m.order_replace(6, 81, 82, 100, 1_000_000),
                m.order_executed(7, 82, 10, 3),  # the replace of an orphan made no order
                m.order_executed(8, 1, 10, 4)]
    ticks, counters, _ = run(tmp_path, frames(packets(messages)))
    assert np.array_equal(ticks, expected_ticks((1, 1, 100_000_000_000, 100, b'B', b'Q'),
                                                (8, 1, 100_000_000_000, 10, b'S', b'T'),
                                                (8, 1, 100_000_000_000, 90, b'B', b'Q')))
    assert np.array_equal(ticks, reference(messages)[0])
    assert counters['events']['orphan_ref'] == 6


def test_a_replace_chain_moves_the_order_and_retires_the_old_references(tmp_path):
    m = itch50
    messages = [m.add_order(1, 1, b'S', 100, 'AAPL', 100_000),
                m.order_replace(2, 1, 2, 200, 100_100),
                m.order_replace(3, 2, 3, 300, 99_900),  # a U of a U
                m.order_executed(4, 3, 300, 1),
                m.order_executed(5, 1, 1, 2),
                m.order_executed(6, 2, 1, 3)]
    ticks, counters, _ = run(tmp_path, frames(packets(messages)))
    assert np.array_equal(ticks, expected_ticks((1, 1, 10_000_000_000, 100, b'S', b'Q'),
                                                (2, 1, 10_010_000_000, 200, b'S', b'Q'),
                                                (3, 1, 9_990_000_000, 300, b'S', b'Q'),
                                                (4, 1, 9_990_000_000, 300, b'B', b'T'),
                                                (4, 1, 0, 0, b'S', b'Q')))
    assert np.array_equal(ticks, reference(messages)[0])
    assert counters['events']['orphan_ref'] == 2


def test_a_full_execution_removes_the_level_and_the_next_one_becomes_the_top(tmp_path):
    m = itch50
    messages = [m.add_order(1, 1, b'B', 100, 'AAPL', 100_000),
                m.add_order(2, 2, b'B', 50, 'AAPL', 100_000),
                m.add_order(3, 3, b'B', 70, 'AAPL', 99_900),
                m.order_executed(4, 1, 100, 1),
                m.order_executed(5, 2, 50, 2),
                m.add_order(6, 4, b'B', 10, 'AAPL', 100_000)]  # the level comes back
    ticks, _, _ = run(tmp_path, frames(packets(messages)))
    assert np.array_equal(ticks, expected_ticks((1, 1, 10_000_000_000, 100, b'B', b'Q'),
                                                (2, 1, 10_000_000_000, 150, b'B', b'Q'),
                                                (4, 1, 10_000_000_000, 100, b'S', b'T'),
                                                (4, 1, 10_000_000_000, 50, b'B', b'Q'),
                                                (5, 1, 10_000_000_000, 50, b'S', b'T'),
                                                (5, 1, 9_990_000_000, 70, b'B', b'Q'),
                                                (6, 1, 10_000_000_000, 10, b'B', b'Q')))
    assert np.array_equal(ticks, reference(messages)[0])


def test_an_emptied_side_quotes_price_0_quantity_0(tmp_path):
    m = itch50
    messages = [m.add_order(1, 1, b'S', 100, 'AAPL', 100_500),
                m.add_order(2, 2, b'S', 100, 'AAPL', 100_600),
                m.order_delete(3, 1),
                m.order_cancel(4, 2, 100),
                m.add_order(5, 3, b'B', 5, 'AAPL', 100_000),
                m.order_executed_with_price(6, 3, 5, 1, b'Y', 100_100),
                m.add_order(7, 4, b'B', 5, 'AAPL', 90_000),
                m.order_cancel(8, 4, 1_000)]  # more than it has: never below zero
    ticks, _, _ = run(tmp_path, frames(packets(messages)))
    assert np.array_equal(ticks, expected_ticks((1, 1, 10_050_000_000, 100, b'S', b'Q'),
                                                (3, 1, 10_060_000_000, 100, b'S', b'Q'),
                                                (4, 1, 0, 0, b'S', b'Q'),
                                                (5, 1, 10_000_000_000, 5, b'B', b'Q'),
                                                (6, 1, 10_010_000_000, 5, b'S', b'T'),
                                                (6, 1, 0, 0, b'B', b'Q'),
                                                (7, 1, 9_000_000_000, 5, b'B', b'Q'),
                                                (8, 1, 0, 0, b'B', b'Q')))
    assert np.array_equal(ticks, reference(messages)[0])


def test_the_largest_itch_price_is_429496_dollars_7295(tmp_path):
    m = itch50
    top = 0xFFFFFFFF
    messages = [m.add_order(1, 1, b'S', 1, 'BRK.A', top),
                m.trade(2, 0, b'B', 2, 'BRK.A', top, 1),
                m.order_executed_with_price(3, 1, 1, 2, b'Y', top),
                m.cross_trade(4, 3, 'BRK.A', top, 3)]
    ticks, _, _ = run(tmp_path, frames(packets(messages)))
    price = 429_496_729_500_000
    assert np.array_equal(ticks, expected_ticks((1, 1, price, 1, b'S', b'Q'),
                                                (2, 1, price, 2, b'S', b'T'),
                                                (3, 1, price, 1, b'B', b'T'),
                                                (3, 1, 0, 0, b'S', b'Q'),
                                                (4, 1, price, 3, b' ', b'T')))
    assert np.array_equal(ticks, reference(messages)[0])


def test_quantities_above_u32_saturate(tmp_path):
    m = itch50
    messages = [m.cross_trade(1, 2**32 + 7, 'AAPL', 1_000_000, 1),  # 8-byte cross shares
                m.cross_trade(2, U32_MAX, 'AAPL', 1_000_000, 2),
                m.cross_trade(3, 0, 'AAPL', 1_000_000, 3),  # no shares: no tick
                m.add_order(4, 1, b'B', 3_000_000_000, 'AAPL', 1_000_000),
                m.add_order(5, 2, b'B', 3_000_000_000, 'AAPL', 1_000_000),  # level of 6e9
                m.order_delete(6, 1)]
    ticks, _, _ = run(tmp_path, frames(packets(messages)))
    assert np.array_equal(ticks, expected_ticks((1, 1, 100_000_000_000, U32_MAX, b' ', b'T'),
                                                (2, 1, 100_000_000_000, U32_MAX, b' ', b'T'),
                                                (4, 1, 100_000_000_000, 3_000_000_000, b'B', b'Q'),
                                                (5, 1, 100_000_000_000, U32_MAX, b'B', b'Q'),
                                                (6, 1, 100_000_000_000, 3_000_000_000, b'B', b'Q')))
    assert np.array_equal(ticks, reference(messages)[0])


def test_bad_checksums_are_counted_and_the_packets_still_processed(tmp_path):
    messages = every_message_type()
    frame_list = [bytearray(f) for f in frames(packets(messages))]
    # Packet 1: its S message's event code damaged in flight (UDP checksum now wrong).
    frame_list[0][42 + 20 + 2 + 11] = ord('X')
    messages[0] = messages[0][:11] + b'X'
    frame_list[2][14 + 10] ^= 0xFF  # IP header checksum damaged
    frame_list[3][40:42] = b'\0\0'  # UDP checksum 0: "none", not an error
    ticks, counters, _ = run(tmp_path, [bytes(f) for f in frame_list])
    assert np.array_equal(ticks, reference(messages)[0])
    assert ticks[0]['side'] == b'X'
    assert (counters['ip_checksum_errors'], counters['udp_checksum_errors']) == (1, 1)
    assert not counters['drops']


# `colo normalize` has no checksums setting: an appliance of its own, net_pcap in and out.
DROP_BAD_CONFIG = """
eal: {{lcores: [1], hugepages: "off", file_prefix: colo-drop-bad-{pid}}}
ports:
  feed: {{device: "net_pcap0,rx_pcap={feed}"}}
  out: {{device: "net_pcap1,tx_pcap={out}", ip: 10.0.0.1}}
feeds:
  - {{name: f, protocol: itch50-moldudp64, session_date: {date},
     lines: {{a: {{port: feed, group: {group}, udp_port: {port}}}}}}}
outputs:
  - {{name: ticks, port: out, group: 239.10.0.1, udp_port: 31001, session: COLO000001}}
stages: {{md: 1}}
checksums: {{drop_bad: true}}
metrics: {{prometheus_port: 0}}
"""
# Runs the appliance until it has read every frame; it prints its final counters.
RUN_UNTIL_READ = """
import sys
from dataplane.appliance import Appliance
from dataplane.config import load_config
from dataplane.runner import run
frames = int(sys.argv[2])
run(Appliance(load_config(sys.argv[1])), until=lambda c: c["rx_packets"] >= frames,
    status_every=0)
"""


def test_drop_bad_drops_packets_that_fail_a_checksum(tmp_path):
    """checksums.drop_bad: a packet whose IP or UDP checksum fails is dropped, counted
    under bad_checksum, and what it carried is a gap."""
    messages = every_message_type()
    feed = packets(messages, per_packet=4)
    frame_list = [bytearray(f) for f in frames(feed)]
    frame_list[2][42 + 20 + 2 + 11] ^= 0xFF  # a message byte: the UDP checksum fails
    frame_list[5][14 + 10] ^= 0xFF  # the IP header checksum
    kept = [m for i, m in enumerate(messages) if i // 4 not in (2, 5)]
    with PcapWriter(tmp_path / 'feed.pcap') as pcap:
        for f in frame_list:
            pcap.write(bytes(f))
    config = tmp_path / 'colo.yaml'
    config.write_text(DROP_BAD_CONFIG.format(pid=os.getpid(), feed=tmp_path / 'feed.pcap',
                                             out=tmp_path / 'ticks.pcap', date=DATE.isoformat(),
                                             group=FEED[0], port=FEED[1]))
    done = subprocess.run([sys.executable, '-c', RUN_UNTIL_READ, str(config), str(len(frame_list))],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    counters = final_counters(done.stdout)
    ticks, tick_packets = read_tick_pcap(tmp_path / 'ticks.pcap')
    assert_tick_stream_sequenced(tick_packets)
    assert np.array_equal(ticks, reference(kept)[0])
    assert counters['drops'] == {'bad_checksum': 2}
    assert (counters['ip_checksum_errors'], counters['udp_checksum_errors']) == (1, 1)
    assert (counters['feed_packets'], counters['gaps'], counters['gap_messages']) == (
        len(feed) - 2, 2, 8)


@pytest.mark.parametrize('args, subscribed_noise', [
    (('--group', FEED[0], '--port', str(FEED[1])), []),
    (('--group', FEED[0]), [(FEED[0], OTHER[1])]),
    (('--port', str(FEED[1])), [(OTHER[0], FEED[1])]),
], ids=['group-and-port', 'group', 'port'])
def test_group_and_port_narrow_the_feed_to_one_destination(tmp_path, args, subscribed_noise):
    messages = every_message_type()
    feed = packets(messages)
    noise = packets(every_message_type()[:12], session=b'OTHERFEED1')
    destinations = [(FEED[0], OTHER[1]), (OTHER[0], FEED[1])]
    frame_list = (frames(noise, OTHER)  # before the feed: must not become the session
                  + frames(feed[:1])
                  + [f for d in destinations for f in frames(noise, d)]
                  + frames(feed[1:]))
    ticks, counters, _ = run(tmp_path, frame_list, *args)
    assert np.array_equal(ticks, reference(messages)[0])
    taken = len(noise) * len(subscribed_noise)
    assert counters['drops'] == {'not_subscribed': len(noise) * 3 - taken,
                                 **({'wrong_session': taken} if taken else {})}
    assert counters['feed_packets'] == len(feed)


def test_a_session_learned_from_a_damaged_first_packet_gives_way_to_the_real_one(tmp_path):
    """The capture's first packet has a byte of its session name flipped (its
    UDP checksum now fails): the clean packets after it carry the real
    session and are the feed, not wrong_session drops."""
    messages = every_message_type()
    frame_list = [bytearray(f) for f in frames(packets(messages))]
    frame_list[0][42 + 3] ^= 0x20  # the session's 4th character
    ticks, counters, _ = run(tmp_path, [bytes(f) for f in frame_list])
    assert counters['udp_checksum_errors'] == 1
    assert 'wrong_session' not in counters['drops']
    assert counters['feed_packets'] == len(frame_list)
    assert np.array_equal(ticks, reference(messages)[0])
