"""Reading (and writing) a host's /proc, /sys, /dev and /etc under a root.

The root is "/" on a live host and a captured tree in tests; every reader in
hwconfig goes through HostFS, so a tree holding the files it read reproduces
the host. A missing or unreadable file reads as None ("unknown").
"""
from __future__ import annotations

import os
import pathlib


def parse_cpulist(text: str) -> frozenset[int]:
    """'0-3,8,10-11' (the kernel's cpulist format) -> {0, 1, 2, 3, 8, 10, 11}."""
    cpus: set[int] = set()
    for part in text.replace('\n', ',').split(','):
        part = part.strip()
        if not part:
            continue
        low, _, high = part.partition('-')
        cpus.update(range(int(low), int(high or low) + 1))
    return frozenset(cpus)


def format_cpulist(cpus) -> str:
    """The inverse of parse_cpulist, with ranges: {0, 1, 2, 5} -> '0-2,5'."""
    ranges: list[list[int]] = []
    for cpu in sorted(cpus):
        if ranges and cpu == ranges[-1][1] + 1:
            ranges[-1][1] = cpu
        else:
            ranges.append([cpu, cpu])
    return ','.join(str(low) if low == high else f'{low}-{high}' for low, high in ranges)


def cpu_mask(cpus) -> str:
    """The hex mask format of /proc/irq/*/smp_affinity: {0, 1, 4} -> '13'. The kernel
    refuses (EOVERFLOW) more than 32 bits between commas, so wider masks come in
    comma-separated 32-bit words, as it prints them: {0, 32} -> '1,00000001'."""
    digits = format(sum(1 << cpu for cpu in cpus), 'x')
    digits = digits.zfill(-(-len(digits) // 8) * 8)
    words = [digits[start:start + 8] for start in range(0, len(digits), 8)]
    return ','.join([words[0].lstrip('0') or '0', *words[1:]])


class HostFS:
    """Paths are relative to the host ("proc/cmdline"). Reads are recorded
    (read_links: symlinks read as links) so hwconfig.capture can copy exactly
    those files."""

    def __init__(self, root: str | os.PathLike = '/'):
        self.root = pathlib.Path(root)
        self.read_paths: set[str] = set()
        self.read_links: set[str] = set()

    @property
    def live(self) -> bool:
        return self.root == pathlib.Path('/')

    def path(self, relative: str) -> pathlib.Path:
        return self.root / relative

    def text(self, relative: str) -> str | None:
        try:
            text = self.path(relative).read_text()
        except (OSError, UnicodeDecodeError):
            return None
        self.read_paths.add(relative)
        return text.strip()

    def integer(self, relative: str) -> int | None:
        text = self.text(relative)
        try:
            return int(text) if text is not None else None
        except ValueError:
            return None

    def cpus(self, relative: str) -> frozenset[int] | None:
        text = self.text(relative)
        try:
            return parse_cpulist(text) if text is not None else None
        except ValueError:
            return None

    def link_name(self, relative: str) -> str | None:
        """The last part of a symlink's target (a device's driver, its IOMMU group)."""
        try:
            target = os.readlink(self.path(relative))
        except OSError:
            return None
        self.read_links.add(relative)
        return pathlib.PurePath(target).name

    def exists(self, relative: str) -> bool:
        found = self.path(relative).exists()
        if found:
            self.read_paths.add(relative)
        return found

    def names(self, relative: str, pattern: str = '*') -> list[str]:
        """Entry names in a directory matching pattern, sorted; none if it is missing."""
        return sorted(p.name for p in self.path(relative).glob(pattern))

    def process_running(self, comm: str) -> bool:
        """Whether a process named comm runs; records only its comm file, not every process's."""
        for pid in self.names('proc', '[0-9]*'):
            relative = f'proc/{pid}/comm'
            try:
                if self.path(relative).read_text().strip() == comm:
                    self.read_paths.add(relative)
                    return True
            except OSError:  # the process exited while we looked
                continue
        return False

    def write(self, relative: str, value: str) -> None:
        path = self.path(relative)
        path.parent.mkdir(parents=True, exist_ok=True)  # /etc/default in a captured tree
        path.write_text(value)
