"""Colo order entry (docs/order-entry.md): Nasdaq OUCH 5.0 message layouts, the
SoupBinTCP-shaped client packets that carry them over UDP, and the appliance's
unsequenced control messages. One codec; every layout is a line of data below.

It lives in feedhandlers/, next to itch50.py and moldudp64.py, because it is the
Python reference side of an exchange protocol like them and needs nothing built:
tests, the demo and the client import it without the cffi extension, and the
DPDK gateway stage implements the same tables in C.

Field kinds: c one ASCII byte; Ns N-byte alpha, space padded; Nn N-byte ASCII
number, right justified and space padded (SoupBinTCP); H/I/Q unsigned big-endian
integers of 2/4/8 bytes. A layout may end in `appendage`
(u16 length, then OUCH 5.0 TagValue options) or `payload` (all remaining bytes).
"""
import struct
from dataclasses import dataclass

# OUCH 5.0 prices: 8 bytes, 4 implied decimals, unsigned. The all-ones 32-bit value
# is OUCH's market-order sentinel ($214,748.3647); Colo reads it as a market order.
PRICE_SCALE = 10_000
MARKET_PRICE = 0x7FFFFFFF

ORDER = {  # client -> Colo, inside SoupBinTCP 'U' packets
    'O': 'user_ref_num:I side:c quantity:I symbol:8s price:Q time_in_force:c display:c '
         'capacity:c intermarket_sweep:c cross_type:c cl_ord_id:14s appendage',
    'U': 'orig_user_ref_num:I user_ref_num:I quantity:I price:Q time_in_force:c display:c '
         'intermarket_sweep:c cl_ord_id:14s appendage',
    'X': 'user_ref_num:I quantity:I',
    'C': 'user_ref_num:I firm:4s symbol:8s',
}
RESPONSE = {  # Colo -> client, sequenced, in MoldUDP64 packets
    'S': 'timestamp:Q event_code:c',
    'A': 'timestamp:Q user_ref_num:I side:c quantity:I symbol:8s price:Q time_in_force:c '
         'display:c order_ref:Q capacity:c intermarket_sweep:c cross_type:c order_state:c '
         'cl_ord_id:14s appendage',
    'U': 'timestamp:Q orig_user_ref_num:I user_ref_num:I side:c quantity:I symbol:8s price:Q '
         'time_in_force:c display:c order_ref:Q capacity:c intermarket_sweep:c cross_type:c '
         'order_state:c cl_ord_id:14s appendage',
    'C': 'timestamp:Q user_ref_num:I quantity:I reason:c',
    'E': 'timestamp:Q user_ref_num:I quantity:I price:Q liquidity_flag:c match_number:Q '
         'appendage',
    'J': 'timestamp:Q user_ref_num:I reason:H cl_ord_id:14s',
}
CLIENT_PACKET = {  # client -> Colo: SoupBinTCP 4.0 client packets, plus 'Q'
    'L': 'username:6s password:10s session:10s sequence:20n',
    'U': 'payload',
    'R': '',
    'O': '',
    'Q': 'sequence:Q count:H',
}
CONTROL = {  # Colo -> client, unsequenced: MoldUDP64 packets with sequence 0
    'A': 'session:10s sequence:20n',
    'J': 'reason:c',
    'D': 'user_ref_num:I next_sequence:Q',
}

# OUCH 5.0 TagValue options Colo understands: tag, name, kind. 200 is Colo's own.
OPTIONS = {3: ('min_qty', 'I'), 12: ('post_only', 'c'), 24: ('group_id', 'H'),
           200: ('self_trade', 'c')}
_OPTION_TAGS = {name: (tag, kind) for tag, (name, kind) in OPTIONS.items()}

REJECT_REASONS = {  # Order Rejected 'J' reason (u16)
    1: 'invalid_field', 2: 'unknown_symbol', 3: 'invalid_price', 4: 'invalid_quantity',
    5: 'unsupported', 6: 'post_only', 7: 'book_full', 8: 'not_resting', 9: 'halted',
    10: 'restricted', 11: 'max_order_qty', 12: 'max_notional', 13: 'price_collar',
    14: 'buying_power', 15: 'position_limit', 16: 'short_sale', 17: 'max_open_orders',
    18: 'throttle', 19: 'kill_switch', 20: 'duplicate_order', 21: 'replace_pending',
}
CANCEL_REASONS = {  # Order Canceled 'C' reason
    'U': 'user', 'I': 'immediate_or_cancel', 'Q': 'self_trade', 'S': 'supervisory',
    'Z': 'end_of_day', 'D': 'disconnect',
}
LOGIN_REJECT_REASONS = {'A': 'not_authorized', 'S': 'session_unavailable'}


@dataclass(frozen=True)
class _Layout:
    code: int
    struct: struct.Struct            # the fixed part, type byte included
    fields: tuple[tuple[str, str], ...]  # (name, kind) of the fixed part
    tail: str | None                 # 'appendage', 'payload' or None


def _width(kind: str) -> int:
    return 1 if kind == 'c' else int(kind[:-1])


def _layout(code: str, spec: str) -> _Layout:
    items = spec.split()
    tail = items.pop() if items and items[-1] in ('appendage', 'payload') else None
    fields = tuple(tuple(item.split(':')) for item in items)
    fmt = '>c' + ''.join(f'{_width(k)}s' if k[-1] in 'cn' else k for _, k in fields)
    return _Layout(ord(code), struct.Struct(fmt), fields, tail)


def _alpha(name: str, value, width: int) -> bytes:
    raw = value.encode('ascii') if isinstance(value, str) else bytes(value)
    if len(raw) > width:
        raise ValueError(f'{name}={value!r} does not fit a {width}-byte alpha field')
    return raw.ljust(width, b' ')


def _pack_value(name: str, kind: str, value):
    if kind == 'c' or kind[-1] == 's':
        return _alpha(name, value, _width(kind))
    if kind[-1] == 'n':
        digits = str(value)
        if not digits.isdigit() or len(digits) > _width(kind):
            raise ValueError(f'{name}={value!r} is not a {_width(kind)}-digit number')
        return digits.rjust(_width(kind)).encode()
    return value


def _unpack_value(name: str, kind: str, raw):
    if kind == 'c':
        return raw.decode('latin-1')
    if kind[-1] == 's':
        return raw.decode('latin-1').rstrip(' ')
    if kind[-1] == 'n':
        text = raw.decode('latin-1').strip(' ')
        if not text.isdigit():
            raise ValueError(f'{name} {raw!r} is not an ASCII number')
        return int(text)
    return raw


def encode_appendage(options: dict) -> bytes:
    """TagValue elements: u8 length (of tag and value), u8 tag, value."""
    parts = []
    for name, value in options.items():
        if name not in _OPTION_TAGS:
            raise ValueError(f'unsupported appendage option {name!r}')
        tag, kind = _OPTION_TAGS[name]
        body = _alpha(name, value, 1) if kind == 'c' else struct.pack('>' + kind, value)
        parts.append(bytes([1 + len(body), tag]) + body)
    return b''.join(parts)


def decode_appendage(raw: bytes) -> dict:
    options, offset = {}, 0
    while offset < len(raw):
        length = raw[offset]
        end = offset + 1 + length
        if length < 1 or end > len(raw):
            raise ValueError(f'appendage element at byte {offset} of {len(raw)} has a bad '
                             f'length {length}')
        tag = raw[offset + 1]
        if tag not in OPTIONS:
            raise ValueError(f'unsupported appendage tag {tag}')
        name, kind = OPTIONS[tag]
        value = raw[offset + 2:end]
        size = 1 if kind == 'c' else struct.calcsize('>' + kind)
        if len(value) != size:
            raise ValueError(f'appendage option {name} is {len(value)} bytes, expected {size}')
        options[name] = value.decode('latin-1') if kind == 'c' else \
            struct.unpack('>' + kind, value)[0]
        offset = end
    return options


class Codec:
    """Encode and decode the messages of one table (ORDER, RESPONSE, ...)."""

    def __init__(self, name: str, table: dict[str, str]):
        self.name = name
        self.layouts = {ord(code): _layout(code, spec) for code, spec in table.items()}

    def min_length(self, msg_type: str) -> int:
        """Bytes of a message without options or payload."""
        layout = self.layouts[ord(msg_type)]
        return layout.struct.size + (2 if layout.tail == 'appendage' else 0)

    def encode(self, msg_type: str, **fields) -> bytes:
        """Alpha fields default to spaces, integers to 0; `appendage` is a dict of
        options, `payload` bytes."""
        layout = self.layouts.get(ord(msg_type))
        if layout is None:
            raise ValueError(f'unknown {self.name} message type {msg_type!r}')
        unknown = fields.keys() - {n for n, _ in layout.fields} - {layout.tail}
        if unknown:
            raise TypeError(f'{self.name} {msg_type!r} messages have no field(s) '
                            f'{sorted(unknown)}')
        values = [_pack_value(n, k, fields.get(n, 0 if k in 'HIQ' else b''))
                  for n, k in layout.fields]
        try:
            head = layout.struct.pack(msg_type.encode(), *values)
        except struct.error as error:
            raise ValueError(f'{self.name} {msg_type!r}: {error}') from None
        if layout.tail == 'appendage':
            options = encode_appendage(fields.get('appendage', {}))
            return head + len(options).to_bytes(2, 'big') + options
        if layout.tail == 'payload':
            return head + bytes(fields.get('payload', b''))
        return head

    def decode(self, msg: bytes) -> dict:
        """{'type': ..., field: value, ...}; ValueError unless msg is exactly one
        well-formed message."""
        layout = self.layouts.get(msg[0]) if msg else None
        if layout is None:
            raise ValueError(f'unknown {self.name} message type {bytes(msg[:1])!r}')
        size = layout.struct.size
        extra = 2 if layout.tail == 'appendage' else 0
        if len(msg) < size + extra or (layout.tail is None and len(msg) != size):
            raise ValueError(f'{self.name} {chr(msg[0])!r} message is {len(msg)} bytes, '
                             f'expected {size + extra}' + (' or more' if layout.tail else ''))
        _, *values = layout.struct.unpack_from(msg)
        fields = {'type': chr(msg[0])}
        for (name, kind), value in zip(layout.fields, values):
            fields[name] = _unpack_value(name, kind, value)
        if layout.tail == 'appendage':
            length = int.from_bytes(msg[size:size + 2], 'big')
            if size + 2 + length != len(msg):
                raise ValueError(f'{self.name} {chr(msg[0])!r} appendage length {length} does '
                                 f'not match the {len(msg) - size - 2} bytes that follow')
            fields['appendage'] = decode_appendage(bytes(msg[size + 2:]))
        elif layout.tail == 'payload':
            fields['payload'] = bytes(msg[size:])
        return fields


ORDERS = Codec('order', ORDER)
RESPONSES = Codec('response', RESPONSE)
CLIENT_PACKETS = Codec('client packet', CLIENT_PACKET)
CONTROLS = Codec('control', CONTROL)


def encode_datagram(packets: list[bytes]) -> bytes:
    """Client -> Colo UDP payload: SoupBinTCP packets, each a u16 length and the packet."""
    return b''.join(len(p).to_bytes(2, 'big') + p for p in packets)


def decode_datagram(payload: bytes) -> list[dict]:
    """The decoded client packets of one datagram; an 'U' packet's payload is decoded
    as an OUCH order message under 'message'."""
    packets, offset = [], 0
    while offset < len(payload):
        if offset + 2 > len(payload):
            raise ValueError(f'datagram ends inside the length of packet {len(packets)}')
        end = offset + 2 + int.from_bytes(payload[offset:offset + 2], 'big')
        if end > len(payload) or end == offset + 2:
            raise ValueError(f'packet {len(packets)} at byte {offset} overruns the '
                             f'{len(payload)}-byte datagram or is empty')
        packet = CLIENT_PACKETS.decode(payload[offset + 2:end])
        if packet['type'] == 'U':
            packet['message'] = ORDERS.decode(packet.pop('payload'))
        packets.append(packet)
        offset = end
    if not packets:
        raise ValueError('empty datagram')
    return packets
