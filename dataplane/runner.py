"""Runs an appliance in the foreground: status line while it runs, clean
stop on SIGINT/SIGTERM or when the caller's condition is met; SIGHUP puts
the config file's risk limits in force (`colo risk set`)."""
from __future__ import annotations

import signal
import sys
import threading
import time

from dataplane.status import final_report, status_line

POLL_S = 0.05


def run(appliance, *, until=None, on_start=None, stall_s: float | None = None,
        status_every: float = 1.0, out=sys.stdout) -> dict | None:
    """until(counters) -> bool ends the run; so does no rx progress for
    stall_s seconds. on_start() runs once the data plane is up. Returns the
    final counters."""
    stop, reload = threading.Event(), threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    previous[signal.SIGHUP] = signal.signal(signal.SIGHUP, lambda *_: reload.set())
    final = None
    try:
        appliance.start()
        if on_start is not None:
            on_start()
        prev = last = appliance.counters()
        t_status = t_progress = time.monotonic()
        while not stop.wait(POLL_S):
            if reload.is_set():  # `colo risk set`: the config's limits, edited
                reload.clear()
                print(appliance.reload_limits(), file=out, flush=True)
            cur, now = appliance.counters(), time.monotonic()
            if until is not None and until(cur):
                break
            if cur["rx_packets"] != last["rx_packets"]:
                t_progress = now
            elif stall_s is not None and now - t_progress > stall_s:
                print(f"no input for {stall_s:.0f} s: stopping", file=out)
                break
            last = cur
            if status_every and now - t_status >= status_every:
                print(status_line(prev, cur, now - t_status, appliance.tsc_hz), file=out,
                      flush=True)
                prev, t_status = cur, now
    finally:
        final = appliance.stop()
        for s, handler in previous.items():
            signal.signal(s, handler)
    if final is not None:
        print(final_report(final, appliance.tsc_hz), file=out, flush=True)
    return final
