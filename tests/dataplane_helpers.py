"""Running the real data plane from tests: always in a subprocess, since EAL
can start only once per process (DESIGN.md)."""
from __future__ import annotations

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SAMPLE = SHARED / "data" / "ex20101224.TEST_ITCH_50"


def colo(*args, timeout=120, check=True) -> subprocess.CompletedProcess:
    """Runs the `colo` CLI of this checkout and returns its output."""
    proc = subprocess.run([sys.executable, "-m", "dataplane.cli", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"colo {' '.join(map(str, args))} exited {proc.returncode}\n"
                             f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc
