"""Hostile and malformed input through the real data plane (`colo normalize`).

Whatever arrives, every frame is accounted for (accepted, or dropped under a named
reason), the process exits cleanly, and the ticks are exactly the reference model's
for the messages of the packets that were valid and new."""
import datetime
import random
import struct
from collections import Counter

import numpy as np
import pytest
from scapy.layers.inet import ICMP, IP, TCP, UDP, IPOption_Router_Alert, fragment
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import ARP, LLC, Dot1AD, Dot1Q, Dot3, Ether
from scapy.packet import Raw

from dataplane_helpers import assert_tick_stream_sequenced, normalize_frames
from feedhandlers import itch50
from feedhandlers.moldudp64 import end_of_session, encode_packet, frame_messages, heartbeat
from feedhandlers.pcap import udp_frame
from feedhandlers.synth import synthesize
from reference_model import ReferenceNormalizer, ticks_to_array

DATE = datetime.date(2024, 3, 15)
SESSION = b'NASDAQ0001'
GROUP, PORT = '233.54.12.111', 26477
GROUP_MAC = '01:00:5e:36:0c:6f'
OPEN_NS = 34_200_000_000_000

BEFORE = [itch50.system_event(OPEN_NS, b'O'),
          itch50.add_order(OPEN_NS + 1, 1, b'B', 100, 'AAPL', 1_000_000)]
AFTER = [itch50.order_executed(OPEN_NS + 2, 1, 10, 1), itch50.system_event(OPEN_NS + 3, b'C')]
# What a hostile frame carries: seq 3 is new, so were it taken it would change the ticks.
INTRUDER = encode_packet(SESSION, 3, [itch50.system_event(OPEN_NS + 9, b'X')])


def frame(payload, vlan=None):
    return udp_frame(payload, '10.1.1.1', GROUP, 26400, PORT, vlan=vlan)


def scapy_udp(payload=INTRUDER, ip=None, udp=None):
    return bytes(Ether(dst=GROUP_MAC) / (ip or IP(src='10.1.1.1', dst=GROUP))
                 / (udp or UDP(sport=26400, dport=PORT)) / Raw(payload))


def reference(messages):
    model = ReferenceNormalizer(DATE)
    return ticks_to_array([t for m in messages for t in model.apply(m)]), model.counters


def run(tmp_path, frames):
    ticks, packets, counters, _ = normalize_frames(tmp_path, frames, date=DATE.isoformat())
    assert counters['rx_packets'] == len(frames)
    assert counters['feed_packets'] + sum(counters['drops'].values()) == len(frames)
    assert_tick_stream_sequenced(packets)
    return ticks, counters


def run_between(tmp_path, hostile):
    """A good packet, the hostile frames, the next good packet: both good packets' ticks
    come out, and nothing hostile moved the sequence. Returns the counters."""
    ticks, counters = run(tmp_path, [frame(encode_packet(SESSION, 1, BEFORE)), *hostile,
                                     frame(encode_packet(SESSION, 3, AFTER))])
    assert np.array_equal(ticks, reference(BEFORE + AFTER)[0])
    assert (counters['feed_packets'], counters['gaps']) == (2, 0)
    return counters


WHOLE = frame(INTRUDER)  # the intruder in a well-formed frame
WHOLE_TAGGED = frame(INTRUDER, vlan=7)
BIG = encode_packet(SESSION, 3, [itch50.system_event(OPEN_NS + 9, b'X')] * 200)

DROPPED = {
    'runt': [b'', b'\x01', WHOLE[:13], WHOLE[:14], WHOLE[:41], WHOLE_TAGGED[:45]],
    'bad_length': [
        WHOLE[:-1],  # IP total length beyond the frame
        WHOLE_TAGGED[:-1],
        scapy_udp(ip=IP(dst=GROUP, len=27)),  # IP total length shorter than IP + UDP headers
        scapy_udp(ip=IP(dst=GROUP, ihl=4)),  # IP header length under 20
        scapy_udp(udp=UDP(dport=PORT, len=8 + len(INTRUDER) + 1)),  # UDP says more than IP
        scapy_udp(udp=UDP(dport=PORT, len=8 + len(INTRUDER) - 1)),  # UDP says less
        scapy_udp(udp=UDP(dport=PORT, len=4)),  # UDP length under its header
        frame(BIG),  # a 2862-byte jumbo frame spans mbufs: dropped whole, not half read
    ],
    'not_ipv4_udp': [
        bytes(Ether(dst='ff:ff:ff:ff:ff:ff') / ARP(pdst='10.1.1.2')),
        bytes(Ether(dst='33:33:00:00:00:01') / IPv6(dst='ff02::1') / UDP(dport=PORT) / INTRUDER),
        bytes(Ether(dst=GROUP_MAC) / IP(dst=GROUP) / TCP(dport=PORT) / INTRUDER),
        bytes(Ether(dst=GROUP_MAC) / IP(dst=GROUP) / ICMP() / INTRUDER),
        scapy_udp(ip=IP(dst=GROUP, version=6)),  # IPv4 ethertype, version 6 header
        bytes(Ether(dst=GROUP_MAC) / Dot1AD(vlan=1) / Dot1Q(vlan=2) / IP(dst=GROUP)
              / UDP(dport=PORT) / INTRUDER),  # QinQ
        bytes(Ether(dst=GROUP_MAC) / Dot1Q(vlan=1) / Dot1Q(vlan=2) / IP(dst=GROUP)
              / UDP(dport=PORT) / INTRUDER),  # two 802.1Q tags
        bytes(Dot3(dst=GROUP_MAC) / LLC() / INTRUDER),  # 802.3 length, not a type
    ],
    'ip_fragment': [
        *(bytes(Ether(dst=GROUP_MAC) / f) for f in fragment(
            IP(dst=GROUP) / UDP(dport=PORT) / BIG, fragsize=1400)),
        scapy_udp(ip=IP(dst=GROUP, flags='MF')),  # a first fragment whose lengths add up
        scapy_udp(ip=IP(dst=GROUP, frag=185)),
    ],
    'bad_moldudp64': [frame(p) for p in (
        b'', INTRUDER[:1], INTRUDER[:19],  # shorter than the header
        INTRUDER[:-1],  # the block overruns the packet
        INTRUDER + b'\0',  # a stray byte after the last block
        INTRUDER[:18] + b'\0\x02' + INTRUDER[20:],  # count overruns: 2 said, 1 there
        INTRUDER[:18] + b'\0\0' + INTRUDER[20:],  # a heartbeat with a body
        INTRUDER[:18] + b'\xff\xff' + INTRUDER[20:],  # an end of session with a body
        INTRUDER[:20] + b'\xff\xff' + INTRUDER[22:],  # block length 65535
        INTRUDER[:18] + b'\xff\xfe',  # 65534 blocks said, none there
    )],
    'wrong_session': [frame(encode_packet(b'OTHERSESS1', 3, AFTER)),
                      frame(heartbeat(b'OTHERSESS1', 1_000))],
}


@pytest.mark.parametrize('reason', DROPPED)
def test_hostile_frames_are_dropped_and_counted_by_reason(tmp_path, reason):
    counters = run_between(tmp_path, DROPPED[reason])
    assert counters['drops'] == {reason: len(DROPPED[reason])}


def test_df_flag_ip_options_and_ethernet_padding_are_accepted(tmp_path):
    first, second = encode_packet(SESSION, 1, BEFORE), encode_packet(SESSION, 3, AFTER)
    frames = [scapy_udp(first, ip=IP(src='10.1.1.1', dst=GROUP, flags='DF',
                                     options=[IPOption_Router_Alert()])),
              frame(second) + b'\0' * 18]  # bytes after the IP packet: Ethernet padding
    ticks, counters = run(tmp_path, frames)
    assert np.array_equal(ticks, reference(BEFORE + AFTER)[0])
    assert not counters['drops']
    assert (counters['ip_checksum_errors'], counters['udp_checksum_errors']) == (0, 0)


@pytest.mark.parametrize('bad, event', [
    ([b''], 'bad_message_length'),  # a zero-length block still takes a sequence number
    ([b'T' + bytes(4), b'z' + bytes(30), b'\0' * 12, b'\xff' * 36], 'unknown_type'),
    ([itch50.order_executed(OPEN_NS + 5, 1, 10, 9)[:-1], BEFORE[1] + b' ',
      itch50.system_event(OPEN_NS + 5, b'X')[:11], b'A'], 'bad_message_length'),
    ([itch50.add_order(OPEN_NS + 5, 2, b'X', 100, 'AAPL', 1_000_100)], 'bad_field'),
    ([itch50.add_order(OPEN_NS + 5, 2, b'B', 0, 'AAPL', 1_000_100)], 'zero_shares'),
], ids=['zero-length', 'unknown-type', 'wrong-length', 'bad-side', 'zero-shares'])
def test_malformed_messages_are_counted_and_the_rest_of_the_packet_applies(
        tmp_path, bad, event):
    messages = BEFORE + bad + AFTER
    closing = [itch50.system_event(OPEN_NS + 10, b'E')]
    ticks, counters = run(tmp_path, [frame(encode_packet(SESSION, 1, messages)),
                                     frame(encode_packet(SESSION, 1 + len(messages), closing))])
    assert np.array_equal(ticks, reference(messages + closing)[0])
    assert counters['events'] == {event: len(bad)}
    assert (counters['messages'], counters['gaps']) == (len(messages) + 1, 0)


def test_no_tick_follows_the_end_of_session_packet(tmp_path):
    """Subscribers stop at end of session, so a tick sent after it is lost to them. The
    feed's end of session here is followed by more packets (more than one rx burst):
    each is dropped under its own reason, and only the ticks before the end go out."""
    messages = [itch50.system_event(seq, b'Q') for seq in range(1, 81)]
    feed = [encode_packet(SESSION, seq, [m]) for seq, m in enumerate(messages[:40], start=1)]
    feed.append(end_of_session(SESSION, 41))
    late = [encode_packet(SESSION, seq, [m]) for seq, m in enumerate(messages[40:], start=41)]
    ticks, counters = run(tmp_path, [frame(p) for p in feed + late])
    assert np.array_equal(ticks, reference(messages[:40])[0])
    assert counters['drops'] == {'after_end_of_session': len(late)}


# --- Fuzz: over 100,000 random and mutated frames in one capture ---------------------


def internet_sum(data: bytes) -> int:
    """RFC 1071 one's-complement sum, folded: 0xFFFF over a header or datagram whose
    checksum is right."""
    if not any(data):
        return 0
    return int.from_bytes(data + b'\0' * (len(data) & 1), 'big') % 0xFFFF or 0xFFFF


def parse(frame: bytes):
    """What a frame is, from the protocols (Ethernet II with at most one 802.1Q tag,
    unfragmented IPv4, UDP agreeing with IPv4's length, MoldUDP64 whose blocks exactly
    fill the payload): (drop reason or None, bad IP checksum, bad UDP checksum,
    (session, seq, count, end of session, messages) or None)."""
    l2, ethertype = 14, frame[12:14]
    if ethertype == b'\x81\x00':
        l2, ethertype = 18, frame[16:18]
    if len(frame) < l2 + 28:
        return 'runt', False, False, None
    ip = frame[l2:]
    if ethertype != b'\x08\x00' or ip[0] >> 4 != 4 or ip[9] != 17:
        return 'not_ipv4_udp', False, False, None
    ihl, ip_len = (ip[0] & 0xF) * 4, int.from_bytes(ip[2:4], 'big')
    if ihl < 20 or ip_len < ihl + 8 or l2 + ip_len > len(frame):
        return 'bad_length', False, False, None
    if int.from_bytes(ip[6:8], 'big') & 0x3FFF:
        return 'ip_fragment', False, False, None
    udp = ip[ihl:ip_len]
    if int.from_bytes(udp[4:6], 'big') != len(udp):
        return 'bad_length', False, False, None
    bad_ip = internet_sum(ip[:ihl]) != 0xFFFF
    pseudo = ip[12:20] + b'\0\x11' + len(udp).to_bytes(2, 'big')
    bad_udp = udp[6:8] != b'\0\0' and internet_sum(pseudo + udp) != 0xFFFF
    payload = udp[8:]
    if len(payload) < 20:
        return 'bad_moldudp64', bad_ip, bad_udp, None
    session, seq, count = struct.unpack_from('>10sQH', payload)
    messages, offset = [], 20
    for _ in range(0 if count == 0xFFFF else count):
        if offset + 2 > len(payload):
            break
        length = int.from_bytes(payload[offset:offset + 2], 'big')
        messages.append(payload[offset + 2:offset + 2 + length])
        offset += 2 + length
    if (offset != len(payload) or len(messages) != (0 if count == 0xFFFF else count)
            or seq + len(messages) >= 2**64):
        return 'bad_moldudp64', bad_ip, bad_udp, None
    return None, bad_ip, bad_udp, (session, seq, len(messages), count == 0xFFFF, messages)


class FeedModel:
    """MoldUDP64 receive as the protocol defines it: the first valid packet names the
    session and where the sequence starts; a jump forward is a gap; the first copy of
    each sequence number wins. Collects exactly the messages that must be applied."""

    def __init__(self):
        self.drops, self.checksum_errors = Counter(), Counter()
        self.feed_packets = self.gaps = self.gap_messages = 0
        self.session = self.next_seq = None
        self.messages = []

    def take(self, parsed):
        reason, bad_ip, bad_udp, mold = parsed
        self.checksum_errors.update(ip=bad_ip, udp=bad_udp)
        if reason is None:
            session, seq, count, _, messages = mold
            if (bad_ip or bad_udp) and self.next_seq is not None and seq > self.next_seq:
                reason = 'bad_checksum'  # a suspect packet may not open a gap
            else:
                if self.session is None:
                    self.session, self.next_seq = session, seq
                if session != self.session:
                    reason = 'wrong_session'
                elif count and seq + count <= max(self.next_seq, seq):
                    reason = 'duplicate'
        if reason is not None:
            self.drops[reason] += 1
            return
        self.feed_packets += 1
        if seq > self.next_seq:
            self.gaps += 1
            self.gap_messages += seq - self.next_seq
            self.next_seq = seq
        if count:
            self.messages += messages[self.next_seq - seq:]
            self.next_seq = seq + count


class Fuzzer:
    """Hostile frames around a clean synthetic feed, tracked by a FeedModel as they are
    made. Most are mutated copies of recent packets; some are of the next packet and
    arrive before it, so damaged messages really reach the normalizer."""

    MAX_JUMP = 8  # jumping further forward would make much of the clean feed duplicates

    def __init__(self, seed, messages, max_payload):
        self.rng = random.Random(seed)
        self.clean = list(frame_messages(messages, SESSION, max_payload=max_payload))
        self.orders = [(1, b'ZZZZ    ', 1_000_000)]  # (ref, stock, price) of recent adds
        self.model = FeedModel()
        self.frames = []
        self.kinds = Counter()
        self.mutations = [getattr(self, name) for name in dir(self) if name.startswith('mutate_')]

    def emit(self, frame, parsed=None):
        self.frames.append(frame)
        self.model.take(parsed or parse(frame))

    def run(self, hostile_per_packet):
        rng = self.rng
        for i, payload in enumerate(self.clean):
            self.orders = [(int.from_bytes(m[11:19], 'big'), m[24:32],
                            int.from_bytes(m[32:36], 'big'))
                           for m in self.clean_messages(payload) if m[:1] in b'AF'] or self.orders
            if i == 0:  # the feed's first packet names the session
                self.emit(frame(payload))
            for _ in range(hostile_per_packet):
                base = payload if rng.random() < 0.04 else self.clean[max(0, i - rng.randrange(40))]
                for _ in range(10):
                    mutate = rng.choice(self.mutations)
                    candidate = mutate(base)
                    parsed = parse(candidate)
                    if self.acceptable(parsed):
                        self.kinds[mutate.__name__] += 1
                        self.emit(candidate, parsed)
                        break
            if i and rng.random() < 0.995:  # 0.5% lost on every line: gaps
                self.emit(frame(payload))

    def acceptable(self, parsed):
        """No end of session (the rest of the run would only be dropped after it,
        as tested above) and no far jump forward."""
        mold = parsed[3]
        return mold is None or not mold[3] and (
            mold[0] != SESSION or mold[1] <= self.model.next_seq + self.MAX_JUMP)

    @staticmethod
    def clean_messages(payload):
        return parse(frame(payload))[3][4]

    def some_bytes(self, n):
        return self.rng.randbytes(n)

    # Each mutation takes a clean MoldUDP64 payload and returns a frame.

    def mutate_flip_frame_bytes(self, payload):
        f = bytearray(frame(payload))
        for _ in range(self.rng.randint(1, 4)):
            f[self.rng.randrange(len(f))] = self.rng.randrange(256)
        return bytes(f)

    def mutate_flip_message_bytes(self, payload):
        p = bytearray(payload)
        for _ in range(self.rng.randint(1, 4)):
            p[self.rng.randrange(20, len(p))] = self.rng.randrange(256)
        return frame(bytes(p))

    def mutate_flip_header_byte(self, payload):
        p = bytearray(payload)
        p[self.rng.choice((0, 5, 9, 16, 17, 18, 19))] = self.rng.randrange(256)
        return frame(bytes(p))

    def mutate_resize_message(self, payload):
        messages = self.clean_messages(payload)
        k = self.rng.randrange(len(messages))
        m = messages[k]
        messages[k] = (m[:self.rng.randrange(len(m))] if self.rng.random() < 0.5
                       else m + self.some_bytes(self.rng.randint(1, 8)))
        return frame(encode_packet(SESSION, int.from_bytes(payload[10:18], 'big'), messages))

    def mutate_retype_message(self, payload):
        messages = self.clean_messages(payload)
        k = self.rng.randrange(len(messages))
        kind = self.rng.choice((self.rng.randrange(256), *b'SRHAFECXDUPQ'))
        messages[k] = bytes([kind]) + messages[k][1:]
        return frame(encode_packet(SESSION, int.from_bytes(payload[10:18], 'big'), messages))

    def mutate_plausible_messages(self, payload):
        """Some messages replaced by well-formed ones with hostile values: live and dead
        references, unknown stocks, zero and huge shares, prices 0 and 0xFFFFFFFF, sides
        not B or S."""
        messages = self.clean_messages(payload)
        for _ in range(self.rng.randint(1, 3)):
            messages[self.rng.randrange(len(messages))] = self.plausible_message()
        return frame(encode_packet(SESSION, int.from_bytes(payload[10:18], 'big'), messages))

    def plausible_message(self):
        rng = self.rng
        kind = rng.choice('SRHAFECXDUPQYLVWKJhBINO')
        ref, stock, price = rng.choice(self.orders)
        # Hostile orders come from a small pool of references, so later messages of the
        # pool find them live again (and adds of a live one are duplicates).
        ref = rng.choice((ref, ref + 1, 10**7 + rng.randrange(50), 10**7 + rng.randrange(50)))
        stock = rng.choice((stock, stock, b'ZZZZ    '))
        price = (rng.choice((0, 0xFFFFFFFF)) if rng.random() < 0.05
                 else max(0, price + rng.randint(-5, 5) * 100))
        shares = rng.choice((0, 1, 100, 300, 2**31, 2**32 - 1))
        side = bytes([rng.choice(b'BBSSX')])
        fields = {
            'S': dict(code=rng.choice((b'O', b'Q', b'\0'))),
            'R': dict(stock=stock, round_lot=shares),
            'H': dict(stock=stock, state=rng.choice((b'H', b'T', b'?'))),
            'A': dict(ref=ref, side=side, shares=shares, stock=stock, price=price),
            'F': dict(ref=ref, side=side, shares=shares, stock=stock, price=price),
            'E': dict(ref=ref, shares=shares),
            'C': dict(ref=ref, shares=shares, printable=rng.choice((b'Y', b'N')), price=price),
            'X': dict(ref=ref, shares=shares),
            'D': dict(ref=ref),
            'U': dict(orig_ref=ref, new_ref=rng.choice((ref, ref + 1, 10**7 + rng.randrange(50))),
                      shares=shares, price=price),
            'P': dict(ref=0, side=side, shares=shares, stock=stock, price=price),
            'Q': dict(shares=rng.choice((0, 1, 2**32, 2**64 - 1)), stock=stock, price=price),
        }.get(kind, {})
        return itch50.encode(kind, rng.randrange(2**48), **fields)

    def mutate_truncate_frame(self, payload):
        f = frame(payload)
        return f[:self.rng.randrange(len(f))]

    def mutate_pad_frame(self, payload):
        return frame(payload) + self.some_bytes(self.rng.randint(1, 60))

    def mutate_resize_payload(self, payload):
        cut = self.rng.randrange(len(payload))
        return frame(payload[:cut] if self.rng.random() < 0.5
                     else payload + self.some_bytes(self.rng.randint(1, 30)))

    def mutate_header_field(self, payload):
        f = bytearray(frame(payload))
        offset, size, values = self.rng.choice((
            (12, 2, (0x0806, 0x86DD, 0x8100, 0x88A8, 0x0800)),  # ethertype
            (14, 1, (0x44, 0x46, 0x4F, 0x55, 0x65, 0x45)),  # version and IHL
            (16, 2, (0, 27, 28, len(f) - 15, len(f) - 13, 0xFFFF)),  # IP total length
            (20, 2, (0x2000, 0x4000, 0x0001, 0x6000)),  # flags and fragment offset
            (23, 1, (6, 1, 17, 132)),  # protocol
            (38, 2, (0, 7, 8, len(f) - 35, len(f) - 33)),  # UDP length
            (40, 2, (0, 0xFFFF)),  # UDP checksum
        ))
        f[offset:offset + size] = self.rng.choice(values).to_bytes(size, 'big')
        if self.rng.random() < 0.5:  # a consistent IP header checksum, or not
            f[24:26] = b'\0\0'
            f[24:26] = (0xFFFF - internet_sum(bytes(f[14:34]))).to_bytes(2, 'big')
        return bytes(f)

    def mutate_shift_sequence(self, payload):
        seq = int.from_bytes(payload[10:18], 'big') + self.rng.choice((-20, -5, -2, -1, -1, 1))
        return frame(encode_packet(SESSION, max(seq, 0), self.clean_messages(payload)))

    def mutate_heartbeat(self, payload):
        ahead = self.rng.random() < 0.02  # a heartbeat announcing a lost message: a gap
        return frame(heartbeat(SESSION, self.model.next_seq + (1 if ahead else
                                                               self.rng.choice((-5, -1, 0)))))

    def mutate_vlan_copy(self, payload):
        return frame(payload, vlan=self.rng.randrange(4096))

    def mutate_random_frame(self, payload):
        return self.some_bytes(self.rng.randrange(1515))

    def mutate_random_payload(self, payload):
        return frame(self.some_bytes(self.rng.randrange(600)))


def test_fuzz_every_frame_is_accounted_for_and_ticks_match_the_model(tmp_path):
    fuzz = Fuzzer(seed=2024, messages=synthesize(11, symbols=8, messages=120_000),
                  max_payload=300)
    fuzz.run(hostile_per_packet=7)
    model = fuzz.model
    want, events = reference(model.messages)
    # The input's reach: every mutation used, every drop reason and message event hit.
    assert sum(fuzz.kinds.values()) >= 100_000 and len(fuzz.kinds) == len(fuzz.mutations)
    assert set(model.drops) == {*DROPPED, 'duplicate', 'bad_checksum'}
    assert min(model.checksum_errors.values()) > 0
    assert min(events['orphan_refs'], events['bad_length'], events['unknown_type'],
               events['bad_field'], events['zero_shares']) > 0

    ticks, packets, counters, _ = normalize_frames(tmp_path, fuzz.frames, date=DATE.isoformat())

    assert counters['rx_packets'] == len(fuzz.frames)
    assert counters['feed_packets'] + sum(counters['drops'].values()) == len(fuzz.frames)
    assert counters['drops'] == model.drops
    assert (counters['feed_packets'], counters['messages'], counters['gaps'],
            counters['gap_messages']) == (model.feed_packets, len(model.messages), model.gaps,
                                          model.gap_messages)
    assert (counters['ip_checksum_errors'], counters['udp_checksum_errors']) == (
        model.checksum_errors['ip'], model.checksum_errors['udp'])
    assert_tick_stream_sequenced(packets)
    assert set(ticks['type']) <= {b'T', b'Q', b'R', b'H', b'S'}
    assert len(ticks) == len(want)
    assert np.array_equal(ticks, want)
    assert {name: counters['events'][name] for name in
            ('orphan_ref', 'bad_message_length', 'unknown_type', 'bad_field')} == {
        'orphan_ref': events['orphan_refs'], 'bad_message_length': events['bad_length'],
        'unknown_type': events['unknown_type'], 'bad_field': events['bad_field']}


def test_sequence_number_that_would_wrap_is_rejected(tmp_path):
    """seq + count past 2**64 - 1 cannot be a real packet: counted, and the feed goes on."""
    messages = BEFORE + AFTER
    frames = [frame(encode_packet(SESSION, 1, BEFORE)),
              frame(encode_packet(SESSION, 2**64 - 1, [itch50.system_event(OPEN_NS, b'X')] * 2)),
              frame(encode_packet(SESSION, 3, AFTER))]
    ticks, counters = run(tmp_path, frames)
    assert np.array_equal(ticks, reference(messages)[0])
    assert counters['drops']['bad_moldudp64'] == 1 and counters['gaps'] == 0


def test_bit_flip_in_a_sequence_number_does_not_kill_the_feed(tmp_path):
    """A damaged copy (checksum wrong) claiming a far-ahead sequence number is dropped,
    so the good packets after it still apply."""
    messages = [itch50.system_event(OPEN_NS + i, b'Q') for i in range(5)]
    good = [frame(encode_packet(SESSION, i + 1, [m])) for i, m in enumerate(messages)]
    damaged = bytearray(good[1])
    damaged[42 + 10] ^= 0x01  # top byte of the sequence number: 2 + 2**56
    ticks, counters = run(tmp_path, [good[0], bytes(damaged), *good[1:]])
    assert np.array_equal(ticks, reference(messages)[0])
    assert counters['drops']['bad_checksum'] == 1 and counters['gaps'] == 0
