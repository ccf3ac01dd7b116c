"""EAL arguments derived from the config: lcores, memory, devices."""
from __future__ import annotations

import os
import shutil

from hwconfig.hugepages import usable_hugepage_mb

# EAL keeps pointers into its argv for the life of the process.
_argv_alive: list = []


def is_vdev(device: str) -> bool:
    return device.startswith("net_")


def device_name(device: str) -> str:
    """The name DPDK registers the port under (vdev args stripped)."""
    return device.split(",", 1)[0]


def use_hugepages(mode: str, memory_mb: int) -> bool:
    """'auto' takes hugepages when enough are free and mounted."""
    if mode == "off":
        return False
    available = usable_hugepage_mb()
    if mode == "on" and available < memory_mb:
        raise RuntimeError(f"eal.hugepages is 'on' but only {available} MB of hugepages are "
                           f"free and mounted; {memory_mb} MB needed (see `colo doctor`)")
    return available >= memory_mb


def lcore_map(main_lcore: int, lcores, allowed=None) -> str:
    """--lcores value: lcore ids are CPU ids. A datapath CPU this process may
    not run on (a small machine, a container) shares the main CPU instead, so
    the appliance still starts; `colo doctor` reports it. allowed: the CPUs
    the process may run on (default: this process's)."""
    allowed = allowed or os.sched_getaffinity(0)
    main_cpu = main_lcore if main_lcore in allowed else min(allowed)
    return ",".join([f"{main_lcore}@{main_cpu}"] +
                    [f"{lc}@{lc if lc in allowed else main_cpu}" for lc in lcores])


def eal_args(eal, devices, *, hugepages: bool, allowed_cpus=None) -> list[str]:
    args = ["colo", "--lcores", lcore_map(eal.main_lcore, eal.lcores, allowed_cpus),
            "--main-lcore", str(eal.main_lcore), "--file-prefix", eal.file_prefix,
            "-m", str(eal.memory_mb), "--log-level", "lib.eal:warning",
            # its only warning says the legacy socket, which nothing here uses, is off
            "--log-level", "lib.telemetry:error"]
    args += ["--huge-unlink"] if hugepages else ["--no-huge", "--no-shconf"]
    pci = [d for d in devices if not is_vdev(d)]
    for d in devices:
        args += ["--vdev", d] if is_vdev(d) else ["-a", d]
    if not pci:
        args.append("--no-pci")
    return args + list(eal.extra_args)


def pin_control_threads():
    """Moves every thread of this process but the lcore workers onto the CPUs
    EAL gave the calling (main) thread: threads started before EAL (numpy's
    BLAS pool, say) would otherwise run on datapath cores."""
    housekeeping = os.sched_getaffinity(0)
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/comm") as f:
                if f.read().startswith("rte-worker"):
                    continue
            os.sched_setaffinity(int(task), housekeeping)
        except OSError:  # a thread that has just ended
            pass


def runtime_dir(file_prefix: str) -> str:
    """Where EAL keeps an appliance's sockets (its own rule, per user)."""
    base = "/var/run" if os.geteuid() == 0 else os.environ.get("XDG_RUNTIME_DIR", "/tmp")
    return f"{base}/dpdk/{file_prefix}"


def init(args: list[str], file_prefix: str) -> bool:
    """Starts EAL once for this process, with every thread but the lcore
    workers kept on the main lcore's CPUs; False if it failed (EAL said why)."""
    from dataplane._colo import ffi, lib

    # With --no-shconf EAL does not create its runtime directory, and its
    # telemetry socket (colo status, /colo/md) needs one.
    os.makedirs(runtime_dir(file_prefix), mode=0o700, exist_ok=True)
    _argv_alive[:] = [ffi.new("char[]", a.encode()) for a in args]
    if lib.colo_eal_init(len(args), ffi.new("char *[]", _argv_alive)) < 0:
        return False
    pin_control_threads()
    return True


def cleanup(file_prefix: str):
    """EAL's cleanup, then its runtime directory, which it leaves behind."""
    from dataplane._colo import lib

    lib.colo_eal_cleanup()
    shutil.rmtree(runtime_dir(file_prefix), ignore_errors=True)
