"""Sends a feed as an exchange would: MoldUDP64 packets to a multicast group
through the kernel, paced. `python -m feedhandlers.replay FILE ...`"""
from __future__ import annotations

import argparse
import socket
import time

from feedhandlers.itch50 import read_itch_file
from feedhandlers.moldudp64 import end_of_session, frame_messages
from feedhandlers.pcap import parse_udp, read_pcap

SESSION = b"NASDAQ0001"


def feed_packets(path, max_payload: int = 1400) -> list[bytes]:
    """MoldUDP64 payloads from a pcap, or framed from an ITCH file, with an
    end-of-session packet last when the source has none."""
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d"):
        return [udp[2] for udp in map(parse_udp, read_pcap(path)) if udp]
    packets, seq = [], 1
    for p in frame_messages(read_itch_file(path), SESSION, max_payload=max_payload):
        packets.append(p)
        seq += int.from_bytes(p[18:20], "big")
    packets.append(end_of_session(SESSION, seq))
    return packets


def replay(packets, group: str, port: int, source_ip: str, rate_pps: float, ttl: int = 8):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(source_ip))
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, ttl)
    start = time.monotonic()
    for i, payload in enumerate(packets):
        delay = start + i / rate_pps - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        sock.sendto(payload, (group, port))
    sock.close()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("file", help="pcap of MoldUDP64 packets, or a NASDAQ ITCH file")
    p.add_argument("--group", default="233.54.12.111")
    p.add_argument("--port", type=int, default=26477)
    p.add_argument("--source-ip", required=True, help="address of the sending interface")
    p.add_argument("--rate", type=float, default=2000.0, help="packets per second")
    p.add_argument("--delay", type=float, default=0.0, help="seconds to wait before sending")
    args = p.parse_args(argv)
    packets = feed_packets(args.file)
    time.sleep(args.delay)
    replay(packets, args.group, args.port, args.source_ip, args.rate)


if __name__ == "__main__":
    main()
