"""The order path as the operator writes it in the config: order_entry and the
rules that tie it to its stages, and the limits put in force in the risk checks:
each limit rejects what it should, with its reason."""
from pathlib import Path

import pytest

from dataplane import config
from dataplane.config import ConfigError, OrderEntryConfig, load_config
from dataplane.order_config import risk_limits
from dataplane.risk import BUY, SELL, Risk
from test_config import MINIMAL, ORDER_PATH, load

AAPL, BRK = 0, 1            # instruments, by their place in the config
ALPHA, BETA = 0, 1          # accounts
S1 = 0                      # sessions
PRICE = 1_902_500           # $190.25, AAPL's reference price


def risk_of(tmp_path, monkeypatch, text) -> Risk:
    """The risk checks with the limits of config text in force."""
    return Risk(risk_limits(load(tmp_path, monkeypatch, text)))


@pytest.fixture
def risk(tmp_path, monkeypatch):
    return risk_of(tmp_path, monkeypatch, ORDER_PATH)


@pytest.mark.parametrize('order, verdict', [
    ((ALPHA, AAPL, BUY, PRICE, 100), 'ok'),
    ((ALPHA, AAPL, BUY, PRICE, 150), 'lot_size'),                # lots of 100
    ((ALPHA, AAPL, BUY, PRICE + 50, 100), 'tick_size'),          # $0.005 off the cent
    ((ALPHA, AAPL, BUY, PRICE, 10_100), 'max_qty'),
    ((ALPHA, AAPL, BUY, 2_100_000, 100), 'price_collar'),        # $210 is 10% over
    ((ALPHA, AAPL, SELL, PRICE, 100), 'short_sell'),             # alpha holds none
    ((BETA, AAPL, SELL, PRICE, 100), 'ok'),                      # beta may sell short
    ((ALPHA, BRK, BUY, 4_000_000_000, 1), 'restricted'),
])
def test_configured_limits_judge_orders(risk, order, verdict):
    account, instrument, side, price, qty = order
    assert risk.order(1, account, S1, instrument, side, price, qty) == verdict


def test_configured_max_order_notional(risk):
    # max_order_notional $250,000.50: 1,300 shares at $190.25 is $247,325; 1,400 is over.
    assert risk.order(1, ALPHA, S1, AAPL, BUY, PRICE, 1300) == 'ok'
    assert risk.order(2, ALPHA, S1, AAPL, BUY, PRICE, 1400) == 'max_notional'


def test_configured_credit_limit(tmp_path, monkeypatch):
    # $300,000 of credit: 1,300 at $190.25 ($247,325) leaves $52,675, room for 200 more, not 300.
    r = risk_of(tmp_path, monkeypatch, ORDER_PATH.replace('credit_limit: 5000000', 'credit_limit: 300000'))
    assert r.order(1, ALPHA, S1, AAPL, BUY, PRICE, 1300) == 'ok'
    assert r.order(2, ALPHA, S1, AAPL, BUY, PRICE, 300) == 'credit'
    assert r.order(2, ALPHA, S1, AAPL, BUY, PRICE, 200) == 'ok'


def test_configured_max_open_orders(tmp_path, monkeypatch):
    r = risk_of(tmp_path, monkeypatch, ORDER_PATH.replace('max_open_orders: 500', 'max_open_orders: 3'))
    assert [r.order(id, ALPHA, S1, AAPL, BUY, PRICE, 100) for id in range(1, 5)] == [
        'ok', 'ok', 'ok', 'max_open_orders']


def test_configured_max_long(risk):
    # max_long 20,000 shares: open buys count before they fill.
    assert [risk.order(id, ALPHA, S1, AAPL, BUY, PRICE, 1000) for id in range(1, 21)] == ['ok'] * 20
    assert risk.order(21, ALPHA, S1, AAPL, BUY, PRICE, 100) == 'position_limit'


def test_configured_throttles_allow_a_burst_then_the_configured_rate(risk):
    """s1: 20,000 messages/s (one per 50 us) and 5,000 orders/s (one per 200 us),
    burst 100 (the default)."""
    start = 10**9
    assert [risk.order(id, ALPHA, S1, AAPL, BUY, PRICE, 100, start)
            for id in range(1, 101)] == ['ok'] * 100
    assert risk.order(101, ALPHA, S1, AAPL, BUY, PRICE, 100, start) == 'message_rate'
    assert risk.order(101, ALPHA, S1, AAPL, BUY, PRICE, 100, start + 199_999) == 'order_rate'
    assert risk.order(101, ALPHA, S1, AAPL, BUY, PRICE, 100, start + 200_000) == 'ok'


@pytest.mark.parametrize('setting, cancelled', [('', [1]), (', cancel_on_disconnect: false', [])],
                         ids=['default', 'off'])
def test_configured_cancel_on_disconnect(tmp_path, monkeypatch, setting, cancelled):
    text = ORDER_PATH.replace('max_orders_per_second: 5000', 'max_orders_per_second: 5000' + setting)
    r = risk_of(tmp_path, monkeypatch, text)
    assert r.order(1, ALPHA, S1, AAPL, BUY, PRICE, 100) == 'ok'
    assert r.disconnect(S1) == cancelled


def test_configured_collar_in_ticks_around_the_last_trade(tmp_path, monkeypatch):
    # BRK.A: tick $1, collar 50 ticks, no reference price: the last trade is the reference.
    r = risk_of(tmp_path, monkeypatch, ORDER_PATH.replace('restricted: true', 'restricted: false'))
    last_trade = 40_000_000  # $4,000
    r.trade(BRK, last_trade)
    assert [r.order(id, ALPHA, S1, BRK, BUY, last_trade + ticks * 10_000, 1)
            for id, ticks in enumerate([50, 51, -50, -51], start=1)] == [
        'ok', 'price_collar', 'ok', 'price_collar']


# The gateway's port of its own (line 16): the md stage's ports are not shared.
ORDERS_PORT = '  orders: {device: net_null1, ip: 10.0.2.5}\n'


def with_orders_port(text: str) -> str:
    return text.replace('ports:\n', 'ports:\n' + ORDERS_PORT, 1)


# A whole order path: ORDER_PATH's lists, its three stages running, and order_entry
# on lines 21-23.
ORDER_ENTRY = with_orders_port(ORDER_PATH.replace(
    'stages: {md: 1}', 'stages: {md: 1, gateway: 1, risk: 1, matching: 1}')) + """\
order_entry:
  port: orders
  udp_port: 30001
"""


def bad(tmp_path, monkeypatch, text) -> str:
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, monkeypatch, text)
    return str(raised.value)


def test_order_entry_defaults(tmp_path, monkeypatch):
    assert load(tmp_path, monkeypatch, ORDER_ENTRY).order_entry == OrderEntryConfig(
        port='orders', udp_port=30001, heartbeat_s=1, timeout_s=3, max_orders=65536, history=65536)


def test_order_entry_given_in_full(tmp_path, monkeypatch):
    text = ORDER_ENTRY + '  heartbeat_s: 10\n  timeout_s: 30\n  max_orders: 16777216\n  history: 1024\n'
    assert load(tmp_path, monkeypatch, text).order_entry == OrderEntryConfig(
        port='orders', udp_port=30001, heartbeat_s=10, timeout_s=30, max_orders=2**24, history=1024)


def test_no_order_entry_no_order_path(tmp_path, monkeypatch):
    # a stage left empty does not run, so needs no order_entry either
    text = ORDER_PATH.replace('{md: 1}', '{md: 1, gateway: ~}') + 'order_entry:\n'
    assert load(tmp_path, monkeypatch, text).order_entry is None


@pytest.mark.parametrize('change, message', [
    (('  port: orders', '  port: feed_a'),
     "colo.yaml:22: order_entry.port: expected a port with an ip (the source address), got 'feed_a'"),
    (('  port: orders', '  port: nope'),
     "colo.yaml:22: order_entry.port: expected one of the ports ['orders', 'feed_a', 'md_out'], got 'nope'"),
    (('  port: orders', '  port: md_out'),
     "colo.yaml:22: order_entry.port: expected a port with an ip that the feeds and outputs do not "
     "use (feed_a, md_out), got 'md_out'"),
    (('  udp_port: 30001\n', ''),
     'colo.yaml:22: order_entry.udp_port: missing (expected an integer from 1 to 65535)'),
    (('udp_port: 30001', 'udp_port: 65536'),
     'colo.yaml:23: order_entry.udp_port: expected an integer from 1 to 65535, got 65536'),
    (('udp_port: 30001', 'udp_port: 30001\n  heartbeat_s: 0'),
     'colo.yaml:24: order_entry.heartbeat_s: expected an integer from 1 to 60, got 0'),
    (('udp_port: 30001', 'udp_port: 30001\n  heartbeat_s: 1.5'),
     'colo.yaml:24: order_entry.heartbeat_s: expected an integer from 1 to 60, got 1.5'),
    (('udp_port: 30001', 'udp_port: 30001\n  timeout_s: 3601'),
     'colo.yaml:24: order_entry.timeout_s: expected an integer from 1 to 3600, got 3601'),
    (('udp_port: 30001', 'udp_port: 30001\n  heartbeat_s: 2\n  timeout_s: 2'),
     'colo.yaml:25: order_entry.timeout_s: expected more than heartbeat_s 2, got 2'),
    (('udp_port: 30001', 'udp_port: 30001\n  timeout_s: 1'),  # heartbeat_s left at 1
     'colo.yaml:24: order_entry.timeout_s: expected more than heartbeat_s 1, got 1'),
    (('udp_port: 30001', 'udp_port: 30001\n  heartbeat_s: 5'),  # timeout_s left at 3: reported at the section
     'colo.yaml:22: order_entry.timeout_s: expected more than heartbeat_s 5, got 3'),
    (('udp_port: 30001', 'udp_port: 30001\n  max_orders: 1023'),
     'colo.yaml:24: order_entry.max_orders: expected an integer from 1024 to 16777216, got 1023'),
    (('udp_port: 30001', 'udp_port: 30001\n  history: 1000000'),
     'colo.yaml:24: order_entry.history: expected a power of two from 1024 to 1048576, got 1000000'),
    (('udp_port: 30001', 'udp_port: 30001\n  history: 2097152'),
     'colo.yaml:24: order_entry.history: expected a power of two from 1024 to 1048576, got 2097152'),
    (('udp_port: 30001', 'udp_port: 30001\n  heartbeat: 1'),
     'colo.yaml:24: order_entry.heartbeat: unknown field (expected one of: port, udp_port, heartbeat_s, '
     'timeout_s, max_orders, history)'),
])
def test_order_entry_errors(tmp_path, monkeypatch, change, message):
    assert bad(tmp_path, monkeypatch, ORDER_ENTRY.replace(*change)) == message


def test_limits_up_to_what_the_risk_checks_take_are_put_in_force(tmp_path, monkeypatch):
    text = (ORDER_PATH.replace('credit_limit: 5000000', 'credit_limit: 461168601842738')
            .replace('tick_size: 1,', 'tick_size: 429496.7296,'))
    cfg = load(tmp_path, monkeypatch, text)
    assert (cfg.accounts[0].credit_limit, cfg.instruments[1].tick_size) == (4_611_686_018_427_380_000, 2**32)
    Risk(risk_limits(cfg))


def test_amounts_are_read_to_the_last_decimal(tmp_path, monkeypatch):
    """17 significant digits: a YAML float would round the last ones away."""
    text = ORDER_PATH.replace('credit_limit: 5000000', 'credit_limit: 9876543210123.4567')
    assert load(tmp_path, monkeypatch, text).accounts[0].credit_limit == 98_765_432_101_234_567


@pytest.mark.parametrize('stages, message', [
    ('{md: 1, gateway: 1, matching: 1}',
     'colo.yaml:21: order_entry: needs stages.gateway, stages.risk and stages.matching (missing: risk)'),
    ('{md: 1, risk: ~}',
     'colo.yaml:21: order_entry: needs stages.gateway, stages.risk and stages.matching '
     '(missing: gateway, risk, matching)'),
])
def test_order_entry_needs_its_stages(tmp_path, monkeypatch, stages, message):
    text = ORDER_ENTRY.replace('{md: 1, gateway: 1, risk: 1, matching: 1}', stages)
    assert bad(tmp_path, monkeypatch, text) == message


@pytest.mark.parametrize('text, message', [
    (ORDER_PATH.replace('{md: 1}', '{md: 1, gateway: 1, risk: 1, matching: 1}'),
     'colo.yaml:9: stages.gateway: needs an order_entry section'),
    (ORDER_PATH.replace('stages: {md: 1}', 'stages:\n  md: 1\n  matching: 1'),
     'colo.yaml:11: stages.matching: needs an order_entry section'),
    (ORDER_ENTRY.replace('order_entry:\n  port: orders\n  udp_port: 30001\n', 'order_entry:\n'),
     'colo.yaml:10: stages.gateway: needs an order_entry section'),  # left empty: no order path
])
def test_order_stages_need_order_entry(tmp_path, monkeypatch, text, message):
    assert bad(tmp_path, monkeypatch, text) == message


def test_order_entry_needs_something_to_trade(tmp_path, monkeypatch):
    stages = with_orders_port(MINIMAL.replace('{md: 1}', '{md: 1, gateway: 1, risk: 1, matching: 1}'))
    order_entry = 'order_entry: {port: orders, udp_port: 30001}\n'
    assert bad(tmp_path, monkeypatch, stages + order_entry) == (
        'colo.yaml:11: order_entry: needs instruments, accounts and sessions '
        '(empty: instruments, accounts, sessions)')
    lists = 'instruments: [{symbol: AAPL, id: 1}]\naccounts: [{name: alpha}]\nsessions: []\n'
    assert bad(tmp_path, monkeypatch, stages + lists + order_entry) == (
        'colo.yaml:14: order_entry: needs instruments, accounts and sessions (empty: sessions)')


def test_example_runs_the_order_path_of_the_demo():
    example = load_config(Path(config.__file__).with_name('example_config.yaml'))
    assert example.order_entry == OrderEntryConfig(port='orders', udp_port=30001)
    assert (example.stages.gateway, example.stages.risk, example.stages.matching) == (1, 1, 1)
    assert [s.account for s in example.sessions] == ['alpha', 'beta']
    assert example.ports['orders'].ip == '10.97.0.1'


def test_order_path_bench_config_is_valid():
    """`make bench` runs the order path from its own config: a rule added to
    the config must not leave the benchmark unable to start."""
    from benchmarks.order_path_bench import CONFIG
    cfg = config.parse_config(CONFIG)
    assert cfg.order_entry.port == 'orders'
    assert cfg.order_entry.port not in {line.port for feed in cfg.feeds
                                        for line in feed.lines.values()}


def test_more_instruments_than_symbol_slots_is_a_config_error(tmp_path, monkeypatch):
    """Found at start, it stopped `colo run` after EAL was up; the config says it now."""
    instruments = ''.join(f'  - {{symbol: S{i}, id: {i + 1}}}\n' for i in range(17))
    text = MINIMAL + 'book: {max_symbols: 16}\ninstruments:\n' + instruments
    assert bad(tmp_path, monkeypatch, text) == \
        'colo.yaml:12: instruments: expected at most book.max_symbols (16) instruments, got 17'

