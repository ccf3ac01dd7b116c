"""The Prometheus exporter, scraped from a collector over a counters snapshot."""
import socket

import numpy as np
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from dataplane.binding import Normalizer
from dataplane.cli import main
from dataplane.config import example_config_text
from dataplane.metrics import MdCollector


class StubAppliance:
    """What MdCollector reads of a running appliance: its counters."""
    running = True
    tsc_hz = 2_000_000_000

    def __init__(self, counters: dict):
        self._counters = counters

    def counters(self) -> dict:
        return self._counters


def scrape(counters: dict) -> dict:
    """{sample name: {labels as a sorted tuple: value}} as Prometheus reads them."""
    registry = CollectorRegistry()
    registry.register(MdCollector(StubAppliance(counters)))
    samples = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def md_counters(**values) -> dict:
    counters = Normalizer(0).counters()  # every key of a real snapshot, all zero
    counters.update(values, lcores={}, stages={'md': np.zeros_like(counters['burst_cycles'])})
    return counters


def test_line_gaps_sum_without_the_arbitrated_ones():
    # line A lost 3 packets and B 2; the stream lost 1 that neither line brought
    samples = scrape(md_counters(gaps=1, line_a_gaps=3, line_b_gaps=2))
    assert samples['colo_md_gaps_total'] == {(): 1}
    assert samples['colo_md_line_gaps_total'] == {(('line', 'a'),): 3, (('line', 'b'),): 2}


def test_a_feed_ended_while_the_stream_is_open_shows_as_two_gauges():
    # docs/operations.md: feed_ended at 1 with stream_ended at 0 means nobody ran `colo eod`
    samples = scrape(md_counters(feed_end_of_session=1, tx_end_of_session=0))
    assert (samples['colo_md_feed_ended'], samples['colo_md_stream_ended']) == ({(): 1}, {(): 0})


def test_drops_and_events_are_labelled_with_their_names():
    counters = md_counters()
    counters['drops'].update(duplicate=5, after_end_of_session=2)
    counters['events'].update(orphan_ref=7)
    samples = scrape(counters)
    drops = {labels: n for labels, n in samples['colo_md_drops_total'].items() if n}
    assert drops == {(('reason', 'duplicate'),): 5, (('reason', 'after_end_of_session'),): 2}
    assert samples['colo_md_message_events_total'][(('event', 'orphan_ref'),)] == 7


def test_a_metrics_port_in_use_is_named_before_anything_starts(tmp_path, capsys):
    with socket.socket() as taken:
        taken.bind(('0.0.0.0', 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = tmp_path / 'colo.yaml'
        config.write_text(example_config_text().replace('prometheus_port: 9108', f'prometheus_port: {port}'))
        assert main(['run', str(config)]) == 1
    assert f'colo run: [Errno 98] metrics.prometheus_port {port}: Address already in use' in capsys.readouterr().err
