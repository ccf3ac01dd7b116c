"""What the operator reads: the live status line and the final counters."""
from __future__ import annotations

from dataplane.binding import burst_percentiles_ns


def _rate(cur: dict, prev: dict, key: str, dt: float) -> float:
    return (cur[key] - prev[key]) / dt if dt > 0 else 0.0


def _si(v: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if v >= scale:
            return f"{v / scale:.1f}{unit}"
    return f"{v:.0f}"


def _us(ns) -> str:
    return "-" if ns is None else f"{ns / 1000:.1f}us"


def status_line(prev: dict, cur: dict, dt: float, tsc_hz: int) -> str:
    pct = burst_percentiles_ns(cur["burst_cycles"] - prev["burst_cycles"], tsc_hz, (0.5, 0.99))
    return (f"rx {_si(_rate(cur, prev, 'rx_packets', dt))}pkt/s "
            f"msgs {_si(_rate(cur, prev, 'messages', dt))}/s "
            f"ticks {_si(_rate(cur, prev, 'tx_ticks', dt))}/s | "
            f"gaps {cur['gaps']} (A {cur['line_a_gaps']} B {cur['line_b_gaps']}) "
            f"drops {sum(cur['drops'].values())} orphans {cur['events']['orphan_ref']} | "
            f"burst p50 {_us(pct[0.5])} p99 {_us(pct[0.99])}")


def final_report(c: dict, tsc_hz: int) -> str:
    pct = burst_percentiles_ns(c["burst_cycles"], tsc_hz)
    nonzero = lambda d: ", ".join(f"{k} {v}" for k, v in d.items() if v) or "none"  # noqa: E731
    return "\n".join([
        "final counters:",
        f"  rx packets {c['rx_packets']} ({c['rx_bytes']} bytes), MoldUDP64 packets "
        f"{c['feed_packets']}, ITCH messages {c['messages']}",
        f"  messages by type: {nonzero(c['messages_by_type'])}",
        f"  ticks sent {c['tx_ticks']} in {c['tx_packets']} packets "
        f"({c['tx_heartbeats']} heartbeats, {c['tx_dropped']} dropped): "
        f"{nonzero(c['ticks_by_type'])}",
        f"  gaps {c['gaps']} ({c['gap_messages']} messages); line A {c['line_a_gaps']}, "
        f"line B {c['line_b_gaps']}",
        f"  drops: {nonzero(c['drops'])}",
        f"  message events: {nonzero(c['events'])}",
        f"  checksum errors: IP {c['ip_checksum_errors']}, UDP {c['udp_checksum_errors']}",
        f"  re-requests answered {c['rerequests']} ({c['rerequest_ticks']} ticks), refused "
        f"{c['rerequests_refused']}; ARP replies {c['arp_replies']}; IGMP reports "
        f"{c['igmp_reports']}",
        f"  burst time p50 {_us(pct[0.5])} p99 {_us(pct[0.99])} p99.9 {_us(pct[0.999])} "
        f"over {c['bursts']} bursts",
    ])
