"""Hugepages as the kernel reports them (sysfs, /proc/mounts)."""
from __future__ import annotations

import dataclasses
import pathlib


@dataclasses.dataclass(frozen=True)
class HugepagePool:
    size_kb: int
    total: int
    free: int

    @property
    def free_mb(self) -> int:
        return self.free * self.size_kb // 1024


def hugepage_pools(root: str = "/") -> list[HugepagePool]:
    base = pathlib.Path(root, "sys/kernel/mm/hugepages")
    pools = []
    for d in sorted(base.glob("hugepages-*kB")):
        read = lambda name: int((d / name).read_text())  # noqa: E731
        pools.append(HugepagePool(int(d.name[len("hugepages-"):-2]), read("nr_hugepages"),
                                  read("free_hugepages")))
    return pools


def hugetlbfs_mounts(root: str = "/") -> list[str]:
    try:
        lines = pathlib.Path(root, "proc/mounts").read_text().splitlines()
    except OSError:
        return []
    return [fields[1] for fields in (line.split() for line in lines)
            if len(fields) > 2 and fields[2] == "hugetlbfs"]


def usable_hugepage_mb(root: str = "/") -> int:
    """Free hugepage memory DPDK can map: none without a hugetlbfs mount."""
    if not hugetlbfs_mounts(root):
        return 0
    return sum(p.free_mb for p in hugepage_pools(root))


HUGEPAGES_2M = pathlib.Path("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages")
HUGETLBFS_MOUNT = "/dev/hugepages"


class Reservation:
    """Reserves 2 MB hugepages (and mounts hugetlbfs when nothing is
    mounted) for a with-block, then puts both back as they were. Root only."""

    def __init__(self, mb: int):
        self.pages = -(-mb // 2)

    def __enter__(self):
        import subprocess

        self.before = int(HUGEPAGES_2M.read_text())
        free = next((p.free for p in hugepage_pools() if p.size_kb == 2048), 0)
        HUGEPAGES_2M.write_text(str(self.before + max(0, self.pages - free)))
        self.mounted = not hugetlbfs_mounts()
        if self.mounted:
            pathlib.Path(HUGETLBFS_MOUNT).mkdir(exist_ok=True)
            subprocess.run(["mount", "-t", "hugetlbfs", "nodev", HUGETLBFS_MOUNT], check=True)
        return self

    def __exit__(self, *exc):
        import subprocess

        if self.mounted:
            subprocess.run(["umount", HUGETLBFS_MOUNT], check=False)
        HUGEPAGES_2M.write_text(str(self.before))
