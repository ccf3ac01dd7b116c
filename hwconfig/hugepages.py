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
