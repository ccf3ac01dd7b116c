"""`colo normalize`: the same data plane, offline, pcap or ITCH file in,
pcap of tick packets out (net_pcap rx and tx)."""
from __future__ import annotations

import datetime
import os
import pathlib
import tempfile

import yaml

from dataplane.appliance import Appliance
from dataplane.config import parse_config
from dataplane.runner import run
from feedhandlers.itch50 import read_itch_file
from feedhandlers.moldudp64 import frame_messages
from feedhandlers.pcap import read_pcap, write_moldudp64_pcap

PCAP_MAGICS = {bytes.fromhex(m) for m in ("d4c3b2a1", "a1b2c3d4", "4d3cb2a1", "a1b23c4d")}
ITCH_SESSION = b"ITCHFILE00"
DEFAULT_OUTPUT = {"group": "239.10.0.1", "udp_port": 31001, "session": "COLO000001"}


def is_pcap(path) -> bool:
    with open(path, "rb") as f:
        return f.read(4) in PCAP_MAGICS


def itch_file_to_pcap(path, pcap_path) -> int:
    """Frames a NASDAQ ITCH file into MoldUDP64 packets; returns frames."""
    return write_moldudp64_pcap(pcap_path, frame_messages(read_itch_file(path), ITCH_SESSION))


def offline_config(in_pcap, out_pcap, session_date: datetime.date, tz: str):
    # The line's filter is replaced by the offline one (see Appliance).
    line = {"port": "feed", "group": "233.54.12.111", "udp_port": 26477}
    doc = {
        "eal": {"main_lcore": 0, "lcores": [1], "memory_mb": 256, "hugepages": "off",
                # Offline runs may overlap: each gets its own EAL files.
                "file_prefix": f"colo-normalize-{os.getpid()}"},
        "ports": {"feed": {"device": f"net_pcap0,rx_pcap={in_pcap}"},
                  "out": {"device": f"net_pcap1,tx_pcap={out_pcap}", "ip": "10.0.0.1"}},
        "feeds": [{"name": "offline", "protocol": "itch50-moldudp64",
                   "session_date": session_date.isoformat(), "timezone": tz,
                   "lines": {"a": line}}],
        "outputs": [{"name": "ticks", "port": "out", **DEFAULT_OUTPUT}],
        "stages": {"md": 1},
        "metrics": {"prometheus_port": 0},
    }
    return parse_config(yaml.safe_dump(doc), path="<colo normalize>")


def normalize(in_path, out_path, session_date: datetime.date, tz: str,
              group: str | None = None, udp_port: int | None = None) -> dict | None:
    """Returns the final counters. Every UDP packet carrying MoldUDP64 is
    taken unless group or udp_port narrow it."""
    with tempfile.TemporaryDirectory(prefix="colo-normalize-") as tmp:
        pcap = pathlib.Path(in_path).resolve()
        if not is_pcap(pcap):
            pcap = pathlib.Path(tmp, "feed.pcap")
            itch_file_to_pcap(in_path, pcap)
        frames = sum(1 for _ in read_pcap(pcap))
        config = offline_config(pcap, pathlib.Path(out_path).resolve(), session_date, tz)
        appliance = Appliance(config, offline_filter=(group, udp_port))
        return run(appliance, until=lambda c: c["rx_packets"] >= frames, stall_s=5.0,
                   status_every=0)
