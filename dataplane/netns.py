"""The demo's and tests' virtual network: one network namespace playing the
exchange and the subscribers, joined to the appliance by veth pairs whose
root-side ends the data plane drives with net_af_packet."""
from __future__ import annotations

import subprocess
import sys

NAMESPACE = "colo-demo"
# appliance-side interface -> (namespace-side interface, namespace address)
LINKS = {"colo-feed0": ("colo-feed1", "10.98.0.2/24"),
         "colo-md0": ("colo-md1", "10.99.0.2/24"),
         "colo-ord0": ("colo-ord1", "10.97.0.2/24")}


def _ip(*args, check=True):
    proc = subprocess.run(["ip", *args], capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {proc.stderr.strip()}")
    return proc


def teardown(namespace: str = NAMESPACE):
    """Removes what setup made; deleting a veth end deletes its peer."""
    for dev in LINKS:
        _ip("link", "del", dev, check=False)
    _ip("netns", "del", namespace, check=False)


def setup(namespace: str = NAMESPACE):
    teardown(namespace)  # leftovers of a run that was killed
    _ip("netns", "add", namespace)
    _ip("-n", namespace, "link", "set", "lo", "up")
    for dev, (peer, addr) in LINKS.items():
        _ip("link", "add", dev, "type", "veth", "peer", "name", peer, "netns", namespace)
        _ip("link", "set", dev, "up")
        _ip("-n", namespace, "addr", "add", addr, "dev", peer)
        _ip("-n", namespace, "link", "set", peer, "up")
        # veth leaves UDP checksums to an offload that never happens on the
        # far side of an af_packet socket: have the kernel fill them in.
        subprocess.run(["ip", "netns", "exec", namespace, "ethtool", "-K", peer, "tx", "off"],
                       capture_output=True, check=True)
        # A DPDK port has no kernel stack behind it: keep IPv6 chatter off.
        subprocess.run(["sysctl", "-qw", f"net.ipv6.conf.{dev}.disable_ipv6=1"],
                       capture_output=True)


def in_namespace(argv, namespace: str = NAMESPACE, **popen_kwargs) -> subprocess.Popen:
    """Starts a Python module of this project inside the namespace."""
    return subprocess.Popen(["ip", "netns", "exec", namespace, sys.executable, *argv],
                            **popen_kwargs)
