"""Hand-worked cases for the ITCH 5.0 reference model, one group per rule."""
import datetime
import pathlib
import struct

import numpy as np
import pytest

from dataplane_helpers import SAMPLE
from tests.reference_model import (MESSAGE_LENGTHS, TICK_DTYPE, ReferenceNormalizer,
                                   normalize, ticks_to_array)

SESSION = datetime.date(2010, 12, 24)
MIDNIGHT = 1_293_166_800_000_000_000  # 2010-12-24 00:00 EST = 05:00 UTC
AAPL, MSFT, IBM = b'AAPL    ', b'MSFT    ', b'IBM     '


# --- ITCH 5.0 message builders (big-endian, lengths per the spec) ---

def header(kind: bytes, ts: int) -> bytes:
    return kind + struct.pack('>HH', 1, 0) + ts.to_bytes(6, 'big')


def system_event(code, ts=1):
    return header(b'S', ts) + code


def stock_directory(stock, round_lot=100, ts=1):
    return header(b'R', ts) + stock + b'QN' + struct.pack('>I', round_lot) + b' ' * 14


def trading_action(stock, state, ts=1):
    return header(b'H', ts) + stock + state + b' ' + b'    '


def add(ref, side, shares, price, stock=AAPL, ts=1):
    return header(b'A', ts) + struct.pack('>Q1sI8sI', ref, side, shares, stock, price)


def add_attributed(ref, side, shares, price, stock=AAPL, ts=1):
    return header(b'F', ts) + struct.pack('>Q1sI8sI4s', ref, side, shares, stock, price, b'MPID')


def executed(ref, shares, ts=1):
    return header(b'E', ts) + struct.pack('>QIQ', ref, shares, 99)


def executed_with_price(ref, shares, printable, price, ts=1):
    return header(b'C', ts) + struct.pack('>QIQ1sI', ref, shares, 99, printable, price)


def cancel(ref, shares, ts=1):
    return header(b'X', ts) + struct.pack('>QI', ref, shares)


def delete(ref, ts=1):
    return header(b'D', ts) + struct.pack('>Q', ref)


def replace(old_ref, new_ref, shares, price, ts=1):
    return header(b'U', ts) + struct.pack('>QQII', old_ref, new_ref, shares, price)


def trade(side, shares, price, stock=AAPL, ref=0, ts=1):
    return header(b'P', ts) + struct.pack('>Q1sI8sIQ', ref, side, shares, stock, price, 7)


def cross(shares, price, stock=AAPL, ts=1):
    return header(b'Q', ts) + struct.pack('>Q8sIQ1s', shares, stock, price, 7, b'O')


T1 = MIDNIGHT + 1  # every builder defaults to ITCH timestamp 1


@pytest.fixture
def model():
    return ReferenceNormalizer(SESSION)


def test_builders_match_itch_lengths():
    built = [system_event(b'O'), stock_directory(AAPL), trading_action(AAPL, b'T'),
             add(1, b'B', 1, 1), add_attributed(1, b'B', 1, 1), executed(1, 1),
             executed_with_price(1, 1, b'Y', 1), cancel(1, 1), delete(1),
             replace(1, 2, 1, 1), trade(b'B', 1, 1), cross(1, 1)]
    assert [len(m) for m in built] == [MESSAGE_LENGTHS[m[:1]] for m in built]


# --- framing rules ---

def test_bad_length_is_counted_and_changes_nothing(model):
    assert model.apply(add(1, b'B', 100, 10_000)[:-1]) == []
    assert model.apply(b'') == []
    assert model.counters['bad_length'] == 2
    # no symbol id was assigned and no order added: the next AAPL add gets id 1 and quotes alone
    assert model.apply(add(1, b'B', 100, 10_000)) == [(T1, 1, 1_000_000_000, 100, b'B', b'Q')]


def test_unknown_type_is_counted(model):
    assert model.apply(b'Z' + bytes(20)) == []
    assert model.counters['unknown_type'] == 1
    assert model.counters['bad_length'] == 0


def test_timestamp_is_local_midnight_plus_itch_nanoseconds(model):
    assert model.apply(system_event(b'Q', ts=34_200_000_000_123)) == [
        (MIDNIGHT + 34_200_000_000_123, 0, 0, 0, b'Q', b'S')]


def test_timestamp_follows_daylight_saving_time():
    summer = ReferenceNormalizer(datetime.date(2021, 7, 1))  # EDT: midnight is 04:00 UTC
    assert summer.apply(system_event(b'O', ts=5)) == [(1_625_112_000_000_000_005, 0, 0, 0, b'O', b'S')]
    utc = ReferenceNormalizer(SESSION, tz='UTC')
    assert utc.apply(system_event(b'O', ts=5)) == [(1_293_148_800_000_000_005, 0, 0, 0, b'O', b'S')]


# --- system, directory and trading-status ticks ---

def test_system_event_tick(model):
    assert model.apply(system_event(b'C')) == [(T1, 0, 0, 0, b'C', b'S')]


def test_stock_directory_tick_carries_symbol_bytes_and_round_lot(model):
    ticks = model.apply(stock_directory(AAPL, round_lot=100))
    assert ticks == [(T1, 1, int.from_bytes(b'AAPL    ', 'little'), 100, b' ', b'R')]
    assert ticks_to_array(ticks).tobytes()[12:20] == b'AAPL    '


def test_trading_action_tick(model):
    assert model.apply(trading_action(MSFT, b'H')) == [(T1, 1, 0, 0, b'H', b'H')]


# --- symbol ids ---

def test_symbol_ids_in_order_of_first_sight(model):
    model.apply(trading_action(MSFT, b'T'))
    model.apply(add(1, b'B', 100, 10_000, stock=AAPL))
    model.apply(stock_directory(MSFT))
    assert model.apply(trade(b'B', 5, 10_000, stock=IBM)) == [(T1, 3, 1_000_000_000, 5, b'S', b'T')]


def test_configured_instruments_keep_their_ids_and_new_names_follow_the_highest():
    model = ReferenceNormalizer(SESSION, instruments={MSFT: 7, IBM: 3})
    assert model.apply(trading_action(AAPL, b'T')) == [(T1, 8, 0, 0, b'T', b'H')]
    assert model.apply(trading_action(IBM, b'T')) == [(T1, 3, 0, 0, b'T', b'H')]
    assert model.apply(trading_action(b'ZVZZT   ', b'T')) == [(T1, 9, 0, 0, b'T', b'H')]


def test_messages_that_do_nothing_still_assign_symbol_ids(model):
    model.apply(add(1, b'B', 100, 10_000, stock=AAPL))   # id 1
    model.apply(add(1, b'B', 100, 10_000, stock=MSFT))   # duplicate ref: id 2
    model.apply(add(2, b'B', 0, 10_000, stock=IBM))      # zero shares: id 3
    model.apply(cross(0, 10_000, stock=b'QQQ     '))      # zero-share cross: id 4
    model.apply(add(3, b'?', 100, 10_000, stock=b'SPY     '))  # bad side: id 5
    assert model.apply(trading_action(b'ZVZZT   ', b'T')) == [(T1, 6, 0, 0, b'T', b'H')]


# --- adds ---

def test_add_quotes_only_when_the_top_of_its_side_changes(model):
    assert model.apply(add(1, b'B', 100, 1_234_500)) == [(T1, 1, 123_450_000_000, 100, b'B', b'Q')]
    assert model.apply(add(2, b'B', 50, 1_234_400)) == []  # worse bid
    assert model.apply(add(3, b'B', 20, 1_234_500)) == [(T1, 1, 123_450_000_000, 120, b'B', b'Q')]
    assert model.apply(add(4, b'B', 10, 1_234_600)) == [(T1, 1, 123_460_000_000, 10, b'B', b'Q')]


def test_best_ask_is_the_lowest_price(model):
    assert model.apply(add(1, b'S', 100, 20_000)) == [(T1, 1, 2_000_000_000, 100, b'S', b'Q')]
    assert model.apply(add(2, b'S', 100, 21_000)) == []
    assert model.apply(add(3, b'S', 7, 19_000)) == [(T1, 1, 1_900_000_000, 7, b'S', b'Q')]


def test_attributed_add_behaves_like_add(model):
    assert model.apply(add_attributed(1, b'S', 300, 10_000)) == [(T1, 1, 1_000_000_000, 300, b'S', b'Q')]
    assert model.apply(delete(1)) == [(T1, 1, 0, 0, b'S', b'Q')]


def test_add_with_live_ref_is_a_duplicate(model):
    model.apply(add(1, b'B', 100, 10_000))
    assert model.apply(add(1, b'B', 500, 20_000)) == []
    assert model.counters['duplicate_refs'] == 1
    assert model.apply(delete(1)) == [(T1, 1, 0, 0, b'B', b'Q')]


def test_add_with_zero_shares_adds_nothing(model):
    assert model.apply(add(1, b'B', 0, 10_000)) == []
    assert model.counters['zero_shares'] == 1
    assert model.apply(delete(1)) == []
    assert model.counters['orphan_refs'] == 1


def test_add_with_bad_side_is_a_bad_field(model):
    assert model.apply(add(1, b'X', 100, 10_000)) == []
    assert model.apply(add_attributed(2, b' ', 100, 10_000)) == []
    assert model.counters['bad_field'] == 2
    assert model.apply(delete(1)) == []


def test_quote_quantity_saturates(model):
    model.apply(add(1, b'B', 2**32 - 1, 10_000))
    assert model.apply(add(2, b'B', 2**32 - 1, 10_000)) == [(T1, 1, 1_000_000_000, 2**32 - 1, b'B', b'Q')]
    # the raw totals are compared, so a change hidden by saturation still quotes
    assert model.apply(cancel(1, 2**32 - 1)) == [(T1, 1, 1_000_000_000, 2**32 - 1, b'B', b'Q')]


# --- executions ---

def test_execution_trades_at_resting_price_with_aggressor_side(model):
    model.apply(add(1, b'S', 300, 10_000))
    assert model.apply(executed(1, 100, ts=2)) == [
        (MIDNIGHT + 2, 1, 1_000_000_000, 100, b'B', b'T'),
        (MIDNIGHT + 2, 1, 1_000_000_000, 200, b'S', b'Q')]


def test_execution_of_a_bid_below_the_top_trades_without_quote(model):
    model.apply(add(1, b'B', 300, 10_000))
    model.apply(add(2, b'B', 300, 9_000))
    assert model.apply(executed(2, 300)) == [(T1, 1, 900_000_000, 300, b'S', b'T')]
    assert model.apply(delete(2)) == []  # fully executed, so gone
    assert model.counters['orphan_refs'] == 1


def test_over_execution_trades_message_shares_and_removes_the_order(model):
    model.apply(add(1, b'B', 100, 10_000))
    model.apply(add(2, b'B', 50, 9_000))
    assert model.apply(executed(1, 150)) == [
        (T1, 1, 1_000_000_000, 150, b'S', b'T'),
        (T1, 1, 900_000_000, 50, b'B', b'Q')]


def test_execution_of_unknown_ref_is_an_orphan(model):
    assert model.apply(executed(42, 100)) == []
    assert model.counters['orphan_refs'] == 1


def test_execution_with_price_trades_at_message_price_when_printable(model):
    model.apply(add(1, b'B', 300, 10_000))
    assert model.apply(executed_with_price(1, 100, b'Y', 10_050)) == [
        (T1, 1, 1_005_000_000, 100, b'S', b'T'),
        (T1, 1, 1_000_000_000, 200, b'B', b'Q')]


def test_non_printable_execution_with_price_only_moves_the_book(model):
    model.apply(add(1, b'B', 300, 10_000))
    assert model.apply(executed_with_price(1, 300, b'N', 10_050)) == [(T1, 1, 0, 0, b'B', b'Q')]
    assert model.apply(executed_with_price(1, 1, b'Y', 10_050)) == []
    assert model.counters['orphan_refs'] == 1


# --- cancels, deletes, replaces ---

def test_partial_cancel_then_over_cancel(model):
    model.apply(add(1, b'S', 300, 10_000))
    assert model.apply(cancel(1, 100)) == [(T1, 1, 1_000_000_000, 200, b'S', b'Q')]
    assert model.apply(cancel(1, 999)) == [(T1, 1, 0, 0, b'S', b'Q')]
    assert model.apply(cancel(1, 1)) == []
    assert model.counters['orphan_refs'] == 1


def test_delete_quotes_only_when_the_top_changes(model):
    model.apply(add(1, b'B', 100, 10_000))
    model.apply(add(2, b'B', 100, 9_000))
    assert model.apply(delete(2)) == []
    assert model.apply(delete(1)) == [(T1, 1, 0, 0, b'B', b'Q')]
    assert model.apply(delete(1)) == []
    assert model.counters['orphan_refs'] == 1


def test_replace_moves_the_order_with_one_quote(model):
    model.apply(add(1, b'S', 100, 10_000))
    model.apply(add(2, b'S', 100, 10_100))
    assert model.apply(replace(1, 3, 40, 10_200)) == [(T1, 1, 1_010_000_000, 100, b'S', b'Q')]
    assert model.apply(delete(1)) == []  # the old ref is gone
    assert model.apply(delete(2)) == [(T1, 1, 1_020_000_000, 40, b'S', b'Q')]  # the new one lives


def test_replace_that_leaves_the_top_unchanged_emits_nothing(model):
    model.apply(add(1, b'B', 100, 10_000))
    model.apply(add(2, b'B', 100, 9_000))
    assert model.apply(replace(2, 3, 70, 8_000)) == []
    assert model.apply(replace(1, 4, 100, 10_000)) == []  # same price, same shares, new ref


def test_replace_of_unknown_ref_is_an_orphan(model):
    assert model.apply(replace(1, 2, 100, 10_000)) == []
    assert model.counters['orphan_refs'] == 1
    assert model.apply(delete(2)) == []  # nothing was added


def test_replace_onto_a_live_ref_removes_the_old_order_only(model):
    model.apply(add(1, b'B', 100, 10_000))
    model.apply(add(2, b'B', 100, 9_000))
    assert model.apply(replace(1, 2, 500, 11_000)) == [(T1, 1, 900_000_000, 100, b'B', b'Q')]
    assert model.counters['duplicate_refs'] == 1


def test_replace_with_zero_shares_removes_the_old_order_only(model):
    model.apply(add(1, b'S', 100, 10_000))
    assert model.apply(replace(1, 2, 0, 10_000)) == [(T1, 1, 0, 0, b'S', b'Q')]
    assert model.apply(delete(2)) == []


# --- trades that do not touch the book ---

def test_non_displayed_trade_takes_the_opposite_side_and_leaves_the_book(model):
    model.apply(add(1, b'B', 100, 10_000))
    assert model.apply(trade(b'B', 100, 10_000, ref=1)) == [(T1, 1, 1_000_000_000, 100, b'S', b'T')]
    assert model.apply(trade(b'S', 5, 10_001)) == [(T1, 1, 1_000_100_000, 5, b'B', b'T')]
    assert model.apply(trade(b'?', 5, 10_001)) == [(T1, 1, 1_000_100_000, 5, b' ', b'T')]
    assert model.apply(executed(1, 100)) == [(T1, 1, 1_000_000_000, 100, b'S', b'T'),
                                            (T1, 1, 0, 0, b'B', b'Q')]


def test_cross_trade(model):
    assert model.apply(cross(1_000, 2**32 - 1)) == [(T1, 1, 429_496_729_500_000, 1_000, b' ', b'T')]
    assert model.apply(cross(0, 10_000)) == []
    assert model.apply(cross(2**40, 10_000)) == [(T1, 1, 1_000_000_000, 2**32 - 1, b' ', b'T')]


@pytest.mark.parametrize('kind', list(b'YLVWKJhBINO'))
def test_other_known_types_are_counted_only(model, kind):
    kind = bytes([kind])
    msg = header(kind, 1) + bytes(MESSAGE_LENGTHS[kind] - 11)
    assert model.apply(msg) == []
    assert model.counters['messages_by_type'] == {kind.decode(): 1}


# --- arrays ---

def test_ticks_to_array_keeps_space_sides_on_the_wire():
    arr = ticks_to_array([(T1, 1, 5, 6, b' ', b'T')])
    assert arr.dtype == TICK_DTYPE and TICK_DTYPE.itemsize == 26
    assert arr.tobytes() == struct.pack('<QIqI', T1, 1, 5, 6) + b' T'
    assert ticks_to_array([]).shape == (0,)


def test_normalize_concatenates_ticks_in_message_order():
    arr = normalize([system_event(b'O'), add(1, b'B', 10, 10_000), executed(1, 10)], SESSION)
    assert np.array_equal(arr, ticks_to_array([
        (T1, 0, 0, 0, b'O', b'S'), (T1, 1, 1_000_000_000, 10, b'B', b'Q'),
        (T1, 1, 1_000_000_000, 10, b'S', b'T'), (T1, 1, 0, 0, b'B', b'Q')]))


# --- the real sample ---

def read_sample(path: pathlib.Path) -> list[bytes]:
    """NASDAQ binary file whose 2-byte length prefixes are all 0: the type gives the length."""
    data = path.read_bytes()
    messages, pos = [], 0
    while pos < len(data):
        start = pos + 2
        length = MESSAGE_LENGTHS[data[start:start + 1]]
        messages.append(data[start:start + length])
        pos = start + length
    return messages


def test_shared_sample_normalizes():
    messages = read_sample(SAMPLE)
    assert len(messages) == 12_012
    model = ReferenceNormalizer(SESSION)
    ticks = ticks_to_array([t for msg in messages for t in model.apply(msg)])
    assert model.counters['messages_by_type'] == {
        'P': 5000, 'A': 4997, 'D': 1745, 'E': 198, 'X': 45, 'U': 12, 'S': 6, 'R': 3, 'H': 3, 'F': 3}
    assert model.counters['orphan_refs'] > 0
    assert model.counters['bad_length'] == model.counters['unknown_type'] == 0
    assert (ticks['type'] == b'R').sum() == 3 and (ticks['type'] == b'S').sum() == 6
    assert (ticks['ts_ns'] >= MIDNIGHT).all() and (ticks['ts_ns'] < MIDNIGHT + 86_400 * 10**9).all()
