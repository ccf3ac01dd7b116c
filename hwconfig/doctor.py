"""`colo doctor`: the preflight checklist, judged against a config.

Each check is a small function of (Target, Topology) returning a Finding:
PASS, WARN (works, but costs latency or jitter) or FAIL (will not start,
or runs wrong: remote NUMA memory, IRQs on a polling core, unstable TSC).
"""
from __future__ import annotations

import dataclasses

from hwconfig.hostfs import format_cpulist
from hwconfig.plan import PAGE_SIZES, Target, memory_node, problems
from hwconfig.topology import UNLIMITED, Topology

PASS, WARN, FAIL = 'PASS', 'WARN', 'FAIL'
BIFURCATED = {'mlx5_core', 'mlx4_core'}  # DPDK drives these NICs alongside their kernel driver
DEEP_IDLE_US = 10  # an enabled idle state slower to leave than this adds wake-up jitter


@dataclasses.dataclass(frozen=True)
class Finding:
    check: str
    status: str
    file: str  # what was read
    found: str
    why: str = ''
    fix: str = ''  # commands to run now
    kernel_args: tuple[str, ...] = ()  # what needs a reboot: printed, never written


def _cpus(cpus) -> str:
    return 'unknown' if cpus is None else format_cpulist(cpus) or 'none'


def housekeeping(tgt: Target, topo: Topology) -> frozenset[int]:
    """The CPUs for everything but the data plane: online, not datapath, not isolated (if any are left)."""
    others = frozenset(topo.online_cpus or ()) - tgt.datapath
    return others - (topo.isolated or frozenset()) or others


def _isolation_args(tgt: Target, topo: Topology) -> tuple[str, ...]:
    """Boot arguments isolating the datapath lcores as well as the CPUs isolated already."""
    isolated = _cpus(tgt.datapath | (topo.isolated or frozenset()))
    return (f'isolcpus=managed_irq,domain,{isolated}', f'nohz_full={isolated}', f'rcu_nocbs={isolated}',
            f'irqaffinity={_cpus(housekeeping(tgt, topo))}')


def _apply(tgt: Target) -> str:
    return f'colo apply {tgt.path or "CONFIG"}'


def check_hypervisor(tgt, topo):
    if topo.hypervisor is None:
        return Finding('hypervisor', WARN, '/proc/cpuinfo', 'no CPU flags: cannot tell bare metal from a VM')
    if topo.hypervisor:
        return Finding('hypervisor', WARN, '/proc/cpuinfo', 'the CPU flags include "hypervisor": a virtual machine',
                       'vCPUs are host threads the hypervisor can preempt; latency and throughput measured '
                       'here are not representative of bare metal', 'run production on bare metal')
    return Finding('hypervisor', PASS, '/proc/cpuinfo', 'bare metal')


def check_placement(tgt, topo):
    found = problems(tgt, topo)
    if found:
        return Finding('placement', FAIL, '/sys/devices/system/cpu/online, /sys/bus/pci/devices',
                       '; '.join(f'{p.field}: {p.text}' for p in found),
                       'the data plane cannot start on CPUs or devices the host does not have',
                       'fix the config fields named above')
    return Finding('placement', PASS, '/sys/devices/system/cpu/online, /sys/bus/pci/devices',
                   f'lcores {_cpus({tgt.eal.main_lcore, *tgt.datapath})} online'
                   + (f', PCI devices {", ".join(tgt.pci.values())} present' if tgt.pci else ''))


def check_affinity(tgt, topo):
    outside = tgt.datapath - (topo.allowed_cpus or tgt.datapath)
    if outside:
        return Finding('affinity', WARN, '/proc/self/status (Cpus_allowed_list)',
                       f'this process may not run on lcores {_cpus(outside)} (allowed {_cpus(topo.allowed_cpus)})',
                       'those stages then share the main CPU (dataplane/eal.py maps them there)',
                       'run colo outside the cpuset/container limit, e.g. `taskset -c 0-N colo run`')
    return Finding('affinity', PASS, '/proc/self/status (Cpus_allowed_list)',
                   f'allowed CPUs {_cpus(topo.allowed_cpus)} include every lcore')


def check_isolation(tgt, topo):
    missing = tgt.datapath - (topo.isolated or frozenset())
    if missing:
        return Finding('isolation', WARN, '/sys/devices/system/cpu/isolated',
                       f'datapath lcores {_cpus(missing)} are not isolated (isolated: {_cpus(topo.isolated or ())})',
                       'the scheduler runs other tasks and kernel threads on them: multi-microsecond stalls',
                       'add the kernel arguments and reboot', _isolation_args(tgt, topo))
    return Finding('isolation', PASS, '/sys/devices/system/cpu/isolated', f'lcores {_cpus(tgt.datapath)} isolated')


def check_nohz_full(tgt, topo):
    missing = tgt.datapath - (topo.nohz_full or frozenset())
    if missing:
        return Finding('nohz_full', WARN, '/sys/devices/system/cpu/nohz_full',
                       f'lcores {_cpus(missing)} take the scheduler tick '
                       f'(nohz_full: {"unknown" if topo.nohz_full is None else _cpus(topo.nohz_full)})',
                       'a tick interrupts the polling loop up to 1000 times a second',
                       'add the kernel arguments and reboot', _isolation_args(tgt, topo)[1:3])
    return Finding('nohz_full', PASS, '/sys/devices/system/cpu/nohz_full', f'lcores {_cpus(tgt.datapath)} tickless')


def check_smt(tgt, topo):
    busy = tgt.datapath | housekeeping(tgt, topo)  # an isolated, unused sibling is idle: no contention
    shared = {lcore: ((topo.cpus[lcore].siblings or frozenset()) & busy) - {lcore}
              for lcore in sorted(tgt.datapath & set(topo.cpus))}
    shared = {lcore: siblings for lcore, siblings in shared.items() if siblings}
    file = '/sys/devices/system/cpu/cpu*/topology/thread_siblings_list'
    if shared:
        return Finding('smt', WARN, file, '; '.join(
                           f'lcore {lcore} shares its core with {"datapath" if siblings <= tgt.datapath else "busy"}'
                           f' CPU {_cpus(siblings)}' for lcore, siblings in shared.items()),
                       'SMT siblings share the core\'s execution units and caches: the busier one slows the other',
                       'use lcores on distinct physical cores, or take the siblings offline: ' + '; '.join(
                           f'echo 0 > /sys/devices/system/cpu/cpu{cpu}/online'
                           for cpu in sorted(set().union(*shared.values()) - tgt.datapath)),
                       ('nosmt',))
    return Finding('smt', PASS, file, 'no datapath lcore shares a physical core with a busy CPU')


def check_l3(tgt, topo):
    file = '/sys/devices/system/cpu/cpu*/cache/index*/shared_cpu_list (level 3)'
    caches = {topo.cpus[lcore].l3 for lcore in tgt.datapath if lcore in topo.cpus}
    if None in caches or not caches:
        return Finding('l3', PASS, file, 'last-level caches unknown')
    if len(caches) > 1:
        return Finding('l3', WARN, file, 'datapath lcores span ' + ', '.join(
                           f'L3 of CPUs {_cpus(cpus)} (lcores {_cpus(tgt.datapath & cpus)})'
                           for cpus in sorted(caches, key=min)),
                       'a ring between stages on two L3 caches moves every cache line across dies: '
                       'about 3.5x the latency (95 vs 340 ns a round trip, measured on this project\'s VM '
                       'when its host moved the vCPUs apart)',
                       'pick datapath lcores that share one L3 (stages.*, eal.lcores)')
    return Finding('l3', PASS, file, f'lcores {_cpus(tgt.datapath)} share one L3 cache')


def check_numa(tgt, topo):
    if len(topo.nodes) <= 1:
        return Finding('numa', PASS, '/sys/devices/system/node', f'{len(topo.nodes) or "no"} NUMA node(s): all local')
    where = {f'lcore {lcore}': topo.node_of(lcore) for lcore in sorted(tgt.datapath)}
    where.update({f'port {name} ({address})': topo.pci[address].node
                  for name, address in tgt.pci.items() if address in topo.pci})
    found = ', '.join(f'{what} on node {node}' for what, node in where.items())
    if len({node for node in where.values() if node is not None}) > 1:
        return Finding('numa', FAIL, '/sys/devices/system/node/node*/cpulist, /sys/bus/pci/devices/*/numa_node',
                       found, 'a stage polling a NIC or touching memory on another socket pays the interconnect '
                       'on every packet', 'put the lcores on the node of the NICs (see `colo plan`)')
    return Finding('numa', PASS, '/sys/devices/system/node/node*/cpulist, /sys/bus/pci/devices/*/numa_node', found)


def check_hugepages(tgt, topo):
    file = '/sys/kernel/mm/hugepages, /sys/devices/system/node/node*/hugepages, /proc/mounts'
    if tgt.eal.hugepages == 'off':
        return Finding('hugepages', PASS, file, 'eal.hugepages is off: the data plane runs with --no-huge')
    mounted = {m.page_size_kb for m in topo.hugetlbfs}
    node = memory_node(tgt, topo)
    local_pools = topo.node_hugepages.get(node, topo.hugepages) if len(topo.nodes) > 1 else topo.hugepages
    local, anywhere = (sum(p.free_mb for p in pools if p.size_kb in mounted) for pools in (local_pools, topo.hugepages))
    found = (f'{local} MB free and mounted on node {node} ({anywhere} MB on all nodes), {tgt.eal.memory_mb} MB '
             f'needed (eal.memory_mb); mounts: {", ".join(m.path for m in topo.hugetlbfs) or "none"}')
    if local >= tgt.eal.memory_mb:
        return Finding('hugepages', PASS, file, found)
    if anywhere >= tgt.eal.memory_mb:
        status, why = FAIL, f'the data plane takes its memory from another node than {node}: every packet crosses'
    elif tgt.eal.hugepages == 'on':
        status, why = FAIL, 'the data plane will not start (eal.hugepages: on)'
    else:
        status, why = WARN, 'the data plane starts with --no-huge: 4 kB pages, TLB misses, slower I/O'
    size = next(name for name, kb in PAGE_SIZES.items() if kb == tgt.page_size_kb)
    return Finding('hugepages', status, file, found, why, f'{_apply(tgt)} (reserves and mounts them)',
                   (f'hugepagesz={size} hugepages={-(-tgt.eal.memory_mb * 1024 // tgt.page_size_kb)}',))


def check_stale_hugepages(tgt, topo):
    file = 'hugetlbfs mounts in /proc/mounts'
    if topo.stale_hugepage_files:
        files = topo.stale_hugepage_files
        return Finding('stale_hugepages', WARN, file,
                       f'{len(files)} DPDK hugepage files no process holds: {", ".join(files[:4])}'
                       + (' ...' if len(files) > 4 else ''),
                       'each pins a hugepage a crashed DPDK process left behind: free pages look reserved but are '
                       'gone', f'{_apply(tgt)}, or rm ' + ' '.join(files))
    return Finding('stale_hugepages', PASS, file, 'no stale DPDK hugepage files')


def _vfio_state(address: str, topo: Topology) -> tuple[str, str]:
    device = topo.pci[address]
    if device.driver == 'vfio-pci':
        return PASS, f'{address} is bound to vfio-pci'
    if device.driver in BIFURCATED:
        return PASS, f'{address} stays on {device.driver} (bifurcated: DPDK shares it with the kernel)'
    if not topo.vfio_pci_loaded:
        return FAIL, f'{address} is on {device.driver or "no driver"} and vfio-pci is not loaded'
    if device.iommu_group is None and not topo.vfio_noiommu:
        return FAIL, f'{address} has no IOMMU group and vfio no-IOMMU mode is off'
    return WARN, f'{address} is on {device.driver or "no driver"}; `colo apply` binds it to vfio-pci'


def check_vfio(tgt, topo):
    file = '/sys/bus/pci/devices/*/driver, iommu_group, /sys/bus/pci/drivers/vfio-pci'
    devices = [address for address in tgt.pci.values() if address in topo.pci]
    if not devices:
        return Finding('vfio', PASS, file, 'no PCI ports configured (virtual devices only)')
    states = [_vfio_state(address, topo) for address in devices]
    status = FAIL if any(s == FAIL for s, _ in states) else WARN if any(s == WARN for s, _ in states) else PASS
    return Finding('vfio', status, file, '; '.join(text for _, text in states),
                   '' if status == PASS else 'DPDK drives a NIC only through vfio-pci (or a bifurcated driver)',
                   {PASS: '', WARN: _apply(tgt),
                    FAIL: f'modprobe vfio-pci, enable the IOMMU in firmware, then {_apply(tgt)}'}[status],
                   ('intel_iommu=on', 'iommu=pt') if status == FAIL else ())


def check_nic_routes(tgt, topo):
    file = '/proc/net/route, /sys/bus/pci/devices/*/net'
    if topo.routed_interfaces is None:
        return Finding('nic_routes', WARN, file, 'the routing table is unreadable')
    routed = [f'{address} ({iface})' for address in tgt.pci.values() if address in topo.pci
              for iface in topo.pci[address].interfaces if iface in topo.routed_interfaces]
    if not routed:
        return Finding('nic_routes', PASS, file, 'no configured port carries IPv4 routes')
    return Finding('nic_routes', FAIL, file, f"IPv4 routes go through {', '.join(routed)}",
                   'bound to DPDK, the port leaves the kernel: what reaches this host through it is cut off; '
                   '`colo apply` refuses it',
                   'check the PCI address in the config; if it is right, take the interface down first')


def check_governor(tgt, topo):
    file = '/sys/devices/system/cpu/cpu*/cpufreq/scaling_governor'
    governors = {lcore: topo.cpus[lcore].governor for lcore in sorted(tgt.datapath & set(topo.cpus))}
    if not any(governors.values()):
        return Finding('governor', PASS, file, 'no cpufreq driver: the OS does not scale CPU frequency here')
    slow = {lcore: g for lcore, g in governors.items() if g != 'performance'}
    if slow:
        return Finding('governor', WARN, file, ', '.join(f'cpu{lcore}: {g}' for lcore, g in slow.items()),
                       'a non-performance governor lowers the clock when load dips; the next burst runs slow',
                       f'{_apply(tgt)}, or: ' + '; '.join(
                           f'echo performance > /sys/devices/system/cpu/cpu{lcore}/cpufreq/scaling_governor'
                           for lcore in slow))
    return Finding('governor', PASS, file, f'performance on lcores {_cpus(tgt.datapath)}')


def irqs_on(cpus, topo: Topology):
    """Device IRQs allowed on and delivered to any of cpus. One whose allowed
    set was moved off them moves at its next interrupt: not counted."""
    return [irq for irq in topo.irqs
            if irq.affinity is not None and irq.affinity & cpus and (irq.effective is None or irq.effective & cpus)]


def check_irqs(tgt, topo):
    file = '/proc/interrupts, /proc/irq/*/effective_affinity_list'
    landing = irqs_on(tgt.datapath, topo)
    if landing:
        return Finding('irqs', FAIL, file,
                       f'{len(landing)} IRQs land on datapath lcores: '
                       + ', '.join(f'{irq.number} ({irq.name})' for irq in landing[:6])
                       + (' ...' if len(landing) > 6 else ''),
                       'an interrupt stops the polling loop for microseconds and pollutes its cache',
                       f'{_apply(tgt)} moves them to housekeeping CPUs; the kernel refuses to move '
                       'managed IRQs (queues of multi-queue devices): those need the boot arguments',
                       (f'irqaffinity={_cpus(housekeeping(tgt, topo))}',))
    return Finding('irqs', PASS, file, f'no device IRQ lands on lcores {_cpus(tgt.datapath)}')


def check_irqbalance(tgt, topo):
    file = '/proc/*/comm, /etc/default/irqbalance'
    if not topo.irqbalance_running:
        return Finding('irqbalance', PASS, file, 'irqbalance is not running')
    banned = topo.irqbalance_banned or frozenset()
    unbanned = tgt.datapath - banned
    if unbanned:
        return Finding('irqbalance', WARN, file, f'irqbalance runs and may move IRQs onto lcores {_cpus(unbanned)}',
                       'it undoes `colo apply`\'s IRQ moves within seconds',
                       # a list of its own replaces the CPUs irqbalance bans now: keep them in it
                       f'set IRQBALANCE_BANNED_CPULIST={_cpus(banned | tgt.datapath)} in /etc/default/irqbalance and '
                       '`systemctl restart irqbalance` (or `systemctl disable --now irqbalance`)')
    return Finding('irqbalance', PASS, file, f'irqbalance runs with lcores {_cpus(tgt.datapath)} banned')


def check_clock(tgt, topo):
    file = '/sys/devices/system/clocksource/clocksource0/current_clocksource, /proc/cpuinfo'
    missing = {'constant_tsc', 'nonstop_tsc'} - (topo.cpu_flags or frozenset())
    if missing:
        return Finding('tsc', FAIL, file, f'CPU flags lack {", ".join(sorted(missing))}',
                       'the data plane times everything with the TSC calibrated once: a TSC that changes rate or '
                       'stops in idle makes timestamps wrong', 'use a CPU with an invariant TSC')
    if topo.clocksource != 'tsc':
        return Finding('tsc', WARN, file, f'clocksource is {topo.clocksource or "unknown"} (available: '
                       f'{" ".join(topo.clocksources) or "unknown"})',
                       'the kernel distrusts the TSC: its clock reads are slower and may drift from the TSC',
                       'echo tsc > /sys/devices/system/clocksource/clocksource0/current_clocksource',
                       ('clocksource=tsc', 'tsc=reliable'))
    return Finding('tsc', PASS, file, 'invariant TSC, clocksource tsc')


def check_idle(tgt, topo):
    file = '/sys/devices/system/cpu/cpu0/cpuidle/state*/{name,latency,disable}'
    deep = [s for s in topo.idle_states if not s.disabled and (s.latency_us or 0) > DEEP_IDLE_US]
    if deep:
        return Finding('idle', WARN, file, f'{topo.idle_driver}: enabled states ' + ', '.join(
                           f'{s.name} ({s.latency_us} us exit)' for s in deep),
                       'a CPU in a deep C-state takes that long to wake; a sibling or the housekeeping side of '
                       'the pipeline pays it', 'cpupower idle-set -D 10',
                       ('intel_idle.max_cstate=1', 'processor.max_cstate=1'))
    return Finding('idle', PASS, file, f'{topo.idle_driver or "no cpuidle driver"}: no idle state deeper than '
                   f'{DEEP_IDLE_US} us enabled')


def check_memlock(tgt, topo):
    need = tgt.eal.memory_mb * 2**20
    limit = topo.memlock_bytes
    if not tgt.pci:
        return Finding('memlock', PASS, '/proc/self/limits', 'no vfio devices configured: nothing pinned')
    if limit is None or limit == UNLIMITED or limit >= need:
        return Finding('memlock', PASS, '/proc/self/limits',
                       'memlock limit ' + ('unknown' if limit is None else 'unlimited' if limit == UNLIMITED
                                           else f'{limit // 2**20} MB'))
    return Finding('memlock', WARN, '/proc/self/limits', f'memlock limit {limit // 2**20} MB < {tgt.eal.memory_mb} MB',
                   'vfio pins DPDK memory; without root (CAP_IPC_LOCK) a low limit stops the start',
                   '`ulimit -l unlimited`, or LimitMEMLOCK=infinity in the service unit')


@dataclasses.dataclass(frozen=True)
class Tunable:
    """A runtime kernel setting: its Topology field, file, wanted value; `colo apply` writes it."""
    name: str
    path: str
    wanted: str
    why: str
    kernel_arg: str = ''
    at_least: bool = False  # wanted is a minimum
    also_ok: tuple[str, ...] = ()

    def ok(self, value) -> bool:
        if value is None or str(value) in (self.wanted, *self.also_ok):
            return True
        return self.at_least and int(value) >= int(self.wanted)


TUNABLES = [
    Tunable('thp', 'sys/kernel/mm/transparent_hugepage/enabled', 'madvise',
            'khugepaged compacts and collapses pages behind the data plane\'s back', 'transparent_hugepage=madvise',
            also_ok=('never',)),
    Tunable('numa_balancing', 'proc/sys/kernel/numa_balancing', '0',
            'automatic NUMA balancing unmaps pages to sample them: page faults on the hot path'),
    Tunable('timer_migration', 'proc/sys/kernel/timer_migration', '0',
            'timers migrate to whichever CPU is busy: the polling lcores'),
    Tunable('nmi_watchdog', 'proc/sys/kernel/nmi_watchdog', '0',
            'the watchdog fires an NMI on every CPU periodically', 'nmi_watchdog=0'),
    Tunable('stat_interval', 'proc/sys/vm/stat_interval', '10',
            'vmstat work runs on every CPU each interval', at_least=True),
]


def tunable_findings(tgt, topo):
    for t in TUNABLES:
        value = getattr(topo, t.name)
        found = f'{t.name} is {"unknown" if value is None else value}'
        if t.ok(value):
            yield Finding(t.name, PASS, '/' + t.path, found)
        else:
            yield Finding(t.name, WARN, '/' + t.path, found, t.why,
                          f'{_apply(tgt)}, or: echo {t.wanted} > /{t.path}',
                          (t.kernel_arg,) if t.kernel_arg else ())


CHECKS = [check_hypervisor, check_placement, check_affinity, check_isolation, check_nohz_full, check_smt,
          check_l3, check_numa, check_hugepages, check_stale_hugepages, check_vfio, check_nic_routes,
          check_governor, check_irqs,
          check_irqbalance, check_clock, check_idle, check_memlock]


def diagnose(tgt: Target, topo: Topology) -> list[Finding]:
    findings = [check(tgt, topo) for check in CHECKS]
    return findings + list(tunable_findings(tgt, topo))


def kernel_args(findings: list[Finding]) -> list[str]:
    """The kernel arguments the WARN and FAIL findings ask for, each once."""
    return list(dict.fromkeys(arg for f in findings if f.status != PASS for arg in f.kernel_args))


def format_report(tgt: Target, topo: Topology, findings: list[Finding]) -> str:
    lines = [f'colo doctor: host {topo.root}, judged against {tgt.path or "the default eal section"} '
             f'(main lcore {tgt.eal.main_lcore}, datapath lcores {_cpus(tgt.datapath)}, '
             f'{tgt.eal.memory_mb} MB)', '']
    for f in findings:
        lines.append(f'{f.status}  {f.check:16} {f.found}')
        if f.status != PASS:
            lines += [f'      read: {f.file}', f'      why:  {f.why}']
            lines += [f'      fix:  {f.fix}'] if f.fix else []
            lines += [f'      boot: {" ".join(f.kernel_args)}'] if f.kernel_args else []
    if topo.hypervisor:
        lines += ['', 'This is a virtual machine: checks describe it, but timings measured here are not '
                      'representative of a prepared bare-metal host.']
    args = kernel_args(findings)
    if args:
        lines += ['', 'kernel arguments to add (then reboot): ' + ' '.join(args)]
    counts = {s: sum(f.status == s for f in findings) for s in (FAIL, WARN, PASS)}
    lines += ['', ', '.join(f'{n} {s}' for s, n in counts.items())]
    return '\n'.join(lines)
