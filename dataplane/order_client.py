"""A small order-entry client for Colo's OUCH 5.0 over UDP (docs/order-entry.md):
login, enter / replace / cancel / mass cancel, heartbeats, logout; responses are
decoded, delivered in sequence order, and gaps are re-requested.

Used by tests, the demo and `colo order ...`; it needs no DPDK and no cffi build.
"""
import socket
import time

from feedhandlers import moldudp64
from feedhandlers.ouch50 import (CLIENT_PACKETS, CONTROLS, LOGIN_REJECT_REASONS, ORDERS,
                                 RESPONSES, encode_datagram)

MAX_REQUEST_COUNT = 0xFFFF
# Colo logs out a session silent for order_entry.timeout_s, which is at least
# 2 s (more than heartbeat_s, itself at least 1): a heartbeat a second keeps any
# session while the client waits for answers.
HEARTBEAT_S = 1.0


class LoginRejected(RuntimeError):  # `colo order` reports it as it does other failures
    pass


class OrderClient:
    """One session. Responses come back from `receive()` as dicts with their
    'sequence'; counters: gaps, missing, duplicates, retransmit_requests, bad_packets."""

    def __init__(self, server: tuple[str, int], username: str, password: str,
                 session: str = '', bind: tuple[str, int] = ('0.0.0.0', 0),
                 first_user_ref_num: int = 1):
        self.server = server
        self.username, self.password, self.session = username, password, session
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(bind)
        self.last_sent = time.monotonic()
        self.next_user_ref_num = first_user_ref_num
        self.next_seq = None           # next response sequence to deliver
        self.known_end = 0             # the server has sent every sequence below this
        self.requested_end = 0         # retransmissions asked for below this
        self.pending: dict[int, bytes] = {}  # received ahead of a gap
        self.sent: dict[int, bytes] = {}     # user_ref_num -> its packet, for resend()
        self.duplicate_acks: list[dict] = []  # control 'D': repeats Colo did not re-execute
        self.logged_out = False
        self.gaps = self.missing = self.duplicates = self.retransmit_requests = 0
        self.bad_packets = 0

    # --- sending ---------------------------------------------------------------------
    def _send(self, *packets: bytes):
        self.sock.sendto(encode_datagram(list(packets)), self.server)
        self.last_sent = time.monotonic()

    def login(self, sequence: int = 0, timeout: float = 1.0) -> int:
        """Logs in; Colo replays responses from `sequence` (0: only new ones). Returns
        the next sequence number; raises LoginRejected or TimeoutError."""
        # Logging in again (after a logout or a timeout): this login's answer
        # decides, and the stream restarts where it says.
        self.next_seq = None
        self.pending.clear()
        self.logged_out = False
        self._send(CLIENT_PACKETS.encode('L', username=self.username, password=self.password,
                                         session=self.session, sequence=sequence))
        deadline = time.monotonic() + timeout
        while self.next_seq is None:
            if self._receive_one(deadline) is None:
                raise TimeoutError(f'no login answer from {self.server}')
        return self.next_seq

    def _order(self, msg_type: str, **fields) -> int:
        ref = fields.setdefault('user_ref_num', self.next_user_ref_num)
        self.next_user_ref_num = ref + 1
        packet = CLIENT_PACKETS.encode('U', payload=ORDERS.encode(msg_type, **fields))
        self.sent[ref] = packet
        self._send(packet)
        return ref

    def enter(self, side: str, quantity: int, symbol: str, price: int, *,
              time_in_force: str = '0', cl_ord_id: str = '', capacity: str = 'A',
              **options) -> int:
        """price in 1/10,000 (ouch50.MARKET_PRICE: market); options are appendage
        options (min_qty, post_only, group_id, self_trade). Returns the UserRefNum."""
        return self._order('O', side=side, quantity=quantity, symbol=symbol, price=price,
                           time_in_force=time_in_force, display='Y', capacity=capacity,
                           intermarket_sweep='N', cross_type='N', cl_ord_id=cl_ord_id,
                           appendage=options)

    def replace(self, orig_user_ref_num: int, quantity: int, price: int, *,
                time_in_force: str = '0', cl_ord_id: str = '', **options) -> int:
        return self._order('U', orig_user_ref_num=orig_user_ref_num, quantity=quantity,
                           price=price, time_in_force=time_in_force, display='Y',
                           intermarket_sweep='N', cl_ord_id=cl_ord_id, appendage=options)

    def cancel(self, user_ref_num: int, quantity: int = 0) -> int:
        """Cancels the order entered as `user_ref_num` down to `quantity` shares.
        The message carries the order's UserRefNum, so it consumes none."""
        packet = CLIENT_PACKETS.encode('U', payload=ORDERS.encode(
            'X', user_ref_num=user_ref_num, quantity=quantity))
        self._send(packet)
        return user_ref_num

    def mass_cancel(self, symbol: str = '') -> int:
        return self._order('C', symbol=symbol)

    def resend(self, user_ref_num: int):
        """Sends an earlier message again, byte for byte: Colo answers, never re-executes."""
        self._send(self.sent[user_ref_num])

    def heartbeat(self):
        self._send(CLIENT_PACKETS.encode('R'))

    def logout(self):
        self._send(CLIENT_PACKETS.encode('O'))

    def request_retransmission(self, first: int, end: int):
        for start in range(first, end, MAX_REQUEST_COUNT):
            count = min(MAX_REQUEST_COUNT, end - start)
            self._send(CLIENT_PACKETS.encode('Q', sequence=start, count=count))
            self.retransmit_requests += 1

    # --- receiving -------------------------------------------------------------------
    def receive(self, timeout: float = 0.5, until=None) -> list[dict]:
        """Responses delivered in sequence order, until `until(responses)` is true or
        `timeout` seconds pass; on a quiet socket anything still missing is
        re-requested. A logged-in client that has sent nothing for HEARTBEAT_S
        sends a heartbeat meanwhile."""
        deadline = time.monotonic() + timeout
        delivered = []
        while not (until and until(delivered)):
            wake = deadline
            if self.next_seq is not None and not self.logged_out:
                if time.monotonic() >= self.last_sent + HEARTBEAT_S:
                    self.heartbeat()
                wake = min(deadline, self.last_sent + HEARTBEAT_S)
            got = self._receive_one(wake)
            if got is None and time.monotonic() < deadline:
                continue  # woken to send a heartbeat
            if got is None:
                self.recover()
                break
            delivered += got
        return delivered

    def recover(self):
        """Re-requests every sequence known to exist and not yet received (a lost
        retransmission is asked for again)."""
        if self.next_seq is not None:
            for first, end in self._missing_runs(self.next_seq):
                self.request_retransmission(first, end)

    def _receive_one(self, deadline: float) -> list[dict] | None:
        self.sock.settimeout(max(deadline - time.monotonic(), 1e-4))
        try:
            payload, _ = self.sock.recvfrom(65535)
        except (socket.timeout, BlockingIOError):
            return None
        try:
            session, seq, count, messages = moldudp64.decode_packet(payload)
            if seq == 0:
                self._control(messages)
                return []
        except ValueError:
            self.bad_packets += 1
            return []
        if self.next_seq is None or session.decode('latin-1').rstrip() != self.session:
            return []  # not (yet) ours
        if count == moldudp64.END_OF_SESSION:
            self.logged_out = True
        for offset, msg in enumerate(messages):
            if seq + offset < self.next_seq or seq + offset in self.pending:
                self.duplicates += 1
            else:
                self.pending[seq + offset] = msg
        self._saw(seq + len(messages))
        return self._deliver()

    def _control(self, messages: list[bytes]):
        for msg in messages:
            control = CONTROLS.decode(msg)
            if control['type'] == 'A':
                self.session = control['session']
                self.next_seq = self.known_end = self.requested_end = control['sequence']
            elif control['type'] == 'J':
                reason = control['reason']
                raise LoginRejected(f'login as {self.username} rejected: '
                                    f'{LOGIN_REJECT_REASONS.get(reason, reason)}')
            else:
                self.duplicate_acks.append(control)
                self._saw(control['next_sequence'])

    def _saw(self, end: int):
        """The server has sent every sequence below `end`: a new hole is a gap, asked for
        once here (recover() asks again)."""
        if self.next_seq is None or end <= self.known_end:
            return
        self.known_end = end
        for first, last in self._missing_runs(self.requested_end):
            self.gaps += 1
            self.missing += last - first
            self.request_retransmission(first, last)
        self.requested_end = end

    def _missing_runs(self, start: int):
        """[first, end) runs below known_end, from `start`, that are neither delivered
        nor waiting in pending (walks pending, not the sequence space)."""
        first = max(start, self.next_seq)
        for seq in sorted(k for k in self.pending if first <= k < self.known_end):
            if seq > first:
                yield first, seq
            first = seq + 1
        if first < self.known_end:
            yield first, self.known_end

    def _deliver(self) -> list[dict]:
        delivered = []
        while self.next_seq in self.pending:
            response = RESPONSES.decode(self.pending.pop(self.next_seq))
            response['sequence'] = self.next_seq
            delivered.append(response)
            self.next_seq += 1
        return delivered

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
