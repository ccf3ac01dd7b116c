"""Prometheus metrics, read from the live counters at scrape time."""
from __future__ import annotations

from prometheus_client import start_http_server
from prometheus_client.core import REGISTRY, CounterMetricFamily, GaugeMetricFamily

from dataplane.binding import burst_percentiles_ns


class MdCollector:
    def __init__(self, appliance):
        self.appliance = appliance

    def describe(self):
        return []  # names are known only from a running data plane

    def collect(self):
        if not self.appliance.running:
            return
        c = self.appliance.counters()
        for key in ("rx_packets", "rx_bytes", "feed_packets", "messages", "tx_packets",
                    "tx_ticks", "tx_heartbeats", "tx_dropped", "gap_messages",
                    "ip_checksum_errors", "udp_checksum_errors", "rerequests",
                    "rerequest_ticks", "rerequests_refused"):
            yield CounterMetricFamily(f"colo_md_{key}", f"md stage {key.replace('_', ' ')}",
                                      value=c[key])
        # 0/1: a feed ended with the stream still open waits for `colo eod`.
        yield GaugeMetricFamily("colo_md_feed_ended", "the feed sent end of session",
                                value=c["feed_end_of_session"])
        yield GaugeMetricFamily("colo_md_stream_ended", "the tick stream sent end of session",
                                value=c["tx_end_of_session"])
        # The arbitrated stream's gaps are not the sum of the lines' (a hole in one
        # line that the other fills is no gap), so they are not one of its labels.
        yield CounterMetricFamily("colo_md_gaps", "gaps in the arbitrated stream", value=c["gaps"])
        yield _labelled("colo_md_line_gaps", "sequence gaps by line", "line",
                        {"a": c["line_a_gaps"], "b": c["line_b_gaps"]})
        line_packets = CounterMetricFamily("colo_md_line_packets", "MoldUDP64 packets by line",
                                           labels=["line"])
        line_packets.add_metric(["a"], c["line_a_packets"])
        line_packets.add_metric(["b"], c["line_b_packets"])
        yield line_packets
        for name, key, label in (("drops", "drops", "reason"),
                                 ("message_events", "events", "event"),
                                 ("ticks", "ticks_by_type", "type"),
                                 ("messages_by_type", "messages_by_type", "type")):
            yield _labelled(f"colo_md_{name}", f"md stage {name}", label, c[key])
        burst = GaugeMetricFamily("colo_md_burst_seconds", "burst processing time",
                                  labels=["quantile"])
        for q, ns in burst_percentiles_ns(c["burst_cycles"], self.appliance.tsc_hz).items():
            if ns is not None:
                burst.add_metric([str(q)], ns / 1e9)
        yield burst
        stage = GaugeMetricFamily("colo_stage_pass_seconds", "a stage's passes that did work",
                                  labels=["stage", "quantile"])
        for name, hist in c["stages"].items():
            for q, ns in burst_percentiles_ns(hist, self.appliance.tsc_hz).items():
                if ns is not None:
                    stage.add_metric([name, str(q)], ns / 1e9)
        yield stage
        yield _labelled("colo_lcore_stalls", "idle polls over 50us: the core was taken away",
                        "lcore", {str(lcore): st["stalls"] for lcore, st in c["lcores"].items()})
        if "orders" in c:
            yield from _order_metrics(c["orders"], self.appliance.tsc_hz)


def _labelled(name: str, doc: str, label: str, values: dict) -> CounterMetricFamily:
    family = CounterMetricFamily(name, doc, labels=[label])
    for k, v in values.items():
        family.add_metric([k], v)
    return family


def _order_metrics(o: dict, tsc_hz: int):
    g, r, m = o["gateway"], o["risk"], o["matching"]
    for key in ("rx_packets", "tx_packets", "tx_dropped", "logins", "login_rejects",
                "timeouts", "repeats", "retransmitted"):
        yield CounterMetricFamily(f"colo_orders_gateway_{key}", f"gateway {key.replace('_', ' ')}",
                                  value=g[key])
    yield _labelled("colo_orders_messages", "order messages by type", "type", g["messages"])
    yield _labelled("colo_orders_responses", "responses by type", "type", g["responses"])
    yield _labelled("colo_orders_rejects", "order rejects by reason", "reason", g["rejects"])
    yield _labelled("colo_orders_drops", "datagrams dropped by reason", "reason", g["drops"])
    yield _labelled("colo_orders_risk_refusals", "risk refusals by reason", "reason",
                    r["rejects"])
    yield CounterMetricFamily("colo_orders_trades", "trades in the order path's books",
                              value=m["trades"])
    yield CounterMetricFamily("colo_orders_traded_shares", "shares traded", value=m["traded_qty"])
    latency = GaugeMetricFamily("colo_orders_latency_seconds",
                                "gateway rx to first response tx", labels=["quantile"])
    for q, ns in burst_percentiles_ns(g["latency_cycles"], tsc_hz).items():
        if ns is not None:
            latency.add_metric([str(q)], ns / 1e9)
    yield latency


def serve(appliance, port: int):
    """Starts the exporter (a daemon thread) unless port is 0."""
    if port:
        try:
            start_http_server(port)
        except OSError as e:  # the bare errno would not say which setting to change
            raise OSError(e.errno, f"metrics.prometheus_port {port}: {e.strerror} (another colo "
                                   "run? choose another port, or 0 for none)") from None
        REGISTRY.register(MdCollector(appliance))
