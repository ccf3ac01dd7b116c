"""Deterministic synthetic TotalView-ITCH 5.0 sessions for demos and tests.

Each symbol has a mid price that random-walks one tick at a time. Bids rest strictly
below the mid and asks strictly above it; when the mid moves onto resting orders they
are executed, so books are never crossed. The generator keeps every live order with
its remaining shares, so each E, C, X, D and U names a live order and never takes it
below zero.
"""
import itertools
import random
import string
from dataclasses import dataclass, field

from feedhandlers import itch50

OPEN_NS = 9 * 3600 * 10**9 + 30 * 60 * 10**9
_U32_MAX = 0xFFFFFFFF
_PENNY = 100  # raw ITCH price units (4 implied decimals)
_ROUND_LOT = 100
_MPIDS = (b'NSDQ', b'GSCO', b'MSCO', b'JPMS', b'UBSS')
_MAX_TICKS_AWAY = 40  # furthest an order rests from the mid
_MID_MARGIN = 50  # ticks the mid keeps from 0 and from the u32 ceiling, > _MAX_TICKS_AWAY
_MIN_LIVE, _MAX_LIVE = 8, 150  # per-symbol live orders the mix steers between
_MEAN_GAP_NS = 40_000

# Relative frequency of each event in the mix.
_EVENTS = {
    'add': 36, 'delete': 20, 'replace': 9, 'execute': 9, 'cancel': 7, 'move': 10,
    'trade': 4, 'execute_with_price': 3, 'halt': 0.03,
}
_WHILE_HALTED = {'execute': 'delete', 'execute_with_price': 'delete', 'trade': 'delete',
                 'move': 'delete', 'halt': 'delete'}


@dataclass(slots=True)
class _Order:
    ref: int
    side: bytes
    price: int
    shares: int


@dataclass(slots=True)
class _Symbol:
    name: str
    locate: int
    mid: int
    tick: int
    orders: dict[int, _Order] = field(default_factory=dict)  # live, oldest first
    halted: bool = False
    last_replacement: int = 0  # ref made by the latest U, replaced again to build chains


class _Session:
    def __init__(self, seed: int, symbols: int, start_ns: int):
        self.rng = random.Random(seed)
        self.ts = start_ns
        self.out: list[bytes] = []
        self.next_ref = 1
        self.next_match = 1
        self.symbols = [self._new_symbol(name, locate)
                        for locate, name in enumerate(self._names(symbols), 1)]
        # Zipf-like activity; the BRK.A-like last symbol trades rarely.
        weights = [1 / rank for rank in range(1, symbols + 1)]
        if symbols > 1:
            weights[-1] = 0.02
        self.symbol_weights = list(itertools.accumulate(weights))
        self.event_weights = list(itertools.accumulate(_EVENTS.values()))

    def _names(self, count: int) -> list[str]:
        """Distinct 3-4 letter names; with two or more, the last is a BRK.A-like 'XYZ.A'."""
        names: list[str] = []
        while len(names) < count:
            name = ''.join(self.rng.choices(string.ascii_uppercase, k=self.rng.choice((3, 4, 4))))
            if name not in names:
                names.append(name)
        if count > 1:
            names[-1] = names[-1][:3] + '.A'
        return names

    def _new_symbol(self, name: str, locate: int) -> _Symbol:
        if name.endswith('.A'):  # a dollar tick near the top of the u32 price range
            return _Symbol(name, locate, mid=4_150_000_000, tick=10_000)
        return _Symbol(name, locate, mid=self.rng.randrange(5, 500) * 10_000, tick=_PENNY)

    def now(self) -> int:
        self.ts += 1 + int(self.rng.expovariate(1 / _MEAN_GAP_NS))
        return self.ts

    def match(self) -> int:
        self.next_match += 1
        return self.next_match - 1

    def lots(self) -> int:
        return _ROUND_LOT * self.rng.choice((1, 1, 1, 2, 2, 3, 4, 5, 10, 20))

    def quote_price(self, sym: _Symbol, side: bytes) -> int:
        away = min(1 + int(self.rng.expovariate(0.3)), _MAX_TICKS_AWAY) * sym.tick
        return sym.mid - away if side == b'B' else sym.mid + away

    def opening(self) -> None:
        self.out.append(itch50.system_event(self.ts, b'O'))
        for sym in self.symbols:
            self.out.append(itch50.stock_directory(self.now(), sym.name, locate=sym.locate))
        for sym in self.symbols:
            self.out.append(itch50.trading_action(self.now(), sym.name, b'T', locate=sym.locate))
        self.out.append(itch50.system_event(self.now(), b'S'))
        self.out.append(itch50.system_event(self.now(), b'Q'))
        for sym in self.symbols:
            self.cross(sym, b'O')

    def closing(self) -> None:
        for sym in self.symbols:
            if sym.halted:
                self.resume(sym)
            self.cross(sym, b'C')
        for code in (b'M', b'E', b'C'):
            self.out.append(itch50.system_event(self.now(), code))

    def step(self) -> None:
        sym = self.rng.choices(self.symbols, cum_weights=self.symbol_weights)[0]
        if sym.halted and self.rng.random() < 0.05:
            self.resume(sym)
            return
        event = self.rng.choices(tuple(_EVENTS), cum_weights=self.event_weights)[0]
        if sym.halted:
            event = _WHILE_HALTED.get(event, event)
        if len(sym.orders) < _MIN_LIVE:
            event = 'add'
        elif len(sym.orders) > _MAX_LIVE:
            event = 'delete'
        getattr(self, event)(sym)

    # The events: each appends one message, except 'move' (zero or more executions).

    def add(self, sym: _Symbol) -> None:
        side = self.rng.choice((b'B', b'S'))
        order = _Order(self.next_ref, side, self.quote_price(sym, side), self.lots())
        self.next_ref += 1
        sym.orders[order.ref] = order
        args = (self.now(), order.ref, side, order.shares, sym.name, order.price)
        if self.rng.random() < 0.1:
            self.out.append(itch50.add_order_mpid(*args, mpid=self.rng.choice(_MPIDS),
                                                  locate=sym.locate))
        else:
            self.out.append(itch50.add_order(*args, locate=sym.locate))

    def delete(self, sym: _Symbol) -> None:
        order = self.any_order(sym)
        del sym.orders[order.ref]
        self.out.append(itch50.order_delete(self.now(), order.ref, locate=sym.locate))

    def cancel(self, sym: _Symbol) -> None:
        order = self.any_order(sym)
        if order.shares <= _ROUND_LOT:
            self.delete(sym)
            return
        cancelled = _ROUND_LOT * self.rng.randrange(1, order.shares // _ROUND_LOT)
        order.shares -= cancelled
        self.out.append(itch50.order_cancel(self.now(), order.ref, cancelled, locate=sym.locate))

    def replace(self, sym: _Symbol) -> None:
        order = sym.orders.get(sym.last_replacement)
        if order is None or self.rng.random() < 0.6:
            order = self.any_order(sym)
        del sym.orders[order.ref]
        new = _Order(self.next_ref, order.side, self.quote_price(sym, order.side), self.lots())
        self.next_ref += 1
        sym.orders[new.ref] = new
        sym.last_replacement = new.ref
        self.out.append(itch50.order_replace(self.now(), order.ref, new.ref, new.shares, new.price,
                                             locate=sym.locate))

    def execute(self, sym: _Symbol) -> None:
        order = self.order_near_top(sym)
        self.out.append(itch50.order_executed(self.now(), order.ref, self.fill(sym, order),
                                              self.match(), locate=sym.locate))

    def execute_with_price(self, sym: _Symbol) -> None:
        order = self.order_near_top(sym)
        price = order.price + self.rng.choice((-1, 0, 1)) * sym.tick
        printable = b'N' if self.rng.random() < 0.3 else b'Y'
        self.out.append(itch50.order_executed_with_price(
            self.now(), order.ref, self.fill(sym, order), self.match(), printable, price,
            locate=sym.locate))

    def trade(self, sym: _Symbol) -> None:
        """A non-displayed (midpoint) order executed; such trades carry reference 0."""
        self.out.append(itch50.trade(self.now(), 0, self.rng.choice((b'B', b'S')), self.lots(),
                                     sym.name, sym.mid, self.match(), locate=sym.locate))

    def move(self, sym: _Symbol) -> None:
        """Step the mid one tick, executing the orders it reaches."""
        step = self.rng.choice((-1, 1)) * sym.tick
        if not _MID_MARGIN * sym.tick <= sym.mid + step <= _U32_MAX - _MID_MARGIN * sym.tick:
            step = -step
        sym.mid += step
        # Orders rest strictly on their side of the mid, so those reached sit at the new mid.
        reached = [o for o in sym.orders.values() if o.price == sym.mid]
        for order in reached:  # oldest first
            del sym.orders[order.ref]
            self.out.append(itch50.order_executed(self.now(), order.ref, order.shares,
                                                  self.match(), locate=sym.locate))

    def halt(self, sym: _Symbol) -> None:
        sym.halted = True
        self.out.append(itch50.trading_action(self.now(), sym.name, b'H', b'LUDP',
                                              locate=sym.locate))

    def resume(self, sym: _Symbol) -> None:
        sym.halted = False
        self.out.append(itch50.trading_action(self.now(), sym.name, b'T', locate=sym.locate))
        self.cross(sym, b'H')

    def cross(self, sym: _Symbol, cross_type: bytes) -> None:
        self.out.append(itch50.cross_trade(self.now(), self.lots() * 10, sym.name, sym.mid,
                                           self.match(), cross_type, locate=sym.locate))

    # Helpers for the events.

    def any_order(self, sym: _Symbol) -> _Order:
        return self.rng.choice(list(sym.orders.values()))

    def order_near_top(self, sym: _Symbol) -> _Order:
        """The closest to the mid of a few random live orders: fills happen near the top."""
        return min(self.rng.choices(list(sym.orders.values()), k=3),
                   key=lambda o: abs(o.price - sym.mid))

    def fill(self, sym: _Symbol, order: _Order) -> int:
        """Executed shares, all or some round lots, taken off the order."""
        lots = order.shares // _ROUND_LOT
        partial = lots > 1 and self.rng.random() < 0.5
        shares = _ROUND_LOT * self.rng.randrange(1, lots) if partial else order.shares
        order.shares -= shares
        if not order.shares:
            del sym.orders[order.ref]
        return shares


def synthesize(seed: int, symbols: int, messages: int, start_ns: int = OPEN_NS) -> list[bytes]:
    """About `messages` ITCH 5.0 messages of a session of `symbols` symbols starting at
    `start_ns` (ns since midnight); the same arguments always give the same messages."""
    if symbols < 1:
        raise ValueError('a session needs at least one symbol')
    session = _Session(seed, symbols, start_ns)
    session.opening()
    closing_length = symbols + 3
    while len(session.out) < messages - closing_length:
        session.step()
    session.closing()
    return session.out
