"""The order path's limits as the operator writes them in the config, put in
force in the risk checks: each limit rejects what it should, with its reason."""
from pathlib import Path

import pytest

from dataplane.config import load_config
from dataplane.order_config import risk_limits
from dataplane.risk import BUY, SELL, Risk
from test_config import ORDER_PATH

AAPL, BRK = 0, 1            # instruments, by their place in the config
ALPHA, BETA = 0, 1          # accounts
S1 = 0                      # sessions
PRICE = 1_902_500           # $190.25, AAPL's reference price


@pytest.fixture
def risk(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path('colo.yaml').write_text(ORDER_PATH)
    return Risk(risk_limits(load_config('colo.yaml')))


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


def test_configured_notional_and_credit(risk):
    # max_order_notional $250,000.50: 1,300 shares at $190.25 is $247,325; 1,400 is over.
    assert risk.order(1, ALPHA, S1, AAPL, BUY, PRICE, 1300) == 'ok'
    assert risk.order(2, ALPHA, S1, AAPL, BUY, PRICE, 1400) == 'max_notional'
