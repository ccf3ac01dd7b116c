"""`colo subscribe`: print ticks as they arrive, or rates and gaps."""
from __future__ import annotations

import argparse
import contextlib
import ipaddress
import signal
import sys
import time
from zoneinfo import ZoneInfo

import numpy as np

from multicast.subscriber import Subscriber
from multicast.ticks import TICK_DTYPE, format_tick


ANSWER_WAIT_S = 2.0  # after the end of session, for re-requested ticks still missing


def _summary(sub: Subscriber, elapsed: float) -> str:
    recovered = f", {sub.recovered} recovered" if sub.rerequest else ""
    return (f"{sub.ticks} ticks in {sub.packets} packets over {elapsed:.1f} s; "
            f"gaps {sub.gaps} ({sub.missing} ticks missing{recovered}), duplicates {sub.duplicates}, "
            f"bad packets {sub.bad_packets}, other session {sub.other_session}; "
            f"{len(sub.symbols)} symbols"
            + ("; end of session" if sub.end_of_session else ""))


def subscribe(group: str, port: int, iface: str | None = None, stats: bool = False,
              count: int | None = None, timeout: float | None = None,
              sample: int | None = None, save: str | None = None, tz: str = "UTC",
              rerequest: tuple[str, int] | None = None, out=sys.stdout) -> int:
    """Runs until end of session, `count` ticks, `timeout` seconds without ticks or
    SIGINT/SIGTERM. sample: print only the first N ticks. save: every tick
    received, as a .npy of TICK_DTYPE. rerequest: the appliance's re-request
    address; what a gap loses is asked for there, and awaited for ANSWER_WAIT_S
    past the end of session. Exit status 0 when the session ended or `count`
    ticks came with nothing missing (or all of it recovered), or when stopped by
    the user; 1 otherwise, or when the stream went quiet (`timeout`) before its end."""
    stopping = []
    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, lambda *_: stopping.append(1))
    kept, printed, taken = [], 0, 0
    zone = ZoneInfo(tz)
    # Opened before joining: a path that cannot be written fails now, not
    # after a whole session has been received.
    with _opened_for_writing(save) as saved, \
            Subscriber(group, port, iface=iface, rerequest=rerequest, timeout=0.2) as sub:
        start = last = time.monotonic()
        last_ticks = idle_since = ended_at = 0
        timed_out = False
        while not stopping and not sub.complete and (count is None or taken < count):
            packet = sub.recv()
            now = time.monotonic()
            if packet is not None and len(packet.ticks) > 0:
                idle_since = 0
                ticks = packet.ticks if count is None else packet.ticks[:count - taken]
                taken += len(ticks)
                if save:
                    kept.append((packet.seq, ticks.astype(TICK_DTYPE)))
                if not stats:
                    room = len(ticks) if sample is None else max(0, sample - printed)
                    for tick in ticks[:room]:
                        print(format_tick(tick, sub.symbols, zone), file=out)
                    printed += min(room, len(ticks))
            elif sub.end_of_session:  # only answers to re-requests are awaited now
                ended_at = ended_at or now
                if now - ended_at >= ANSWER_WAIT_S:
                    break  # they are not coming: what is missing stays so
            else:  # heartbeats are idle time too
                idle_since = idle_since or now
                if timeout is not None and now - idle_since >= timeout:
                    timed_out = True
                    break
            if (stats or sample) and now - last >= 1.0:
                print(f"{(sub.ticks - last_ticks) / (now - last):.0f} ticks/s, "
                      + _summary(sub, now - start), file=out, flush=True)
                last, last_ticks = now, sub.ticks
        print(_summary(sub, time.monotonic() - start)
              + (f"; no ticks for {timeout:g} s before the end of session" if timed_out else ""),
              file=out, flush=True)
        if saved:  # in sequence order: recovered ticks arrive after later ones
            kept.sort(key=lambda seq_ticks: seq_ticks[0])
            np.save(saved, np.concatenate([ticks for _, ticks in kept]) if kept
                    else np.empty(0, TICK_DTYPE))
    return 0 if stopping or (sub.missing == sub.recovered and not timed_out) else 1


def _opened_for_writing(save: str | None):
    """The file to save ticks in (np.save's name: .npy added when missing), or no file."""
    if not save:
        return contextlib.nullcontext()
    return open(save if save.endswith(".npy") else save + ".npy", "wb")


# Arguments are checked by argparse, as the socket calls and the data plane
# would fail with a traceback (a port past 65535) or an obscure errno (a
# group that is not multicast).

def _is_multicast_group(text: str) -> bool:
    try:
        return ipaddress.IPv4Address(text).is_multicast
    except ValueError:
        return False


def _is_udp_port(text: str) -> bool:
    return text.isdigit() and 1 <= int(text) <= 65535


def multicast_group(text: str) -> str:
    if not _is_multicast_group(text):
        raise argparse.ArgumentTypeError(f"expected an IPv4 multicast group, got {text!r}")
    return text


def udp_port(text: str) -> int:
    if not _is_udp_port(text):
        raise argparse.ArgumentTypeError(f"expected a UDP port from 1 to 65535, got {text!r}")
    return int(text)


def group_port(text: str) -> tuple[str, int]:
    group, _, port = text.rpartition(":")
    if not (_is_multicast_group(group) and _is_udp_port(port)):
        raise argparse.ArgumentTypeError(f"expected GROUP:PORT, an IPv4 multicast group and a UDP port "
                                         f"from 1 to 65535, got {text!r}")
    return group, int(port)


def host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        host = ""
    if not (host and _is_udp_port(port)):
        raise argparse.ArgumentTypeError(f"expected IP:PORT, an IPv4 address and a UDP port "
                                         f"from 1 to 65535, got {text!r}")
    return host, int(port)


def time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (LookupError, ValueError, OSError):  # not found, not a zone name, a directory such as America
        raise argparse.ArgumentTypeError(f"expected a time zone such as America/New_York, "
                                         f"got {name!r}") from None
    return name


def add_arguments(p: argparse.ArgumentParser):
    p.add_argument("group_port", type=group_port, metavar="GROUP:PORT")
    p.add_argument("--iface", help="interface to join on (default: the kernel's choice)")
    p.add_argument("--stats", action="store_true", help="print rates and gaps, not ticks")
    p.add_argument("--count", type=int, help="stop after this many ticks")
    p.add_argument("--timeout", type=float, help="stop after this many idle seconds")
    p.add_argument("--sample", type=int, help="print only the first N ticks, then rates")
    p.add_argument("--save", metavar="FILE.npy", help="keep every tick received in FILE.npy")
    p.add_argument("--tz", type=time_zone, default="UTC",
                   help="time zone to print times in (default UTC)")
    p.add_argument("--rerequest", type=host_port, metavar="IP:PORT",
                   help="re-request what gaps lose from the appliance there (outputs[].rerequest_port)")


def run(args) -> int:
    group, port = args.group_port
    return subscribe(group, port, args.iface, args.stats, args.count, args.timeout,
                     args.sample, args.save, args.tz, args.rerequest)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m multicast.cli", description=__doc__)
    add_arguments(p)
    return run(p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
