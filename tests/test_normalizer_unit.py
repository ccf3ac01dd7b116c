"""The C normalizer alone, in memory, no EAL (dataplane.binding.Normalizer),
against the independent reference model: hypothesis-generated message
sequences and the book shapes that stress its data structures."""
import datetime
import struct

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dataplane.appliance import midnight_ns
from dataplane.binding import Normalizer
from feedhandlers import itch50
from reference_model import normalize as reference_normalize

DATE = datetime.date(2026, 11, 24)
STOCKS = ["AAA", "BBB", "CCC"]


def c_ticks(messages, **kwargs):
    blocks = b"".join(struct.pack(">H", len(m)) + m for m in messages)
    out = Normalizer(midnight_ns(DATE, "America/New_York"), **kwargs).run(blocks)
    return np.frombuffer(out, reference_normalize([], DATE).dtype)


def assert_same(messages, **kwargs):
    expected = reference_normalize(messages, DATE)
    assert np.array_equal(c_ticks(messages, **kwargs), expected)


def test_deep_book_built_from_the_worst_end_and_emptied_from_both():
    """Adds at ever worse prices (pre-open book building), then deletes from
    the top on one side and from the bottom on the other."""
    adds = [itch50.add_order(i, i, side, 100, "AAA", price)
            for i in range(1, 401)
            for side, price in [(b"B", 1_000_000 - i * 100), (b"S", 1_000_000 + i * 100)][i % 2:i % 2 + 1]]
    bids = [i for i in range(1, 401) if i % 2 == 0]
    asks = [i for i in range(1, 401) if i % 2 == 1]
    deletes = [itch50.order_delete(1000 + n, ref) for n, ref in enumerate(bids + asks[::-1])]
    assert_same(adds + deletes)


orders = st.integers(1, 40)
prices = st.integers(1, 12).map(lambda tick: 1_000_000 + tick * 100)
shares = st.integers(0, 500)
message = st.one_of(
    st.builds(lambda ref, side, n, stock, p: ("add", ref, side, n, stock, p),
              orders, st.sampled_from([b"B", b"S"]), shares, st.sampled_from(STOCKS), prices),
    st.builds(lambda ref, n: ("execute", ref, n), orders, shares),
    st.builds(lambda ref, n, printable, p: ("execute_price", ref, n, printable, p),
              orders, shares, st.sampled_from([b"Y", b"N"]), prices),
    st.builds(lambda ref, n: ("cancel", ref, n), orders, shares),
    st.builds(lambda ref: ("delete", ref), orders),
    st.builds(lambda ref, new, n, p: ("replace", ref, new, n, p), orders, orders, shares, prices),
)
ENCODE = {
    "add": lambda ts, ref, side, n, stock, p: itch50.add_order(ts, ref, side, n, stock, p),
    "execute": lambda ts, ref, n: itch50.order_executed(ts, ref, n, ts),
    "execute_price": lambda ts, ref, n, printable, p:
        itch50.order_executed_with_price(ts, ref, n, ts, printable, p),
    "cancel": lambda ts, ref, n: itch50.order_cancel(ts, ref, n),
    "delete": lambda ts, ref: itch50.order_delete(ts, ref),
    "replace": lambda ts, ref, new, n, p: itch50.order_replace(ts, ref, new, n, p),
}


@settings(max_examples=300, deadline=None)
@given(st.lists(message, min_size=1, max_size=300))
def test_random_sessions_tick_like_the_reference_model(steps):
    """Duplicate and orphan references, zero shares, over-executions, replace
    chains and emptied sides all arise from the small id and price spaces."""
    messages = [ENCODE[kind](ts, *args) for ts, (kind, *args) in enumerate(steps, start=1)]
    assert_same(messages)


def test_a_full_book_refuses_adds_and_counts_them():
    messages = [itch50.add_order(i, i, b"B", 100, "AAA", 1_000_000 + i) for i in range(1, 1101)]
    normalizer = Normalizer(0, max_orders=1024)
    normalizer.run(b"".join(struct.pack(">H", len(m)) + m for m in messages))
    assert normalizer.counters()["events"]["book_full"] == 1100 - 1024


deep_prices = st.integers(0, 120).map(lambda half_cents: 1_000_000 + half_cents * 50)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([b"B", b"S"]), deep_prices), min_size=20,
                max_size=250),
       st.randoms(use_true_random=False))
def test_deep_books_stay_in_price_order_at_cent_and_sub_penny_prices(adds, rng):
    """Books many levels deep, whole cents and half cents mixed, gaps wider
    than the index's reach: a new level is linked between the right two
    (found from a neighbour, not only by a walk from the top), which every
    top of book shows as the levels are deleted in random order."""
    messages = [itch50.add_order(ref, ref, side, 100, "AAA", price)
                for ref, (side, price) in enumerate(adds, start=1)]
    refs = list(range(1, len(adds) + 1))
    rng.shuffle(refs)
    messages += [itch50.order_delete(len(adds) + n, ref) for n, ref in enumerate(refs, start=1)]
    assert_same(messages)
