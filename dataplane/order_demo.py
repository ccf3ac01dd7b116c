"""The demo's order-entry clients: two sessions trade the appliance's own
book over OUCH/UDP (docs/order-entry.md). One makes a market around a mid
price that drifts; the other takes liquidity with IOC orders and now and
then replaces or cancels. Prints a sample of responses and a summary.

    python -m dataplane.order_demo --server 10.97.0.1:30001 --seconds 5
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter

from dataplane.order_client import OrderClient
from feedhandlers.ouch50 import CANCEL_REASONS, PRICE_SCALE, REJECT_REASONS

CENT = PRICE_SCALE // 100


def describe(session: str, r: dict) -> str:
    kind = r['type']
    if kind == 'A':
        return (f"{session} accepted  #{r['user_ref_num']} {r['side']} {r['quantity']} "
                f"{r['symbol'].strip()} @ {r['price'] / PRICE_SCALE:.2f}")
    if kind == 'E':
        role = 'maker' if r['liquidity_flag'] == 'A' else 'taker'
        return (f"{session} executed  #{r['user_ref_num']} {r['quantity']} @ "
                f"{r['price'] / PRICE_SCALE:.2f} ({role}, match {r['match_number']})")
    if kind == 'C':
        return (f"{session} canceled  #{r['user_ref_num']} {r['quantity']} "
                f"({CANCEL_REASONS.get(r['reason'], r['reason'])})")
    if kind == 'U':
        return (f"{session} replaced  #{r['orig_user_ref_num']} -> #{r['user_ref_num']} "
                f"{r['quantity']} @ {r['price'] / PRICE_SCALE:.2f}")
    if kind == 'J':
        return (f"{session} rejected  #{r['user_ref_num']} "
                f"({REJECT_REASONS.get(r['reason'], r['reason'])})")
    return f"{session} {r}"


def trade(server, symbol: str, mid: int, seconds: float, seed: int, sample: int) -> int:
    rng = random.Random(seed)
    maker = OrderClient(server, 'ALPHA1', 'secret')
    taker = OrderClient(server, 'BETA1', 'secret')
    counts = {'alpha1': Counter(), 'beta1': Counter()}
    shown = 0

    open_qty = {}  # the maker's open orders: UserRefNum -> shares

    def drain(client, name, timeout=0.02):
        nonlocal shown
        for r in client.receive(timeout=timeout):
            counts[name][r['type']] += 1
            if client is maker:
                track(r)
            if shown < sample:
                print(describe(name, r))
                shown += 1

    def track(r):
        ref = r['user_ref_num']
        if r['type'] == 'A':
            open_qty[ref] = r['quantity']
        elif r['type'] == 'U':
            open_qty.pop(r['orig_user_ref_num'], None)
            open_qty[ref] = r['quantity']
        elif r['type'] in 'EC' and ref in open_qty:
            open_qty[ref] -= r['quantity']
            if open_qty[ref] <= 0:
                del open_qty[ref]

    with maker, taker:
        maker.login()
        taker.login()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            mid += rng.choice((-1, 0, 1)) * CENT
            for side, offset in (('B', -CENT), ('S', CENT)):
                maker.enter(side, rng.randrange(1, 5) * 100, symbol,
                            mid + offset * rng.randrange(1, 4))
            side = rng.choice('BS')
            taker.enter(side, rng.randrange(1, 4) * 100, symbol,
                        mid + (3 * CENT if side == 'B' else -3 * CENT), time_in_force='3')
            if len(open_qty) > 20:  # keep the book a few levels deep: the oldest goes
                ref = min(open_qty)
                if rng.random() < 0.5:
                    maker.cancel(ref)
                else:
                    maker.replace(ref, 100, mid + rng.choice((-2, 2)) * CENT)
                del open_qty[ref]
            drain(maker, 'alpha1')
            drain(taker, 'beta1')
        maker.mass_cancel(symbol)
        drain(maker, 'alpha1', timeout=0.5)
        drain(taker, 'beta1', timeout=0.2)
        for name, client in (('alpha1', maker), ('beta1', taker)):
            c = counts[name]
            print(f"{name}: accepted {c['A']}, executed {c['E']}, canceled {c['C']}, "
                  f"replaced {c['U']}, rejected {c['J']}; gaps {client.gaps}")
            client.logout()
    return 0 if counts['alpha1']['E'] and counts['beta1']['E'] else 1


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--server', default='10.97.0.1:30001', help='gateway HOST:PORT')
    ap.add_argument('--symbol', default='COLOA')
    ap.add_argument('--mid', type=float, default=100.0, help='starting mid price, dollars')
    ap.add_argument('--seconds', type=float, default=5.0)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--sample', type=int, default=12, help='responses to print')
    ap.add_argument('--delay', type=float, default=0.0, help='seconds to wait first')
    args = ap.parse_args(argv)
    time.sleep(args.delay)
    host, port = args.server.rsplit(':', 1)
    return trade((host, int(port)), args.symbol, round(args.mid * PRICE_SCALE), args.seconds,
                 args.seed, args.sample)


if __name__ == '__main__':
    sys.exit(main())
