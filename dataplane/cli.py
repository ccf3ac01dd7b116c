"""The `colo` command."""
from __future__ import annotations

import argparse
import datetime
import sys

from dataplane.config import ConfigError, example_config_text, load_config
from dataplane import order_commands
from multicast import cli as subscriber_cli


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def cmd_run(args) -> int:
    from dataplane.appliance import Appliance
    from dataplane.metrics import serve
    from dataplane.runner import run

    config = load_config(args.config)
    appliance = Appliance(config)
    serve(appliance, config.metrics.prometheus_port)
    run(appliance)
    return 0


def cmd_normalize(args) -> int:
    from dataplane.normalize import normalize

    out = args.output or str(args.input) + ".ticks.pcap"
    final = normalize(args.input, out, args.date, args.tz, args.group, args.port)
    print(f"ticks written to {out}")
    return 0 if final is not None else 1


def cmd_synth(args) -> int:
    from feedhandlers.itch50 import write_itch_file
    from feedhandlers.synth import synthesize

    n = write_itch_file(args.output, synthesize(args.seed, args.symbols, args.messages))
    print(f"{n} ITCH 5.0 messages written to {args.output}")
    return 0


def cmd_config_example(args) -> int:
    sys.stdout.write(example_config_text())
    return 0


def cmd_status(args) -> int:
    from dataplane.telemetry import status

    return status(args.file_prefix, args.json)


def cmd_demo(args) -> int:
    from dataplane.demo import demo

    return demo(seed=args.seed, symbols=args.symbols, messages=args.messages)


def cmd_host(args) -> int:
    """doctor, plan, apply, revert: host preparation, in hwconfig."""
    from hwconfig import commands

    return getattr(commands, args.command)(args)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="colo", description="Colo market-data appliance")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("run", help="run the appliance until stopped")
    s.add_argument("config")
    s.set_defaults(func=cmd_run)

    s = sub.add_parser("normalize", help="ITCH pcap or NASDAQ ITCH file -> pcap of ticks")
    s.add_argument("input")
    s.add_argument("-o", "--output", help="output pcap (default INPUT.ticks.pcap)")
    s.add_argument("--date", type=_date, default=datetime.date.today(),
                   help="session date YYYY-MM-DD (default today)")
    s.add_argument("--tz", type=subscriber_cli.time_zone, default="America/New_York",
                   help="feed time zone")
    s.add_argument("--group", type=subscriber_cli.multicast_group,
                   help="only this destination multicast group")
    s.add_argument("--port", type=subscriber_cli.udp_port, help="only this destination UDP port")
    s.set_defaults(func=cmd_normalize)

    s = sub.add_parser("synth", help="write a synthetic ITCH 5.0 session")
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--symbols", type=int, default=8)
    s.add_argument("--messages", type=int, default=100_000)
    s.add_argument("-o", "--output", required=True)
    s.set_defaults(func=cmd_synth)

    s = sub.add_parser("config", help="configuration helpers")
    config_sub = s.add_subparsers(dest="config_command", required=True)
    e = config_sub.add_parser("example", help="print a complete, commented example config")
    e.set_defaults(func=cmd_config_example)

    s = sub.add_parser("subscribe", help="receive and print ticks")
    subscriber_cli.add_arguments(s)
    s.set_defaults(func=subscriber_cli.run)

    s = sub.add_parser("status", help="live counters of a running appliance (telemetry)")
    s.add_argument("--file-prefix", default="colo", help="the appliance's eal.file_prefix")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_status)

    order_commands.add_commands(sub)

    s = sub.add_parser("demo", help="synthetic feed -> data plane -> subscriber")
    s.add_argument("--seed", type=int, default=7)
    s.add_argument("--symbols", type=int, default=8)
    s.add_argument("--messages", type=int, default=200_000)
    s.set_defaults(func=cmd_demo)

    s = sub.add_parser("doctor", help="preflight checks of this host, judged against a config")
    s.add_argument("--config", help="the config to judge against (default: an eal section left out)")
    s.add_argument("--json", action="store_true", help="findings as JSON")
    s = sub.add_parser("plan", help="where the config's data plane runs on this host")
    s.add_argument("config")
    s.add_argument("--json", action="store_true", help="the plan as JSON")
    s = sub.add_parser("apply", help="prepare this host for the config (root); colo revert undoes it")
    s.add_argument("config")
    s.add_argument("--dry-run", action="store_true", help="print every write, make none")
    sub.add_parser("revert", help="undo what colo apply changed (root)")
    for name in ("doctor", "plan", "apply", "revert"):
        s = sub.choices[name]
        s.add_argument("--root", default="/", help="the host's files under this directory, e.g. a tree "
                       "captured by `python -m hwconfig.capture` (default /)")
        if name != "revert":
            s.add_argument("--page-size", choices=["2M", "1G"], default="2M",
                           help="hugepage size to plan and reserve (default 2M)")
        if name in ("apply", "revert"):
            s.add_argument("--state", help="state file (default ROOT/var/lib/colo/apply-state.json)")
        s.set_defaults(func=cmd_host)
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as e:
        print(f"colo: {e}", file=sys.stderr)
        return 2
    except (OSError, ValueError, RuntimeError) as e:
        print(f"colo {args.command}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
