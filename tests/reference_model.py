"""Independent reference model: NASDAQ TotalView-ITCH 5.0 messages -> 26-byte ticks.

Written from the contract (spec/ticks.md) and nothing else in this project, so
the C data plane can be checked against it tick for tick. Clarity over speed.
"""
import bisect
import dataclasses
import datetime
import struct
from zoneinfo import ZoneInfo

import numpy as np

TICK_DTYPE = np.dtype([('ts_ns', '<u8'), ('symbol_id', '<u4'), ('price', '<i8'),
                       ('quantity', '<u4'), ('side', 'S1'), ('type', 'S1')])

MESSAGE_LENGTHS = {
    b'S': 12, b'R': 39, b'H': 25, b'Y': 20, b'L': 26, b'V': 35, b'W': 12, b'K': 28,
    b'J': 35, b'h': 21, b'A': 36, b'F': 40, b'E': 31, b'C': 36, b'X': 23, b'D': 19,
    b'U': 35, b'P': 44, b'Q': 40, b'B': 19, b'I': 50, b'N': 20, b'O': 48,
}
PRICE_SCALE = 100_000  # ITCH prices have 4 decimals, ticks 9
U32_MAX = 2**32 - 1
OPPOSITE_SIDE = {b'B': b'S', b'S': b'B'}


class BookSide:
    """Price levels of one side of one symbol's book: price -> total shares."""

    def __init__(self, is_bid: bool):
        self.is_bid = is_bid
        self.prices = []  # sorted ascending, so the best is at one end
        self.shares = {}

    def add(self, price: int, shares: int):
        if price not in self.shares:
            bisect.insort(self.prices, price)
            self.shares[price] = 0
        self.shares[price] += shares

    def remove(self, price: int, shares: int):
        self.shares[price] -= shares
        if self.shares[price] == 0:
            del self.shares[price]
            self.prices.pop(bisect.bisect_left(self.prices, price))

    def top(self) -> tuple[int, int]:
        """(best price, total shares there), (0, 0) when empty."""
        if not self.prices:
            return 0, 0
        best = self.prices[-1] if self.is_bid else self.prices[0]
        return best, self.shares[best]


@dataclasses.dataclass
class Order:
    symbol_id: int
    side: bytes  # b'B' or b'S'
    price: int  # ITCH units (4 decimals)
    shares: int


def local_midnight_ns(session_date: datetime.date, tz: str) -> int:
    """Epoch nanoseconds (UTC) of local midnight, in exact integer arithmetic."""
    midnight = datetime.datetime.combine(session_date, datetime.time(0), ZoneInfo(tz))
    days = (session_date - datetime.date(1970, 1, 1)).days
    offset_s = int(midnight.utcoffset().total_seconds())
    return (days * 86_400 - offset_s) * 1_000_000_000


class ReferenceNormalizer:
    """Applies ITCH messages one at a time to a book of live orders.

    Decisions the spec leaves open (the C data plane makes the same ones):
    malformed messages (wrong length, side not B/S in A/F) change nothing but
    the counters; a message of correct length naming a stock assigns its id
    even when it then does nothing; quotes compare the raw (price, total
    shares) at the top before and after the message, before saturation.
    """

    def __init__(self, session_date: datetime.date, tz: str = 'America/New_York',
                 instruments: dict[bytes, int] | None = None):
        self.midnight_ns = local_midnight_ns(session_date, tz)
        self.symbol_ids = dict(instruments or {})
        self.next_symbol_id = max(self.symbol_ids.values(), default=0) + 1
        self.orders: dict[int, Order] = {}
        self.book: dict[tuple[int, bytes], BookSide] = {}
        self.counters = {'orphan_refs': 0, 'duplicate_refs': 0, 'bad_length': 0,
                         'unknown_type': 0, 'zero_shares': 0, 'bad_field': 0,
                         'messages_by_type': {}}
        self.handlers = {b'S': self.system_event, b'R': self.stock_directory,
                         b'H': self.trading_action, b'A': self.add_order,
                         b'F': self.add_order, b'E': self.executed,
                         b'C': self.executed_with_price, b'X': self.cancel,
                         b'D': self.delete, b'U': self.replace, b'P': self.trade,
                         b'Q': self.cross_trade}

    def apply(self, msg: bytes) -> list[tuple]:
        """Ticks (ts_ns, symbol_id, price, quantity, side, type) for one ITCH message."""
        msg = bytes(msg)
        kind = msg[:1]
        if kind and kind not in MESSAGE_LENGTHS:
            self.counters['unknown_type'] += 1
            return []
        if not kind or len(msg) != MESSAGE_LENGTHS[kind]:  # an empty message has a bad length
            self.counters['bad_length'] += 1
            return []
        by_type = self.counters['messages_by_type']
        by_type[kind.decode()] = by_type.get(kind.decode(), 0) + 1
        handler = self.handlers.get(kind)
        if handler is None:
            return []
        ts_ns = self.midnight_ns + int.from_bytes(msg[5:11], 'big')
        return handler(ts_ns, msg)

    # --- helpers ---

    def symbol_id(self, stock: bytes) -> int:
        if stock not in self.symbol_ids:
            self.symbol_ids[stock] = self.next_symbol_id
            self.next_symbol_id += 1
        return self.symbol_ids[stock]

    def side_of(self, symbol_id: int, side: bytes) -> BookSide:
        key = (symbol_id, side)
        if key not in self.book:
            self.book[key] = BookSide(is_bid=side == b'B')
        return self.book[key]

    def add(self, ref: int, order: Order):
        self.orders[ref] = order
        self.side_of(order.symbol_id, order.side).add(order.price, order.shares)

    def reduce(self, ref: int, shares: int):
        """Take up to `shares` off an order (never below zero); drop it at zero."""
        order = self.orders[ref]
        taken = min(shares, order.shares)
        order.shares -= taken
        self.side_of(order.symbol_id, order.side).remove(order.price, taken)
        if order.shares == 0:
            del self.orders[ref]

    def live_order(self, ref: int) -> Order | None:
        order = self.orders.get(ref)
        if order is None:
            self.counters['orphan_refs'] += 1
        return order

    def quote_if_changed(self, ts_ns: int, symbol_id: int, side: bytes,
                         before: tuple[int, int]) -> list[tuple]:
        price, shares = self.side_of(symbol_id, side).top()
        if (price, shares) == before:
            return []
        return [(ts_ns, symbol_id, price * PRICE_SCALE, min(shares, U32_MAX), side, b'Q')]

    def top(self, order: Order) -> tuple[int, int]:
        return self.side_of(order.symbol_id, order.side).top()

    # --- one handler per ITCH message type that emits ticks ---

    def system_event(self, ts_ns, msg):
        return [(ts_ns, 0, 0, 0, msg[11:12], b'S')]

    def stock_directory(self, ts_ns, msg):
        stock = msg[11:19]
        (round_lot,) = struct.unpack_from('>I', msg, 21)
        symbol_bytes_as_price = int.from_bytes(stock, 'little', signed=True)
        return [(ts_ns, self.symbol_id(stock), symbol_bytes_as_price, round_lot, b' ', b'R')]

    def trading_action(self, ts_ns, msg):
        return [(ts_ns, self.symbol_id(msg[11:19]), 0, 0, msg[19:20], b'H')]

    def add_order(self, ts_ns, msg):  # A and F share the first 36 bytes
        ref, side, shares, stock, price = struct.unpack_from('>Q1sI8sI', msg, 11)
        symbol_id = self.symbol_id(stock)
        if side not in OPPOSITE_SIDE:
            self.counters['bad_field'] += 1
            return []
        if ref in self.orders:
            self.counters['duplicate_refs'] += 1
            return []
        if shares == 0:
            self.counters['zero_shares'] += 1
            return []
        before = self.side_of(symbol_id, side).top()
        self.add(ref, Order(symbol_id, side, price, shares))
        return self.quote_if_changed(ts_ns, symbol_id, side, before)

    def executed(self, ts_ns, msg):
        ref, shares = struct.unpack_from('>QI', msg, 11)
        order = self.live_order(ref)
        if order is None:
            return []
        trade = (ts_ns, order.symbol_id, order.price * PRICE_SCALE, shares,
                 OPPOSITE_SIDE[order.side], b'T')
        before = self.top(order)
        self.reduce(ref, shares)
        return [trade] + self.quote_if_changed(ts_ns, order.symbol_id, order.side, before)

    def executed_with_price(self, ts_ns, msg):
        ref, shares, _match, printable, price = struct.unpack_from('>QIQ1sI', msg, 11)
        order = self.live_order(ref)
        if order is None:
            return []
        ticks = []
        if printable == b'Y':
            ticks.append((ts_ns, order.symbol_id, price * PRICE_SCALE, shares,
                          OPPOSITE_SIDE[order.side], b'T'))
        before = self.top(order)
        self.reduce(ref, shares)
        return ticks + self.quote_if_changed(ts_ns, order.symbol_id, order.side, before)

    def cancel(self, ts_ns, msg):
        ref, shares = struct.unpack_from('>QI', msg, 11)
        order = self.live_order(ref)
        if order is None:
            return []
        before = self.top(order)
        self.reduce(ref, shares)
        return self.quote_if_changed(ts_ns, order.symbol_id, order.side, before)

    def delete(self, ts_ns, msg):
        (ref,) = struct.unpack_from('>Q', msg, 11)
        order = self.live_order(ref)
        if order is None:
            return []
        before = self.top(order)
        self.reduce(ref, order.shares)
        return self.quote_if_changed(ts_ns, order.symbol_id, order.side, before)

    def replace(self, ts_ns, msg):
        old_ref, new_ref, shares, price = struct.unpack_from('>QQII', msg, 11)
        order = self.live_order(old_ref)
        if order is None:
            return []
        before = self.top(order)
        self.reduce(old_ref, order.shares)
        if new_ref in self.orders:
            self.counters['duplicate_refs'] += 1
        elif shares == 0:
            self.counters['zero_shares'] += 1
        else:
            self.add(new_ref, Order(order.symbol_id, order.side, price, shares))
        return self.quote_if_changed(ts_ns, order.symbol_id, order.side, before)

    def trade(self, ts_ns, msg):
        _ref, side, shares, stock, price = struct.unpack_from('>Q1sI8sI', msg, 11)
        return [(ts_ns, self.symbol_id(stock), price * PRICE_SCALE, shares,
                 OPPOSITE_SIDE.get(side, b' '), b'T')]

    def cross_trade(self, ts_ns, msg):
        shares, stock, price = struct.unpack_from('>Q8sI', msg, 11)
        symbol_id = self.symbol_id(stock)
        if shares == 0:
            return []
        return [(ts_ns, symbol_id, price * PRICE_SCALE, min(shares, U32_MAX), b' ', b'T')]


def ticks_to_array(ticks: list[tuple]) -> np.ndarray:
    return np.array(ticks, dtype=TICK_DTYPE)


def normalize(messages, session_date: datetime.date, tz: str = 'America/New_York',
              instruments: dict[bytes, int] | None = None) -> np.ndarray:
    model = ReferenceNormalizer(session_date, tz, instruments)
    ticks = []
    for msg in messages:
        ticks.extend(model.apply(msg))
    return ticks_to_array(ticks)
