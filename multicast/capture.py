"""Ticks from a capture file (what `colo normalize` writes)."""
from __future__ import annotations

import numpy as np

from feedhandlers.pcap import parse_udp, read_pcap
from multicast.ticks import TICK_DTYPE, TickPacket, decode_packet


def read_tick_pcap(path, group: str | None = None, port: int | None = None):
    """Returns (all ticks as one TICK_DTYPE array, the packets in order)."""
    packets: list[TickPacket] = []
    for frame in read_pcap(path):
        udp = parse_udp(frame)
        if udp is None or (group and udp[0] != group) or (port and udp[1] != port):
            continue
        packets.append(decode_packet(udp[2]))
    ticks = [p.ticks.astype(TICK_DTYPE) for p in packets if p.count]
    return (np.concatenate(ticks) if ticks else np.empty(0, TICK_DTYPE)), packets
