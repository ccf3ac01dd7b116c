"""Tests of feedhandlers: ITCH 5.0 layouts and files, MoldUDP64, pcap, synthesis."""
import gzip
import struct
from collections import Counter

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Dot1Q, Ether
from scapy.utils import PcapWriter as ScapyPcapWriter
from scapy.utils import rdpcap

from dataplane_helpers import SAMPLE
from feedhandlers import itch50, moldudp64, pcap, synth

SAMPLE_COUNTS = {'P': 5000, 'A': 4997, 'D': 1745, 'E': 198, 'X': 45, 'U': 12, 'S': 6, 'R': 3,
                 'H': 3, 'F': 3}
TS = 0xABCDEF012345  # uses all six timestamp bytes


# ITCH 5.0 ------------------------------------------------------------------------------

def test_message_lengths_are_the_itch50_ones():
    spec = dict(S=12, R=39, H=25, Y=20, L=26, V=35, W=12, K=28, J=35, h=21, A=36, F=40, E=31,
                C=36, X=23, D=19, U=35, P=44, Q=40, B=19, I=50, N=20, O=48)
    assert itch50.MESSAGE_LENGTHS == {ord(t): n for t, n in spec.items()}


# (encoder, arguments, expected type, expected decoded fields)
ENCODERS = [
    (itch50.system_event, dict(ts=TS, code='Q'), 'S', dict(code='Q')),
    (itch50.stock_directory, dict(ts=TS, stock='AAPL', round_lot=10, locate=7, issue_class='A',
                                  etp_leverage=3),
     'R', dict(stock='AAPL', market_category='Q', fin_status='N', round_lot=10,
               round_lots_only='N', issue_class='A', issue_subtype='Z', authenticity='P',
               short_sale_threshold='N', ipo_flag='N', luld_tier='1', etp_flag='N',
               etp_leverage=3, inverse='N')),
    (itch50.trading_action, dict(ts=TS, stock=b'MSFT', state='H', reason='LUDP'),
     'H', dict(stock='MSFT', state='H', reserved=' ', reason='LUDP')),
    (itch50.add_order, dict(ts=TS, ref=2**63 + 5, side='B', shares=300, stock='BRK.A',
                            price=0xFFFFFFFF),
     'A', dict(ref=2**63 + 5, side='B', shares=300, stock='BRK.A', price=0xFFFFFFFF)),
    (itch50.add_order_mpid, dict(ts=TS, ref=9, side=b'S', shares=100, stock='QQQ', price=123),
     'F', dict(ref=9, side='S', shares=100, stock='QQQ', price=123, mpid='NSDQ')),
    (itch50.order_executed, dict(ts=TS, ref=9, shares=50, match=2**40),
     'E', dict(ref=9, shares=50, match=2**40)),
    (itch50.order_executed_with_price, dict(ts=TS, ref=9, shares=50, match=3, printable='N',
                                            price=777),
     'C', dict(ref=9, shares=50, match=3, printable='N', price=777)),
    (itch50.order_cancel, dict(ts=TS, ref=9, shares=20), 'X', dict(ref=9, shares=20)),
    (itch50.order_delete, dict(ts=TS, ref=9, tracking=4), 'D', dict(ref=9)),
    (itch50.order_replace, dict(ts=TS, orig_ref=9, new_ref=10, shares=200, price=456),
     'U', dict(orig_ref=9, new_ref=10, shares=200, price=456)),
    (itch50.trade, dict(ts=TS, ref=0, side='B', shares=100, stock='SPY', price=4700000, match=11),
     'P', dict(ref=0, side='B', shares=100, stock='SPY', price=4700000, match=11)),
    (itch50.cross_trade, dict(ts=TS, shares=2**33, stock='SPY', price=4700000, match=12),
     'Q', dict(shares=2**33, stock='SPY', price=4700000, match=12, cross_type='O')),
    (itch50.broken_trade, dict(ts=TS, match=12), 'B', dict(match=12)),
]


@pytest.mark.parametrize('encoder, kwargs, msg_type, fields', ENCODERS,
                         ids=[case[2] for case in ENCODERS])
def test_encoders_round_trip_through_decode(encoder, kwargs, msg_type, fields):
    msg = encoder(**kwargs)
    assert len(msg) == itch50.MESSAGE_LENGTHS[ord(msg_type)]
    decoded = itch50.decode(msg)
    assert decoded == {'type': msg_type, 'locate': kwargs.get('locate', 0),
                       'tracking': kwargs.get('tracking', 0), 'ts': TS, **fields}
    assert itch50.encode(decoded.pop('type'), **decoded) == msg


# Field offsets as the ITCH 5.0 specification gives them: name -> (offset, size).
OFFSETS = {
    'R': dict(stock=(11, 8), market_category=(19, 1), fin_status=(20, 1), round_lot=(21, 4),
              round_lots_only=(25, 1), issue_class=(26, 1), issue_subtype=(27, 2),
              authenticity=(29, 1), short_sale_threshold=(30, 1), ipo_flag=(31, 1),
              luld_tier=(32, 1), etp_flag=(33, 1), etp_leverage=(34, 4), inverse=(38, 1)),
    'H': dict(stock=(11, 8), state=(19, 1), reserved=(20, 1), reason=(21, 4)),
    'A': dict(ref=(11, 8), side=(19, 1), shares=(20, 4), stock=(24, 8), price=(32, 4)),
    'F': dict(ref=(11, 8), side=(19, 1), shares=(20, 4), stock=(24, 8), price=(32, 4),
              mpid=(36, 4)),
    'E': dict(ref=(11, 8), shares=(19, 4), match=(23, 8)),
    'C': dict(ref=(11, 8), shares=(19, 4), match=(23, 8), printable=(31, 1), price=(32, 4)),
    'X': dict(ref=(11, 8), shares=(19, 4)),
    'D': dict(ref=(11, 8)),
    'U': dict(orig_ref=(11, 8), new_ref=(19, 8), shares=(27, 4), price=(31, 4)),
    'P': dict(ref=(11, 8), side=(19, 1), shares=(20, 4), stock=(24, 8), price=(32, 4),
              match=(36, 8)),
    'Q': dict(shares=(11, 8), stock=(19, 8), price=(27, 4), match=(31, 8), cross_type=(39, 1)),
    'S': dict(code=(11, 1)),
    'B': dict(match=(11, 8)),
}


@pytest.mark.parametrize('encoder, kwargs, msg_type, fields', ENCODERS,
                         ids=[case[2] for case in ENCODERS])
def test_fields_sit_at_the_specified_offsets(encoder, kwargs, msg_type, fields):
    msg = encoder(**{**kwargs, 'locate': 0x0102, 'tracking': 0x0304})
    assert msg[:11] == msg_type.encode() + b'\x01\x02\x03\x04' + TS.to_bytes(6, 'big')
    for name, (offset, size) in OFFSETS[msg_type].items():
        value = fields[name]
        expected = (value.encode().ljust(size) if isinstance(value, str)
                    else value.to_bytes(size, 'big'))
        assert msg[offset:offset + size] == expected, name


@pytest.mark.parametrize('msg_type', sorted({chr(c) for c in itch50.MESSAGE_LENGTHS}
                                            - set(OFFSETS)))
def test_generic_encode_covers_the_other_types(msg_type):
    msg = itch50.encode(msg_type, TS, locate=3)
    assert len(msg) == itch50.MESSAGE_LENGTHS[ord(msg_type)]
    decoded = itch50.decode(msg)
    assert (decoded['type'], decoded['locate'], decoded['ts']) == (msg_type, 3, TS)


def test_encode_and_decode_reject_bad_input():
    with pytest.raises(ValueError, match='does not fit'):
        itch50.add_order(TS, 1, 'B', 100, 'TOOLONGNAME', 1)
    with pytest.raises(TypeError, match='no field'):
        itch50.encode('D', TS, ref=1, shares=2)
    with pytest.raises(ValueError, match='timestamp'):
        itch50.order_delete(1 << 48, 1)
    with pytest.raises(ValueError, match='unknown'):
        itch50.decode(itch50.raw('Z', TS, b'xyz'))
    with pytest.raises(ValueError, match='expected 19'):
        itch50.decode(itch50.order_delete(TS, 1) + b'\0')


def test_raw_builds_a_header_and_any_body():
    msg = itch50.raw(b'D', TS, (42).to_bytes(8, 'big'), locate=1, tracking=2)
    assert msg == itch50.order_delete(TS, 42, locate=1, tracking=2)


def test_sample_file_has_the_documented_messages():
    messages = list(itch50.read_itch_file(SAMPLE))
    assert len(messages) == 12_012
    assert Counter(chr(m[0]) for m in messages) == SAMPLE_COUNTS
    decoded = [itch50.decode(m) for m in messages]
    assert [d['stock'] for d in decoded if d['type'] == 'R'] == ['ALC', 'BOB', 'CHAR']


def test_itch_files_round_trip_plain_and_gzip(tmp_path):
    messages = list(itch50.read_itch_file(SAMPLE))
    for name in ('plain.itch', 'compressed.itch.gz'):
        assert itch50.write_itch_file(tmp_path / name, messages) == len(messages)
        assert list(itch50.read_itch_file(tmp_path / name)) == messages
    # gzip is recognised by its magic bytes, not by the file name
    (tmp_path / 'no_extension').write_bytes(gzip.compress(SAMPLE.read_bytes()))
    assert list(itch50.read_itch_file(tmp_path / 'no_extension')) == messages
    assert (tmp_path / 'plain.itch').stat().st_size == SAMPLE.stat().st_size


def test_itch_file_errors_name_the_offset(tmp_path):
    good = itch50.order_delete(TS, 1)
    cases = {
        b'\0\0' + good + b'\0\0' + good[:-1]: 'truncated message at byte 23',
        len(good).to_bytes(2, 'big') + good + b'\0': 'truncated length prefix at byte 21',
        b'\0\0' + good + b'\0\0': 'truncated message at byte 23',
        b'\0\0' + good + b'\0\0Zabc': "unknown message type b'Z' at byte 23",
    }
    for content, error in cases.items():
        path = tmp_path / 'bad.itch'
        path.write_bytes(content)
        with pytest.raises(ValueError, match=error):
            list(itch50.read_itch_file(path))


# MoldUDP64 -----------------------------------------------------------------------------

SESSION = b'COLO000001'


def test_packet_layout_and_round_trip():
    messages = [b'abc', b'', b'x' * 300]
    packet = moldudp64.encode_packet(SESSION, 42, messages)
    assert packet[:moldudp64.HEADER] == SESSION + struct.pack('>QH', 42, 3)
    assert packet[moldudp64.HEADER:moldudp64.HEADER + 5] == b'\x00\x03abc'
    assert len(packet) == moldudp64.HEADER + sum(2 + len(m) for m in messages)
    assert moldudp64.decode_packet(packet) == (SESSION, 42, 3, messages)


def test_heartbeat_and_end_of_session():
    assert moldudp64.heartbeat(SESSION, 7) == SESSION + struct.pack('>QH', 7, 0)
    assert moldudp64.decode_packet(moldudp64.heartbeat(SESSION, 7)) == (SESSION, 7, 0, [])
    assert moldudp64.decode_packet(moldudp64.end_of_session(SESSION, 9)) == (SESSION, 9, 0xFFFF, [])


@pytest.mark.parametrize('payload', [
    SESSION + b'\0' * 9,  # short header
    moldudp64.encode_packet(SESSION, 1, [b'abcd'])[:-1],  # truncated message
    moldudp64.encode_packet(SESSION, 1, [b'abcd']) + b'\0',  # trailing bytes
    SESSION + struct.pack('>QH', 1, 2) + b'\x00\x01a',  # fewer messages than the count
    moldudp64.heartbeat(SESSION, 1) + b'\x00',  # half a length field
], ids=['short-header', 'truncated', 'trailing', 'missing-message', 'half-length'])
def test_inconsistent_packets_raise(payload):
    with pytest.raises(ValueError):
        moldudp64.decode_packet(payload)


def test_session_must_be_ten_bytes():
    with pytest.raises(ValueError, match='10 bytes'):
        moldudp64.heartbeat(b'SHORT', 1)


@pytest.mark.parametrize('max_payload, max_count', [(1400, None), (200, None), (1400, 1),
                                                    (1400, 7)])
def test_framing_fills_packets_in_order(max_payload, max_count):
    messages = [bytes([i % 256]) * (10 + i % 40) for i in range(500)]
    packets = list(moldudp64.frame_messages(messages, SESSION, first_seq=100,
                                            max_payload=max_payload, max_count=max_count))
    decoded = [moldudp64.decode_packet(p) for p in packets]
    assert [m for *_, batch in decoded for m in batch] == messages
    seq = 100
    for packet, (session, first, count, batch) in zip(packets, decoded):
        assert (session, first, count) == (SESSION, seq, len(batch))
        assert len(packet) <= max_payload
        seq += count
    for packet, (_, first, count, _), next_packet in zip(packets, decoded, decoded[1:]):
        next_message = next_packet[3][0]
        full = len(packet) + 2 + len(next_message) > max_payload or count == max_count
        assert full, 'a packet went out while the next message still fitted'
    if max_count == 1:
        assert len(packets) == len(messages)


def test_framing_rejects_a_message_larger_than_a_packet():
    with pytest.raises(ValueError, match='does not fit'):
        list(moldudp64.frame_messages([b'x' * 1379], SESSION, max_payload=1400))
    assert len(list(moldudp64.frame_messages([b'x' * 1378], SESSION, max_payload=1400))) == 1


# pcap ----------------------------------------------------------------------------------

def assert_checksums_valid(frame: bytes):
    """scapy recomputes both checksums when they are deleted; they must match ours."""
    packet = Ether(frame)
    ip_sum, udp_sum = packet[IP].chksum, packet[UDP].chksum
    del packet[IP].chksum, packet[UDP].chksum
    rebuilt = Ether(bytes(packet))
    assert (rebuilt[IP].chksum, rebuilt[UDP].chksum) == (ip_sum, udp_sum)


@pytest.mark.parametrize('payload', [b'', b'a', b'odd length', bytes(range(256)) * 5,
                                     b'\xff\xff' * 10, b'\0' * 7])
def test_udp_frame_is_valid_for_scapy(payload):
    frame = pcap.udp_frame(payload, '10.1.1.1', '233.54.12.111', 26400, 26477, ttl=8)
    assert_checksums_valid(frame)
    packet = Ether(frame)
    assert packet.dst == '01:00:5e:36:0c:6f' and packet.src == '02:00:00:00:00:01'
    assert (packet[IP].src, packet[IP].dst, packet[IP].ttl) == ('10.1.1.1', '233.54.12.111', 8)
    assert (packet[IP].id, packet[IP].flags, packet[IP].frag) == (0, 0, 0)
    assert (packet[UDP].sport, packet[UDP].dport, bytes(packet[UDP].payload)) == \
        (26400, 26477, payload)
    assert pcap.parse_udp(frame) == ('233.54.12.111', 26477, payload)


def test_udp_frame_with_vlan_and_unicast_mac():
    frame = pcap.udp_frame(b'hello', '10.0.0.1', '10.0.0.2', 1, 2, src_mac=b'\x02' * 6,
                           dst_mac='00:11:22:33:44:55', vlan=100)
    assert_checksums_valid(frame)
    packet = Ether(frame)
    assert packet.dst == '00:11:22:33:44:55' and packet[Dot1Q].vlan == 100
    assert pcap.parse_udp(frame) == ('10.0.0.2', 2, b'hello')
    with pytest.raises(ValueError, match='dst_mac'):
        pcap.udp_frame(b'', '10.0.0.1', '10.0.0.2', 1, 2)


def test_multicast_mac_uses_the_low_23_bits():
    frame = pcap.udp_frame(b'', '10.0.0.1', '239.255.1.2', 1, 2)
    assert frame[:6] == bytes.fromhex('01005e7f0102')


def test_parse_udp_ignores_what_is_not_plain_ipv4_udp():
    good = pcap.udp_frame(b'payload', '10.0.0.1', '239.1.1.1', 1, 2)
    ether = Ether(src='02:00:00:00:00:01', dst='01:00:5e:01:01:01')
    arp = bytes(Ether(src='02:00:00:00:00:01', dst='ff:ff:ff:ff:ff:ff', type=0x0806) / (b'\0' * 28))
    tcp = bytes(ether / IP(src='10.0.0.1', dst='239.1.1.1', proto=6) / (b'x' * 20))
    fragment = good[:20] + b'\x20\x00' + good[22:]  # more-fragments flag
    for frame in (arp, tcp, fragment, good[:-1], good[:30], b''):
        assert pcap.parse_udp(frame) is None


def test_pcap_round_trip_and_scapy_reads_it(tmp_path):
    frames = [pcap.udp_frame(bytes([i]) * i, '10.1.1.1', '233.54.12.111', 1, 2)
              for i in range(50)]
    path = tmp_path / 'out.pcap'
    with pcap.PcapWriter(path) as writer:
        for i, frame in enumerate(frames):
            writer.write(frame, ts_ns=1_700_000_000_123_456_789 + i * 1000)
    assert list(pcap.read_pcap(path)) == frames
    packets = rdpcap(str(path))
    assert [bytes(p) for p in packets] == frames
    assert float(packets[1].time) == pytest.approx(1_700_000_000.123457, abs=1e-6)


@pytest.mark.parametrize('endianness, nano', [('<', True), ('>', False), ('>', True)])
def test_read_pcap_handles_byte_order_and_nanoseconds(tmp_path, endianness, nano):
    frames = [pcap.udp_frame(b'x' * i, '10.1.1.1', '233.54.12.111', 1, 2) for i in range(5)]
    path = tmp_path / 'in.pcap'
    writer = ScapyPcapWriter(str(path), linktype=1, nano=nano, endianness=endianness)
    for frame in frames:
        writer.write(Ether(frame))
    writer.close()
    assert list(pcap.read_pcap(path)) == frames


def test_read_pcap_rejects_other_files(tmp_path):
    path = tmp_path / 'bad.pcap'
    path.write_bytes(b'\x0a\x0d\x0d\x0a' + b'\0' * 40)  # a pcapng section header
    with pytest.raises(ValueError, match='not a classic pcap'):
        list(pcap.read_pcap(path))
    with pcap.PcapWriter(path) as writer:
        writer.write(b'x' * 60)
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(ValueError, match='truncated frame at byte 24'):
        list(pcap.read_pcap(path))


def test_moldudp64_pcap_round_trip(tmp_path):
    messages = synth.synthesize(seed=3, symbols=3, messages=2000)
    packets = list(moldudp64.frame_messages(messages, SESSION))
    path = tmp_path / 'feed.pcap'
    assert pcap.write_moldudp64_pcap(path, packets) == len(packets)
    received = []
    for frame in pcap.read_pcap(path):
        assert_checksums_valid(frame)
        group, port, payload = pcap.parse_udp(frame)
        assert (group, port) == ('233.54.12.111', 26477)
        received += moldudp64.decode_packet(payload)[3]
    assert received == messages


# Synthesis -----------------------------------------------------------------------------

class LiveOrders:
    """An independent tracker of the orders a session leaves resting; it asserts every
    reference is live and no order goes below zero shares."""

    def __init__(self):
        self.orders = {}  # ref -> [locate, side, price, shares]
        self.replacements = set()
        self.chained = 0  # replaces of an order that itself came from a replace

    def apply(self, d: dict) -> None:
        kind = d['type']
        if kind in 'AF':
            assert d['ref'] not in self.orders
            self.orders[d['ref']] = [d['locate'], d['side'], d['price'], d['shares']]
        elif kind in 'ECX':
            order = self.orders[d['ref']]
            assert 0 < d['shares'] <= order[3]
            assert kind != 'X' or d['shares'] < order[3], 'cancels are partial'
            order[3] -= d['shares']
            if not order[3]:
                del self.orders[d['ref']]
        elif kind == 'D':
            del self.orders[d['ref']]
        elif kind == 'U':
            locate, side, _, _ = self.orders.pop(d['orig_ref'])
            assert d['new_ref'] not in self.orders
            self.chained += d['orig_ref'] in self.replacements
            self.replacements.add(d['new_ref'])
            self.orders[d['new_ref']] = [locate, side, d['price'], d['shares']]


def test_synthesis_is_deterministic():
    assert synth.synthesize(7, 5, 3000) == synth.synthesize(7, 5, 3000)
    assert synth.synthesize(7, 5, 3000) != synth.synthesize(8, 5, 3000)


def test_synthesized_session_is_consistent():
    symbols, start = 6, 34_200_000_000_000
    messages = synth.synthesize(seed=11, symbols=symbols, messages=20_000, start_ns=start)
    assert abs(len(messages) - 20_000) < 100
    decoded = [itch50.decode(m) for m in messages]
    live = LiveOrders()
    for d in decoded:
        live.apply(d)
    kinds = [d['type'] for d in decoded]
    codes = [d['code'] for d in decoded if d['type'] == 'S']
    assert kinds[:1 + 2 * symbols] == ['S'] + ['R'] * symbols + ['H'] * symbols
    assert codes == ['O', 'S', 'Q', 'M', 'E', 'C'] and kinds[-3:] == ['S'] * 3
    names = [d['stock'] for d in decoded if d['type'] == 'R']
    assert len(set(names)) == symbols
    assert all(d['round_lot'] == 100 for d in decoded if d['type'] == 'R')
    timestamps = [d['ts'] for d in decoded]
    assert timestamps[0] == start and all(a < b for a, b in zip(timestamps, timestamps[1:]))
    assert set('AFECXDUPQH') <= set(kinds)
    assert live.chained, 'no replace of a replacement'
    assert any(d['type'] == 'C' and d['printable'] == 'N' for d in decoded)
    assert {d['state'] for d in decoded if d['type'] == 'H'} == {'T', 'H'}
    assert all(d['shares'] % 100 == 0 for d in decoded if d['type'] in 'AFU')
    expensive = {d['locate'] for d in decoded if d.get('price', 0) > 2_000_000_000}
    assert len(expensive) == 1


def test_synthesized_books_never_cross():
    live = LiveOrders()
    for msg in synth.synthesize(seed=5, symbols=3, messages=5000):
        d = itch50.decode(msg)
        live.apply(d)
        book = [(side, price) for locate, side, price, _ in live.orders.values()
                if locate == d['locate']]
        bids = [price for side, price in book if side == 'B']
        asks = [price for side, price in book if side == 'S']
        if bids and asks:
            assert max(bids) < min(asks)
