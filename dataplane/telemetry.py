"""Reads a running appliance's counters from DPDK's telemetry socket, as
`colo status` does; the data plane serves them under /colo/md."""
from __future__ import annotations

import json
import socket

from dataplane.eal import runtime_dir


def _ask(file_prefix: str, command: str | None, timeout: float) -> tuple[dict, dict | None]:
    """The socket's greeting (version, pid, ...) and the answer to command."""
    path = f"{runtime_dir(file_prefix)}/dpdk_telemetry.v2"
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
        s.settimeout(timeout)
        try:
            s.connect(path)
        except OSError as e:
            raise RuntimeError(f"no appliance answers on {path} ({e.strerror}); is `colo run` "
                               "running with this eal.file_prefix?") from None
        try:
            greeting = json.loads(s.recv(16384))
            if command is None:
                return greeting, None
            s.send(command.encode())
            return greeting, json.loads(s.recv(1 << 16)).get(command.split(",")[0])  # keyed without params
        except TimeoutError:  # an appliance too busy, or hung
            raise RuntimeError(f"the appliance with eal.file_prefix {file_prefix} did not answer "
                               f"{command or 'its greeting'} within {timeout:g} s") from None


def query(file_prefix: str, command: str = "/colo/md", timeout: float = 2.0) -> dict:
    _, answer = _ask(file_prefix, command, timeout)
    if answer is None:  # EAL is up but the stage is not (yet, or any more)
        raise RuntimeError(f"the appliance with eal.file_prefix {file_prefix} has no {command} "
                           "right now")
    return answer


def appliance_pid(file_prefix: str, timeout: float = 2.0) -> int:
    return _ask(file_prefix, None, timeout)[0]["pid"]


def status(file_prefix: str, as_json: bool) -> int:
    """The md stage's counters, and the order path's when it runs."""
    counters = {"md": query(file_prefix)}
    _, orders = _ask(file_prefix, "/colo/orders", 2.0)
    if orders:  # an empty answer: no order path in this appliance
        counters["orders"] = orders
    if as_json:
        print(json.dumps(counters, indent=2))
        return 0
    for section, values in counters.items():
        print(f"[{section}]")
        for name, value in values.items():
            print(f"{name:24s} {value}")
    return 0
