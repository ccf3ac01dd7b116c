"""What a host is made of, read from /proc and /sys under a root.

`discover(root)` returns a Topology; every fact the host does not expose (a
VM without cpufreq, a kernel without nohz_full) is None, never an error.
"""
from __future__ import annotations

import dataclasses
import re

from hwconfig import hugepages
from hwconfig.hostfs import HostFS, parse_cpulist

UNLIMITED = -1  # memlock_bytes when the limit is "unlimited"
CPU = 'sys/devices/system/cpu'
PCI = 'sys/bus/pci/devices'
PAGE_SIZE_FLAGS = {2048: 'pse', 1048576: 'pdpe1gb'}  # the CPU flag each hugepage size needs


@dataclasses.dataclass(frozen=True)
class Cpu:
    id: int
    socket: int | None
    core: int | None
    node: int | None
    siblings: frozenset[int] | None  # SMT threads of its physical core, itself included
    governor: str | None
    l3: frozenset[int] | None = None  # the CPUs sharing its last-level (L3) cache, itself included


@dataclasses.dataclass(frozen=True)
class PciDevice:
    address: str
    pci_class: str | None  # 0x020000 is an Ethernet controller
    driver: str | None
    node: int | None  # None: the firmware does not say (one node, or a VM)
    iommu_group: str | None
    interfaces: tuple[str, ...]  # kernel netdevs, while a kernel driver holds it
    speed_mbps: int | None

    @property
    def is_nic(self) -> bool:
        return (self.pci_class or '').startswith('0x02')


@dataclasses.dataclass(frozen=True)
class Irq:
    number: int
    name: str
    affinity: frozenset[int] | None  # the CPUs it may be delivered to
    effective: frozenset[int] | None  # the CPUs it is delivered to
    counts: tuple[int, ...]  # per CPU column of /proc/interrupts


@dataclasses.dataclass(frozen=True)
class IdleState:
    name: str
    latency_us: int | None
    disabled: bool


@dataclasses.dataclass(frozen=True)
class Topology:
    root: str
    possible_cpus: frozenset[int] | None
    online_cpus: frozenset[int] | None
    allowed_cpus: frozenset[int] | None  # the CPUs this process may run on
    cpus: dict[int, Cpu]
    nodes: dict[int, frozenset[int]]
    isolated: frozenset[int] | None
    nohz_full: frozenset[int] | None
    cmdline: str | None
    cpu_flags: frozenset[str] | None
    hugepages: list[hugepages.HugepagePool]
    node_hugepages: dict[int, list[hugepages.HugepagePool]]
    hugetlbfs: list[hugepages.HugetlbfsMount]
    stale_hugepage_files: list[str]
    pci: dict[str, PciDevice]
    routed_interfaces: frozenset[str] | None  # netdevs IPv4 routes go through (None: unknown)
    vfio_pci_loaded: bool
    vfio_noiommu: bool
    idle_driver: str | None
    idle_states: list[IdleState]  # cpu0's; the driver gives every CPU the same states
    clocksource: str | None
    clocksources: tuple[str, ...]
    irqs: list[Irq]
    irq_default_affinity: frozenset[int] | None
    irqbalance_running: bool
    irqbalance_banned: frozenset[int] | None
    irqbalance_file: tuple[str, str | None]  # its environment file and text (None: absent)
    thp: str | None
    numa_balancing: int | None
    timer_migration: int | None
    nmi_watchdog: int | None
    stat_interval: int | None
    memlock_bytes: int | None

    @property
    def hypervisor(self) -> bool | None:
        return None if self.cpu_flags is None else 'hypervisor' in self.cpu_flags

    def node_of(self, cpu: int) -> int | None:
        return self.cpus[cpu].node if cpu in self.cpus else None

    def page_sizes_kb(self) -> list[int]:
        """Hugepage sizes both the kernel offers and the CPU has."""
        flags = self.cpu_flags or frozenset()
        return [p.size_kb for p in self.hugepages if PAGE_SIZE_FLAGS.get(p.size_kb, '') in flags]


def _cpu(fs: HostFS, cpu: int, nodes: dict[int, frozenset[int]]) -> Cpu:
    d = f'{CPU}/cpu{cpu}'
    l3 = next((f'{d}/cache/{index}' for index in fs.names(f'{d}/cache', 'index[0-9]*')
               if fs.integer(f'{d}/cache/{index}/level') == 3), None)
    return Cpu(cpu, fs.integer(f'{d}/topology/physical_package_id'), fs.integer(f'{d}/topology/core_id'),
               next((node for node, cpus in nodes.items() if cpu in cpus), None),
               fs.cpus(f'{d}/topology/thread_siblings_list'), fs.text(f'{d}/cpufreq/scaling_governor'),
               fs.cpus(f'{l3}/shared_cpu_list') if l3 else None)


def _nodes(fs: HostFS) -> dict[int, frozenset[int]]:
    base = 'sys/devices/system/node'
    nodes = {int(name[4:]): fs.cpus(f'{base}/{name}/cpulist') for name in fs.names(base, 'node[0-9]*')}
    return {node: cpus for node, cpus in nodes.items() if cpus is not None}


def _pci_device(fs: HostFS, address: str) -> PciDevice:
    d = f'{PCI}/{address}'
    # a virtio NIC's netdev hangs off its virtio child device
    net_dirs = [f'{d}/net'] + [f'{d}/{child}/net' for child in fs.names(d, 'virtio[0-9]*')]
    interfaces = {name: net_dir for net_dir in net_dirs for name in fs.names(net_dir)}
    speeds = [fs.integer(f'{net_dir}/{name}/speed') for name, net_dir in interfaces.items()]
    node = fs.integer(f'{d}/numa_node')
    return PciDevice(address, fs.text(f'{d}/class'), fs.link_name(f'{d}/driver'),
                     None if node is None or node < 0 else node, fs.link_name(f'{d}/iommu_group'),
                     tuple(interfaces), max((s for s in speeds if s and s > 0), default=None))


def _routed_interfaces(fs: HostFS) -> frozenset[str] | None:
    """Interfaces the IPv4 routing table sends through (the Iface column of
    /proc/net/route): an interface with an address has at least its subnet's."""
    text = fs.text('proc/net/route')
    if text is None:
        return None
    return frozenset(line.split()[0] for line in text.splitlines()[1:] if line.split())


def _interrupts(fs: HostFS) -> list[Irq]:
    """Device IRQs (numbered lines of /proc/interrupts) with their affinities."""
    lines = (fs.text('proc/interrupts') or '').splitlines()
    if not lines:
        return []
    columns = len(lines[0].split())
    irqs = []
    for line in lines[1:]:
        number, _, rest = line.partition(':')
        if not number.strip().isdigit():
            continue
        fields = rest.split()
        d = f'proc/irq/{number.strip()}'
        irqs.append(Irq(int(number), ' '.join(fields[columns:]), fs.cpus(f'{d}/smp_affinity_list'),
                        fs.cpus(f'{d}/effective_affinity_list'), tuple(map(int, fields[:columns]))))
    return irqs


def _mask_cpus(mask: str) -> frozenset[int]:
    """/proc's hex CPU masks, comma-grouped in 32-bit words: 'ff,00000000'."""
    value = int(mask.replace(',', ''), 16)
    return frozenset(bit for bit in range(value.bit_length()) if value >> bit & 1)


IRQBALANCE_FILES = ('etc/default/irqbalance', 'etc/sysconfig/irqbalance')  # Debian, Red Hat


def _irqbalance_file(fs: HostFS) -> tuple[str, str | None]:
    """The environment file irqbalance reads, as it is (the Debian path when there is none)."""
    for path in IRQBALANCE_FILES:
        if fs.exists(path):
            return path, fs.path(path).read_text()
    return IRQBALANCE_FILES[0], None


def _irqbalance_banned(fs: HostFS, isolated: frozenset[int] | None,
                       nohz_full: frozenset[int] | None) -> frozenset[int] | None:
    """CPUs irqbalance leaves alone, decided as irqbalance does: IRQBALANCE_BANNED_CPUS
    (deprecated, yet it wins) or else IRQBALANCE_BANNED_CPULIST from its environment
    file, an empty value counting as not set; with neither, the isolated and nohz_full
    CPUs. None: a ban that cannot be read, or nothing known."""
    for path in IRQBALANCE_FILES:
        settings = dict(re.findall(r'^\s*(IRQBALANCE_BANNED_CPU\w*)="?([^"\n]*)"?', fs.text(path) or '', re.M))
        try:
            if settings.get('IRQBALANCE_BANNED_CPUS', '').strip():
                return _mask_cpus(settings['IRQBALANCE_BANNED_CPUS'].strip())
            if settings.get('IRQBALANCE_BANNED_CPULIST', '').strip():
                return parse_cpulist(settings['IRQBALANCE_BANNED_CPULIST'])
        except ValueError:
            return None
    if isolated is None and nohz_full is None:
        return None
    return (isolated or frozenset()) | (nohz_full or frozenset())


def _cpu_flags(fs: HostFS) -> frozenset[str] | None:
    match = re.search(r'^flags\s*:(.*)$', fs.text('proc/cpuinfo') or '', re.M)
    return frozenset(match.group(1).split()) if match else None


def _memlock_bytes(fs: HostFS) -> int | None:
    match = re.search(r'^Max locked memory\s+(\S+)', fs.text('proc/self/limits') or '', re.M)
    if not match:
        return None
    return UNLIMITED if match.group(1) == 'unlimited' else int(match.group(1))


def _bracketed(text: str | None) -> str | None:
    """The selected choice of a sysfs choice file: 'always [madvise] never' -> 'madvise'
    ('madvise' alone, as a captured tree holds it once written, is that choice too)."""
    match = re.search(r'\[(\w+)\]', text or '') or re.fullmatch(r'(\w+)', text or '')
    return match.group(1) if match else None


def _idle_states(fs: HostFS) -> list[IdleState]:
    d = f'{CPU}/cpu0/cpuidle'
    return [IdleState(fs.text(f'{d}/{state}/name') or state, fs.integer(f'{d}/{state}/latency'),
                      fs.integer(f'{d}/{state}/disable') == 1)
            for state in fs.names(d, 'state[0-9]*')]


def _nohz_full(fs: HostFS) -> frozenset[int] | None:
    text = fs.text(f'{CPU}/nohz_full')
    return frozenset() if text == '(null)' else fs.cpus(f'{CPU}/nohz_full')


def _allowed_cpus(fs: HostFS) -> frozenset[int] | None:
    match = re.search(r'^Cpus_allowed_list:\s*(\S+)', fs.text('proc/self/status') or '', re.M)
    return parse_cpulist(match.group(1)) if match else None


def discover(root: str | HostFS = '/') -> Topology:
    fs = root if isinstance(root, HostFS) else HostFS(root)
    nodes = _nodes(fs)
    online = fs.cpus(f'{CPU}/online')
    isolated, nohz_full = fs.cpus(f'{CPU}/isolated'), _nohz_full(fs)
    clocksource = 'sys/devices/system/clocksource/clocksource0'
    return Topology(
        root=str(fs.root),
        possible_cpus=fs.cpus(f'{CPU}/possible'),
        online_cpus=online,
        allowed_cpus=_allowed_cpus(fs),
        cpus={cpu: _cpu(fs, cpu, nodes) for cpu in sorted(online or ())},
        nodes=nodes,
        isolated=isolated,
        nohz_full=nohz_full,
        cmdline=fs.text('proc/cmdline'),
        cpu_flags=_cpu_flags(fs),
        hugepages=hugepages.hugepage_pools(fs),
        node_hugepages={node: hugepages.hugepage_pools(fs, node) for node in nodes},
        hugetlbfs=hugepages.mounts(fs),
        stale_hugepage_files=hugepages.stale_files(fs),
        pci={address: _pci_device(fs, address) for address in fs.names(PCI)},
        routed_interfaces=_routed_interfaces(fs),
        vfio_pci_loaded=fs.exists('sys/bus/pci/drivers/vfio-pci'),
        vfio_noiommu=fs.text('sys/module/vfio/parameters/enable_unsafe_noiommu_mode') == 'Y',
        idle_driver=fs.text(f'{CPU}/cpuidle/current_driver'),
        idle_states=_idle_states(fs),
        clocksource=fs.text(f'{clocksource}/current_clocksource'),
        clocksources=tuple((fs.text(f'{clocksource}/available_clocksource') or '').split()),
        irqs=_interrupts(fs),
        irq_default_affinity=_mask_cpus(fs.text('proc/irq/default_smp_affinity') or '0') or None,
        irqbalance_running=fs.process_running('irqbalance'),
        irqbalance_banned=_irqbalance_banned(fs, isolated, nohz_full),
        irqbalance_file=_irqbalance_file(fs),
        thp=_bracketed(fs.text('sys/kernel/mm/transparent_hugepage/enabled')),
        numa_balancing=fs.integer('proc/sys/kernel/numa_balancing'),
        timer_migration=fs.integer('proc/sys/kernel/timer_migration'),
        nmi_watchdog=fs.integer('proc/sys/kernel/nmi_watchdog'),
        stat_interval=fs.integer('proc/sys/vm/stat_interval'),
        memlock_bytes=_memlock_bytes(fs),
    )


def jsonable(value):
    """Topology (and plans, reports) as JSON-ready data: sets become sorted lists."""
    if dataclasses.is_dataclass(value):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (frozenset, set)):
        return sorted(value)
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    return value
