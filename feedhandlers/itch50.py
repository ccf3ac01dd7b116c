"""NASDAQ TotalView-ITCH 5.0: message layouts, encoders, a decoder, and the NASDAQ
binary file layout (a 2-byte big-endian length, then the message).

Every message starts with type(1) stock_locate(2) tracking_number(2) timestamp(6,
nanoseconds since midnight); all integers are big-endian. Prices are the raw u32
with 4 implied decimals. Alpha fields are ASCII, space padded.
"""
import gzip
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from os import PathLike

# The header's 6-byte timestamp is packed as its high 16 and low 32 bits.
_HEADER_FORMAT = '>cHHHI'
_TS_LIMIT = 1 << 48

# Body fields after the 11-byte header, in order: name:struct format. 'c' is one
# ASCII character, 'Ns' an N-byte space-padded alpha field, H/I/Q big-endian integers.
_BODIES = {
    'S': 'code:c',
    'R': 'stock:8s market_category:c fin_status:c round_lot:I round_lots_only:c '
         'issue_class:c issue_subtype:2s authenticity:c short_sale_threshold:c ipo_flag:c '
         'luld_tier:c etp_flag:c etp_leverage:I inverse:c',
    'H': 'stock:8s state:c reserved:c reason:4s',
    'Y': 'stock:8s reg_sho_action:c',
    'L': 'mpid:4s stock:8s primary_market_maker:c market_maker_mode:c participant_state:c',
    'V': 'level1:Q level2:Q level3:Q',
    'W': 'breached_level:c',
    'K': 'stock:8s release_time:I release_qualifier:c ipo_price:I',
    'J': 'stock:8s reference_price:I upper_price:I lower_price:I extension:I',
    'h': 'stock:8s market_code:c halt_action:c',
    'A': 'ref:Q side:c shares:I stock:8s price:I',
    'F': 'ref:Q side:c shares:I stock:8s price:I mpid:4s',
    'E': 'ref:Q shares:I match:Q',
    'C': 'ref:Q shares:I match:Q printable:c price:I',
    'X': 'ref:Q shares:I',
    'D': 'ref:Q',
    'U': 'orig_ref:Q new_ref:Q shares:I price:I',
    'P': 'ref:Q side:c shares:I stock:8s price:I match:Q',
    'Q': 'shares:Q stock:8s price:I match:Q cross_type:c',
    'B': 'match:Q',
    'I': 'paired_shares:Q imbalance_shares:Q imbalance_direction:c stock:8s far_price:I '
         'near_price:I reference_price:I cross_type:c price_variation:c',
    'N': 'stock:8s interest_flag:c',
    'O': 'stock:8s open_eligibility:c min_price:I max_price:I near_price:I near_time:Q '
         'lower_collar:I upper_collar:I',
}


@dataclass(frozen=True)
class _Layout:
    code: bytes
    struct: struct.Struct
    fields: tuple[tuple[str, int], ...]  # (name, alpha width, or 0 for an integer)


def _layout(code: str, body: str) -> _Layout:
    fields = [item.split(':') for item in body.split()]
    widths = tuple((name, 1 if fmt == 'c' else int(fmt[:-1]) if fmt.endswith('s') else 0)
                   for name, fmt in fields)
    fmt = _HEADER_FORMAT + ''.join(f for _, f in fields)
    return _Layout(code.encode(), struct.Struct(fmt), widths)


_LAYOUTS = {ord(code): _layout(code, body) for code, body in _BODIES.items()}
_HEADER = struct.Struct(_HEADER_FORMAT)

MESSAGE_LENGTHS: dict[int, int] = {code: layout.struct.size for code, layout in _LAYOUTS.items()}


def _alpha(value: str | bytes, width: int) -> bytes:
    raw = value.encode('ascii') if isinstance(value, str) else bytes(value)
    if len(raw) > width:
        raise ValueError(f'{value!r} does not fit a {width}-byte alpha field')
    return raw.ljust(width, b' ')


def _check_ts(ts: int) -> None:
    if not 0 <= ts < _TS_LIMIT:
        raise ValueError(f'timestamp {ts} is not a 6-byte count of nanoseconds')


def encode(msg_type: str | bytes | int, ts: int, locate: int = 0, tracking: int = 0,
           **fields) -> bytes:
    """Any ITCH 5.0 message by type; omitted fields are spaces (alpha) or 0 (integers)."""
    code = msg_type if isinstance(msg_type, int) else ord(msg_type)
    layout = _LAYOUTS.get(code)
    if layout is None:
        raise ValueError(f'unknown ITCH 5.0 message type {chr(code)!r}')
    unknown = fields.keys() - {name for name, _ in layout.fields}
    if unknown:
        raise TypeError(f'type {chr(code)!r} messages have no field(s) {sorted(unknown)}')
    _check_ts(ts)
    values = [_alpha(fields.get(name, b''), width) if width else fields.get(name, 0)
              for name, width in layout.fields]
    return layout.struct.pack(layout.code, locate, tracking, ts >> 32, ts & 0xFFFFFFFF, *values)


def raw(type_byte: str | bytes | int, ts: int, body: bytes, locate: int = 0,
        tracking: int = 0) -> bytes:
    """A header followed by an arbitrary body: for unknown types and malformed input."""
    code = type_byte if isinstance(type_byte, int) else ord(type_byte)
    _check_ts(ts)
    return _HEADER.pack(bytes([code]), locate, tracking, ts >> 32, ts & 0xFFFFFFFF) + body


def system_event(ts, code, locate=0, tracking=0) -> bytes:
    return encode('S', ts, locate, tracking, code=code)


_DIRECTORY_DEFAULTS = dict(
    market_category=b'Q', fin_status=b'N', round_lots_only=b'N', issue_class=b'C',
    issue_subtype=b'Z', authenticity=b'P', short_sale_threshold=b'N', ipo_flag=b'N',
    luld_tier=b'1', etp_flag=b'N', etp_leverage=0, inverse=b'N')


def stock_directory(ts, stock, round_lot=100, locate=0, tracking=0, **fields) -> bytes:
    """R; `fields` overrides the other R fields (market_category=b'Q', fin_status=b'N', ...)."""
    return encode('R', ts, locate, tracking, stock=stock, round_lot=round_lot,
                  **{**_DIRECTORY_DEFAULTS, **fields})


def trading_action(ts, stock, state, reason=b'', locate=0, tracking=0) -> bytes:
    return encode('H', ts, locate, tracking, stock=stock, state=state, reason=reason)


def add_order(ts, ref, side, shares, stock, price, locate=0, tracking=0) -> bytes:
    return encode('A', ts, locate, tracking, ref=ref, side=side, shares=shares, stock=stock,
                  price=price)


def add_order_mpid(ts, ref, side, shares, stock, price, mpid=b'NSDQ', locate=0,
                   tracking=0) -> bytes:
    return encode('F', ts, locate, tracking, ref=ref, side=side, shares=shares, stock=stock,
                  price=price, mpid=mpid)


def order_executed(ts, ref, shares, match, locate=0, tracking=0) -> bytes:
    return encode('E', ts, locate, tracking, ref=ref, shares=shares, match=match)


def order_executed_with_price(ts, ref, shares, match, printable, price, locate=0,
                              tracking=0) -> bytes:
    return encode('C', ts, locate, tracking, ref=ref, shares=shares, match=match,
                  printable=printable, price=price)


def order_cancel(ts, ref, shares, locate=0, tracking=0) -> bytes:
    return encode('X', ts, locate, tracking, ref=ref, shares=shares)


def order_delete(ts, ref, locate=0, tracking=0) -> bytes:
    return encode('D', ts, locate, tracking, ref=ref)


def order_replace(ts, orig_ref, new_ref, shares, price, locate=0, tracking=0) -> bytes:
    return encode('U', ts, locate, tracking, orig_ref=orig_ref, new_ref=new_ref, shares=shares,
                  price=price)


def trade(ts, ref, side, shares, stock, price, match, locate=0, tracking=0) -> bytes:
    """P: a trade against a non-displayed order."""
    return encode('P', ts, locate, tracking, ref=ref, side=side, shares=shares, stock=stock,
                  price=price, match=match)


def cross_trade(ts, shares, stock, price, match, cross_type=b'O', locate=0,
                tracking=0) -> bytes:
    return encode('Q', ts, locate, tracking, shares=shares, stock=stock, price=price,
                  match=match, cross_type=cross_type)


def broken_trade(ts, match, locate=0, tracking=0) -> bytes:
    return encode('B', ts, locate, tracking, match=match)


def decode(msg: bytes) -> dict:
    """Type, locate, tracking, ts and the named fields. Alpha fields come back as str,
    multi-byte ones without their space padding: with d = decode(m),
    encode(d.pop('type'), **d) rebuilds m."""
    layout = _LAYOUTS.get(msg[0]) if msg else None
    if layout is None:
        raise ValueError(f'unknown ITCH 5.0 message type {msg[:1]!r}')
    if len(msg) != layout.struct.size:
        raise ValueError(f'type {chr(msg[0])!r} message is {len(msg)} bytes, '
                         f'expected {layout.struct.size}')
    _, locate, tracking, ts_high, ts_low, *values = layout.struct.unpack(msg)
    fields = {'type': chr(msg[0]), 'locate': locate, 'tracking': tracking,
              'ts': ts_high << 32 | ts_low}
    for (name, width), value in zip(layout.fields, values):
        if width:
            value = value.decode('latin-1')
            value = value.rstrip(' ') if width > 1 else value
        fields[name] = value
    return fields


def _open_maybe_gzip(path):
    with open(path, 'rb') as file:
        magic = file.read(2)
    return gzip.open(path, 'rb') if magic == b'\x1f\x8b' else open(path, 'rb')


def read_itch_file(path: str | PathLike) -> Iterator[bytes]:
    """Messages of a NASDAQ binary ITCH file, plain or gzip. A zero length prefix (as in
    the RITCH sample) means the length comes from the message type."""
    with _open_maybe_gzip(path) as file:
        offset = 0
        while prefix := file.read(2):
            if len(prefix) < 2:
                raise ValueError(f'{path}: truncated length prefix at byte {offset}')
            length = int.from_bytes(prefix, 'big')
            if length:
                msg = file.read(length)
            else:
                msg = file.read(1)
                if not msg:
                    raise ValueError(f'{path}: truncated message at byte {offset + 2}')
                length = MESSAGE_LENGTHS.get(msg[0])
                if length is None:
                    raise ValueError(f'{path}: zero length prefix and unknown message type '
                                     f'{msg!r} at byte {offset + 2}')
                msg += file.read(length - 1)
            if len(msg) < length:
                raise ValueError(f'{path}: truncated message at byte {offset + 2}: '
                                 f'{len(msg)} of {length} bytes')
            yield msg
            offset += 2 + length


def write_itch_file(path: str | PathLike, messages: Iterable[bytes]) -> int:
    """Write the NASDAQ binary layout with real lengths (gzip if path ends in .gz); returns
    the number of messages."""
    opener = gzip.open if str(path).endswith('.gz') else open
    count = 0
    with opener(path, 'wb') as file:
        for count, msg in enumerate(messages, 1):
            file.write(len(msg).to_bytes(2, 'big'))
            file.write(msg)
    return count
