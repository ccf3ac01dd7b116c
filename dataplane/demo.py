"""`colo demo`: an exchange in a network namespace sends a synthetic
TotalView-ITCH session over a veth pair into the data plane
(net_af_packet); the data plane's ticks go out another veth pair to a
subscriber in the namespace, which prints a sample and a summary. Two order
clients there trade the appliance's own books over OUCH meanwhile
(dataplane.order_demo). The demo's config is `colo config example`."""
from __future__ import annotations

import os
import pathlib
import sys
import tempfile

from dataplane import netns
from dataplane.appliance import Appliance
from dataplane.config import example_config_text, parse_config
from dataplane.runner import run
from feedhandlers.itch50 import write_itch_file
from feedhandlers.synth import synthesize

FEED_RATE_PPS = 500  # paced so the run lasts long enough to watch
TRADING_S = 5


def demo(seed: int, symbols: int, messages: int) -> int:
    if os.geteuid() != 0:
        print("colo demo needs root: it creates a network namespace and veth pairs",
              file=sys.stderr)
        return 1
    config = parse_config(example_config_text(), path="<colo config example>")
    feed, out = config.feeds[0].lines["a"], config.outputs[0]
    orders = config.order_entry
    gateway = config.ports[orders.port].ip
    with tempfile.TemporaryDirectory(prefix="colo-demo-") as tmp:
        session = pathlib.Path(tmp, "session.itch")
        print(f"synthesizing {messages} ITCH 5.0 messages, {symbols} symbols, seed {seed}")
        print("ports: net_af_packet on veth pairs, so every tx burst is a system call: the "
              "burst and order times below are mostly the kernel's (`make bench` measures the "
              "data plane on net_ring/net_null)")
        write_itch_file(session, synthesize(seed, symbols, messages))
        netns.setup()
        subscriber = exchange = traders = None

        def start_exchange():
            # Once the data plane is up; the delay lets the subscriber join.
            nonlocal exchange, traders
            exchange = netns.in_namespace(
                ["-m", "feedhandlers.replay", str(session), "--group", feed.group,
                 "--port", str(feed.udp_port), "--source-ip",
                 netns.LINKS["colo-feed0"][1].split("/")[0], "--rate", str(FEED_RATE_PPS),
                 "--delay", "1.0"])
            # Order clients trade the appliance's own books meanwhile: their
            # fills and quotes join the tick stream.
            traders = netns.in_namespace(
                ["-m", "dataplane.order_demo", "--server", f"{gateway}:{orders.udp_port}",
                 "--seconds", str(TRADING_S), "--delay", "1.5"])

        try:
            subscriber = netns.in_namespace(
                ["-m", "multicast.cli", f"{out.group}:{out.udp_port}", "--iface",
                 netns.LINKS["colo-md0"][0], "--sample", "20", "--tz", config.feeds[0].timezone])
            appliance = Appliance(config)

            def day_over(_counters) -> bool:
                # The tick stream carries the demo's own books too: it ends
                # once the feed has and the traders' day is closed.
                if traders is not None and traders.poll() is not None \
                        and not appliance.orders.day_ended:
                    print(f"end of day: {appliance.orders.end_of_day()} DAY orders cancelled")
                return subscriber.poll() is not None

            run(appliance, on_start=start_exchange, until=day_over)
            subscriber.wait(timeout=5)
        finally:
            if traders is not None:
                traders.wait(timeout=TRADING_S + 10)
            for proc in (exchange, subscriber, traders):
                if proc is not None and proc.poll() is None:
                    proc.terminate()
                    proc.wait()
            netns.teardown()
    return 0 if subscriber.returncode == 0 else 1
