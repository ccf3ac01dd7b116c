"""The operator's order-path commands against a running appliance, over its
telemetry socket: `colo book`, `colo risk show`, `colo kill`, `colo risk
set`, `colo eod`; and `colo order`, a one-shot OUCH client for manual use. Names (symbols, accounts,
sessions) are looked up in the appliance's config."""
from __future__ import annotations

import json
import os
import signal
import time

from dataplane.config import load_config
from dataplane.telemetry import appliance_pid, query
from feedhandlers.ouch50 import MARKET_PRICE, PRICE_SCALE

SCOPES = {"all": 0, "session": 1, "account": 2}  # enum risk_scope


def _index(entries, name: str, what: str, key: str = "name") -> int:
    for i, entry in enumerate(entries):
        if getattr(entry, key) == name:
            return i
    known = ", ".join(getattr(e, key) for e in entries) or "none"
    raise ValueError(f"no {what} {name!r} in the config (known: {known})")


def _ask(config, command: str, *fields: str) -> dict:
    """The appliance's answer, which must hold fields: one without them comes
    from an appliance that is not this version (or is stopping)."""
    answer = query(config.eal.file_prefix, command)
    if "error" in answer:
        raise RuntimeError(f"{command}: {answer['error']}")
    missing = [field for field in fields if field not in answer]
    if missing:
        raise RuntimeError(f"{command}: the appliance answered without {', '.join(missing)}; "
                           "is it another version of colo, or stopping?")
    return answer


def _dollars(price: int) -> str:
    return f"{price / PRICE_SCALE:.4f}".rstrip("0").rstrip(".")


def book(args) -> int:
    config = load_config(args.config)
    depth = _ask(config, f"/colo/book,{_index(config.instruments, args.symbol, 'instrument', 'symbol')}",
                 "bids", "asks")
    levels = {side: list(zip(*[iter(depth[side])] * 3)) for side in ("bids", "asks")}
    if args.json:
        print(json.dumps(levels))
        return 0
    print(f"{args.symbol}: {'bids':>28} | asks")
    for i in range(max(len(levels["bids"]), len(levels["asks"]), 1)):
        cells = []
        for side in ("bids", "asks"):
            row = levels[side][i] if i < len(levels[side]) else None
            cells.append(f"{row[1]:>9} @ {_dollars(row[0]):>10} ({row[2]:>3})" if row else " " * 28)
        print(f"{'':{len(args.symbol) + 2}}{cells[0]} | {cells[1]}")
    return 0


def risk_show(args) -> int:
    config = load_config(args.config)
    command = f"/colo/risk,{_index(config.accounts, args.account, 'account')}"
    if args.symbol:
        command += f",{_index(config.instruments, args.symbol, 'instrument', 'symbol')}"
    money = ("open_buy_notional", "net_bought")
    state = _ask(config, command, *money)
    for key in money:
        state[key] = _dollars(int(state[key]))
    print(json.dumps(state) if args.json else
          "\n".join(f"{k:18s} {v}" for k, v in state.items()))
    return 0


def risk_set(args) -> int:
    """The appliance re-reads its config file on SIGHUP and swaps the limits in
    whole; the file is checked here first, so a typo never reaches it."""
    config = load_config(args.config)
    before = _ask(config, "/colo/orders", "limit_swaps")["limit_swaps"]
    os.kill(appliance_pid(config.eal.file_prefix), signal.SIGHUP)
    deadline = time.monotonic() + 5
    while _ask(config, "/colo/orders", "limit_swaps")["limit_swaps"] == before:
        if time.monotonic() > deadline:
            raise RuntimeError("the appliance did not take the limits: see its output "
                               "(the accounts, sessions and instruments must be those running)")
        time.sleep(0.05)
    print(f"risk limits from {args.config} in force")
    return 0


def kill(args) -> int:
    config = load_config(args.config)
    entries = {"session": config.sessions, "account": config.accounts}.get(args.scope)
    if (entries is None) != (args.name is None):
        raise ValueError("colo kill all takes no name; session and account need one")
    index = 0 if entries is None else _index(entries, args.name, args.scope)
    answer = _ask(config, f"/colo/kill,{SCOPES[args.scope]},{index},{0 if args.off else 1}",
                  "cancelled")
    what = args.scope + (f" {args.name}" if args.name else "")
    print(f"kill switch {'off' if args.off else 'on'} for {what}"
          + ("" if args.off else f": {answer['cancelled']} open orders cancelled"))
    return 0


def eod(args) -> int:
    config = load_config(args.config)
    answer = _ask(config, "/colo/eod", "cancelled")
    print(f"end of day: {answer['cancelled']} DAY orders cancelled, sessions told (System Event E); "
          "the tick stream ends once the feed has too")
    return 0


def order(args) -> int:
    from dataplane.order_client import OrderClient
    from dataplane.order_demo import describe

    host, port = args.server.rsplit(":", 1)
    with OrderClient((host, int(port)), args.user, args.password,
                     first_user_ref_num=args.ref) as client:
        client.login()
        if args.action == "enter":
            price = MARKET_PRICE if args.price == "market" else round(float(args.price) * PRICE_SCALE)
            client.enter(args.side, args.quantity, args.symbol, price, time_in_force=args.tif)
        elif args.action == "cancel":
            client.cancel(args.order, args.quantity or 0)
        else:
            client.mass_cancel(args.symbol or "")
        for response in client.receive(timeout=args.wait):
            print(describe(client.session, response))
        client.logout()
    return 0


def add_commands(sub):
    s = sub.add_parser("book", help="live depth of one of the order path's books")
    s.add_argument("config")
    s.add_argument("symbol")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=book)

    s = sub.add_parser("risk", help="an account's pre-trade risk state")
    risk_sub = s.add_subparsers(dest="risk_command", required=True)
    show = risk_sub.add_parser("show", help="open orders, reservations, position")
    show.add_argument("config")
    show.add_argument("account")
    show.add_argument("--symbol", help="also the account's position in this instrument")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=risk_show)
    put = risk_sub.add_parser("set", help="put the limits in CONFIG (edited) in force, whole, "
                              "in the appliance running it")
    put.add_argument("config")
    put.set_defaults(func=risk_set)

    s = sub.add_parser("kill", help="kill switch: refuse new orders, cancel open ones")
    s.add_argument("config")
    s.add_argument("scope", choices=list(SCOPES))
    s.add_argument("name", nargs="?", help="the session or account (not for all)")
    s.add_argument("--off", action="store_true", help="switch it off again")
    s.set_defaults(func=kill)

    s = sub.add_parser("eod", help="end of day: cancel resting DAY orders, tell every session")
    s.add_argument("config")
    s.set_defaults(func=eod)

    s = sub.add_parser("order", help="send one order message over OUCH/UDP and print the answers")
    s.add_argument("--server", default="10.97.0.1:30001", help="gateway HOST:PORT")
    s.add_argument("--user", required=True)
    s.add_argument("--password", required=True)
    s.add_argument("--ref", type=int, default=1, help="first UserRefNum (above any used today)")
    s.add_argument("--wait", type=float, default=1.0, help="seconds to wait for answers")
    actions = s.add_subparsers(dest="action", required=True)
    e = actions.add_parser("enter")
    e.add_argument("side", choices=list("BSTE"))
    e.add_argument("quantity", type=int)
    e.add_argument("symbol")
    e.add_argument("price", help="dollars, or market")
    e.add_argument("--tif", default="0", help="0 day, 1 GTC, 3 IOC, 4 FOK")
    c = actions.add_parser("cancel")
    c.add_argument("order", type=int, help="the order's UserRefNum")
    c.add_argument("quantity", type=int, nargs="?", help="shares to leave open (default 0)")
    m = actions.add_parser("mass-cancel")
    m.add_argument("symbol", nargs="?")
    s.set_defaults(func=order)
