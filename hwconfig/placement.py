"""Picks the lcores a config leaves to `auto`.

Datapath CPUs come from those this process may run on, never CPU 0 (the
kernel's own housekeeping) nor the main lcore's CPU or its SMT siblings
(the control plane's); NIC-local CPUs
first, isolated ones first, then those sharing the best one's L3 cache (a
ring between dies costs ~3x a hand-off), then one stage per physical core.
Stages that share data (gateway, risk, matching) share a core only when
cores are scarce.
"""
from __future__ import annotations

import dataclasses

from dataplane.config import AUTO, Config, ConfigError
from hwconfig.plan import config_line
from hwconfig.topology import Topology

STAGE_ORDER = ('md', 'gateway', 'risk', 'matching')


def _nic_nodes(config: Config, topo: Topology) -> set[int]:
    nodes = set()
    for port in config.ports.values():
        device = topo.pci.get(port.device.lower()) or topo.pci.get(f'0000:{port.device.lower()}')
        if device is not None and device.node is not None:
            nodes.add(device.node)
    return nodes


def candidates(config: Config, topo: Topology) -> list[int]:
    """Datapath CPUs in order of preference, one per physical core first."""
    main = config.eal.main_lcore
    usable = (topo.allowed_cpus or topo.online_cpus or frozenset()) & (topo.online_cpus or frozenset())
    housekeeping = topo.cpus[main].siblings if main in topo.cpus and topo.cpus[main].siblings else {main}
    nic_nodes = _nic_nodes(config, topo)
    isolated = topo.isolated or frozenset()

    def rank(cpu, home_l3=None):
        info = topo.cpus.get(cpu)
        local = info is not None and info.node in nic_nodes
        away = home_l3 is not None and info is not None and info.l3 != home_l3
        return (not local if nic_nodes else False, cpu not in isolated, away, cpu)

    ordered = sorted(usable - set(housekeeping) - {main, 0}, key=rank)
    if ordered and ordered[0] in topo.cpus:  # then the best CPU's L3 before others
        home_l3 = topo.cpus[ordered[0]].l3
        ordered.sort(key=lambda cpu: rank(cpu, home_l3))
    first, seen_cores = [], set()
    for cpu in ordered:  # one CPU per physical core before any SMT sibling
        info = topo.cpus.get(cpu)
        core = (info.socket, info.core) if info and info.core is not None else cpu
        if core not in seen_cores:
            seen_cores.add(core)
            first.append(cpu)
    return first + [cpu for cpu in ordered if cpu not in first]


def uses_auto(config: Config) -> bool:
    return config.eal.lcores == AUTO or AUTO in (getattr(config.stages, name) for name in STAGE_ORDER)


def place(config: Config, topo: Topology) -> Config:
    """The config with every `auto` lcore replaced by a CPU of this host."""
    stages = {name: getattr(config.stages, name) for name in STAGE_ORDER}
    running = [name for name in STAGE_ORDER if stages[name] is not None]
    lcores = config.eal.lcores
    if lcores == AUTO:
        pool = candidates(config, topo)
        if not pool:
            raise ConfigError(config.path, config_line(config.path, 'eal.lcores'), 'eal.lcores',
                              f'auto found no CPU for the datapath besides main_lcore '
                              f'{config.eal.main_lcore} and its SMT siblings; list lcores explicitly')
        lcores = tuple(pool[:len(running)])
    # A stage per lcore in order; when lcores run out the order path's stages
    # (gateway, risk, matching) share the last one, md keeps its own.
    chosen = {name: lcores[min(index, len(lcores) - 1)]
              for index, name in enumerate(running) if stages[name] == AUTO}
    if lcores == config.eal.lcores and not chosen:
        return config
    return dataclasses.replace(config, eal=dataclasses.replace(config.eal, lcores=tuple(lcores)),
                               stages=dataclasses.replace(config.stages, **chosen))
