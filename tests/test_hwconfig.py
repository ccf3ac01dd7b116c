"""Host preparation: discovery, doctor, plan, apply/revert on captured host
trees (tests/hosts/*, see its README), and for real on this machine as root."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dataplane.cli import main
from dataplane.config import ConfigError, load_config
from hwconfig import apply, hugepages
from hwconfig.capture import capture
from hwconfig.doctor import FAIL, PASS, WARN, diagnose
from hwconfig.hostfs import HostFS
from hwconfig.placement import place, uses_auto
from hwconfig.plan import PagePlan, Ring, format_plan, make_plan, target
from hwconfig.topology import discover, jsonable

HOSTS = Path(__file__).parent / 'hosts'
VM, SERVER, MISCONFIGURED = HOSTS / 'vm-2cpu', HOSTS / 'server-2s', HOSTS / 'misconfigured'

CONFIG = """\
eal: {eal}
ports:
  feed_a: {{device: "{feed}"}}
  md_out: {{device: net_null0, ip: 10.0.0.5}}
feeds:
  - {{name: totalview, protocol: itch50-moldudp64, session_date: 2026-11-24,
     lines: {{a: {{port: feed_a, group: 233.54.12.111, udp_port: 26477}}}}}}
outputs:
  - {{name: ticks, port: md_out, group: 239.10.0.1, udp_port: 31001, session: COLO000001}}
stages: {stages}
"""
# The rest of the order path, for configs that run its stages.
ORDER_ENTRY = """\
instruments: [{symbol: AAPL, id: 1}]
accounts: [{name: alpha}]
sessions: [{name: s1, username: ALPHA1, password: secret, account: alpha, allowed_sources: [10.1.0.0/16]}]
order_entry: {port: orders, udp_port: 30001}
"""


@pytest.fixture
def write_config(tmp_path, monkeypatch):
    """Writes ./colo.yaml (so errors name it as an operator would see it) and returns its name."""
    monkeypatch.chdir(tmp_path)

    def write(eal='{main_lcore: 1, lcores: [2, 3]}', feed='0000:18:00.0',
              stages='{md: 2, gateway: 3, risk: 3, matching: 3}'):
        text = CONFIG.format(eal=eal, feed=feed, stages=stages)
        if 'gateway' in stages:  # the order path, on a port of its own
            text = text.replace('ports:\n', 'ports:\n  orders: {device: net_null5, ip: 10.0.3.5}\n')
            text += ORDER_ENTRY
        Path('colo.yaml').write_text(text)
        return 'colo.yaml'
    return write


@pytest.fixture
def host_copy(tmp_path):
    """A writable copy of a captured host, for apply and revert."""
    def copy(host):
        return shutil.copytree(host, tmp_path / host.name, symlinks=True)
    return copy


def verdicts(host, config_path=None, page_size_kb=2048):
    tgt = target(load_config(config_path) if config_path else None, page_size_kb)
    return {f.check: f.status for f in diagnose(tgt, discover(host))}


def tree_files(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): os.readlink(p) if p.is_symlink() else p.read_text()
            for p in sorted(root.rglob('*')) if p.is_symlink() or p.is_file()}


# -- discovery ---------------------------------------------------------------

def test_vm_discovery():
    topo = discover(VM)
    assert topo.online_cpus == {0, 1} and topo.nodes == {0: {0, 1}}
    assert topo.hypervisor and topo.clocksource == 'tsc' and {'constant_tsc', 'nonstop_tsc'} <= topo.cpu_flags
    assert [c.governor for c in topo.cpus.values()] == [None, None]  # no cpufreq in this VM
    assert topo.pci['0000:00:03.0'].is_nic and topo.pci['0000:00:03.0'].interfaces == ('eth0',)
    assert topo.page_sizes_kb() == [1048576, 2048] and topo.hugetlbfs == []


def test_server_discovery():
    topo = discover(SERVER)
    assert len(topo.cpus) == 32 and topo.possible_cpus == set(range(64))
    assert topo.cpus[2].siblings == {2, 18} and (topo.cpus[10].socket, topo.cpus[10].node) == (1, 1)
    nic_a, nic_b = topo.pci['0000:18:00.0'], topo.pci['0000:af:00.0']
    assert (nic_a.driver, nic_a.node, nic_a.iommu_group) == ('vfio-pci', 0, '35')
    assert (nic_b.driver, nic_b.node, nic_b.speed_mbps, nic_b.interfaces) == ('ice', 1, 25000, ('ens801f0',))
    assert {p.size_kb: p.free for p in topo.node_hugepages[1]} == {1048576: 0, 2048: 0}
    assert {m.path: m.page_size_kb for m in topo.hugetlbfs} == {'/dev/hugepages': 2048,
                                                                '/dev/hugepages-1G': 1048576}
    assert topo.irqbalance_running and topo.irqbalance_banned == topo.isolated
    assert topo.memlock_bytes == -1 and topo.thp == 'madvise'


def test_misconfigured_discovery():
    topo = discover(MISCONFIGURED)
    assert topo.stale_hugepage_files == ['/dev/hugepages/rtemap_0', '/dev/hugepages/rtemap_1']
    assert topo.nohz_full == set() and topo.isolated == {2, 3}
    assert {irq.number: irq.effective for irq in topo.irqs} == {0: {0}, 16: {2}, 126: {3}, 127: {1}}
    assert topo.page_sizes_kb() == [2048]  # no pdpe1gb: no 1 GB pages


def test_missing_files_mean_unknown(tmp_path):
    topo = discover(tmp_path)
    assert topo.cpus == {} and topo.online_cpus is None and topo.hypervisor is None and topo.pci == {}
    findings = diagnose(target(None), topo)
    assert {f.check: f.status for f in findings}['hypervisor'] == WARN


def test_capture_copies_what_discovery_reads(tmp_path):
    assert capture(tmp_path / 'copy', source=str(SERVER)) > 100
    assert jsonable(discover(tmp_path / 'copy')) | {'root': ''} == jsonable(discover(SERVER)) | {'root': ''}
    live = tmp_path / 'live'
    capture(live)  # this machine
    assert discover(live).cpus == discover('/').cpus


@pytest.mark.parametrize('settings', ['IRQBALANCE_BANNED_CPUS=\n',
                                      'IRQBALANCE_BANNED_CPUS=""\nIRQBALANCE_BANNED_CPULIST=""\n'])
def test_empty_irqbalance_bans_read_as_not_set(host_copy, settings):
    root = host_copy(SERVER)
    banned_file = root / 'etc/default/irqbalance'
    banned_file.write_text('#IRQBALANCE_BANNED_CPULIST=2-7\n')
    unset = discover(root).irqbalance_banned
    banned_file.write_text(settings)
    assert discover(root).irqbalance_banned == unset


def test_an_unreadable_irqbalance_ban_is_unknown(write_config, host_copy):
    root = host_copy(SERVER)
    (root / 'etc/default/irqbalance').write_text('IRQBALANCE_BANNED_CPULIST="two-seven"\n')
    assert discover(root).irqbalance_banned is None
    assert verdicts(root, write_config())['irqbalance'] == WARN


# -- doctor ------------------------------------------------------------------

def test_doctor_on_this_vm_is_honest(write_config, capsys):
    config = write_config(eal='{main_lcore: 0, lcores: [1]}', feed='net_null1', stages='{md: 1}')
    found = verdicts(VM, config)
    assert (found['hypervisor'], found['isolation'], found['hugepages'], found['irqs']) == (WARN, WARN, WARN, FAIL)
    assert (found['placement'], found['tsc'], found['governor'], found['vfio']) == (PASS, PASS, PASS, PASS)
    assert main(['doctor', '--root', str(VM), '--config', config]) == 1
    out = capsys.readouterr().out
    assert 'timings measured here are not representative' in out
    assert 'kernel arguments to add (then reboot): isolcpus=managed_irq,domain,1 nohz_full=1' in out


def test_doctor_passes_a_prepared_server(write_config, capsys):
    found = verdicts(SERVER, write_config())
    assert set(found.values()) == {PASS}, found
    assert main(['doctor', '--root', str(SERVER), '--config', 'colo.yaml', '--json']) == 0
    report = json.loads(capsys.readouterr().out)
    assert report['virtual_machine'] is False and report['kernel_args'] == []
    assert {f['check'] for f in report['findings']} >= {'numa', 'smt', 'irqs', 'vfio', 'hugepages'}


@pytest.mark.parametrize('eal, feed, md, expected', [
    # the NIC on node 1, one lcore on each node (and each socket's L3)
    ('{main_lcore: 1, lcores: [2, 10]}', '0000:af:00.0', 10, {'numa': FAIL, 'vfio': WARN, 'l3': WARN}),
    # lcores with the NIC on node 1, but every hugepage on node 0
    ('{main_lcore: 8, lcores: [10, 11]}', '0000:af:00.0', 10, {'numa': PASS, 'hugepages': FAIL, 'l3': PASS}),
    # siblings of each other (2, 18), and of a housekeeping CPU (17 of 1)
    ('{main_lcore: 0, lcores: [2, 18, 17]}', '0000:18:00.0', 2, {'smt': WARN, 'isolation': WARN}),
])
def test_doctor_judges_placement_on_the_server(write_config, eal, feed, md, expected):
    found = verdicts(SERVER, write_config(eal=eal, feed=feed, stages=f'{{md: {md}}}'))
    assert {check: found[check] for check in expected} == expected


def test_doctor_on_the_misconfigured_host(write_config):
    found = verdicts(MISCONFIGURED, write_config(eal='{main_lcore: 0, lcores: [2, 3]}', feed='0000:03:00.0',
                                                 stages='{md: 2}'))
    assert found['irqs'] == FAIL and found['vfio'] == FAIL  # ixgbe, no vfio-pci, no IOMMU
    assert found['nic_routes'] == FAIL  # the host's only NIC: its default route goes through it
    assert {found[c] for c in ('governor', 'stale_hugepages', 'tsc', 'idle', 'thp',
                               'nmi_watchdog', 'smt', 'nohz_full', 'memlock')} == {WARN}
    assert found['isolation'] == PASS
    assert found['irqbalance'] == PASS  # with no ban list of its own, irqbalance leaves isolated CPUs alone


# -- plan --------------------------------------------------------------------

def test_plan_on_the_server(write_config, monkeypatch, capsys):
    config = write_config()
    plan = make_plan(target(load_config(config)), discover(SERVER))
    assert [(p.role, p.lcore, p.node, p.core, p.isolated) for p in plan.placements] == [
        ('main', 1, 0, 1, False), ('md', 2, 0, 2, True), ('gateway', 3, 0, 3, True), ('risk', 3, 0, 3, True),
        ('matching', 3, 0, 3, True)]
    assert [(p.port, p.node, p.driver) for p in plan.ports] == [
        ('orders', None, None), ('feed_a', 0, 'vfio-pci'), ('md_out', None, None)]
    assert plan.memory_node == 0 and plan.hugepages == [PagePlan(0, 2048, 128)]
    assert plan.rings == [Ring('gateway->risk', 4096), Ring('risk->matching', 4096),
                          Ring('matching->risk', 4096), Ring('risk->gateway', 4096),
                          Ring('matching->md', 16384), Ring('md->risk', 4096)]
    assert plan.mempool_mb == 19
    assert ' '.join(plan.eal_args).startswith('colo --lcores 1@1,2@2,3@3 --main-lcore 1')
    assert main(['plan', '--root', str(SERVER), config]) == 0
    assert 'md             2    0      0    2  yes' in capsys.readouterr().out
    assert main(['plan', '--root', str(SERVER), '--page-size', '1G', '--json', config]) == 0
    assert json.loads(capsys.readouterr().out)['hugepages'] == [{'node': 0, 'size_kb': 1048576, 'pages': 1}]


def test_plan_follows_the_nic_to_its_node(write_config):
    config = write_config(eal='{main_lcore: 8, lcores: [10, 11], memory_mb: 1024}', feed='0000:af:00.0',
                          stages='{md: 10}')
    plan = make_plan(target(load_config(config)), discover(SERVER))
    assert plan.memory_node == 1 and plan.hugepages == [PagePlan(1, 2048, 512)]
    assert ' '.join(plan.eal_args).startswith('colo --lcores 8@8,10@10,11@11 --main-lcore 8')


@pytest.mark.parametrize('host, eal, feed, args, message', [
    (SERVER, '{main_lcore: 1, lcores: [2, 99]}', '0000:18:00.0', [],
     'colo.yaml:1: eal.lcores[1]: CPU 99 does not exist on this host (online CPUs: 0-31); use one of those'),
    (SERVER, '{main_lcore: 40, lcores: [2]}', '0000:18:00.0', [],
     'colo.yaml:1: eal.main_lcore: CPU 40 is offline (online CPUs: 0-31); bring it online with '
     '`echo 1 > /sys/devices/system/cpu/cpu40/online` or use an online CPU'),
    (SERVER, '{main_lcore: 1, lcores: [2]}', '3b:00.0', [],
     'colo.yaml:3: ports.feed_a.device: no PCI device 0000:3b:00.0 on this host (present: 0000:00:00.0, '
     '0000:18:00.0, 0000:af:00.0); check the address with `lspci -D`'),
    (MISCONFIGURED, '{main_lcore: 0, lcores: [2], hugepages: on}', 'net_null1', ['--page-size', '1G'],
     "colo.yaml:1: eal.hugepages: this host has no 1048576 kB hugepages (CPU flag 'pdpe1gb', "
     '/sys/kernel/mm/hugepages); sizes it has: 2048 kB; choose one with --page-size'),
])
def test_plan_rejects_what_the_host_lacks(write_config, capsys, host, eal, feed, args, message):
    config = write_config(eal=eal, feed=feed, stages='{md: 2}')
    assert main(['plan', '--root', str(host), *args, config]) == 2
    assert capsys.readouterr().err == f'colo: {message}\n'
    with pytest.raises(ConfigError, match=r'^colo\.yaml:\d'):
        make_plan(target(load_config(config), 1048576 if args else 2048), discover(host))


# -- apply and revert on captured trees --------------------------------------

def test_apply_and_revert_on_the_misconfigured_host(write_config, host_copy, capsys):
    root = host_copy(MISCONFIGURED)
    before = tree_files(root)
    config = write_config(eal='{main_lcore: 0, lcores: [2, 3]}', feed='net_null1', stages='{md: 2}')
    assert main(['apply', '--root', str(root), '--dry-run', config]) == 0
    dry = capsys.readouterr().out
    assert 'write performance > /sys/devices/system/cpu/cpu2/cpufreq/scaling_governor' in dry
    assert 'write 0-1,4-7 > /proc/irq/16/smp_affinity_list' in dry
    assert 'rm /dev/hugepages/rtemap_0' in dry and tree_files(root) == before
    assert 'irqbalance' not in dry  # it already leaves the isolated lcores alone

    assert main(['apply', '--root', str(root), config]) == 0
    out = capsys.readouterr().out
    assert 'reserve 2048 kB hugepages on node 0: 64 -> 130' in out
    assert 'add to the kernel command line' in out and 'intel_idle.max_cstate=1' in out
    topo = discover(root)
    assert topo.stale_hugepage_files == [] and {topo.cpus[c].governor for c in (2, 3)} == {'performance'}
    assert {irq.number: irq.affinity for irq in topo.irqs}[126] == {0, 1, 4, 5, 6, 7}
    assert (root / 'proc/sys/kernel/numa_balancing').read_text() == '0'
    state = json.loads((root / apply.STATE_FILE).read_text())
    assert len(state['changes']) == len(out.splitlines()) - 3  # each line above the summary is a change

    assert main(['revert', '--root', str(root)]) == 0
    assert not (root / apply.STATE_FILE).exists()
    # the kernel shows a choice file as "[always] madvise never" and takes "always"
    thp = 'sys/kernel/mm/transparent_hugepage/enabled'
    assert (root / thp).read_text() == 'always' and discover(root).thp == 'always'
    after = tree_files(root)
    gone = {thp, 'dev/hugepages/rtemap_0', 'dev/hugepages/rtemap_1'}  # stale files: removed for good
    assert {k: v.strip() for k, v in after.items() if k != thp} == {
        k: v.strip() for k, v in before.items() if k not in gone}


def test_apply_bans_an_lcore_in_irqbalance_without_unbanning_the_isolated_cpus(write_config, host_copy, capsys):
    """With no ban list, irqbalance leaves isolated CPUs (2, 3 here) alone; a list replaces that."""
    root = host_copy(MISCONFIGURED)
    config = write_config(eal='{main_lcore: 0, lcores: [1]}', feed='net_null1', stages='{md: 1}')
    assert verdicts(root, config)['irqbalance'] == WARN
    assert main(['apply', '--root', str(root), config]) == 0
    assert 'irqbalance: CPUs 1-3 banned in /etc/default/irqbalance' in capsys.readouterr().out
    assert discover(root).irqbalance_banned == {1, 2, 3}
    assert main(['revert', '--root', str(root)]) == 0
    assert not (root / 'etc/default/irqbalance').exists()


@pytest.mark.parametrize('settings, banned', [
    ('IRQBALANCE_BANNED_CPULIST=2-3\n', {2, 3}),
    ('IRQBALANCE_BANNED_CPULIST=2-3\nIRQBALANCE_BANNED_CPUS=30\n', {4, 5}),  # the mask wins
])
def test_irqbalance_bans_are_read_as_irqbalance_reads_them(host_copy, settings, banned):
    root = host_copy(MISCONFIGURED)
    (root / 'etc/default').mkdir(parents=True)
    (root / 'etc/default/irqbalance').write_text(settings)
    assert discover(root).irqbalance_banned == banned


def test_apply_binds_a_nic_to_vfio_and_revert_gives_it_back(write_config, host_copy):
    root = host_copy(SERVER)
    config = write_config(eal='{main_lcore: 8, lcores: [10, 11]}', feed='0000:af:00.0', stages='{md: 10}')
    fs, tgt = HostFS(root), target(load_config(config))
    topo = discover(fs)
    todo = apply.changes(tgt, make_plan(tgt, topo), topo)
    assert [c.what for c in todo] == ['reserve 2048 kB hugepages on node 1: 0 -> 128',
                                      'bind port feed_a (0000:af:00.0) from ice to vfio-pci']
    apply.apply(todo, fs, apply.state_path(fs))
    read = lambda path: (root / path).read_text()  # noqa: E731
    assert read('sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages') == '128'
    assert read('sys/bus/pci/devices/0000:af:00.0/driver_override') == 'vfio-pci'
    assert read('sys/bus/pci/drivers/ice/unbind') == read('sys/bus/pci/drivers/vfio-pci/bind') == '0000:af:00.0'
    assert apply.revert(fs, apply.state_path(fs)) == (
        ['bind port feed_a (0000:af:00.0) from ice to vfio-pci', 'reserve 2048 kB hugepages on node 1: 0 -> 128'], [])
    assert read('sys/bus/pci/drivers/vfio-pci/unbind') == read('sys/bus/pci/drivers/ice/bind') == '0000:af:00.0'
    assert read('sys/bus/pci/devices/0000:af:00.0/driver_override') == '\n'  # cleared
    assert read('sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages') == '0'


def test_apply_refuses_to_take_a_nic_the_host_routes_through(write_config, host_copy):
    """A wrong PCI address in the config must not cut the operator off: like
    dpdk-devbind, apply leaves a NIC that IPv4 routes go through alone."""
    root = host_copy(SERVER)
    route = root / 'proc/net/route'
    route.write_text(route.read_text() + 'ens801f0\t0000A8C0\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n')
    config = write_config(eal='{main_lcore: 8, lcores: [10, 11]}', feed='0000:af:00.0', stages='{md: 10}')
    fs, tgt = HostFS(root), target(load_config(config))
    topo = discover(fs)
    assert {f.check: f.status for f in diagnose(tgt, topo)}['nic_routes'] == FAIL
    with pytest.raises(apply.ApplyError, match=r'^port feed_a \(0000:af:00.0\): its interface ens801f0 carries '
                       r'IPv4 routes, and may be how this host is reached; .*`ip link set ens801f0 down`'):
        apply.changes(tgt, make_plan(tgt, topo), topo)


def test_a_failure_part_way_undoes_what_was_done(write_config, host_copy):
    root = host_copy(MISCONFIGURED)
    config = write_config(eal='{main_lcore: 0, lcores: [2, 3]}', feed='net_null1', stages='{md: 2}')
    fs, tgt = HostFS(root), target(load_config(config))
    topo = discover(fs)
    todo = apply.changes(tgt, make_plan(tgt, topo), topo)
    before = tree_files(root)
    governor = root / 'sys/devices/system/cpu/cpu3/cpufreq/scaling_governor'
    governor.unlink()
    governor.mkdir()  # the kernel refusing the write, as a tree can
    with pytest.raises(apply.ApplyError, match=r'^cpu3 governor ondemand -> performance failed: write performance '
                       r'> /sys/devices/system/cpu/cpu3/cpufreq/scaling_governor: .*; the changes of this run were '
                       r'undone$'):
        apply.apply(todo, fs, apply.state_path(fs))
    after = tree_files(root)
    assert not (root / apply.STATE_FILE).exists()
    assert {k: after[k].strip() for k in after} == {k: v.strip() for k, v in before.items()
                                                   if 'rtemap' not in k and 'cpu3/cpufreq' not in k}


def test_apply_writes_a_wide_default_irq_mask_in_32_bit_words(write_config, tmp_path):
    """The kernel takes at most 8 hex digits between commas: a 64-CPU host's mask needs them."""
    root = tmp_path / 'host64'
    for path, text in {'sys/devices/system/cpu/online': '0-63', 'sys/devices/system/cpu/possible': '0-63',
                       'proc/irq/default_smp_affinity': 'ffffffff,ffffffff'}.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text + '\n')
    config = write_config(eal='{main_lcore: 0, lcores: [40, 41], hugepages: off}', feed='net_null1',
                          stages='{md: 40}')
    assert main(['apply', '--root', str(root), config]) == 0
    assert (root / 'proc/irq/default_smp_affinity').read_text() == 'fffffcff,ffffffff'
    assert main(['revert', '--root', str(root)]) == 0
    assert (root / 'proc/irq/default_smp_affinity').read_text() == 'ffffffff,ffffffff'


def test_apply_refuses_without_root(write_config, monkeypatch, capsys):
    config = write_config(eal='{main_lcore: 0, lcores: [1]}', feed='net_null1', stages='{md: 1}')
    monkeypatch.setattr(os, 'geteuid', lambda: 1000)
    assert main(['apply', config]) == 1
    assert capsys.readouterr().err.startswith('colo apply: colo apply writes kernel settings under /sys and /proc '
                                              'and needs root: run it with sudo')
    assert main(['revert']) == 1


def test_a_reservation_that_cannot_mount_gives_its_pages_back(monkeypatch):
    """Every host call is replaced: nothing here touches this machine."""
    sizes = [10]
    monkeypatch.setattr(hugepages, 'hugepage_pools', lambda: [hugepages.HugepagePool(2048, sizes[-1], 0)])
    monkeypatch.setattr(hugepages, 'set_pool_size', lambda size_kb, pages: sizes.append(pages))
    monkeypatch.setattr(hugepages, 'hugetlbfs_mounts', lambda: [])

    def mount_refused(path, size_kb):
        raise subprocess.CalledProcessError(32, ['mount'], stderr='permission denied')
    monkeypatch.setattr(hugepages, 'mount_hugetlbfs', mount_refused)
    with pytest.raises(subprocess.CalledProcessError):
        with hugepages.Reservation(64):
            pass
    assert sizes == [10, 42, 10]


def test_a_reservation_does_not_count_pages_promised_to_a_running_program(monkeypatch):
    """free_hugepages still counts pages a mapping has reserved but not touched:
    taking them for free would leave the benchmark short and on 4 kB pages."""
    sizes = []
    monkeypatch.setattr(hugepages, 'hugepage_pools', lambda: [hugepages.HugepagePool(2048, 100, 40, 30)])
    monkeypatch.setattr(hugepages, 'set_pool_size', lambda size_kb, pages: sizes.append(pages))
    monkeypatch.setattr(hugepages, 'hugetlbfs_mounts', lambda: ['/dev/hugepages'])
    with hugepages.Reservation(64):  # 32 pages: 10 of the 40 free are available
        assert sizes == [122]
    assert sizes == [122, 100]


# -- this machine, for real --------------------------------------------------

def _host_memory_state():
    return hugepages.hugepage_pools(), hugepages.mounts(), [irq.affinity for irq in discover().irqs]


STARTS_WITH_HUGEPAGES = """
import sys
from dataplane.appliance import Appliance
from dataplane.config import load_config
appliance = Appliance(load_config(sys.argv[1]))
appliance.start()
print('hugepages', appliance.hugepages)
appliance.stop()
"""


@pytest.mark.skipif(os.geteuid() != 0, reason='colo apply reserves hugepages and mounts hugetlbfs: needs root')
def test_apply_reserves_hugepages_here_and_revert_restores(write_config, tmp_path, capsys):
    config = write_config(eal='{main_lcore: 0, lcores: [1], memory_mb: 128, hugepages: on, file_prefix: colo-hw}',
                          feed='net_null1', stages='{md: 1}')
    state = str(tmp_path / 'state.json')
    before = _host_memory_state()
    try:
        assert main(['apply', '--state', state, config]) == 0
        assert hugepages.usable_hugepage_mb() >= 128 and hugepages.mounts()
        # the data plane (in a process of its own: EAL starts once) now runs on hugepages, not --no-huge
        started = subprocess.run([sys.executable, '-c', STARTS_WITH_HUGEPAGES, str(tmp_path / config)],
                                 cwd=Path(__file__).parent.parent, capture_output=True, text=True, timeout=120)
        assert 'hugepages True' in started.stdout, started.stderr
        tgt, topo = target(load_config(config)), discover()
        left = apply.changes(tgt, make_plan(tgt, topo), topo)
        assert all(change.optional for change in left)  # idempotent: only IRQs the kernel refused to move
    finally:
        assert main(['revert', '--state', state]) == 0
    assert _host_memory_state() == before
    assert 'undone: reserve 2048 kB hugepages' in capsys.readouterr().out


# -- auto lcores ---------------------------------------------------------------

def test_auto_lcores_are_nic_local_isolated_and_a_core_each(write_config):
    config = write_config(eal='{main_lcore: 8, lcores: auto}', feed='0000:af:00.0',
                          stages='{md: auto, gateway: auto, risk: auto, matching: auto}')
    placed = place(load_config(config), discover(SERVER))
    # The NIC is on node 1 (8-15, 24-31); 8 is main and 24 its sibling; 9 and 25
    # are not isolated; 10 and 26 share a core, so the next stage takes 11.
    assert placed.eal.lcores == (10, 11, 12, 13)
    assert (placed.stages.md, placed.stages.gateway, placed.stages.risk, placed.stages.matching) == (10, 11, 12, 13)
    assert 'md            10    1      1    2  yes' in format_plan(make_plan(target(placed), discover(SERVER)))


def test_auto_lcores_keep_to_one_l3_cache(write_config, host_copy):
    """Node 0 of the server split into two L3 caches (as an EPYC's dies are),
    cores 2, 4, 6, 7 on one: the stages keep to the best CPU's."""
    root = host_copy(SERVER)
    die = {2, 4, 6, 7, 18, 20, 22, 23}  # and their SMT siblings
    for cpu in [*range(0, 8), *range(16, 24)]:
        (root / f'sys/devices/system/cpu/cpu{cpu}/cache/index3/shared_cpu_list').write_text(
            '2,4,6-7,18,20,22-23' if cpu in die else '0-1,3,5,16-17,19,21')
    config = write_config(eal='{main_lcore: 1, lcores: auto}', feed='0000:18:00.0',
                          stages='{md: auto, gateway: auto, risk: auto, matching: auto}')
    topo = discover(root)
    placed = place(load_config(config), topo)
    assert placed.eal.lcores == (2, 4, 6, 7)  # not 2, 3, 4, 5: 3 and 5 are on the other L3
    assert {f.check: f.status for f in diagnose(target(placed), topo)}['l3'] == PASS


def test_auto_lcores_share_a_core_only_when_cores_are_scarce(write_config):
    config = write_config(eal='{lcores: auto}', stages='{md: auto, gateway: auto, risk: auto, matching: auto}')
    placed = place(load_config(config), discover(VM))
    assert placed.eal.lcores == (1,)  # never CPU 0, the main lcore
    assert (placed.stages.md, placed.stages.gateway, placed.stages.risk, placed.stages.matching) == (1, 1, 1, 1)


def test_auto_stages_take_the_listed_lcores_in_order(write_config):
    config = write_config(eal='{main_lcore: 1, lcores: [2, 3]}',
                          stages='{md: auto, gateway: auto, risk: 3, matching: 3}')
    placed = place(load_config(config), discover(SERVER))
    assert (placed.stages.md, placed.stages.gateway, placed.stages.risk, placed.stages.matching) == (2, 3, 3, 3)


def test_an_explicit_stage_lcore_with_auto_lcores_is_a_config_error(write_config):
    with pytest.raises(ConfigError) as error:
        load_config(write_config(eal='{lcores: auto}', stages='{md: 1}'))
    assert str(error.value) == "colo.yaml:10: stages.md: expected auto, as eal.lcores is auto, got 1"


def test_auto_with_no_cpu_left_says_so(write_config):
    config = write_config(eal='{main_lcore: 1, lcores: auto}', stages='{md: auto}')
    with pytest.raises(ConfigError) as error:
        place(load_config(config), discover(VM))  # CPU 0 is never taken, CPU 1 is main
    assert str(error.value) == ('colo.yaml:1: eal.lcores: auto found no CPU for the datapath besides '
                                'main_lcore 1 and its SMT siblings; list lcores explicitly')



def test_only_configs_with_auto_are_placed(write_config):
    """colo run reads the host only when the config leaves an lcore to auto."""
    assert not uses_auto(load_config(write_config()))
    assert uses_auto(load_config(write_config(stages='{md: auto, gateway: 3, risk: 3, matching: 3}')))
    assert uses_auto(load_config(write_config(eal='{lcores: auto}', stages='{md: auto}')))
