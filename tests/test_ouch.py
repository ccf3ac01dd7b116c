"""Order entry (docs/order-entry.md): the OUCH 5.0 codec against the doc's tables and
hand-built bytes, malformed input, and the client's sequence and gap logic against
a small gateway stand-in on loopback."""
import pathlib
import re
import socket
import struct
import threading

import pytest

from dataplane.order_client import LoginRejected, OrderClient
from feedhandlers import moldudp64
from feedhandlers.ouch50 import (CLIENT_PACKETS, CONTROLS, ORDERS, RESPONSES,
                                 decode_datagram, encode_datagram)

DOC = pathlib.Path(__file__).resolve().parents[1] / 'docs' / 'order-entry.md'

ENTER = dict(user_ref_num=7, side='B', quantity=300, symbol='AAPL', price=1502500,
             time_in_force='0', display='Y', capacity='A', intermarket_sweep='N',
             cross_type='N', cl_ord_id='CL1', appendage={'min_qty': 100, 'post_only': 'Y'})
SAMPLES = {
    ORDERS: {
        'O': ENTER,
        'U': dict(orig_user_ref_num=7, user_ref_num=8, quantity=200, price=1503000,
                  time_in_force='0', display='Y', intermarket_sweep='N', cl_ord_id='CL2',
                  appendage={'group_id': 5, 'self_trade': 'O'}),
        'X': dict(user_ref_num=8, quantity=0),
        'C': dict(user_ref_num=9, firm='FIRM', symbol='MSFT'),
    },
    RESPONSES: {
        'S': dict(timestamp=34_200_000_000_000, event_code='S'),
        'A': dict(timestamp=1, user_ref_num=7, side='B', quantity=300, symbol='AAPL',
                  price=1502500, time_in_force='0', display='Y', order_ref=1 << 40,
                  capacity='A', intermarket_sweep='N', cross_type='N', order_state='L',
                  cl_ord_id='CL1', appendage={'min_qty': 100}),
        'U': dict(timestamp=2, orig_user_ref_num=7, user_ref_num=8, side='B', quantity=200,
                  symbol='AAPL', price=1503000, time_in_force='0', display='Y', order_ref=3,
                  capacity='A', intermarket_sweep='N', cross_type='N', order_state='L',
                  cl_ord_id='CL2', appendage={}),
        'C': dict(timestamp=3, user_ref_num=8, quantity=200, reason='U'),
        'E': dict(timestamp=4, user_ref_num=7, quantity=100, price=1502500,
                  liquidity_flag='R', match_number=42, appendage={}),
        'J': dict(timestamp=5, user_ref_num=10, reason=3, cl_ord_id='CL3'),
    },
    CLIENT_PACKETS: {
        'L': dict(username='trader', password='secret', session='COLO01', sequence=12),
        'U': dict(payload=b'X\x00\x00\x00\x08\x00\x00\x00\x00'),
        'R': {}, 'O': {},
        'Q': dict(sequence=5, count=3),
    },
    CONTROLS: {
        'A': dict(session='COLO01', sequence=1),
        'J': dict(reason='A'),
        'D': dict(user_ref_num=7, next_sequence=4),
    },
}
CASES = [(codec, code) for codec, table in SAMPLES.items() for code in table]
IDS = [f'{codec.name}-{code}' for codec, code in CASES]


@pytest.mark.parametrize('codec,code', CASES, ids=IDS)
def test_every_message_round_trips(codec, code):
    fields = SAMPLES[codec][code]
    msg = codec.encode(code, **fields)
    assert codec.decode(msg) == {'type': code, **fields}


def _doc_tables() -> dict[tuple[str, str], list[tuple[int, str, str]]]:
    """{(section, type): [(offset, length, field), ...]} from the doc's layout tables."""
    tables, section, current = {}, None, None
    for line in DOC.read_text().splitlines():
        if line.startswith('## '):
            section, current = line[3:], None
        elif heading := re.match(r'\*\*[^*]+ `(.)`\*\* \(\d+ bytes', line):
            current = tables.setdefault((section, heading[1]), [])
        elif current is not None and re.match(r'\| \d+ \| (\d+|var) \|', line):
            cells = [c.strip() for c in line.strip('|').split('|')]
            current.append((int(cells[0]), cells[1], cells[3]))
    return tables


SECTIONS = {'Client packets (client -> Colo)': CLIENT_PACKETS,
            'Order messages (client -> Colo, inside `U`)': ORDERS,
            'Responses (Colo -> client, sequenced)': RESPONSES,
            'Control messages (Colo -> client, in sequence-0 packets)': CONTROLS}


def _codec_rows(codec, code):
    layout = codec.layouts[ord(code)]
    rows, offset = [(0, '1', 'type')], 1
    for name, kind in layout.fields:
        width = {'H': 2, 'I': 4, 'Q': 8}.get(kind) or (1 if kind == 'c' else int(kind[:-1]))
        rows.append((offset, str(width), name))
        offset += width
    if layout.tail == 'appendage':
        rows += [(offset, '2', 'appendage length'), (offset + 2, 'var', 'options')]
    return rows


def test_doc_tables_are_the_codec_layouts():
    tables = _doc_tables()
    documented = {(SECTIONS[section], code) for section, code in tables}
    tabled = {(c, code) for c, code in CASES if code not in 'URO' or c is not CLIENT_PACKETS}
    assert documented == tabled
    for (section, code), rows in tables.items():
        codec = SECTIONS[section]
        assert rows == _codec_rows(codec, code), f'{codec.name} {code!r}'


def test_enter_order_bytes_by_hand():
    expected = (b'O' + struct.pack('>I', 7) + b'B' + struct.pack('>I', 300) + b'AAPL    '
                + struct.pack('>Q', 1502500) + b'0YANN' + b'CL1           '
                + struct.pack('>H', 9)
                + bytes([5, 3]) + struct.pack('>I', 100)     # MinQty, tag 3
                + bytes([2, 12]) + b'Y')                     # PostOnly, tag 12
    assert ORDERS.encode('O', **ENTER) == expected
    assert ORDERS.min_length('O') == 47 and len(expected) == 47 + 9


def test_order_executed_bytes_by_hand():
    fields = SAMPLES[RESPONSES]['E']
    expected = (b'E' + (4).to_bytes(8, 'big') + (7).to_bytes(4, 'big')
                + (100).to_bytes(4, 'big') + (1502500).to_bytes(8, 'big') + b'R'
                + (42).to_bytes(8, 'big') + b'\x00\x00')
    assert RESPONSES.encode('E', **fields) == expected and len(expected) == 36


def test_login_request_numbers_are_ascii_right_justified():
    msg = CLIENT_PACKETS.encode('L', **SAMPLES[CLIENT_PACKETS]['L'])
    assert msg == b'Ltradersecret    COLO01    ' + b' ' * 18 + b'12'


@pytest.mark.parametrize('codec,code', CASES, ids=IDS)
def test_every_truncation_is_refused(codec, code):
    msg = codec.encode(code, **SAMPLES[codec][code])
    shortest = codec.min_length(code)
    for end in range(shortest):
        with pytest.raises(ValueError):
            codec.decode(msg[:end])


def test_malformed_messages_say_what_is_wrong():
    enter = ORDERS.encode('O', **ENTER)
    cases = [
        (b'?' + enter[1:], 'unknown order message type'),
        (enter + b'\x00', 'appendage length 9'),
        (enter[:45] + b'\x00\x03' + bytes([2, 99, 0]), 'unsupported appendage tag 99'),
        (enter[:45] + b'\x00\x03' + bytes([2, 3, 0]), 'min_qty is 1 bytes, expected 4'),
        (enter[:45] + b'\x00\x02' + bytes([5, 3]), 'bad length 5'),
        (ORDERS.encode('X', user_ref_num=1) + b'\x00', "'X' message is 10 bytes, expected 9"),
    ]
    for msg, error in cases:
        with pytest.raises(ValueError, match=re.escape(error)):
            ORDERS.decode(msg)
    with pytest.raises(ValueError, match='is not an ASCII number'):
        CLIENT_PACKETS.decode(b'L' + b' ' * 26 + b'12a'.rjust(20))


def test_bad_values_are_refused_on_encode():
    with pytest.raises(ValueError, match='does not fit a 8-byte alpha'):
        ORDERS.encode('O', **{**ENTER, 'symbol': 'TOOLONGSYM'})
    with pytest.raises(ValueError, match="order 'X'"):
        ORDERS.encode('X', user_ref_num=1 << 32)
    with pytest.raises(ValueError, match='unsupported appendage option'):
        ORDERS.encode('O', **{**ENTER, 'appendage': {'peg_offset': 1}})
    with pytest.raises(ValueError, match='20-digit number'):
        CLIENT_PACKETS.encode('L', sequence=-1)
    with pytest.raises(TypeError, match='no field'):
        RESPONSES.encode('S', price=1)


def test_datagrams_carry_packets_and_refuse_overruns():
    order = CLIENT_PACKETS.encode('U', payload=ORDERS.encode('O', **ENTER))
    datagram = encode_datagram([CLIENT_PACKETS.encode('R'), order])
    packets = decode_datagram(datagram)
    assert packets[0] == {'type': 'R'} and packets[1]['message']['user_ref_num'] == 7
    for bad, error in [(datagram[:-1], 'overruns'), (b'', 'empty datagram'),
                       (b'\x00', 'inside the length'), (b'\x00\x00', 'or is empty')]:
        with pytest.raises(ValueError, match=error):
            decode_datagram(bad)


class Gateway:
    """A gateway stand-in on loopback: logs one session in, accepts every new order,
    answers repeats with Duplicate, serves retransmissions from its history, and
    drops the first `drops[seq]` sends of a sequence."""

    def __init__(self, drops: dict[int, int] | None = None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(('127.0.0.1', 0))
        self.sock.settimeout(0.05)
        self.address = self.sock.getsockname()
        self.drops = dict(drops or {})
        self.history: list[bytes] = []          # history[seq - 1]
        self.last_ref = 0
        self.client = None
        self.heartbeats = 0
        self.password = 'secret'
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _send(self, seq: int, messages: list[bytes]):
        if self.drops.get(seq, 0) > 0:
            self.drops[seq] -= 1
            return
        self.sock.sendto(moldudp64.encode_packet(b'COLO01    ', seq, messages), self.client)

    def _control(self, msg: bytes, to):
        self.sock.sendto(moldudp64.encode_packet(b'COLO01    ', 0, [msg]), to)

    def _order(self, msg: dict):
        ref = msg['user_ref_num']
        if ref <= self.last_ref:
            self._control(CONTROLS.encode('D', user_ref_num=ref,
                                          next_sequence=len(self.history) + 1), self.client)
            return
        self.last_ref = ref
        self.history.append(RESPONSES.encode(
            'A', user_ref_num=ref, side=msg['side'], quantity=msg['quantity'],
            symbol=msg['symbol'], price=msg['price'], order_ref=ref, order_state='L',
            appendage=msg['appendage']))
        self._send(len(self.history), self.history[-1:])

    def _run(self):
        while not self.stopping.is_set():
            try:
                payload, source = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            for packet in decode_datagram(payload):
                if packet['type'] == 'L':
                    ok = (packet['username'], packet['password']) == ('trader', self.password)
                    self.client = source if ok else self.client
                    self._control(CONTROLS.encode('A', session='COLO01',
                                                  sequence=len(self.history) + 1)
                                  if ok else CONTROLS.encode('J', reason='A'), source)
                elif packet['type'] == 'U':
                    self._order(packet['message'])
                elif packet['type'] == 'R':
                    self.heartbeats += 1
                elif packet['type'] == 'Q':
                    first = packet['sequence']
                    for seq in range(first, min(first + packet['count'],
                                                len(self.history) + 1)):
                        self._send(seq, [self.history[seq - 1]])

    def close(self):
        self.stopping.set()
        self.thread.join()
        self.sock.close()


@pytest.fixture
def gateway_factory():
    gateways = []

    def make(**kwargs):
        gateways.append(Gateway(**kwargs))
        return gateways[-1]
    yield make
    for gateway in gateways:
        gateway.close()


def _client(gateway, password='secret'):
    client = OrderClient(gateway.address, 'trader', password, bind=('127.0.0.1', 0))
    client.login(timeout=2)
    return client


def _until(n):
    return lambda responses: len(responses) >= n


def test_login_then_orders_come_back_in_sequence(gateway_factory):
    with _client(gateway_factory()) as client:
        assert client.session == 'COLO01' and client.next_seq == 1
        refs = [client.enter('B', 100, 'AAPL', 1500000 + i, min_qty=10) for i in range(3)]
        responses = client.receive(timeout=2, until=_until(3))
        assert [(r['sequence'], r['type'], r['user_ref_num']) for r in responses] == \
            [(1, 'A', refs[0]), (2, 'A', refs[1]), (3, 'A', refs[2])]
        assert responses[0]['appendage'] == {'min_qty': 10}
        assert client.gaps == client.duplicates == client.retransmit_requests == 0


def test_bad_credentials_are_rejected(gateway_factory):
    with pytest.raises(LoginRejected, match='not_authorized'):
        _client(gateway_factory(), password='wrong')


def test_a_gap_is_rerequested_and_filled_in_order(gateway_factory):
    with _client(gateway_factory(drops={2: 1})) as client:
        for i in range(3):
            client.enter('S', 100, 'AAPL', 1500000)
        responses = client.receive(timeout=2, until=_until(3))
        assert [r['sequence'] for r in responses] == [1, 2, 3]
        assert (client.gaps, client.missing, client.retransmit_requests) == (1, 1, 1)


def test_a_lost_retransmission_is_asked_for_again(gateway_factory):
    with _client(gateway_factory(drops={1: 2})) as client:
        client.enter('B', 100, 'AAPL', 1500000)
        client.enter('B', 100, 'AAPL', 1500000)
        responses = client.receive(timeout=0.3, until=_until(2))
        assert responses == [] and client.retransmit_requests == 2  # on the gap, on quiet
        responses = client.receive(timeout=2, until=_until(2))
        assert [r['sequence'] for r in responses] == [1, 2] and client.gaps == 1


def test_a_repeat_is_answered_not_executed_and_reveals_tail_loss(gateway_factory):
    gateway = gateway_factory(drops={1: 1})
    with _client(gateway) as client:
        ref = client.enter('B', 100, 'AAPL', 1500000)
        client.receive(timeout=0.2)          # the only response was lost: nothing to see
        client.resend(ref)
        responses = client.receive(timeout=2, until=_until(1))
        assert [(r['sequence'], r['user_ref_num']) for r in responses] == [(1, ref)]
        assert client.duplicate_acks == [{'type': 'D', 'user_ref_num': ref, 'next_sequence': 2}]
        assert len(gateway.history) == 1


def test_duplicate_packets_are_counted_and_dropped(gateway_factory):
    with _client(gateway_factory()) as client:
        client.enter('B', 100, 'AAPL', 1500000)
        assert len(client.receive(timeout=2, until=_until(1))) == 1
        client.request_retransmission(1, 2)
        assert client.receive(timeout=0.3) == [] and client.duplicates == 1


def test_garbage_and_foreign_sessions_are_ignored(gateway_factory):
    with _client(gateway_factory()) as client, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as stranger:
        stranger.sendto(b'not a moldudp64 packet', client.sock.getsockname())
        stranger.sendto(moldudp64.encode_packet(b'OTHER     ', 1, [b'S']),
                        client.sock.getsockname())
        assert client.receive(timeout=0.3) == []
        assert client.bad_packets == 1 and client.next_seq == 1


def test_colo_order_with_a_wrong_password_says_the_login_was_rejected(gateway_factory, capsys):
    from dataplane import cli

    host, port = gateway_factory().address
    assert cli.main(['order', '--server', f'{host}:{port}', '--user', 'trader', '--password',
                     'wrong', 'enter', 'B', '100', 'AAPL', '150.25']) == 1
    assert 'login as trader rejected: not_authorized' in capsys.readouterr().err


def test_a_client_waiting_for_answers_keeps_its_session_with_heartbeats(gateway_factory):
    """Colo logs out (and cancels the orders of) a session silent for timeout_s,
    which can be 2 s: `colo order --wait 5` must not go silent that long."""
    gateway = gateway_factory()
    with _client(gateway) as client:
        client.enter('B', 100, 'AAPL', 1500000)
        assert len(client.receive(timeout=2.5)) == 1
        assert gateway.heartbeats >= 1


def test_logging_in_again_waits_for_the_new_answer(gateway_factory):
    """A client logged out (by a timeout, say) logs in again on the same object:
    a refusal must show, not the first login's sequence."""
    gateway = gateway_factory()
    with _client(gateway) as client:
        client.logout()
        gateway.password = 'changed'
        with pytest.raises(LoginRejected, match='not_authorized'):
            client.login(timeout=2)
