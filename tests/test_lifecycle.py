"""The appliance's life cycle on virtual devices (net_null, no hugepages), each
run in a subprocess of its own since EAL starts once per process."""
import os
import subprocess
import sys
import textwrap

from dataplane_helpers import ORDER_PATH_CONFIG, ROOT


def run_script(tmp_path, name: str, script: str) -> str:
    """Runs script with ORDER_PATH_CONFIG (an EAL file prefix of its own) as
    sys.argv[1]; its stdout."""
    config = tmp_path / "colo.yaml"
    config.write_text(ORDER_PATH_CONFIG.format(prefix=f"colo-review-{name}-{os.getpid()}"))
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(script), str(config)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_limits_a_stalled_risk_stage_may_still_take_are_kept_alive(tmp_path):
    """`colo risk set` gives up after 2 s, but the request stays posted: the risk
    stage takes the record when it comes back, so it must not be freed."""
    out = run_script(tmp_path, "limits", """
        import gc, sys, time, weakref
        from dataplane._colo import lib
        from dataplane.appliance import Appliance
        from dataplane.config import load_config
        from dataplane.order_config import risk_limits
        from dataplane.order_path import OrderPathError

        appliance = Appliance(load_config(sys.argv[1]))
        appliance.start()
        lib.colo_lcores_stop()  # the risk stage stalls
        limits = risk_limits(appliance.config)
        record = weakref.ref(limits)
        try:
            appliance.orders.swap_limits(limits)
        except OrderPathError as e:
            print("timed out:", e)
        del limits
        gc.collect()
        print("record kept:", record() is not None)
        lib.colo_lcores_launch()  # back: it takes the record posted, then the next
        for attempt in range(100):  # refused at once while the first waits
            try:
                appliance.orders.swap_limits(risk_limits(appliance.config))
                break
            except OrderPathError:
                time.sleep(0.05)
        print("swaps:", appliance.orders.counters()["risk"]["limit_swaps"])
        appliance.stop()
        """)
    assert "timed out" in out
    assert "record kept: True" in out
    assert "swaps: 2" in out
