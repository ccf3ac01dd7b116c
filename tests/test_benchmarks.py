"""`make bench` keeps working as the code under it changes: each in-process
benchmark runs end to end on a small input (figures are not judged here)."""
from benchmarks import risk_bench


def test_risk_bench_runs_and_is_repeatable(monkeypatch):
    monkeypatch.setattr(risk_bench, "ORDERS", 3_000)
    monkeypatch.setattr(risk_bench, "REPEAT", 2)
    [figure] = risk_bench.run()  # raises if two runs judge the orders differently
    assert figure["name"] == "risk_ns_per_order" and figure["value"] > 0
