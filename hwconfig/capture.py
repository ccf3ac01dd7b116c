"""`python -m hwconfig.capture DIR`: copy the files topology discovery reads
from this host into DIR, a tree that `--root DIR` (and the tests) read as
the host. Symlinks (a device's driver, its IOMMU group) stay symlinks."""
from __future__ import annotations

import os
import pathlib
import sys

from hwconfig.hostfs import HostFS
from hwconfig.topology import discover


def capture(destination: str | os.PathLike, source: str = '/') -> int:
    """Copies what discovery reads under source into destination; returns the number of paths."""
    fs = HostFS(source)
    discover(fs)
    destination = pathlib.Path(destination)
    for relative in sorted(fs.read_paths | fs.read_links):
        original, copy = fs.path(relative), destination / relative
        copy.parent.mkdir(parents=True, exist_ok=True)
        if relative in fs.read_links:
            copy.unlink(missing_ok=True)
            copy.symlink_to(os.readlink(original))
        elif original.is_dir():
            copy.mkdir(exist_ok=True)
        else:
            copy.write_bytes(original.read_bytes())
    return len(fs.read_paths | fs.read_links)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print('usage: python -m hwconfig.capture DIR', file=sys.stderr)
        return 2
    print(f'{capture(argv[0])} files captured into {argv[0]}')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
