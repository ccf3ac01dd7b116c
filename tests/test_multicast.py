"""The subscriber library: packet decoding, formatting, and real sockets on loopback."""
import io
import os
import socket
import struct
import subprocess
import threading
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from multicast import (BLOCK_DTYPE, TICK_DTYPE, Subscriber, decode_packet, format_price,
                       format_tick, symbol_of_r_tick)
from multicast import cli as subscriber_cli
from multicast.subscriber import interface_address

SESSION = b'COLO000001'
AAPL_AS_PRICE = int.from_bytes(b'AAPL    ', 'little')
TS = 1_293_201_000_000_123_456  # 2010-12-24 14:30:00.000123456 UTC = 09:30 New York


def tick(ts=TS, symbol_id=1, price=0, quantity=0, side=b' ', kind=b'Q') -> bytes:
    return struct.pack('<QIqIcc', ts, symbol_id, price, quantity, side, kind)


def packet(seq: int, *ticks: bytes, session=SESSION, count=None) -> bytes:
    count = len(ticks) if count is None else count
    return (struct.pack('>10sQH', session, seq, count)
            + b''.join(struct.pack('>H', len(t)) + t for t in ticks))


def r_tick(symbol_id=1, name=b'AAPL    ', round_lot=100):
    return tick(symbol_id=symbol_id, price=int.from_bytes(name, 'little', signed=True),
                quantity=round_lot, kind=b'R')


QUOTE = tick(price=123_450_000_000, quantity=300, side=b'B', kind=b'Q')
TRADE = tick(price=5_000_000_000, quantity=7, side=b' ', kind=b'T')


# --- decoding ---

def test_dtypes():
    assert TICK_DTYPE.itemsize == 26
    assert BLOCK_DTYPE.itemsize == 28
    assert BLOCK_DTYPE.fields['length'][1] == 0 and BLOCK_DTYPE.fields['ts_ns'][1] == 2
    assert BLOCK_DTYPE.fields['type'][1] == 27


def test_decode_packet():
    decoded = decode_packet(packet(41, QUOTE, TRADE))
    assert (decoded.session, decoded.seq, decoded.count, decoded.end_of_session) == (SESSION, 41, 2, False)
    expected = np.array([(TS, 1, 123_450_000_000, 300, b'B', b'Q'), (TS, 1, 5_000_000_000, 7, b' ', b'T')],
                        dtype=TICK_DTYPE)
    assert np.array_equal(decoded.ticks, expected)
    assert decoded.ticks.astype(TICK_DTYPE).tobytes() == QUOTE + TRADE


def test_heartbeat_and_end_of_session():
    heartbeat = decode_packet(packet(9))
    assert (heartbeat.seq, heartbeat.count, len(heartbeat.ticks), heartbeat.end_of_session) == (9, 0, 0, False)
    end = decode_packet(packet(9, count=0xFFFF))
    assert (end.seq, end.count, len(end.ticks), end.end_of_session) == (9, 0, 0, True)


def test_short_packets_and_bad_block_lengths_are_refused():
    with pytest.raises(ValueError, match='shorter than its 20-byte header'):
        decode_packet(packet(1)[:19])
    with pytest.raises(ValueError, match='count of 2 ticks needs'):
        decode_packet(packet(1, QUOTE, TRADE)[:-1])
    bad = bytearray(packet(1, QUOTE, TRADE))
    bad[20 + 28] = 1  # second block's length: 0x011a
    with pytest.raises(ValueError, match='block 1 .* length 282, expected 26'):
        decode_packet(bytes(bad))


def test_decoded_ticks_are_a_view_of_the_payload():
    payload = bytearray(packet(1, QUOTE, TRADE))
    ticks = decode_packet(memoryview(payload)).ticks
    assert np.shares_memory(ticks, np.frombuffer(payload, np.uint8))
    struct.pack_into('<I', payload, 20 + 2 + 20, 42)  # first tick's quantity
    assert ticks['quantity'][0] == 42


def test_symbol_of_r_tick():
    ticks = decode_packet(packet(1, r_tick(), r_tick(2, b'BRK.A   '))).ticks
    assert [symbol_of_r_tick(t) for t in ticks] == ['AAPL', 'BRK.A']


def test_format_price():
    assert format_price(123_450_000_000) == '123.45'
    assert format_price(100_000_000_000) == '100'
    assert format_price(1) == '0.000000001'
    assert format_price(-2_500_000_000) == '-2.5'
    assert format_price(0) == '0'


def test_format_tick():
    ticks = decode_packet(packet(1, QUOTE, TRADE, r_tick(), tick(symbol_id=0, side=b'O', kind=b'S'),
                                 tick(side=b'T', kind=b'H'))).ticks
    new_york = ZoneInfo('America/New_York')
    assert [format_tick(t, {1: 'AAPL'}, new_york) for t in ticks] == [
        '09:30:00.000123456 AAPL Q B 123.45 x 300',
        '09:30:00.000123456 AAPL T - 5 x 7',
        '09:30:00.000123456 AAPL R AAPL lot 100',
        '09:30:00.000123456 S O',
        '09:30:00.000123456 AAPL H T',
    ]
    assert format_tick(ticks[0], {}) == '14:30:00.000123456 #1 Q B 123.45 x 300'


# --- the command line ---

@pytest.mark.parametrize('argv, message', [
    pytest.param(['239.1.1.1:99999'], "expected GROUP:PORT, an IPv4 multicast group and a UDP port "
                 "from 1 to 65535, got '239.1.1.1:99999'", id='port past 65535'),
    pytest.param(['10.1.1.1:5000'], "got '10.1.1.1:5000'", id='unicast group'),
    pytest.param(['239.1.1.1'], "got '239.1.1.1'", id='no port'),
    pytest.param(['239.1.1.1:5000', '--tz', 'America'],
                 "expected a time zone such as America/New_York, got 'America'", id='time zone directory'),
])
def test_subscribe_refuses_bad_arguments_with_a_message(capsys, argv, message):
    with pytest.raises(SystemExit) as exited:
        subscriber_cli.main(argv)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_save_path_is_checked_before_joining(tmp_path, monkeypatch):
    def join(*args, **kwargs):
        raise AssertionError('joined: the ticks would be received, then lost at the end')
    monkeypatch.setattr(subscriber_cli, 'Subscriber', join)
    with pytest.raises(FileNotFoundError):
        subscriber_cli.subscribe('239.1.1.1', 5000, timeout=0, save=str(tmp_path / 'no-such-dir' / 'ticks.npy'))


# --- real sockets on loopback ---

def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def test_interface_address():
    assert interface_address('lo') == '127.0.0.1'
    with pytest.raises(OSError, match="interface 'nosuch0'"):
        interface_address('nosuch0')


@pytest.fixture(scope='module')
def loopback_multicast():
    """Make lo carry multicast (needs root) and check that a join on it works."""
    subprocess.run(['ip', 'link', 'set', 'lo', 'multicast', 'on'], capture_output=True)
    group = f'239.{os.getpid() % 200 + 1}.0.1'  # distinct per test run, so parallel runs do not mix
    try:
        Subscriber(group, free_udp_port(), iface='lo').close()
    except OSError as err:
        pytest.skip(f'cannot join a multicast group on lo: {err}')
    return group


@pytest.fixture
def feed(loopback_multicast):
    """A sender on lo and the (group, port) it sends to."""
    port = free_udp_port()
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton('127.0.0.1'))
    sender.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)

    def send(payload: bytes):
        sender.sendto(payload, (loopback_multicast, port))

    yield loopback_multicast, port, send
    sender.close()


def test_receives_ticks_learns_symbols_and_counts_gaps(feed):
    group, port, send = feed
    with Subscriber(group, port, iface='lo', timeout=2) as sub:
        send(packet(1, r_tick(), QUOTE))
        first = sub.recv()
        assert (first.seq, first.count) == (1, 2)
        assert np.array_equal(first.ticks['type'], [b'R', b'Q'])
        assert sub.symbols == {1: 'AAPL'}

        send(packet(3, TRADE))
        send(packet(6, QUOTE, TRADE))  # 4 and 5 lost
        assert sub.recv().seq == 3
        assert (sub.recv().seq, sub.next_seq, sub.gaps, sub.missing) == (6, 8, 1, 2)

        sub.timeout = 0.2
        send(packet(6, QUOTE, TRADE))  # duplicate: dropped
        assert sub.recv() is None
        assert sub.duplicates == 1

        send(packet(7, TRADE, QUOTE))  # overlaps: only seq 8 is new
        overlap = sub.recv()
        assert (overlap.seq, overlap.count, overlap.ticks['type'].tolist()) == (8, 1, [b'Q'])

        send(packet(9))
        send(packet(9, count=0xFFFF))
        assert sub.recv().count == 0
        assert sub.recv().end_of_session and sub.end_of_session
        assert (sub.packets, sub.ticks, sub.gaps, sub.missing) == (6, 6, 1, 2)


def test_joins_mid_session(feed):
    group, port, send = feed
    with Subscriber(group, port, iface='lo', timeout=2) as sub:
        send(packet(1000, QUOTE))
        assert sub.recv().seq == 1000
        assert (sub.next_seq, sub.gaps) == (1001, 0)


def test_gap_is_re_requested_and_the_answer_fills_it(feed):
    group, port, send = feed
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(('127.0.0.1', 0))
    server.settimeout(2)
    with server, Subscriber(group, port, iface='lo', rerequest=server.getsockname(), timeout=2) as sub:
        send(packet(1, QUOTE, TRADE))
        send(packet(5, QUOTE))  # 3 and 4 lost
        assert sub.recv().seq == 1
        assert sub.recv().seq == 5
        assert (sub.gaps, sub.missing, sub.outstanding) == (1, 2, [(3, 5)])

        request, requester = server.recvfrom(100)
        assert request == SESSION + struct.pack('>QH', 3, 2)
        server.sendto(packet(3, r_tick(), TRADE), requester)
        answer = sub.recv()
        assert (answer.seq, answer.count) == (3, 2)
        assert (sub.outstanding, sub.recovered, sub.symbols) == ([], 2, {1: 'AAPL'})

        sub.timeout = 0.2
        server.sendto(packet(3, r_tick(), TRADE), requester)  # answered twice: a duplicate
        assert sub.recv() is None
        assert sub.duplicates == 1


def requests_received(server) -> list[tuple[int, int]]:
    """(first, count) of every request waiting at server."""
    got = []
    server.settimeout(0.05)
    try:
        while True:
            got.append(struct.unpack('>QH', server.recvfrom(100)[0][10:]))
    except socket.timeout:
        return got


def test_lost_and_partly_answered_requests_are_sent_again(feed):
    """UDP loses requests, and an answer carries one packet of ticks: what is
    still missing is asked for again until it comes, and only then is the
    session complete."""
    group, port, send = feed
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(('127.0.0.1', 0))
    with server, Subscriber(group, port, iface='lo', rerequest=server.getsockname(), timeout=2) as sub:
        send(packet(1, QUOTE))
        send(packet(4, QUOTE))  # 2 and 3 lost
        send(packet(5, count=0xFFFF))
        assert [sub.recv().seq for _ in range(3)] == [1, 4, 5]
        assert sub.end_of_session and not sub.complete

        sub.timeout = 0.3
        assert sub.recv() is None  # the first request was lost: sent again meanwhile
        requests = requests_received(server)
        assert len(requests) >= 2 and set(requests) == {(2, 2)}
        server.sendto(packet(2, TRADE), sub.request_sock.getsockname())  # one tick of two
        assert (sub.recv().seq, sub.outstanding) == (2, [(3, 4)])

        assert sub.recv() is None
        assert requests_received(server)[-1] == (3, 1)
        server.sendto(packet(3, QUOTE), sub.request_sock.getsockname())
        assert sub.recv().seq == 3
        assert sub.complete and (sub.recovered, sub.missing) == (2, 2)


@pytest.mark.parametrize('answered', [True, False])
def test_subscribe_recovers_a_gap_or_says_it_could_not(feed, tmp_path, monkeypatch, answered):
    """`colo subscribe --rerequest`: a lost tick is asked for, saved in its
    place in sequence, and the run succeeds; with no answer it waits past the
    end of session, then fails, saying what is missing."""
    group, port, send = feed
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(('127.0.0.1', 0))
    server.settimeout(5)

    def answer_once():
        request, requester = server.recvfrom(100)
        assert request == SESSION + struct.pack('>QH', 2, 1)
        server.sendto(packet(2, r_tick()), requester)

    class JoinedThenSent(Subscriber):
        def __enter__(self):
            send(packet(1, QUOTE))
            send(packet(3, TRADE))  # 2 lost
            send(packet(4, count=0xFFFF))
            return self
    monkeypatch.setattr(subscriber_cli, 'Subscriber', JoinedThenSent)
    monkeypatch.setattr(subscriber_cli, 'ANSWER_WAIT_S', 0.3)
    answerer = threading.Thread(target=answer_once) if answered else None
    out, saved = io.StringIO(), tmp_path / 'ticks.npy'
    with server:
        if answerer:
            answerer.start()
        status = subscriber_cli.subscribe(group, port, iface='lo', timeout=5, stats=True, save=str(saved),
                                          rerequest=server.getsockname(), out=out)
        if answerer:
            answerer.join()
    types = np.load(saved)['type'].tolist()
    if answered:
        assert (status, types) == (0, [b'Q', b'R', b'T'])
        assert 'gaps 1 (1 ticks missing, 1 recovered)' in out.getvalue()
    else:
        assert (status, types) == (1, [b'Q', b'T'])
        assert 'gaps 1 (1 ticks missing, 0 recovered)' in out.getvalue()


def test_subscribe_count_takes_that_many_ticks_not_the_rest_of_the_packet(feed, tmp_path, monkeypatch):
    group, port, send = feed

    class JoinedThenSent(Subscriber):
        def __enter__(self):
            send(packet(1, QUOTE, TRADE, r_tick()))
            return self
    monkeypatch.setattr(subscriber_cli, 'Subscriber', JoinedThenSent)
    out, saved = io.StringIO(), tmp_path / 'ticks.npy'
    assert subscriber_cli.subscribe(group, port, iface='lo', count=2, timeout=5, save=str(saved), out=out) == 0
    assert np.load(saved)['type'].tolist() == [b'Q', b'T']
    assert len([line for line in out.getvalue().splitlines() if ' ticks in ' not in line]) == 2


def test_rerequest_address_is_checked_as_an_argument(capsys):
    with pytest.raises(SystemExit):
        subscriber_cli.main(['239.1.1.1:5000', '--rerequest', 'appliance:31002'])
    assert "expected IP:PORT, an IPv4 address and a UDP port from 1 to 65535, got 'appliance:31002'" \
        in capsys.readouterr().err


def test_packets_of_another_session_are_counted_and_dropped(feed):
    """Two appliances (or an old and a new session) on one group: the
    other's sequence numbers must neither fill nor open gaps in ours."""
    group, port, send = feed
    with Subscriber(group, port, iface='lo', timeout=2) as sub:
        send(packet(1, QUOTE))
        assert sub.recv().seq == 1
        sub.timeout = 0.2
        send(packet(50, TRADE, session=b'COLO000002'))
        assert sub.recv() is None
        send(packet(2, TRADE))
        assert (sub.recv().seq, sub.next_seq) == (2, 3)
        assert (sub.other_session, sub.gaps, sub.ticks, sub.session) == (1, 0, 2, SESSION)


def test_subscribe_fails_when_the_stream_goes_quiet_before_its_end(feed, monkeypatch):
    """A script running `colo subscribe --timeout` must tell a complete
    session from a stream that stopped."""
    group, port, send = feed
    out = io.StringIO()
    assert subscriber_cli.subscribe(group, port, iface='lo', timeout=0.3, out=out) == 1
    assert 'no ticks for 0.3 s before the end of session' in out.getvalue()

    class JoinedThenSent(Subscriber):  # the session is sent once the group is joined
        def __enter__(self):
            send(packet(1, QUOTE))
            send(packet(2, count=0xFFFF))
            return self
    monkeypatch.setattr(subscriber_cli, 'Subscriber', JoinedThenSent)
    assert subscriber_cli.subscribe(group, port, iface='lo', timeout=5, out=io.StringIO()) == 0


def test_iter_ticks_stops_at_end_of_session(feed):
    group, port, send = feed
    with Subscriber(group, port, iface='lo', timeout=2) as sub:
        send(packet(1, QUOTE, TRADE))
        send(packet(3, QUOTE))
        send(packet(4, count=0xFFFF))
        types = [t['type'] for t in sub.iter_ticks()]
        assert types == [b'Q', b'T', b'Q']
