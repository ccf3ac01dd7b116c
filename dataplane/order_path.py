"""Thin Python layer over the C order path (colo.h, order_*): its
parameters from the config, its counters, and new risk limits put in force
(`colo risk set`). The operator's other commands reach the stages through
the telemetry socket (c_src/order_telemetry.c)."""
from __future__ import annotations

import ipaddress

import numpy as np

from dataplane._colo import ffi, lib
from dataplane.order_config import risk_limits
from dataplane.risk import REASONS as RISK_REASONS
from feedhandlers.ouch50 import REJECT_REASONS

DROP_REASONS = tuple(ffi.string(lib.order_drop_reason_names[i]).decode()
                     for i in range(lib.ORDER_DROP_N))
CONTROL_TIMEOUT_MS = 2000
_GATEWAY_SCALARS = ("rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "tx_dropped",
                    "ip_checksum_errors", "udp_checksum_errors", "arp_replies", "logins",
                    "login_rejects", "logouts", "timeouts", "heartbeats_rx", "heartbeats_tx",
                    "retransmit_requests", "retransmitted", "repeats", "orders_full")
_RISK_SCALARS = ("requests", "passed", "reports", "kill_cancels", "limit_swaps")
_MATCHING_SCALARS = ("commands", "reports", "trades", "traded_qty", "ticks", "ticks_dropped")
_MATCH_REPORTS = ("accepted", "rejected", "fill", "cancelled", "modified", "cancel_rejected",
                  "modify_rejected")


class OrderPathError(RuntimeError):
    pass


def _padded(text: str, width: int) -> bytes:
    return text.encode("ascii").ljust(width)


def _networks(sources) -> tuple[list[int], list[int]]:
    nets = [ipaddress.IPv4Network(s, strict=False) for s in sources]
    return [int(n.network_address) for n in nets], [int(n.netmask) for n in nets]


class OrderPath:
    """The gateway, risk and matching stages of one appliance, made from its
    config; sessions, accounts and instruments are known by their position
    in their config lists."""

    def __init__(self, config, port_info, tx_pool, midnight_ns: int):
        """midnight_ns: epoch ns OUCH timestamps count from (today's local midnight)."""
        cfg, oe = config, config.order_entry
        self.config = config
        self.limits = risk_limits(cfg)  # kept alive while in force
        # Records posted to a risk stage that did not answer in time: it may
        # still take one, so they live until a later swap is answered.
        self._limits_unanswered = []
        accounts = {a.name: i for i, a in enumerate(cfg.accounts)}
        self._sessions = ffi.new("struct order_session_params[]", len(cfg.sessions))
        for c, s in zip(self._sessions, cfg.sessions):
            c.name, c.username = _padded(s.name, 10), _padded(s.username, 6)
            c.password, c.account = _padded(s.password, 10), accounts[s.account]
            nets, masks = _networks(s.allowed_sources)
            c.n_sources = len(nets)
            c.source_net[0:len(nets)], c.source_mask[0:len(masks)] = nets, masks
        self._instruments = ffi.new("struct order_instrument_params[]", len(cfg.instruments))
        for c, inst in zip(self._instruments, cfg.instruments):
            c.symbol, c.symbol_id = _padded(inst.symbol, 8), inst.id
        p = ffi.new("struct order_path_params *")
        p.port_id, p.mac = port_info.port_id, bytes(port_info.mac)
        p.ip = int(ipaddress.IPv4Address(cfg.ports[oe.port].ip))
        p.udp_port, p.mtu = oe.udp_port, 1500
        p.heartbeat_ms, p.timeout_ms = oe.heartbeat_s * 1000, oe.timeout_s * 1000
        p.max_orders, p.history = oe.max_orders, oe.history
        p.midnight_ns = midnight_ns
        p.limits = self.limits._ptr
        p.tx_pool = tx_pool
        p.n_sessions, p.n_instruments = len(cfg.sessions), len(cfg.instruments)
        p.sessions, p.instruments = self._sessions, self._instruments
        self._path = lib.order_path_create(p)
        if self._path == ffi.NULL:
            raise OrderPathError("cannot create the order path (see the message above)")
        self.limits.in_force = True

    def place(self, gateway: int, risk: int, matching: int):
        if lib.order_path_place(self._path, gateway, risk, matching) != 0:
            raise OrderPathError(f"cannot place the order path on lcores "
                                 f"{gateway}/{risk}/{matching}")

    @property
    def ticks_ring(self):
        return lib.order_path_ticks(self._path)

    @property
    def halts_ring(self):
        return lib.order_path_halts(self._path)

    @property
    def day_ended_flag(self):
        return lib.order_path_day_ended(self._path)

    @property
    def day_ended(self) -> bool:
        return self.day_ended_flag[0] != 0

    def counters(self) -> dict:
        g = lib.order_path_gateway_counters(self._path)
        r = lib.order_path_risk_counters(self._path)
        m = lib.order_path_matching_counters(self._path)
        gateway = {name: getattr(g, name) for name in _GATEWAY_SCALARS}
        gateway["drops"] = {name: g.drops[i] for i, name in enumerate(DROP_REASONS)}
        gateway["messages"] = {chr(t): g.messages_by_type[t] for t in b"OUXC"}
        gateway["responses"] = {chr(t): g.responses_by_type[t] for t in b"SAUCEJ"}
        gateway["rejects"] = {name: g.rejects[code] for code, name in REJECT_REASONS.items()}
        gateway["latency_cycles"] = np.frombuffer(
            ffi.buffer(g.latency_cycles, 8 * lib.COLO_HIST_BUCKETS), dtype=np.uint64).copy()
        risk = {name: getattr(r, name) for name in _RISK_SCALARS}
        risk["rejects"] = {name: r.rejects[i] for i, name in enumerate(RISK_REASONS) if i}
        matching = {name: getattr(m, name) for name in _MATCHING_SCALARS}
        matching["reports"] = {name: m.reports_by_type[i] for i, name in enumerate(_MATCH_REPORTS)}
        return {"gateway": gateway, "risk": risk, "matching": matching}

    # -- control ------------------------------------------------------------------
    def _control(self, **fields):
        c = ffi.new("struct order_control *", fields)
        if lib.order_path_control(self._path, c, CONTROL_TIMEOUT_MS) != 0:
            raise OrderPathError("the order path did not answer (is it running?)")
        if c.result != 0:
            raise OrderPathError(f"refused: {fields}")
        return c

    def end_of_day(self) -> int:
        """What `colo eod` does: DAY orders cancelled, every session told;
        the tick stream may end once the feed has too. Returns the cancels."""
        return self._control(type=lib.ORDER_CONTROL_END_OF_DAY).cancels

    def swap_limits(self, limits):
        limits.in_force = True  # C may read it from the moment it is posted
        try:
            self._control(type=lib.ORDER_CONTROL_LIMITS, limits=limits._ptr)
        except OrderPathError:
            self._limits_unanswered.append(limits)
            raise
        self.limits = limits
        self._limits_unanswered.clear()

    def destroy(self):
        if self._path != ffi.NULL:
            lib.order_path_destroy(self._path)
            self._path = ffi.NULL

