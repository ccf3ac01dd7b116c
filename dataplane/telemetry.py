"""Reads a running appliance's counters from DPDK's telemetry socket, as
`colo status` does; the data plane serves them under /colo/md."""
from __future__ import annotations

import json
import socket

RUNTIME_DIR = "/var/run/dpdk"


def query(file_prefix: str, command: str = "/colo/md", timeout: float = 2.0) -> dict:
    path = f"{RUNTIME_DIR}/{file_prefix}/dpdk_telemetry.v2"
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
        s.settimeout(timeout)
        try:
            s.connect(path)
        except OSError as e:
            raise RuntimeError(f"no appliance answers on {path} ({e.strerror}); is `colo run` "
                               "running with this eal.file_prefix?") from None
        json.loads(s.recv(16384))  # the greeting: version, pid, max output length
        s.send(command.encode())
        return json.loads(s.recv(1 << 16))[command]


def status(file_prefix: str, as_json: bool) -> int:
    counters = query(file_prefix)
    if as_json:
        print(json.dumps(counters, indent=2))
    else:
        for name, value in counters.items():
            print(f"{name:24s} {value}")
    return 0
