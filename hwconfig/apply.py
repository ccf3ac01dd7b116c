"""`colo apply` and `colo revert`: prepare a host for a plan, reversibly.

`changes()` compares the host with the plan and returns only what differs
(so a second apply does nothing). Each Change carries the operations that
make it and those that undo it, both as data; `apply()` runs them and records
each done change in the state file before the next, so `revert()` (or a
failure part way) undoes exactly what was done, newest first. Kernel
arguments are only ever printed.
"""
from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import re
import subprocess

from hwconfig import hugepages
from hwconfig.doctor import BIFURCATED, TUNABLES, housekeeping
from hwconfig.hostfs import HostFS, cpu_mask, format_cpulist
from hwconfig.plan import Plan, Target
from hwconfig.topology import Topology

STATE_FILE = 'var/lib/colo/apply-state.json'  # under the root of the host it describes
HUGETLBFS_DIRS = {2048: '/dev/hugepages', 1048576: '/dev/hugepages-1G'}


class ApplyError(RuntimeError):
    pass


@dataclasses.dataclass
class Change:
    what: str
    do: list[dict]
    undo: list[dict]
    optional: bool = False  # the kernel may refuse it (managed IRQs): report and go on


def _write(path: str, value: str) -> dict:
    return {'op': 'write', 'path': path, 'value': value}


def _pool(size_kb: int, node: int | None, pages: int) -> dict:
    return {'op': 'pool', 'size_kb': size_kb, 'node': node, 'pages': pages}


def _hugepage_changes(plan: Plan, topo: Topology) -> list[Change]:
    changes = [Change(f'remove stale hugepage file {path} (no process held it; not restorable)',
                      [{'op': 'remove', 'path': path.lstrip('/')}], []) for path in topo.stale_hugepage_files]
    for need in plan.hugepages:
        per_node = need.node in topo.node_hugepages
        pools = topo.node_hugepages[need.node] if per_node else topo.hugepages
        pool = next((p for p in pools if p.size_kb == need.size_kb), None)
        if pool is None:
            raise ApplyError(f'no {need.size_kb} kB hugepage pool in sysfs: the kernel lacks this page size')
        available = pool.free - pool.reserved
        if available < need.pages:
            total = pool.total + need.pages - available
            node = need.node if per_node else None
            changes.append(Change(f'reserve {need.size_kb} kB hugepages{"" if node is None else f" on node {node}"}:'
                                  f' {pool.total} -> {total}', [_pool(need.size_kb, node, total)],
                                  [_pool(need.size_kb, node, pool.total)]))
        if not any(m.page_size_kb == need.size_kb for m in topo.hugetlbfs):
            path = HUGETLBFS_DIRS[need.size_kb]
            mount = [{'op': 'mount', 'path': path, 'size_kb': need.size_kb}]
            made = [] if os.path.isdir(os.path.join(topo.root, path.lstrip('/'))) else [{'op': 'mkdir', 'path': path}]
            changes.append(Change(f'mount hugetlbfs (pagesize {need.size_kb} kB) on {path}', made + mount,
                                  [{'op': 'unmount', 'path': path}] + [{'op': 'rmdir', 'path': path}] * len(made)))
    return changes


def _nic_changes(tgt: Target, topo: Topology) -> list[Change]:
    changes = []
    for name, address in tgt.pci.items():
        driver = topo.pci[address].driver
        if driver in ('vfio-pci', *BIFURCATED):
            continue
        routed = sorted(set(topo.pci[address].interfaces) & (topo.routed_interfaces or frozenset()))
        if routed:  # dpdk-devbind refuses these too: unbound, the host loses the link
            raise ApplyError(f'port {name} ({address}): its interface {routed[0]} carries IPv4 routes, and '
                             'may be how this host is reached; if the port is right, take the interface '
                             f'down first (`ip link set {routed[0]} down`)')
        if not topo.vfio_pci_loaded:
            raise ApplyError(f'port {name} ({address}): vfio-pci is not loaded; `modprobe vfio-pci` first '
                             '(and enable the IOMMU: intel_iommu=on iommu=pt)')
        device, drivers = f'sys/bus/pci/devices/{address}', 'sys/bus/pci/drivers'
        unbind = [_write(f'{drivers}/{driver}/unbind', address)] if driver else []
        rebind = [_write(f'{drivers}/{driver}/bind', address)] if driver else []
        changes.append(Change(f'bind port {name} ({address}) from {driver or "no driver"} to vfio-pci',
                              [_write(f'{device}/driver_override', 'vfio-pci'), *unbind,
                               _write(f'{drivers}/vfio-pci/bind', address)],
                              [_write(f'{drivers}/vfio-pci/unbind', address),
                               _write(f'{device}/driver_override', '\n'), *rebind]))
    return changes


def _irq_changes(tgt: Target, topo: Topology) -> list[Change]:
    others = housekeeping(tgt, topo)
    if not others:
        raise ApplyError('every online CPU is a datapath lcore: IRQs have nowhere to go; keep one for housekeeping')
    changes = [Change(f'IRQ {irq.number} ({irq.name}): affinity {format_cpulist(irq.affinity)} -> '
                      f'{format_cpulist(irq.affinity - tgt.datapath or others)}',
                      [_write(f'proc/irq/{irq.number}/smp_affinity_list',
                              format_cpulist(irq.affinity - tgt.datapath or others))],
                      [_write(f'proc/irq/{irq.number}/smp_affinity_list', format_cpulist(irq.affinity))],
                      optional=True)
               for irq in topo.irqs if irq.affinity and irq.affinity & tgt.datapath]
    default = topo.irq_default_affinity
    if default and default & tgt.datapath:
        changes.append(Change(f'default IRQ affinity {format_cpulist(default)} -> {format_cpulist(others)}',
                              [_write('proc/irq/default_smp_affinity', cpu_mask(others))],
                              [_write('proc/irq/default_smp_affinity', cpu_mask(default))]))
    return changes


def _irqbalance_changes(tgt: Target, topo: Topology) -> list[Change]:
    """A running irqbalance would move IRQs back onto the datapath lcores: they
    join its banned list (IRQBALANCE_BANNED_CPULIST), and it is restarted."""
    banned = topo.irqbalance_banned or frozenset()
    if not topo.irqbalance_running or tgt.datapath <= banned:
        return []
    path, text = topo.irqbalance_file
    kept = [line for line in (text or '').splitlines()
            if not re.match(r'\s*IRQBALANCE_BANNED_CPU', line)]
    cpus = format_cpulist(banned | tgt.datapath)
    restart = {'op': 'restart', 'service': 'irqbalance'}
    restore = _write(path, text) if text is not None else {'op': 'remove', 'path': path}
    return [Change(f'irqbalance: CPUs {cpus} banned in /{path}, irqbalance restarted',
                   [_write(path, '\n'.join(kept + [f'IRQBALANCE_BANNED_CPULIST={cpus}']) + '\n'),
                    restart],
                   [restore, restart])]


def _cpu_changes(tgt: Target, topo: Topology) -> list[Change]:
    changes = []
    for lcore in sorted(tgt.datapath & set(topo.cpus)):
        governor = topo.cpus[lcore].governor
        if governor not in (None, 'performance'):
            path = f'sys/devices/system/cpu/cpu{lcore}/cpufreq/scaling_governor'
            changes.append(Change(f'cpu{lcore} governor {governor} -> performance',
                                  [_write(path, 'performance')], [_write(path, governor)]))
    for t in TUNABLES:
        value = getattr(topo, t.name)
        if not t.ok(value):
            changes.append(Change(f'{t.name} {value} -> {t.wanted}', [_write(t.path, t.wanted)],
                                  [_write(t.path, str(value))]))
    return changes


def changes(tgt: Target, plan: Plan, topo: Topology) -> list[Change]:
    """What differs between the host and the plan, in the order to do it."""
    return (_hugepage_changes(plan, topo) + _nic_changes(tgt, topo) + _irq_changes(tgt, topo)
            + _irqbalance_changes(tgt, topo) + _cpu_changes(tgt, topo))


def describe(op: dict) -> str:
    where = f"/{op['path'].lstrip('/')}" if 'path' in op else ''
    if op['op'] == 'write':
        return f"write {op['value'].strip() or '(empty)'} > {where}"
    if op['op'] == 'pool':
        return f"write {op['pages']} > /{hugepages.pool_dir(op['size_kb'], op['node'])}/nr_hugepages"
    if op['op'] == 'mount':
        return f"mount -t hugetlbfs -o pagesize={op['size_kb']}K nodev {where}"
    if op['op'] == 'restart':
        return f"systemctl restart {op['service']}"
    return {'unmount': 'umount', 'remove': 'rm', 'mkdir': 'mkdir', 'rmdir': 'rmdir'}[op['op']] + f' {where}'


def _run(op: dict, fs: HostFS) -> None:
    kind, path = op['op'], op.get('path', '')
    if kind in ('mount', 'unmount') and not fs.live:
        raise ApplyError(f'{describe(op)}: mounting needs the live host, not the tree at {fs.root}')
    if kind == 'write':
        fs.write(path, op['value'])
    elif kind == 'pool':
        got = hugepages.set_pool_size(op['size_kb'], op['pages'], op['node'], fs)
        if got != op['pages']:
            raise ApplyError(f"asked the kernel for {op['pages']} hugepages of {op['size_kb']} kB, it gave {got}: "
                             f"memory is fragmented; reserve them at boot (hugepagesz, hugepages kernel arguments)")
    elif kind == 'mount':
        hugepages.mount_hugetlbfs(path, op['size_kb'])
    elif kind == 'unmount':
        hugepages.unmount(path)
    elif kind == 'remove':
        fs.path(path).unlink(missing_ok=True)
    elif kind == 'restart' and fs.live:  # a captured tree runs no services
        done = subprocess.run(['systemctl', 'restart', op['service']], capture_output=True, text=True)
        if done.returncode != 0:
            raise ApplyError(done.stderr.strip() or f'systemctl exited {done.returncode}')
    elif kind == 'mkdir':
        fs.path(path.lstrip('/')).mkdir()
    elif kind == 'rmdir':
        fs.path(path.lstrip('/')).rmdir()


def _error(op: dict, error: Exception) -> str:
    detail = getattr(error, 'stderr', None) or getattr(error, 'strerror', None) or str(error)
    return f'{describe(op)}: {str(detail).strip()}'


def state_path(fs: HostFS, override: str | None = None) -> pathlib.Path:
    return pathlib.Path(override) if override else fs.path(STATE_FILE)


def _load(path: pathlib.Path) -> list[dict]:
    try:
        return json.loads(path.read_text())['changes']
    except FileNotFoundError:
        return []
    except (ValueError, KeyError) as error:
        raise ApplyError(f'state file {path} is damaged ({error}); inspect it, then remove it') from None


def _save(path: pathlib.Path, done: list[dict]) -> None:
    if not done:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix('.tmp')
    temporary.write_text(json.dumps({'version': 1, 'changes': done}, indent=1) + '\n')
    temporary.replace(path)  # a crash leaves the old state or the new, never half of one


def require_root(fs: HostFS, command: str) -> None:
    if fs.live and os.geteuid() != 0:
        raise ApplyError(f'{command} writes kernel settings under /sys and /proc and needs root: '
                         f'run it with sudo (`colo apply --dry-run` shows the changes without root)')


def _undo(change: dict, fs: HostFS) -> list[str]:
    """Runs a change's undo operations; returns what failed."""
    failed = []
    for op in change['undo']:
        try:
            _run(op, fs)
        except (OSError, ApplyError, ValueError) as error:
            failed.append(_error(op, error))
    return failed


def apply(todo: list[Change], fs: HostFS, state: pathlib.Path) -> tuple[list[str], list[str]]:
    """Makes the changes: (what was done, optional ones the kernel refused).
    On any other failure, undoes this run's changes and raises ApplyError."""
    done = _load(state)
    before, refused = len(done), []
    for change in todo:
        try:
            for op in change.do:
                _run(op, fs)
        except (OSError, ApplyError, ValueError) as error:
            message = _error(op, error)
            if change.optional:
                refused.append(f'{change.what}: refused ({message})')
                continue
            _undo(dataclasses.asdict(change), fs)  # best effort: some of its steps never happened
            failed = [f for c in reversed(done[before:]) for f in _undo(c, fs)]
            _save(state, done[:before])
            raise ApplyError(f'{change.what} failed: {message}; the changes of this run were undone'
                             + (f', except: {"; ".join(failed)}' if failed else '')) from None
        done.append(dataclasses.asdict(change))
        _save(state, done)
    return [change['what'] for change in done[before:]], refused


def revert(fs: HostFS, state: pathlib.Path) -> tuple[list[str], list[str]]:
    """Undoes every recorded change, newest first: (what was undone, what failed).
    Changes whose undo failed stay in the state file for another try."""
    undone, failed, kept = [], [], []
    for change in reversed(_load(state)):
        errors = _undo(change, fs)
        if errors:
            failed += errors
            kept.insert(0, change)
        else:
            undone.append(change['what'])
    _save(state, kept)
    return undone, failed
