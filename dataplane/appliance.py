"""One appliance process: EAL, mempool, ports and the md stage, started from
a validated Config, watched while it runs, stopped cleanly."""
from __future__ import annotations

import datetime
import ipaddress
import threading
from zoneinfo import ZoneInfo

import numpy as np

from dataplane import eal
from dataplane._colo import ffi, lib
from dataplane.binding import counters_snapshot
from dataplane.config import ConfigError, load_config
from dataplane.order_config import risk_limits
from dataplane.order_path import OrderPath, OrderPathError
from hwconfig.placement import place, uses_auto
from hwconfig.topology import discover


def midnight_ns(session_date: datetime.date, tz: str) -> int:
    """Epoch ns of local midnight of the session date (spec/ticks.md 2)."""
    local = datetime.datetime.combine(session_date, datetime.time(), ZoneInfo(tz))
    return int(local.timestamp()) * 1_000_000_000


def _ip(addr) -> int:
    return int(ipaddress.IPv4Address(addr)) if addr else 0


def _session(name: str) -> bytes:
    return name.encode("ascii").ljust(10)


# Ticks kept for re-requests: about a second of a busy feed, 27 MB.
RETRANSMIT_TICKS = 1 << 20


STAGES = ("md", "gateway", "risk", "matching")  # as the C places them


def _stage_busy(name: str) -> np.ndarray:
    """The stage's passes that did work, a TSC histogram (zeros before it is placed)."""
    hist = lib.colo_stage_busy_cycles(name.encode())
    if hist == ffi.NULL:
        return np.zeros(lib.COLO_HIST_BUCKETS, np.uint64)
    return np.frombuffer(ffi.buffer(hist, 8 * lib.COLO_HIST_BUCKETS), np.uint64).copy()


def _lcore_stats(lcore: int, tsc_hz: int) -> dict:
    s = lib.colo_lcore_stats(lcore)
    return {"rounds": s.rounds, "stalls": s.stalls,
            "longest_stall_us": s.longest_stall_cycles * 1e6 / tsc_hz}


class DataplaneError(RuntimeError):
    pass


class Appliance:
    """Start with start(); read counters() at any time; stop() once.

    offline_filter: (group, udp_port) for line A, None in either meaning any;
    for captures and files, where no IGMP join is sent."""

    def __init__(self, config, *, offline_filter=None):
        self.config = config
        self.offline_filter = offline_filter
        self.ports = {}  # port name -> struct colo_port_info
        self._stage = ffi.NULL
        self._stage_lock = threading.Lock()
        self._pool = ffi.NULL
        self.orders = None  # the OrderPath when the config has order_entry
        self._eal_up = False
        self.hugepages = False

    # -- start -------------------------------------------------------------
    def start(self):
        # The lcores left to auto are picked on this host, once, before EAL.
        if uses_auto(self.config):
            self.config = place(self.config, discover())
        cfg = self.config
        try:
            self.hugepages = eal.use_hugepages(cfg.eal.hugepages, cfg.eal.memory_mb)
        except RuntimeError as e:
            raise DataplaneError(str(e)) from None
        args = eal.eal_args(cfg.eal, [p.device for p in cfg.ports.values()],
                            hugepages=self.hugepages)
        if not eal.init(args, cfg.eal.file_prefix):
            raise DataplaneError("EAL initialization failed (see the message above); "
                                 f"arguments: {' '.join(args[1:])}")
        self._eal_up = True
        self.tsc_hz = lib.colo_tsc_hz()
        mp = cfg.mempool
        self._pool = lib.colo_mempool_create(b"colo_mbufs", mp.mbufs, mp.cache, mp.data_room, -1)
        if self._pool == ffi.NULL:
            raise DataplaneError("cannot create the packet mempool (see the message above)")
        feed_ports = {line.port for feed in cfg.feeds for line in feed.lines.values()}
        for name, port in cfg.ports.items():
            info = ffi.new("struct colo_port_info *")
            if lib.colo_port_start(eal.device_name(port.device).encode(), self._pool,
                                   port.rx_descriptors, port.tx_descriptors,
                                   int(name in feed_ports), info) != 0:
                raise DataplaneError(f"port {name} ({port.device}) did not start "
                                     "(see the message above)")
            self.ports[name] = info
        self._stage = lib.md_stage_create(self._stage_params())
        if self._stage == ffi.NULL:
            raise DataplaneError("cannot create the md stage (see the message above)")
        for inst in cfg.instruments:
            if lib.md_stage_set_symbol_id(self._stage, inst.symbol.encode().ljust(8), inst.id):
                raise DataplaneError(f"instrument {inst.symbol}: cannot set id {inst.id}")
        if lib.md_stage_place(self._stage, cfg.stages.md) != 0:
            raise DataplaneError(f"cannot place the md stage on lcore {cfg.stages.md}")
        if cfg.order_entry is not None:
            self._start_orders()
        if lib.colo_lcores_launch() != 0:
            raise DataplaneError("cannot launch the stages (see the message above)")

    def _start_orders(self):
        cfg = self.config
        today = datetime.datetime.now(ZoneInfo(cfg.feeds[0].timezone)).date()
        try:
            self.orders = OrderPath(cfg, self.ports[cfg.order_entry.port], self._pool,
                                    midnight_ns(today, cfg.feeds[0].timezone))
            self.orders.place(cfg.stages.gateway, cfg.stages.risk, cfg.stages.matching)
        except OrderPathError as e:
            raise DataplaneError(str(e)) from None
        lib.md_stage_set_order_ticks(self._stage, self.orders.ticks_ring,
                                     self.orders.day_ended_flag)
        ids = [inst.id for inst in cfg.instruments]
        if lib.md_stage_set_order_halts(self._stage, self.orders.halts_ring,
                                        ffi.new("uint32_t[]", ids), len(ids)) != 0:
            raise DataplaneError("cannot watch the order path's instruments for halts "
                                 "(see the message above)")

    def _stage_params(self):
        cfg = self.config
        feed, out = cfg.feeds[0], cfg.outputs[0]
        p = ffi.new("struct md_stage_params *")
        for i, line in enumerate(feed.lines.values()):
            p.lines[i].port_id = self.ports[line.port].port_id
            p.lines[i].group = _ip(line.group)
            p.lines[i].udp_port = line.udp_port
            p.lines[i].ip = _ip(cfg.ports[line.port].ip)
        p.n_lines = len(feed.lines)
        p.send_igmp = int(self.offline_filter is None)
        if self.offline_filter is not None:
            group, udp_port = self.offline_filter
            p.n_lines = 1
            p.lines[0].group = _ip(group)
            p.lines[0].udp_port = udp_port or 0
        if feed.session:
            p.feed_session = _session(feed.session)
            p.feed_session_fixed = 1
        p.drop_bad_checksum = int(cfg.checksums.drop_bad)
        p.arbitration_wait_us = feed.arbitration_wait_us
        p.normalizer.max_orders = cfg.book.max_orders
        p.normalizer.max_symbols = cfg.book.max_symbols
        p.normalizer.midnight_ns = midnight_ns(feed.session_date, feed.timezone)
        out_port = self.ports[out.port]
        p.out_port_id = out_port.port_id
        p.out_src_mac = bytes(out_port.mac)
        p.out_src_ip = _ip(cfg.ports[out.port].ip)
        p.out_group = _ip(out.group)
        p.out_src_port = out.source_port or out.udp_port
        p.out_dst_port = out.udp_port
        p.mtu = out.mtu
        p.ttl = out.ttl
        p.out_session = _session(out.session)
        p.rerequest_port = out.rerequest_port or 0
        p.retransmit_ticks = RETRANSMIT_TICKS
        p.tx_pool = self._pool
        return p

    # -- watch -------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._stage != ffi.NULL

    def counters(self) -> dict:
        with self._stage_lock:  # metrics scrapes run on their own thread
            if not self.running:
                raise DataplaneError("the data plane is not running")
            snap = counters_snapshot(lib.md_stage_counters(self._stage))
            snap["lcores"] = {lcore: _lcore_stats(lcore, self.tsc_hz) for lcore in self._lcores()}
            snap["stages"] = {name: _stage_busy(name) for name in STAGES
                              if getattr(self.config.stages, name) is not None}
            if self.orders is not None:
                snap["orders"] = self.orders.counters()
            return snap

    def reload_limits(self) -> str:
        """Re-reads the config file and puts its risk limits in force, whole,
        between two orders; says what happened. The accounts, sessions and
        instruments must be those running (limits change, the lists do not)."""
        if self.orders is None:
            return "risk limits: no order path running"
        try:
            new = load_config(self.config.path)
        except ConfigError as e:
            return f"risk limits not changed: {e}"
        lists = {"accounts": "name", "sessions": "name", "instruments": "symbol"}
        changed = [name for name, key in lists.items()
                   if [getattr(e, key) for e in getattr(new, name)] !=
                   [getattr(e, key) for e in getattr(self.config, name)]]
        if changed:
            return (f"risk limits not changed: {', '.join(changed)} differ from those running "
                    "(restart to change them)")
        try:
            self.orders.swap_limits(risk_limits(new))
        except OrderPathError as e:
            return f"risk limits not changed: {e}"
        return f"risk limits from {self.config.path} in force"

    def _lcores(self) -> list[int]:
        stages = self.config.stages
        return sorted({lcore for lcore in (stages.md, stages.gateway, stages.risk,
                                           stages.matching) if lcore is not None})

    # -- stop --------------------------------------------------------------
    def stop(self) -> dict | None:
        """Stage drained and stopped, ports stopped and closed, then memory
        released and EAL cleaned up (hugepage files go with it). Returns the
        final counters."""
        final = None
        if self._eal_up:  # also forgets stages placed by a start that failed
            lib.colo_lcores_stop()
        if self.running:
            final = self.counters()
        for info in self.ports.values():
            lib.colo_port_close(info.port_id)
        self.ports.clear()
        with self._stage_lock:
            if self.running:
                lib.md_stage_destroy(self._stage)
                self._stage = ffi.NULL
        if self.orders is not None:
            self.orders.destroy()
            self.orders = None
        if self._pool != ffi.NULL:
            lib.colo_mempool_free(self._pool)
            self._pool = ffi.NULL
        if self._eal_up:
            eal.cleanup(self.config.eal.file_prefix)
            self._eal_up = False
        return final
