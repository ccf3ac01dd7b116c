"""The operator config: the shipped example, defaults, and the exact errors
an operator sees for bad files."""
import datetime
import textwrap
from pathlib import Path

import pytest

from dataplane import config
from dataplane.config import (BookConfig, ChecksumConfig, ConfigError, EalConfig, LineConfig,
                              MempoolConfig, MetricsConfig, example_config_text, load_config, parse_config)

# The smallest valid config; the bad ones below are variations of it.
MINIMAL = """\
ports:
  feed_a: {device: "0000:3b:00.0"}
  md_out: {device: net_null0, ip: 10.0.0.5}
feeds:
  - {name: totalview, protocol: itch50-moldudp64, session_date: 2026-11-24,
     lines: {a: {port: feed_a, group: 233.54.12.111, udp_port: 26477}}}
outputs:
  - {name: ticks, port: md_out, group: 239.10.0.1, udp_port: 31001, session: COLO000001}
stages: {md: 1}
"""


def load(tmp_path, monkeypatch, text):
    """Loads text from ./colo.yaml, so errors name the file as an operator would."""
    monkeypatch.chdir(tmp_path)
    Path('colo.yaml').write_text(textwrap.dedent(text))
    return load_config('colo.yaml')


def test_example_is_the_demo_config():
    example = Path(config.__file__).with_name('example_config.yaml')
    assert example.read_text() == example_config_text()
    cfg = load_config(example)
    assert cfg.path == str(example)
    assert (cfg.eal.main_lcore, cfg.eal.lcores, cfg.eal.memory_mb, cfg.eal.hugepages) == (0, (1,), 256, 'auto')
    assert (cfg.ports['feed_a'].device, cfg.ports['feed_a'].ip) == ('net_af_packet0,iface=colo-feed0', '10.98.0.1')
    assert (cfg.ports['md_out'].device, cfg.ports['md_out'].ip) == ('net_af_packet1,iface=colo-md0', '10.99.0.1')
    [feed] = cfg.feeds
    assert (feed.name, feed.protocol, feed.session_date, feed.timezone, feed.session) == (
        'totalview', 'itch50-moldudp64', datetime.date(2026, 11, 24), 'America/New_York', None)
    assert feed.lines == {'a': LineConfig(port='feed_a', group='233.54.12.111', udp_port=26477)}
    [out] = cfg.outputs
    assert (out.name, out.port, out.group, out.udp_port, out.session, out.mtu, out.ttl) == (
        'ticks', 'md_out', '239.10.0.1', 31001, 'COLO000001', 1500, 8)
    assert (cfg.stages.md, cfg.stages.gateway, cfg.stages.risk, cfg.stages.matching) == (1, 1, 1, 1)
    assert (cfg.ports['orders'].device, cfg.order_entry.port) == ('net_af_packet2,iface=colo-ord0', 'orders')
    assert cfg.metrics.prometheus_port == 9108


def test_defaults_apply():
    cfg = parse_config(MINIMAL)
    assert cfg.path == '<string>'
    assert cfg.eal == EalConfig(main_lcore=0, lcores=(1,), memory_mb=256, hugepages='auto',
                                file_prefix='colo', extra_args=())
    assert cfg.mempool == MempoolConfig(mbufs=8191, cache=256, data_room=2176)
    assert cfg.book == BookConfig(max_orders=1048576, max_symbols=16384)
    assert cfg.checksums == ChecksumConfig(drop_bad=False)
    assert cfg.metrics == MetricsConfig(prometheus_port=9108)
    assert cfg.instruments == ()
    port = cfg.ports['feed_a']
    assert (port.name, port.mac, port.rx_descriptors, port.tx_descriptors) == ('feed_a', None, 1024, 1024)
    assert (cfg.feeds[0].timezone, cfg.feeds[0].session) == ('America/New_York', None)
    out = cfg.outputs[0]
    assert (out.mtu, out.ttl, out.source_port, out.rerequest_port) == (1500, 8, 31001, None)
    assert (cfg.stages.gateway, cfg.stages.risk, cfg.stages.matching) == (None, None, None)


def test_yaml_1_1_pitfalls_read_as_operators_mean():
    cfg = parse_config(MINIMAL.replace('"0000:3b:00.0"}', '0000:18:00.0, mac: 12:34:56:12:34:56}') + """\
eal: {hugepages: off, lcores: [1, 2]}
mempool:
instruments:
  - {symbol: AAPL, id: 1}
  - {symbol: BRK.A, id: 2}
""")
    # unquoted, YAML 1.1 reads these as two base-60 numbers and the boolean false
    assert (cfg.ports['feed_a'].device, cfg.ports['feed_a'].mac) == ('0000:18:00.0', '12:34:56:12:34:56')
    assert cfg.eal.hugepages == 'off' and cfg.eal.lcores == (1, 2)
    assert cfg.mempool == MempoolConfig()  # left empty: defaults
    assert [(i.symbol, i.id) for i in cfg.instruments] == [('AAPL', 1), ('BRK.A', 2)]


BAD_CONFIGS = [
    pytest.param(MINIMAL.replace('stages:', '  - {name: more, port: md_out, group: 239.10.0.2, udp_port: 31001, '
                                 'session: COLO000002}\nstages:'),
                 "colo.yaml:9: outputs: expected a list of one output (one per appliance), got '2 items'",
                 id='second output'),
    pytest.param(MINIMAL + 'metric: {prometheus_port: 9108}\n',
                 'colo.yaml:10: metric: unknown field (expected one of: eal, ports, mempool, feeds, outputs, '
                 'stages, book, checksums, metrics, instruments, accounts, sessions, order_entry)',
                 id='unknown top-level key'),
    pytest.param("""\
        ports:
          feed_a: {device: "0000:3b:00.0"}
          md_out: {device: net_null0, ip: 10.0.0.5, speed: 10G}
        """,
                 'colo.yaml:3: ports.md_out.speed: unknown field (expected one of: device, ip, mac, '
                 'rx_descriptors, tx_descriptors)',
                 id='unknown nested key'),
    pytest.param(MINIMAL + 'eal: {memory_mb: 1G}\n',
                 "colo.yaml:10: eal.memory_mb: expected an integer from 64 to 1048576, got '1G'",
                 id='wrong type'),
    pytest.param(MINIMAL + 'mempool: {data_room: 66000}\n',  # a 16-bit size in DPDK: it would wrap to 464
                 'colo.yaml:10: mempool.data_room: expected an integer from 1024 to 65535, got 66000',
                 id='data room over 16 bits'),
    pytest.param(MINIMAL + 'mempool: {mbufs: 5000000000}\n',
                 'colo.yaml:10: mempool.mbufs: expected an integer from 1023 to 4294967295, got 5000000000',
                 id='mbufs over 32 bits'),
    pytest.param(MINIMAL + 'eal: {lcores: 1}\n',
                 'colo.yaml:10: eal.lcores: expected a list of one or more lcore ids, got 1',
                 id='scalar for a list'),
    pytest.param("""\
        ports:
          feed_a: {device: "0000:3b:00.0"}
          md_out: {device: net_null0, ip: 10.0.0.5}
        feeds:
          - {name: totalview, protocol: itch50-moldudp64, session_date: 2026-11-24,
             lines: {a: {port: feed_a, group: 233.54.12.111, udp_port: 26477}}}
        outputs:
          - name: ticks
            port: md_out
            group: 239.10.0.1
            udp_port: 31001
            session: COLO000001
            mtu: 70000
        stages: {md: 1}
        """,
                 'colo.yaml:13: outputs[0].mtu: expected an integer from 576 to 9000, got 70000',
                 id='out-of-range mtu'),
    pytest.param(MINIMAL.replace('group: 233.54.12.111', 'group: 10.1.2.3'),
                 "colo.yaml:6: feeds[0].lines.a.group: expected an IPv4 multicast address (224.0.0.0/4), "
                 "got '10.1.2.3'",
                 id='non-multicast group'),
    pytest.param(MINIMAL.replace('ip: 10.0.0.5', 'ip: 10.0.0.256'),
                 "colo.yaml:3: ports.md_out.ip: expected an IPv4 address, got '10.0.0.256'",
                 id='bad IPv4'),
    pytest.param(MINIMAL.replace('"0000:3b:00.0"', '"0000:3b:00.9"'),
                 'colo.yaml:2: ports.feed_a.device: expected a PCI address like 0000:3b:00.0, or a vdev like '
                 'net_pcap0,rx_pcap=feed.pcap of net_pcap, net_af_packet, net_af_xdp, net_ring, net_null or '
                 "net_tap, got '0000:3b:00.9'",
                 id='bad PCI device'),
    pytest.param(MINIMAL.replace('net_null0', 'net_pcapx'),
                 'colo.yaml:3: ports.md_out.device: expected a PCI address like 0000:3b:00.0, or a vdev like '
                 'net_pcap0,rx_pcap=feed.pcap of net_pcap, net_af_packet, net_af_xdp, net_ring, net_null or '
                 "net_tap, got 'net_pcapx'",
                 id='bad vdev'),
    pytest.param(MINIMAL.replace('{port: feed_a', '{port: feed_b'),
                 "colo.yaml:6: feeds[0].lines.a.port: expected one of the ports ['feed_a', 'md_out'], "
                 "got 'feed_b'",
                 id='line port not in ports'),
    pytest.param(MINIMAL.replace('port: md_out', 'port: feed_a'),
                 "colo.yaml:8: outputs[0].port: expected a port with an ip (the source address), got 'feed_a'",
                 id='output port without ip'),
    pytest.param(MINIMAL.replace('{md: 1}', '{md: 1, risk: 5}'),
                 'colo.yaml:9: stages.risk: expected one of the datapath lcores [1], got 5',
                 id='stage lcore not in lcores'),
    pytest.param('eal:\n  main_lcore: 1\n  lcores: [2,\n           1]\n' + MINIMAL,
                 'colo.yaml:4: eal.lcores[1]: expected an lcore other than main_lcore 1, got 1',
                 id='main lcore in lcores'),
    pytest.param(MINIMAL + 'eal: {main_lcore: 1}\n',  # the default lcores are [1]
                 'colo.yaml:10: eal.lcores: expected a list of lcores other than main_lcore 1, got (1,)',
                 id='main lcore in the default lcores'),
    pytest.param(MINIMAL.replace('2026-11-24', '2026-02-30'),
                 "colo.yaml:5: feeds[0].session_date: expected a date as YYYY-MM-DD, got '2026-02-30'",
                 id='bad session date'),
    pytest.param(MINIMAL.replace('session_date: 2026-11-24,', 'session_date: 2026-11-24, timezone: Mars/Olympus,'),
                 "colo.yaml:5: feeds[0].timezone: expected an IANA time zone like America/New_York, "
                 "got 'Mars/Olympus'",
                 id='unknown timezone'),
    pytest.param(MINIMAL + 'instruments:\n  - {symbol: AAPL, id: 7}\n  - {symbol: MSFT, id: 7}\n',
                 'colo.yaml:12: instruments[1].id: expected a value not already used by instruments[0].id, '
                 'got 7',
                 id='duplicate instrument id'),
    pytest.param(MINIMAL.replace('stages: {md: 1}\n', ''),
                 'colo.yaml:1: stages: missing (expected a mapping of md, gateway, risk, matching)',
                 id='missing required section'),
    pytest.param(MINIMAL.replace('udp_port: 26477', 'udp_prt: 26477'),
                 "colo.yaml:6: feeds[0].lines.a.udp_prt: unknown field (expected one of: port, group, udp_port)",
                 id='misspelt nested key'),
    pytest.param(MINIMAL.replace('group: 239.10.0.1, ', ''),
                 'colo.yaml:8: outputs[0].group: missing (expected an IPv4 multicast address (224.0.0.0/4))',
                 id='missing required field'),
    pytest.param(MINIMAL.replace('{a: {port', '{c: {port'),
                 "colo.yaml:6: feeds[0].lines.c: expected 'a' or 'b', got 'c'",
                 id='unknown feed line'),
    pytest.param(MINIMAL + 'stages: {md: 1}\n',
                 "colo.yaml:10: stages: expected a key not already given on line 9, got 'stages'",
                 id='duplicate key'),
    pytest.param(MINIMAL.replace('  md_out: {device', ' md_out: {device'),
                 'colo.yaml:3: invalid YAML: while parsing a block mapping, expected <block end>, '
                 "but found '<block mapping start>'",
                 id='YAML syntax error'),
    pytest.param('', 'colo.yaml:1: expected a mapping of eal, ports, mempool, feeds, outputs, stages, book, '
                 'checksums, metrics, instruments, accounts, sessions, order_entry, got None',
                 id='empty file'),
]


@pytest.mark.parametrize('text, message', BAD_CONFIGS)
def test_bad_config_message(tmp_path, monkeypatch, text, message):
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, monkeypatch, text)
    assert str(raised.value) == message


def test_error_carries_its_location(tmp_path, monkeypatch):
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, monkeypatch, MINIMAL + 'metrics: {prometheus_port: 70000}\n')
    error = raised.value
    assert (error.path, error.line, error.field) == ('colo.yaml', 10, 'metrics.prometheus_port')
    assert str(error) == 'colo.yaml:10: metrics.prometheus_port: expected an integer from 0 to 65535, got 70000'


def test_missing_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as raised:
        load_config('nope.yaml')
    assert str(raised.value) == 'nope.yaml: cannot read config: No such file or directory'
    assert (raised.value.line, raised.value.field) == (None, None)


ORDER_PATH = MINIMAL + """\
instruments:
  - {symbol: AAPL, id: 1, tick_size: 0.01, lot_size: 100, reference_price: 190.25, collar_percent: 7.5}
  - {symbol: BRK.A, id: 2, tick_size: 1, collar_ticks: 50, restricted: true}
accounts:
  - {name: alpha, credit_limit: 5000000, max_order_qty: 10000, max_order_notional: 250000.5,
     max_open_orders: 500, max_long: 20000, max_short: 0}
  - {name: beta, short_selling: true}
sessions:
  - {name: s1, username: ALPHA1, password: secret, account: alpha, allowed_sources: [10.1.0.0/16],
     max_messages_per_second: 20000, max_orders_per_second: 5000}
"""


def test_order_path_sections_read_prices_in_ouch_units(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path('colo.yaml').write_text(ORDER_PATH)
    cfg = load_config('colo.yaml')
    aapl, brk = cfg.instruments
    assert (aapl.tick_size, aapl.lot_size, aapl.reference_price, aapl.collar_percent) == (100, 100, 1_902_500, 750)
    assert (brk.tick_size, brk.collar_ticks, brk.restricted, brk.reference_price) == (10_000, 50, True, None)
    alpha, beta = cfg.accounts
    assert (alpha.credit_limit, alpha.max_order_notional, alpha.max_short) == (50_000_000_000, 2_500_005_000, 0)
    assert (beta.short_selling, beta.max_order_qty) == (True, None)
    (s1,) = cfg.sessions
    assert (s1.account, s1.allowed_sources, s1.burst, s1.cancel_on_disconnect) == ('alpha', ('10.1.0.0/16',), 100, True)


@pytest.mark.parametrize('change, message', [
    (('tick_size: 0.01', 'tick_size: 0.00001'),
     "colo.yaml:11: instruments[0].tick_size: expected an amount in dollars above 0 and at most 429496.7296 "
     "with at most 4 decimals, got '0.00001'"),
    (('collar_percent: 7.5', 'collar_percent: 150'),
     "colo.yaml:11: instruments[0].collar_percent: expected a percentage above 0 and at most 100, "
     "with at most 2 decimals, got 150"),
    (('account: alpha', 'account: gamma'),
     "colo.yaml:18: sessions[0].account: expected one of the accounts ['alpha', 'beta'], got 'gamma'"),
    (('allowed_sources: [10.1.0.0/16]', 'allowed_sources: [10.1.0.1/16]'),
     "colo.yaml:18: sessions[0].allowed_sources[0]: expected an IPv4 network like 10.0.0.0/24, "
     "got '10.1.0.1/16'"),
    (('allowed_sources: [10.1.0.0/16]', 'allowed_sources: [' + ', '.join(f'10.{i}.0.0/16' for i in range(9)) + ']'),
     "colo.yaml:18: sessions[0].allowed_sources: expected a list of one to eight IPv4 networks "
     "clients may send from, got '9 items'"),
    (('username: ALPHA1', 'username: ALPHA12'),
     "colo.yaml:18: sessions[0].username: expected 1 to 6 letters or digits, got 'ALPHA12'"),
    # a huge amount meant as "no limit": past 2^63 units `colo risk set` stopped the running appliance
    (('credit_limit: 5000000', 'credit_limit: 999999999999999'),
     'colo.yaml:14: accounts[0].credit_limit: expected an amount in dollars above 0 and at most '
     '461168601842738.7904 with at most 4 decimals, got \'999999999999999\''),
    (('max_order_notional: 250000.5', 'max_order_notional: 461168601842739'),
     'colo.yaml:14: accounts[0].max_order_notional: expected an amount in dollars above 0 and at most '
     '461168601842738.7904 with at most 4 decimals, got \'461168601842739\''),
    (('tick_size: 1,', 'tick_size: 500000,'),
     'colo.yaml:12: instruments[1].tick_size: expected an amount in dollars above 0 and at most '
     '429496.7296 with at most 4 decimals, got \'500000\''),
])
def test_order_path_errors(tmp_path, monkeypatch, change, message):
    monkeypatch.chdir(tmp_path)
    Path('colo.yaml').write_text(ORDER_PATH.replace(*change))
    with pytest.raises(ConfigError) as error:
        load_config('colo.yaml')
    assert str(error.value) == message
