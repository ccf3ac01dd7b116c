"""The order path's limits from the config: instruments, accounts and
sessions become a risk limits record (dataplane.risk), each known by its
position in its config list. Prices are in $0.0001 units throughout."""
from __future__ import annotations

from dataplane.risk import Limits

NS_PER_SECOND = 1_000_000_000


def risk_limits(config) -> Limits:
    instruments, accounts, sessions = config.instruments, config.accounts, config.sessions
    limits = Limits(max(1, len(accounts)), max(1, len(sessions)), max(1, len(instruments)))
    for i, inst in enumerate(instruments):
        limits.instrument(i, tick_size=inst.tick_size, lot_size=inst.lot_size,
                          ref_price=inst.reference_price or 0,
                          ref_last_trade=int(inst.reference_price is None),
                          collar_bp=inst.collar_percent or 0, collar_ticks=inst.collar_ticks or 0)
    for a, account in enumerate(accounts):
        limits.account(a, short_sell=int(account.short_selling), **_given(
            credit_limit=account.credit_limit, max_order_qty=account.max_order_qty,
            max_order_notional=account.max_order_notional,
            max_open_orders=account.max_open_orders))
        for i, inst in enumerate(instruments):
            limits.position(a, i, restricted=int(inst.restricted), **_given(
                max_long=account.max_long, max_short=account.max_short))
    for s, session in enumerate(sessions):
        limits.session(s, cancel_on_disconnect=int(session.cancel_on_disconnect),
                       **_throttle("msg", session.max_messages_per_second, session.burst),
                       **_throttle("order", session.max_orders_per_second, session.burst))
    return limits


def _given(**fields) -> dict:
    """The limits the config sets; the record's defaults allow the rest."""
    return {name: value for name, value in fields.items() if value is not None}


def _throttle(kind: str, per_second: int | None, burst: int) -> dict:
    if per_second is None:
        return {}
    return {f"{kind}_interval_ns": NS_PER_SECOND // per_second, f"{kind}_burst": burst}
