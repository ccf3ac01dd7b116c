"""Join a tick multicast group, follow its MoldUDP64 sequence, re-request what is lost."""
import fcntl
import select
import socket
import struct
import time

from multicast.ticks import MOLD_HEADER, TickPacket, decode_packet, symbol_of_r_tick

SIOCGIFADDR = 0x8915  # Linux ioctl: an interface's IPv4 address
MAX_REQUEST_COUNT = 0xFFFE  # 0xFFFF would read as end of session
REQUEST_RETRY_S = 0.1  # an answer holds one packet of ticks: the rest is asked for again


def interface_address(iface: str) -> str:
    """IPv4 address of a network interface, by name."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        ifreq = struct.pack('256s', iface.encode()[:15])
        try:
            answer = fcntl.ioctl(sock.fileno(), SIOCGIFADDR, ifreq)
        except OSError as err:
            raise OSError(err.errno, f'no IPv4 address on interface {iface!r}: {err.strerror}') from None
    return socket.inet_ntoa(answer[20:24])  # struct ifreq: 16-byte name, then sockaddr_in


class Subscriber:
    """Receives tick packets in sequence order.

    The first packet sets the session and the starting sequence (joining
    mid-session is fine); packets of any other session are counted and dropped,
    since their sequence numbers count something else.
    A packet past the next expected sequence is a gap: it is counted and, with a
    re-request address, the missing range is requested by unicast; answers fill
    the hole even though their sequence is below `next_seq`. Anything else below
    `next_seq` is a duplicate and is dropped. What is still outstanding is
    requested again every REQUEST_RETRY_S: an answer carries one packet of
    ticks, and UDP loses requests and answers too.
    """

    def __init__(self, group: str, port: int, iface: str | None = None,
                 rerequest: tuple[str, int] | None = None, timeout: float | None = None):
        self.timeout = timeout
        self.rerequest = rerequest
        self.session: bytes | None = None
        self.next_seq: int | None = None
        self.gaps = 0  # gap events
        self.missing = 0  # ticks found missing, recovered or not
        self.recovered = 0  # ticks received in answer to re-requests
        self.last_request = 0.0  # time.monotonic() of the last ones sent
        self.duplicates = 0  # packets dropped as already seen
        self.bad_packets = 0  # packets decode_packet refused
        self.other_session = 0  # packets of a session other than the one followed
        self.packets = 0  # packets accepted, heartbeats included
        self.ticks = 0
        self.end_of_session = False
        self.symbols: dict[int, str] = {}
        self.outstanding: list[tuple[int, int]] = []  # requested [first, end) sequence ranges

        local = interface_address(iface) if iface else '0.0.0.0'
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sockets = [self.sock]
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            # Binding to the group keeps other groups on the same port out.
            self.sock.bind((group, port))
            membership = socket.inet_aton(group) + socket.inet_aton(local)
            self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
        except OSError:
            self.sock.close()
            raise
        # Re-requests go out from a socket of their own, so the unicast answers
        # come back to a port no other subscriber on this host shares. It stays
        # unconnected: a connected UDP socket would raise on the next call after
        # an ICMP port-unreachable from a re-request server that is down.
        self.request_sock = None
        if rerequest:
            self.request_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.request_sock.bind(('0.0.0.0', 0))
            self.sockets.append(self.request_sock)

    def recv(self) -> TickPacket | None:
        """The next packet with ticks not seen before, or a heartbeat or end of
        session; None when nothing new arrives within the timeout."""
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        while True:
            now = time.monotonic()
            if self.outstanding and now - self.last_request >= REQUEST_RETRY_S:
                for first, end in self.outstanding:
                    self._request(first, end)
            wait = None if deadline is None else max(0.0, deadline - now)
            if self.outstanding:
                wait = REQUEST_RETRY_S if wait is None else min(wait, REQUEST_RETRY_S)
            readable, _, _ = select.select(self.sockets, [], [], wait)
            if not readable:
                if deadline is None or time.monotonic() < deadline:
                    continue
                return None
            for sock in readable:
                packet = self._accept(sock.recv(65535))
                if packet is not None:
                    return packet

    @property
    def complete(self) -> bool:
        """The session has ended and no re-requested range is still awaited."""
        return self.end_of_session and not self.outstanding

    def iter_ticks(self):
        """Yield ticks one by one until the session is complete or a timeout."""
        while not self.complete:
            packet = self.recv()
            if packet is None:
                return
            yield from packet.ticks

    def _accept(self, payload: bytes) -> TickPacket | None:
        try:
            packet = decode_packet(payload)
        except ValueError:
            self.bad_packets += 1
            return None
        if self.next_seq is None:
            self.session, self.next_seq = packet.session, packet.seq
        elif packet.session != self.session:
            self.other_session += 1
            return None
        end = packet.seq + packet.count
        if packet.seq > self.next_seq:
            self._gap(self.next_seq, packet.seq)
        if end > self.next_seq or packet.count == 0:
            first = max(packet.seq, self.next_seq)
            self.next_seq = max(end, self.next_seq)
        else:
            first, end = self._fill(packet.seq, end)
            if first == end:
                self.duplicates += 1
                return None
            self.recovered += end - first
        ticks = packet.ticks[first - packet.seq:end - packet.seq]
        self.packets += 1
        self.ticks += len(ticks)
        self.end_of_session |= packet.end_of_session
        for tick in ticks[ticks['type'] == b'R']:
            self.symbols[int(tick['symbol_id'])] = symbol_of_r_tick(tick)
        return packet._replace(seq=first, count=len(ticks), ticks=ticks)

    def _gap(self, first: int, end: int):
        self.gaps += 1
        self.missing += end - first
        if self.request_sock is None:
            return
        self.outstanding.append((first, end))
        self._request(first, end)

    def _request(self, first: int, end: int):
        for start in range(first, end, MAX_REQUEST_COUNT):
            count = min(MAX_REQUEST_COUNT, end - start)
            self.request_sock.sendto(MOLD_HEADER.pack(self.session, start, count), self.rerequest)
        self.last_request = time.monotonic()

    def _fill(self, first: int, end: int) -> tuple[int, int]:
        """Take the part of [first, end) that lies in an outstanding range off it;
        returns that part, empty if there is none."""
        for i, (lo, hi) in enumerate(self.outstanding):
            if first < hi and lo < end:
                first, end = max(first, lo), min(end, hi)
                self.outstanding[i:i + 1] = [r for r in ((lo, first), (end, hi)) if r[0] < r[1]]
                return first, end
        return first, first

    def close(self):
        for sock in self.sockets:
            sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
