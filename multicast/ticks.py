"""The 26-byte tick and its MoldUDP64 framing (spec/ticks.md), decoded with numpy."""
import datetime
import struct
from typing import NamedTuple

import numpy as np

TICK_DTYPE = np.dtype([('ts_ns', '<u8'), ('symbol_id', '<u4'), ('price', '<i8'),
                       ('quantity', '<u4'), ('side', 'S1'), ('type', 'S1')])
TICK_SIZE = TICK_DTYPE.itemsize  # 26

# One MoldUDP64 message block: big-endian u16 length, then the tick.
BLOCK_DTYPE = np.dtype({
    'names': ['length', *TICK_DTYPE.names],
    'formats': ['>u2', *(TICK_DTYPE.fields[name][0] for name in TICK_DTYPE.names)],
    'offsets': [0, *(2 + TICK_DTYPE.fields[name][1] for name in TICK_DTYPE.names)],
    'itemsize': 2 + TICK_SIZE,
})

MOLD_HEADER = struct.Struct('>10sQH')  # session, sequence of the first message, count
END_OF_SESSION = 0xFFFF
PRICE_UNITS = 1_000_000_000  # 1e-9


class TickPacket(NamedTuple):
    session: bytes
    seq: int  # sequence number of ticks[0] (of the next tick for heartbeats)
    count: int  # number of ticks; 0 for heartbeats and end of session
    ticks: np.ndarray  # the tick fields of BLOCK_DTYPE: a view into the payload
    end_of_session: bool = False


def decode_packet(payload: bytes | memoryview) -> TickPacket:
    """Decode a MoldUDP64 packet of ticks without copying them.

    `ticks` has the tick fields by name (compare it with TICK_DTYPE arrays, or
    `.astype(TICK_DTYPE)` for a packed copy). Bytes after the last block are ignored.
    """
    if len(payload) < MOLD_HEADER.size:
        raise ValueError(f'MoldUDP64 packet of {len(payload)} bytes is shorter than its '
                         f'{MOLD_HEADER.size}-byte header')
    session, seq, count = MOLD_HEADER.unpack_from(payload)
    if count == END_OF_SESSION:
        return TickPacket(session, seq, 0, np.empty(0, TICK_DTYPE), end_of_session=True)
    needed = MOLD_HEADER.size + count * BLOCK_DTYPE.itemsize
    if len(payload) < needed:
        raise ValueError(f'MoldUDP64 packet of {len(payload)} bytes is shorter than the '
                         f'{needed} bytes its count of {count} ticks needs')
    blocks = np.frombuffer(payload, BLOCK_DTYPE, count=count, offset=MOLD_HEADER.size)
    bad = np.flatnonzero(blocks['length'] != TICK_SIZE)
    if bad.size:
        raise ValueError(f'message block {bad[0]} of packet seq {seq} has length '
                         f'{blocks["length"][bad[0]]}, expected {TICK_SIZE}')
    return TickPacket(session, seq, count, blocks[list(TICK_DTYPE.names)])


def symbol_of_r_tick(tick) -> str:
    """An R tick carries the symbol's 8 ASCII bytes in its price field."""
    raw = int(tick['price']).to_bytes(8, 'little', signed=True)
    return raw.decode('ascii', errors='replace').strip()


def format_price(price: int) -> str:
    """1e-9 fixed point as a decimal with trailing zeros trimmed: 123450000000 -> '123.45'."""
    sign = '-' if price < 0 else ''
    whole, fraction = divmod(abs(price), PRICE_UNITS)
    return f'{sign}{whole}.{fraction:09d}'.rstrip('0').rstrip('.')


def format_tick(tick, symbols: dict[int, str], tz: datetime.tzinfo = datetime.timezone.utc) -> str:
    """One line per tick, e.g. '09:30:00.000123456 AAPL Q B 123.45 x 300'."""
    seconds, nanos = divmod(int(tick['ts_ns']), 1_000_000_000)
    clock = datetime.datetime.fromtimestamp(seconds, tz).strftime('%H:%M:%S')
    symbol_id = int(tick['symbol_id'])
    symbol = symbols.get(symbol_id, f'#{symbol_id}')
    kind = tick['type'].decode('ascii', errors='replace')
    side = tick['side'].decode('ascii', errors='replace').strip() or '-'  # ' ': no side
    head = f'{clock}.{nanos:09d}'
    if kind == 'S':
        return f'{head} S {side}'
    if kind == 'H':
        return f'{head} {symbol} H {side}'
    if kind == 'R':
        return f'{head} {symbol} R {symbol_of_r_tick(tick)} lot {int(tick["quantity"])}'
    return f'{head} {symbol} {kind} {side} {format_price(int(tick["price"]))} x {int(tick["quantity"])}'
