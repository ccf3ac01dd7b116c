"""The order path end to end: `colo run` with the example config drives the
order port with net_af_packet on a veth pair; OUCH clients in the demo
namespace trade with real sockets, and a multicast subscriber there sees
the trades and quotes of the appliance's own books."""
import json
import os
import signal
import subprocess
import sys
import urllib.request

import numpy as np
import pytest

from dataplane import netns, telemetry
from dataplane.config import example_config_text
from dataplane_helpers import ROOT, colo, subscribe_in_namespace, wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root for netns and veth")

PREFIX = "colo-orders"
COLOA = 900001
DOLLAR = 10_000


@pytest.fixture(scope="module")
def appliance(tmp_path_factory):
    netns.setup()
    # A client address outside every session's allowed_sources.
    subprocess.run(["ip", "-n", netns.NAMESPACE, "addr", "add", "10.97.1.2/24", "dev",
                    "colo-ord1"], check=True)
    config = tmp_path_factory.mktemp("orders") / "colo.yaml"
    config.write_text(example_config_text().replace("prometheus_port: 9108", "prometheus_port: 19109")
                      .replace("file_prefix: colo ", f"file_prefix: {PREFIX} "))
    proc = subprocess.Popen([sys.executable, "-m", "dataplane.cli", "run", str(config)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    proc.config = config
    try:
        wait_for(lambda: telemetry.query(PREFIX)["tx_heartbeats"] > 0)
        yield proc
    finally:
        proc.send_signal(signal.SIGINT)
        proc.output, _ = proc.communicate(timeout=30)
        netns.teardown()


def scenario(name: str, *args) -> dict:
    done = subprocess.run(["ip", "netns", "exec", netns.NAMESPACE, sys.executable,
                           str(ROOT / "tests" / "order_scenarios.py"), name, *map(str, args)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def types(responses):
    return [r["type"] for r in responses]


def test_orders_trade_and_subscribers_see_the_trades_and_quotes(appliance, tmp_path):
    saved = tmp_path / "ticks.npy"
    subscriber = subscribe_in_namespace(saved, idle_timeout=3)
    out = scenario("trading")
    subscriber.communicate(timeout=30)
    metrics = urllib.request.urlopen("http://127.0.0.1:19109/metrics", timeout=5).read().decode()
    assert "colo_orders_trades_total 3.0" in metrics
    assert 'colo_stage_pass_seconds{quantile="0.99",stage="matching"}' in metrics
    assert 'colo_lcore_stalls_total{lcore="1"}' in metrics
    assert 'colo_orders_rejects_total{reason="post_only"} 1.0' in metrics

    assert [(r["type"], r["event_code"], r["sequence"]) for r in out["start_of_day"]] == [
        ("S", "S", 1)]
    assert out["login"] == [2, 2]  # the next response of each session follows it
    [bid] = out["bid"]
    assert (bid["type"], bid["side"], bid["quantity"], bid["price"], bid["order_state"],
            bid["cl_ord_id"].strip()) == ("A", "B", 100, 99 * DOLLAR, "L", "bid1")
    # The IOC sell takes 60 at the resting bid's price.
    accepted, executed = out["take"]
    assert (accepted["type"], accepted["order_state"]) == ("A", "D")
    assert (executed["type"], executed["quantity"], executed["price"],
            executed["liquidity_flag"]) == ("E", 60, 99 * DOLLAR, "R")
    [made] = out["made"]
    assert (made["type"], made["quantity"], made["liquidity_flag"],
            made["match_number"]) == ("E", 60, "A", executed["match_number"])
    [reduce] = out["reduce"]
    assert (reduce["type"], reduce["quantity"], reduce["reason"]) == ("C", 30, "U")
    [replaced] = out["replace"]
    assert (replaced["type"], replaced["orig_user_ref_num"], replaced["quantity"],
            replaced["price"], replaced["order_state"]) == ("U", bid["user_ref_num"], 30,
                                                            991_000, "L")
    [cancel] = out["cancel"]
    assert (cancel["type"], cancel["quantity"], cancel["user_ref_num"]) == (
        "C", 30, replaced["user_ref_num"])
    assert [(r["type"], r["reason"]) for r in out["cancel_again"]] == [("J", 8)]  # not_resting
    assert [(r["type"], r.get("reason")) for r in out["fok"]] == [("A", None), ("C", "I")]
    refused = {name: [(r["type"], r["reason"]) for r in out[name]]
               for name in ("post_only", "unknown_symbol", "tick", "collar", "max_qty")}
    assert refused == {"post_only": [("J", 6)], "unknown_symbol": [("J", 2)], "tick": [("J", 3)],
                       "collar": [("J", 13)], "max_qty": [("J", 11)]}
    # A market buy takes alpha's own resting 5 @ 100.00 (no self-trade prevention asked
    # for); sent again, it is answered, not re-executed.
    assert types(out["market"]) == ["A", "E", "E"]
    assert {(e["price"], e["liquidity_flag"]) for e in out["market"][1:]} == {
        (100 * DOLLAR, "A"), (100 * DOLLAR, "R")}
    assert [d["user_ref_num"] for d in out["repeats"]] == [out["market"][0]["user_ref_num"]]
    # Nothing left to cancel: the mass cancel is still answered.
    assert [(r["type"], r["reason"]) for r in out["mass_cancel"]] == [("J", 8)]
    assert out["gaps"] == [0, 0]
    replaced, filled = out["crossing_replace"]
    # It trades all it had at once: the Replaced says the order is dead.
    assert (replaced["type"], replaced["price"], replaced["quantity"],
            replaced["order_state"]) == ("U", 101 * DOLLAR, 10, "D")
    assert (filled["type"], filled["user_ref_num"], filled["quantity"], filled["price"],
            filled["liquidity_flag"]) == ("E", replaced["user_ref_num"], 10, 101 * DOLLAR, "R")
    assert [(e["type"], e["liquidity_flag"], e["match_number"]) for e in out["crossed"]] == [
        ("E", "A", filled["match_number"])]

    ticks = np.load(saved)
    own = ticks[ticks["symbol_id"] == COLOA]
    trades = own[own["type"] == b"T"]
    assert [(t["price"], t["quantity"], t["side"]) for t in trades] == [
        (99 * 10**9, 60, b"S"), (100 * 10**9, 5, b"B"), (101 * 10**9, 10, b"B")]
    quotes = [(q["side"], q["price"] // 10**7, q["quantity"]) for q in own[own["type"] == b"Q"]]
    assert quotes[:3] == [(b"B", 9900, 100), (b"B", 9900, 40), (b"B", 9900, 10)]
    assert (b"B", 0, 0) in quotes  # the bid side emptied by the cancel


def test_hostile_input_is_dropped_or_refused_and_nothing_runs_twice(appliance):
    before = telemetry.query(PREFIX, "/colo/orders")
    out = scenario("hostile")
    after = telemetry.query(PREFIX, "/colo/orders")
    grew = {k: after[k] - before[k] for k in after}

    assert out["stranger_answer"] is None
    assert out["bad_password"].endswith("not_authorized")
    assert out["wrong_session"].endswith("session_unavailable")  # another user's session
    assert grew["not_logged_in"] == 1 and grew["unknown_source"] == 1
    assert grew["bad_packet"] >= 2 and grew["bad_message"] == 2
    # Every order of the flood is answered once: accepted, or refused by the throttle.
    flood = out["flood"]
    refs = [ref for _, _, ref in flood["answers"]]
    assert len(refs) == len(set(refs)) == flood["sent"] == 300
    kinds = {(kind, reason) for kind, reason, _ in flood["answers"]}
    assert kinds == {("A", None), ("J", 18)}
    assert 100 <= sum(kind == "A" for kind, _, _ in flood["answers"]) < 300


def test_silent_sessions_lose_their_orders(appliance):
    """Both time out at once: the second's cancels wait for the first's."""
    out = scenario("disconnect")
    assert [(r["type"], r["quantity"]) for r in out["rested"]] == [("A", 7), ("A", 9)]
    assert [(c["type"], c["reason"], c["quantity"], c["user_ref_num"]) for c in out["after"]] == [
        ("C", "D", r["quantity"], r["user_ref_num"]) for r in out["rested"]]


def alpha_in_colob(appliance) -> dict:
    return json.loads(colo("risk", "show", appliance.config, "alpha", "--symbol", "COLOB",
                           "--json").stdout)


def test_fills_racing_a_replace_count_in_the_position(appliance):
    before = alpha_in_colob(appliance)
    out = scenario("replace_race")
    assert [(r["type"], r.get("quantity"), r.get("reason")) for r in out["alpha"]] == [
        ("A", 100, None), ("E", 100, None), ("J", None, 8)]  # the replace: not_resting
    after = alpha_in_colob(appliance)
    assert int(after["position"]) == int(before["position"]) + 100
    assert (after["open_buy_qty"], after["open_orders"]) == (before["open_buy_qty"],
                                                             before["open_orders"])


def test_a_replace_matching_refuses_leaves_the_reservation_as_it_was(appliance):
    before = alpha_in_colob(appliance)
    out = scenario("post_only_replace")
    assert [(r["type"], r["reason"]) for r in out["replace"]] == [("J", 6)]  # post_only
    after = alpha_in_colob(appliance)
    assert after["open_buy_qty"] == before["open_buy_qty"] + 10  # the bid: 10 at $24
    assert float(after["open_buy_notional"]) == float(before["open_buy_notional"]) + 240
    for username, ref in (("ALPHA1", 6700), ("BETA1", 70)):
        assert len(scenario("mass_cancel", username, ref)["canceled"]) == 1


def test_a_market_order_trades_no_worse_than_its_protection_price(appliance):
    out = scenario("market_protection")
    assert [(r["type"], r["quantity"], r.get("price"), r.get("reason"))
            for r in out["market"]] == [("A", 20, 0x7FFFFFFF, None),
                                        ("E", 10, 25 * DOLLAR, None), ("C", 10, None, "I")]
    assert [(r["type"], r["quantity"]) for r in out["left"]] == [("C", 10)]  # the $26 offer


def test_one_replace_at_a_time_each_answer_echoes_its_own_cl_ord_id(appliance):
    out = scenario("double_replace")
    refused, replaced = out["replaces"]  # the gateway refuses at once; matching answers after
    assert (refused["type"], refused["reason"], refused["cl_ord_id"].strip()) == (
        "J", 21, "second")
    assert (replaced["type"], replaced["quantity"], replaced["cl_ord_id"].strip()) == (
        "U", 9, "first")
    assert [(r["type"], r["quantity"]) for r in out["cancel"]] == [("C", 9)]


def test_operator_sees_the_book_and_risk_and_kills_an_account(appliance):
    out = scenario("rest", 100)
    [rested] = out["rested"]
    book = json.loads(colo("book", appliance.config, "COLOB", "--json").stdout)
    assert book["asks"][0] == [26 * DOLLAR, 300, 1]
    status = json.loads(colo("status", "--file-prefix", PREFIX, "--json").stdout)
    assert status["md"]["tx_heartbeats"] > 0 and status["orders"]["logins"] > 0
    risk = json.loads(colo("risk", "show", appliance.config, "beta", "--json").stdout)
    assert risk["open_orders"] == 1 and risk["killed"] == 0
    assert "1 open orders cancelled" in colo("kill", appliance.config, "account", "beta").stdout
    try:
        after = scenario("missed", out["next_seq"], 200, 1)
        assert json.loads(colo("book", appliance.config, "COLOB", "--json").stdout)["asks"] == []
    finally:
        colo("kill", appliance.config, "account", "beta", "--off")
    [missed] = after["missed"]
    assert (missed["type"], missed["reason"], missed["quantity"],
            missed["user_ref_num"]) == ("C", "S", 300, rested["user_ref_num"])
    assert [(r["type"], r["reason"]) for r in after["new"]] == [("J", 19)]  # kill_switch
    # colo order, by hand from the client side: one message, its answers printed.
    by_hand = subprocess.run(["ip", "netns", "exec", netns.NAMESPACE, sys.executable, "-m",
                              "dataplane.cli", "order", "--user", "BETA1", "--password", "secret",
                              "--ref", "250", "enter", "B", "10", "COLOB", "19.5",
                              "--tif", "3"], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert "accepted  #250 B 10 COLOB @ 19.50" in by_hand.stdout, by_hand.stderr
    assert "canceled  #250 10 (immediate_or_cancel)" in by_hand.stdout  # an IOC: nothing rests


def test_risk_set_puts_edited_limits_in_force_between_orders(appliance):
    text = appliance.config.read_text()
    assert scenario("one_order", 7000, 5000)["answer"][0]["type"] == "A"
    appliance.config.write_text(text.replace("max_order_qty: 10000", "max_order_qty: 1000"))
    try:
        assert "in force" in colo("risk", "set", appliance.config).stdout
        [refused] = scenario("one_order", 7100, 5000)["answer"]
        assert (refused["type"], refused["reason"]) == ("J", 11)  # max_order_qty
        # Lists that differ from those running are refused whole, by the appliance.
        appliance.config.write_text(text.replace("name: beta1", "name: gamma1"))
        failed = colo("risk", "set", appliance.config, check=False)
        assert failed.returncode == 1 and "did not take the limits" in failed.stderr
    finally:
        appliance.config.write_text(text)
        colo("risk", "set", appliance.config)
    assert scenario("one_order", 7200, 5000)["answer"][0]["type"] == "A"


def test_end_of_day_cancels_day_orders_and_tells_every_session(appliance):
    out = scenario("rest", 300)
    [rested] = out["rested"]
    assert "1 DAY orders cancelled" in colo("eod", appliance.config).stdout
    after = scenario("missed", out["next_seq"], 400, 2)
    canceled, event = after["missed"]
    assert (canceled["type"], canceled["reason"], canceled["user_ref_num"]) == (
        "C", "Z", rested["user_ref_num"])
    assert (event["type"], event["event_code"]) == ("S", "E")
    assert json.loads(colo("book", appliance.config, "COLOB", "--json").stdout)["asks"] == []


def test_the_feeds_halt_of_an_instrument_refuses_its_orders(appliance, tmp_path):
    """Last here: it leaves COLOA halted. The exchange halts COLOA on the feed
    (ITCH H); the risk stage then refuses COLOA orders, not COLOB ones."""
    from feedhandlers import itch50
    from feedhandlers.moldudp64 import encode_packet
    from feedhandlers.pcap import write_moldudp64_pcap

    feed = tmp_path / "halt.pcap"
    messages = [itch50.system_event(1_000, b"O"), itch50.stock_directory(2_000, b"COLOA"),
                itch50.trading_action(3_000, b"COLOA", b"H")]
    write_moldudp64_pcap(feed, [encode_packet(b"HALTTEST01", 1, messages)],
                         "233.54.12.111", 26477)  # no end of session: the stream goes on
    before = telemetry.query(PREFIX)["messages"]
    exchange = netns.in_namespace(["-m", "feedhandlers.replay", str(feed), "--source-ip",
                                   "10.98.0.2"], cwd=ROOT)
    assert exchange.wait(timeout=30) == 0
    wait_for(lambda: telemetry.query(PREFIX)["messages"] == before + 3)
    [halted] = scenario("one_order", 8000, 10, "COLOA", 100)["answer"]
    assert (halted["type"], halted["reason"]) == ("J", 9)  # halted
    assert scenario("one_order", 8100, 10)["answer"][0]["type"] == "A"


def test_mutated_client_packets_never_take_the_gateway_down(appliance):
    """Last here too: beta's session is left with whatever the fuzz made of it."""
    before = telemetry.query(PREFIX, "/colo/orders")
    out = scenario("fuzz", 7, 3000)
    after = telemetry.query(PREFIX, "/colo/orders")
    assert after["rx_packets"] - before["rx_packets"] >= 3000
    assert out["after"][0]["type"] == "A"  # a logged-in session trades after all that
    assert telemetry.query(PREFIX)["tx_heartbeats"] > 0  # and the md stage still runs
