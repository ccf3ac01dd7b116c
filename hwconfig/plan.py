"""Where a config's data plane runs on a host: stages on lcores, memory on a
NUMA node, mempool and ring sizes, hugepages per node and size, EAL arguments.

`target(config)` is what the config asks of any host; `problems(target, topo)`
is why this host cannot give it (each naming the config field);
`make_plan(target, topo)` is the placement once there are none.
"""
from __future__ import annotations

import dataclasses
import re

import yaml

from dataplane import eal
from dataplane.config import Config, ConfigError, EalConfig
from hwconfig.hostfs import format_cpulist
from hwconfig.topology import PAGE_SIZE_FLAGS, Topology

# rte_pktmbuf_pool_create's element: the 128-byte rte_mbuf, the data room,
# and the mempool's own per-object header and trailer (64 bytes).
MBUF_OVERHEAD = 128 + 64
PAGE_SIZES = {'2M': 2048, '1G': 1048576}


@dataclasses.dataclass(frozen=True)
class Target:
    """What a config asks of a host."""
    path: str | None  # the config file; None: the defaults of an eal section left out
    eal: EalConfig
    stages: dict[str, int]  # running stage -> lcore
    devices: dict[str, str]  # port name -> device as configured
    mempool_mb: int
    mempool: dict[str, int]
    page_size_kb: int

    @property
    def datapath(self) -> frozenset[int]:
        return frozenset(self.eal.lcores)

    @property
    def pci(self) -> dict[str, str]:
        """port name -> full PCI address (domain added) of the ports on PCI devices."""
        return {name: pci_address(device) for name, device in self.devices.items() if not eal.is_vdev(device)}


def pci_address(device: str) -> str:
    address = eal.device_name(device).lower()
    return address if address.count(':') == 2 else f'0000:{address}'


def target(config: Config | None, page_size_kb: int = 2048) -> Target:
    if config is None:
        return Target(None, EalConfig(), {}, {}, 0, {}, page_size_kb)
    stages = {f.name: getattr(config.stages, f.name) for f in dataclasses.fields(config.stages)}
    mp = config.mempool
    mempool_mb = -(-mp.mbufs * (mp.data_room + MBUF_OVERHEAD) // 2**20)
    return Target(config.path, config.eal, {name: lcore for name, lcore in stages.items() if lcore is not None},
                  {name: port.device for name, port in config.ports.items()}, mempool_mb,
                  dataclasses.asdict(mp), page_size_kb)


@dataclasses.dataclass(frozen=True)
class Problem:
    field: str  # the config field, as in config errors: eal.lcores[1]
    text: str


def _lcore_problem(cpu: int, topo: Topology) -> str | None:
    online = format_cpulist(topo.online_cpus or ())
    if topo.possible_cpus is not None and cpu not in topo.possible_cpus:
        return f'CPU {cpu} does not exist on this host (online CPUs: {online}); use one of those'
    if topo.online_cpus is not None and cpu not in topo.online_cpus:
        return (f'CPU {cpu} is offline (online CPUs: {online}); bring it online with '
                f'`echo 1 > /sys/devices/system/cpu/cpu{cpu}/online` or use an online CPU')
    return None


def problems(tgt: Target, topo: Topology) -> list[Problem]:
    """Why the config cannot run on this host at all."""
    found = [Problem('eal.main_lcore', text) for text in [_lcore_problem(tgt.eal.main_lcore, topo)] if text]
    found += [Problem(f'eal.lcores[{index}]', text) for index, cpu in enumerate(tgt.eal.lcores)
              for text in [_lcore_problem(cpu, topo)] if text]
    found += [Problem(f'ports.{name}.device',
                      f'no PCI device {address} on this host (present: {", ".join(topo.pci) or "none"}); '
                      'check the address with `lspci -D`')
              for name, address in tgt.pci.items() if address not in topo.pci]
    if tgt.eal.hugepages != 'off' and tgt.page_size_kb not in topo.page_sizes_kb():
        flag = PAGE_SIZE_FLAGS.get(tgt.page_size_kb, 'none')
        sizes = ', '.join(f'{size} kB' for size in topo.page_sizes_kb()) or 'none'
        found.append(Problem('eal.hugepages', f'this host has no {tgt.page_size_kb} kB hugepages (CPU flag '
                             f'{flag!r}, /sys/kernel/mm/hugepages); sizes it has: {sizes}; '
                             'choose one with --page-size'))
    return found


def config_line(path: str | None, field: str) -> int | None:
    """The line of field (eal.lcores[1], ports.feed_a.device) in the config file; None if not written."""
    try:
        with open(path, encoding='utf-8') as f:
            node = yaml.compose(f, Loader=yaml.SafeLoader)
    except (OSError, TypeError, yaml.YAMLError):
        return None
    for key, index in re.findall(r'([^.\[\]]+)|\[(\d+)\]', field):
        if isinstance(node, yaml.MappingNode) and key:
            node = next((value for k, value in node.value if k.value == key), None)
        elif isinstance(node, yaml.SequenceNode) and index and int(index) < len(node.value):
            node = node.value[int(index)]
        else:
            return None
        if node is None:
            return None
    return node.start_mark.line + 1


def check(tgt: Target, topo: Topology) -> None:
    """Raises ConfigError (file:line: field: what to do) for the first problem."""
    for problem in problems(tgt, topo):
        raise ConfigError(tgt.path or '<defaults>', config_line(tgt.path, problem.field), problem.field,
                          problem.text)


@dataclasses.dataclass(frozen=True)
class Placement:
    role: str  # a stage, or 'main' (the control thread)
    lcore: int
    node: int | None
    socket: int | None
    core: int | None
    isolated: bool


@dataclasses.dataclass(frozen=True)
class PortPlacement:
    port: str
    device: str
    node: int | None  # None: a virtual device, or a NIC whose firmware gives no node
    driver: str | None


@dataclasses.dataclass(frozen=True)
class Ring:
    name: str
    size: int


@dataclasses.dataclass(frozen=True)
class PagePlan:
    node: int
    size_kb: int
    pages: int


@dataclasses.dataclass(frozen=True)
class Plan:
    config: str | None
    placements: list[Placement]
    ports: list[PortPlacement]
    memory_node: int
    mempool: dict[str, int]
    mempool_mb: int
    memory_mb: int
    rings: list[Ring]
    hugepages: list[PagePlan]  # empty when eal.hugepages is off
    eal_args: list[str]
    notes: list[str]


# The order path's rings (c_src/order_path.c): producer, consumer, and
# whether it carries ticks (sized apart).
RINGS = [('gateway', 'risk', False), ('risk', 'matching', False), ('matching', 'risk', False),
         ('risk', 'gateway', False), ('matching', 'md', True), ('md', 'risk', False)]


def _placement(role: str, lcore: int, topo: Topology) -> Placement:
    cpu = topo.cpus[lcore]
    return Placement(role, lcore, cpu.node, cpu.socket, cpu.core, lcore in (topo.isolated or ()))


def _notes(tgt: Target, topo: Topology, memory_node: int, ports: list[PortPlacement]) -> list[str]:
    notes = []
    if tgt.mempool_mb > tgt.eal.memory_mb:
        notes.append(f'the mempool needs {tgt.mempool_mb} MB but eal.memory_mb is {tgt.eal.memory_mb}: '
                     'raise eal.memory_mb or lower mempool.mbufs')
    remote = [p.port for p in ports if p.node is not None and p.node != memory_node]
    if remote:
        notes.append(f'ports {", ".join(remote)} are not on NUMA node {memory_node} of the stages: '
                     'every packet crosses the socket interconnect; move the lcores or the NIC')
    return notes


def _port(name: str, device: str, topo: Topology) -> PortPlacement:
    if eal.is_vdev(device):
        return PortPlacement(name, device, None, None)
    nic = topo.pci[pci_address(device)]
    return PortPlacement(name, device, nic.node, nic.driver)


def memory_node(tgt: Target, topo: Topology) -> int:
    """Where packet memory goes: the NICs' node when they say, else the first datapath lcore's."""
    nodes = [topo.pci[address].node for address in tgt.pci.values() if address in topo.pci]
    nodes += [topo.node_of(lcore) for lcore in tgt.eal.lcores]
    return next((node for node in nodes if node is not None), 0)


def make_plan(tgt: Target, topo: Topology) -> Plan:
    check(tgt, topo)
    placements = [_placement('main', tgt.eal.main_lcore, topo)]
    placements += [_placement(stage, lcore, topo) for stage, lcore in tgt.stages.items()]
    ports = [_port(name, device, topo) for name, device in tgt.devices.items()]
    node = memory_node(tgt, topo)
    from dataplane._colo import lib  # the sizes the C data plane builds
    rings = [Ring(f'{producer}->{consumer}', lib.ORDER_TICK_RING if ticks else lib.ORDER_PATH_RING)
             for producer, consumer, ticks in RINGS
             if producer in tgt.stages and consumer in tgt.stages]
    use_hugepages = tgt.eal.hugepages != 'off'
    pages = [PagePlan(node, tgt.page_size_kb, -(-tgt.eal.memory_mb * 1024 // tgt.page_size_kb))]
    args = eal.eal_args(tgt.eal, list(tgt.devices.values()), hugepages=use_hugepages,
                        allowed_cpus=topo.allowed_cpus)
    return Plan(tgt.path, placements, ports, node, tgt.mempool, tgt.mempool_mb, tgt.eal.memory_mb,
                rings, pages if use_hugepages else [], args, _notes(tgt, topo, node, ports))


def format_plan(plan: Plan) -> str:
    lines = [f'plan for {plan.config}', '', f'{"role":10} {"lcore":>5} {"node":>4} {"socket":>6} '
             f'{"core":>4}  isolated']
    lines += [f'{p.role:10} {p.lcore:>5} {_dash(p.node):>4} {_dash(p.socket):>6} {_dash(p.core):>4}  '
              f'{"yes" if p.isolated else "no"}' for p in plan.placements]
    lines += ['', f'{"port":10} {"node":>4}  {"driver":12} device']
    lines += [f'{p.port:10} {_dash(p.node):>4}  {p.driver or "-":12} {p.device}' for p in plan.ports]
    mp = plan.mempool
    lines += ['', f'memory: NUMA node {plan.memory_node}, eal.memory_mb {plan.memory_mb} MB; mempool '
              f'{mp["mbufs"]} mbufs x {mp["data_room"]} B (cache {mp["cache"]}) = {plan.mempool_mb} MB']
    lines += [f'ring {r.name}: {r.size} entries' for r in plan.rings]
    lines += [f'hugepages: {h.pages} x {h.size_kb} kB on node {h.node}' for h in plan.hugepages] or [
        'hugepages: none (eal.hugepages is off: --no-huge)']
    lines += ['', 'EAL arguments: ' + ' '.join(plan.eal_args[1:])]
    lines += [f'note: {note}' for note in plan.notes]
    return '\n'.join(lines)


def _dash(value) -> str:
    return '-' if value is None else str(value)
