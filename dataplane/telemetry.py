"""Reads a running appliance's counters from DPDK's telemetry socket, as
`colo status` does; the data plane serves them under /colo/md."""
from __future__ import annotations

import json
import socket

from dataplane.eal import runtime_dir


def query(file_prefix: str, command: str = "/colo/md", timeout: float = 2.0) -> dict:
    path = f"{runtime_dir(file_prefix)}/dpdk_telemetry.v2"
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
        s.settimeout(timeout)
        try:
            s.connect(path)
        except OSError as e:
            raise RuntimeError(f"no appliance answers on {path} ({e.strerror}); is `colo run` "
                               "running with this eal.file_prefix?") from None
        json.loads(s.recv(16384))  # the greeting: version, pid, max output length
        s.send(command.encode())
        answer = json.loads(s.recv(1 << 16)).get(command.split(",")[0])  # keyed without params
    if answer is None:  # EAL is up but the stage is not (yet, or any more)
        raise RuntimeError(f"the appliance on {path} has no {command} right now")
    return answer


def status(file_prefix: str, as_json: bool) -> int:
    counters = query(file_prefix)
    if as_json:
        print(json.dumps(counters, indent=2))
    else:
        for name, value in counters.items():
            print(f"{name:24s} {value}")
    return 0
