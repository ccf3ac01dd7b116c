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


def _orders_line(prev: dict, cur: dict, dt: float, tsc_hz: int) -> str:
    g, pg = cur["gateway"], prev["gateway"]
    pct = burst_percentiles_ns(g["latency_cycles"] - pg["latency_cycles"], tsc_hz, (0.5, 0.99))
    orders = sum(g["messages"].values()) - sum(pg["messages"].values())
    return (f" | orders {_si(orders / dt if dt > 0 else 0)}/s "
            f"fills {cur['matching']['trades']} rejects {g['responses']['J']} "
            f"drops {sum(g['drops'].values())} | order p50 {_us(pct[0.5])} p99 {_us(pct[0.99])}")


def status_line(prev: dict, cur: dict, dt: float, tsc_hz: int) -> str:
    pct = burst_percentiles_ns(cur["burst_cycles"] - prev["burst_cycles"], tsc_hz, (0.5, 0.99))
    orders = _orders_line(prev["orders"], cur["orders"], dt, tsc_hz) if "orders" in cur else ""
    return (f"rx {_si(_rate(cur, prev, 'rx_packets', dt))}pkt/s "
            f"msgs {_si(_rate(cur, prev, 'messages', dt))}/s "
            f"ticks {_si(_rate(cur, prev, 'tx_ticks', dt))}/s | "
            f"gaps {cur['gaps']} (A {cur['line_a_gaps']} B {cur['line_b_gaps']}) "
            f"drops {sum(cur['drops'].values())} orphans {cur['events']['orphan_ref']} | "
            f"burst p50 {_us(pct[0.5])} p99 {_us(pct[0.99])}" + orders + _stream_state(cur))


def _stream_state(c: dict) -> str:
    """Why subscribers have not had end of session yet, when it is not obvious."""
    if c["tx_end_of_session"]:
        return " | tick stream ended"
    if c["feed_end_of_session"] and "orders" in c:
        return " | feed ended: tick stream open until `colo eod`"
    return ""


def _nonzero(d: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in d.items() if v) or "none"


def _orders_report(o: dict, tsc_hz: int) -> list[str]:
    g, r, m = o["gateway"], o["risk"], o["matching"]
    pct = burst_percentiles_ns(g["latency_cycles"], tsc_hz)
    return [
        f"  order entry: rx packets {g['rx_packets']}, logins {g['logins']} "
        f"(rejected {g['login_rejects']}), logouts {g['logouts']}, timeouts {g['timeouts']}, "
        f"repeats {g['repeats']}, retransmitted {g['retransmitted']}",
        f"  order messages: {_nonzero(g['messages'])}; responses: {_nonzero(g['responses'])}",
        f"  order rejects: {_nonzero(g['rejects'])}",
        f"  order drops: {_nonzero(g['drops'])}",
        f"  risk: {r['passed']} of {r['requests']} requests passed; refused: "
        f"{_nonzero(r['rejects'])}; kill cancels {r['kill_cancels']}",
        f"  matching: {m['commands']} commands, {m['trades']} trades ({m['traded_qty']} shares), "
        f"{m['ticks']} ticks ({m['ticks_dropped']} dropped)",
        f"  order latency p50 {_us(pct[0.5])} p99 {_us(pct[0.99])} p99.9 {_us(pct[0.999])}",
    ]


def final_report(c: dict, tsc_hz: int) -> str:
    pct = burst_percentiles_ns(c["burst_cycles"], tsc_hz)
    return "\n".join([
        "final counters:",
        f"  rx packets {c['rx_packets']} ({c['rx_bytes']} bytes), MoldUDP64 packets "
        f"{c['feed_packets']}, ITCH messages {c['messages']}",
        f"  messages by type: {_nonzero(c['messages_by_type'])}",
        f"  ticks sent {c['tx_ticks']} in {c['tx_packets']} packets "
        f"({c['tx_heartbeats']} heartbeats, {c['tx_dropped']} dropped): "
        f"{_nonzero(c['ticks_by_type'])}",
        f"  gaps {c['gaps']} ({c['gap_messages']} messages); line A {c['line_a_gaps']}, "
        f"line B {c['line_b_gaps']}; packets by line: A {c['line_a_packets']}, "
        f"B {c['line_b_packets']}",
        f"  drops: {_nonzero(c['drops'])}",
        f"  message events: {_nonzero(c['events'])}",
        f"  checksum errors: IP {c['ip_checksum_errors']}, UDP {c['udp_checksum_errors']}",
        f"  re-requests answered {c['rerequests']} ({c['rerequest_ticks']} ticks), refused "
        f"{c['rerequests_refused']}; ARP replies {c['arp_replies']}; IGMP reports "
        f"{c['igmp_reports']}, leaves {c['igmp_leaves']}",
        f"  burst time p50 {_us(pct[0.5])} p99 {_us(pct[0.99])} p99.9 {_us(pct[0.999])} "
        f"over {c['bursts']} bursts",
    ] + (_orders_report(c["orders"], tsc_hz) if "orders" in c else []) + [
        f"  lcore {lcore}: {s['stalls']} stalls over 50us in {s['rounds']} polling rounds "
        f"(longest {s['longest_stall_us']:.0f}us)" for lcore, s in c["lcores"].items()] + [
        _stage_line(name, hist, tsc_hz) for name, hist in c["stages"].items()])


def _stage_line(name: str, hist, tsc_hz: int) -> str:
    pct = burst_percentiles_ns(hist, tsc_hz)
    return (f"  {name} stage: {int(hist.sum())} passes with work, p50 {_us(pct[0.5])} "
            f"p99 {_us(pct[0.99])} p99.9 {_us(pct[0.999])}")
