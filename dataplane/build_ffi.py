"""cffi build script for the C data plane (API mode, out of line).

The declarations come from c_src/include/colo.h, the one place they are
written: preprocessor lines are dropped, the rest is plain C that cffi reads.
DPDK is the distribution's, found through pkg-config.
"""
import pathlib
import shlex
import subprocess

from cffi import FFI

ROOT = pathlib.Path(__file__).resolve().parent.parent
C_SRC = ROOT / "c_src"


def pkg_config(*args):
    try:
        out = subprocess.run(["pkg-config", *args, "libdpdk"], check=True,
                             capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        raise SystemExit(f"pkg-config cannot find libdpdk ({e}); install libdpdk-dev") from e
    return shlex.split(out)


def cdef_text():
    lines = (C_SRC / "include" / "colo.h").read_text().splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith("#"))


ffibuilder = FFI()
ffibuilder.cdef(cdef_text())
ffibuilder.set_source(
    "dataplane._colo",
    '#include "colo.h"',
    sources=[str(p.relative_to(ROOT)) for p in sorted(C_SRC.glob("*.c"))],
    include_dirs=[str(C_SRC / "include"), str(C_SRC)],
    extra_compile_args=pkg_config("--cflags") + [
        "-O3", "-march=native", "-DALLOW_EXPERIMENTAL_API", "-Wall", "-Wextra",
        "-Wno-unused-parameter"],
    # The ring PMD is a plugin; the benchmark also calls its rte_eth_from_ring.
    extra_link_args=pkg_config("--libs") + ["-lrte_net_ring"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
