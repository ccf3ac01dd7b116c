"""Hugepages as the kernel reports them (sysfs, /proc/mounts), and the few
writes that change them: pool sizes, hugetlbfs mounts, stale page files.

Every function takes a root ("/" or a captured tree) or a HostFS on one."""
from __future__ import annotations

import dataclasses
import fcntl
import os
import pathlib
import subprocess

from hwconfig.hostfs import HostFS

def _fs(root: str | HostFS) -> HostFS:
    return root if isinstance(root, HostFS) else HostFS(root)


@dataclasses.dataclass(frozen=True)
class HugepagePool:
    size_kb: int
    total: int
    free: int
    reserved: int = 0  # promised to a mapping but not yet faulted in: free, yet not available

    @property
    def free_mb(self) -> int:
        return (self.free - self.reserved) * self.size_kb // 1024


def _pools_dir(node: int | None) -> str:
    """Where the pools are: host-wide, or of one NUMA node."""
    return 'sys/kernel/mm/hugepages' if node is None else f'sys/devices/system/node/node{node}/hugepages'


def pool_dir(size_kb: int, node: int | None = None) -> str:
    return f'{_pools_dir(node)}/hugepages-{size_kb}kB'


def hugepage_pools(root: str | HostFS = '/', node: int | None = None) -> list[HugepagePool]:
    """The pools of each page size the kernel supports; of one node if given."""
    fs = _fs(root)
    pools = []
    for name in fs.names(_pools_dir(node), 'hugepages-*kB'):
        size_kb = int(name[len('hugepages-'):-2])
        d = pool_dir(size_kb, node)
        total, free = fs.integer(f'{d}/nr_hugepages'), fs.integer(f'{d}/free_hugepages')
        if total is not None and free is not None:
            pools.append(HugepagePool(size_kb, total, free, fs.integer(f'{d}/resv_hugepages') or 0))
    return pools


def set_pool_size(size_kb: int, pages: int, node: int | None = None, root: str | HostFS = '/') -> int:
    """Asks the kernel for pages pages; returns what it gave (fewer when memory is fragmented)."""
    fs = _fs(root)
    path = f'{pool_dir(size_kb, node)}/nr_hugepages'
    fs.write(path, str(pages))
    return fs.integer(path)


@dataclasses.dataclass(frozen=True)
class HugetlbfsMount:
    path: str
    page_size_kb: int | None  # None: the kernel's default size, unknown


def default_page_size_kb(root: str | HostFS = '/') -> int | None:
    meminfo = _fs(root).text('proc/meminfo') or ''
    for line in meminfo.splitlines():
        if line.startswith('Hugepagesize:'):
            return int(line.split()[1])
    return None


def _size_kb(text: str) -> int:
    """hugetlbfs's pagesize option: 2M, 1G, 2048k."""
    units = {'K': 1, 'M': 1024, 'G': 1024 * 1024}
    return int(text[:-1]) * units[text[-1].upper()] if text[-1].upper() in units else int(text) // 1024


def mounts(root: str | HostFS = '/') -> list[HugetlbfsMount]:
    fs = _fs(root)
    found = []
    for fields in (line.split() for line in (fs.text('proc/mounts') or '').splitlines()):
        if len(fields) > 3 and fields[2] == 'hugetlbfs':
            options = dict(option.partition('=')[::2] for option in fields[3].split(','))
            size = _size_kb(options['pagesize']) if 'pagesize' in options else default_page_size_kb(fs)
            found.append(HugetlbfsMount(fields[1], size))
    return found


def hugetlbfs_mounts(root: str | HostFS = '/') -> list[str]:
    return [mount.path for mount in mounts(root)]


def usable_hugepage_mb(root: str | HostFS = '/') -> int:
    """Free hugepage memory DPDK can map: only sizes with a hugetlbfs mount."""
    mounted = {mount.page_size_kb for mount in mounts(root)}
    return sum(p.free_mb for p in hugepage_pools(root) if p.size_kb in mounted)


def _unlocked(path: pathlib.Path) -> bool:
    """DPDK holds a shared lock on every hugepage file it maps; a file no
    process locks is left over from a process that died (or did not unlink)."""
    try:
        with open(path, 'rb') as f:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def stale_files(root: str | HostFS = '/') -> list[str]:
    """Host paths of DPDK hugepage files ({file_prefix}map_N) in hugetlbfs
    mounts that no process holds."""
    fs = _fs(root)
    stale = []
    for mount in mounts(fs):
        directory = mount.path.lstrip('/')
        for name in fs.names(directory, '*map_*'):
            relative = f'{directory}/{name}'
            if name.split('map_')[-1].isdigit() and fs.exists(relative) and _unlocked(fs.path(relative)):
                stale.append('/' + relative)
    return stale


def mount_hugetlbfs(path: str, size_kb: int) -> None:
    os.makedirs(path, exist_ok=True)
    subprocess.run(['mount', '-t', 'hugetlbfs', '-o', f'pagesize={size_kb}K', 'nodev', path],
                   check=True, capture_output=True, text=True)


def unmount(path: str) -> None:
    subprocess.run(['umount', path], check=True, capture_output=True, text=True)


HUGETLBFS_MOUNT = '/dev/hugepages'


class Reservation:
    """Reserves 2 MB hugepages (and mounts hugetlbfs when nothing is
    mounted) for a with-block, then puts both back as they were. Root only."""

    def __init__(self, mb: int):
        self.pages = -(-mb // 2)

    def __enter__(self):
        pool = next((p for p in hugepage_pools() if p.size_kb == 2048), HugepagePool(2048, 0, 0))
        self.before = pool.total
        set_pool_size(2048, self.before + max(0, self.pages - (pool.free - pool.reserved)))
        self.mounted = not hugetlbfs_mounts()
        if self.mounted:
            try:
                mount_hugetlbfs(HUGETLBFS_MOUNT, 2048)
            except BaseException:
                set_pool_size(2048, self.before)  # a failed __enter__ gets no __exit__
                raise
        return self

    def __exit__(self, *exc):
        if self.mounted:
            unmount(HUGETLBFS_MOUNT)
        set_pool_size(2048, self.before)
