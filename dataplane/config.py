"""The operator's config file: load it, check all of it, model it.

Nothing starts until the whole file is valid. A problem is reported as
`{file}:{line}: {field}: expected {what}, got {value!r}`, so the operator can
fix the file without reading this code.

Each config dataclass carries the rule for each of its fields (see `_field`);
one reader (`_Record`) walks the YAML nodes, which keep their line numbers,
and applies those rules.
"""
from __future__ import annotations

import dataclasses
import datetime
import decimal
import ipaddress
import os
import re
from collections import ChainMap
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

import yaml

_NULL_TAG = 'tag:yaml.org,2002:null'


class ConfigError(Exception):
    """A problem with the config; str(error) is the whole message for the operator.

    line and field are None when unknown (an unreadable file, a YAML syntax error)."""

    def __init__(self, path: str, line: int | None, field: str | None, problem: str):
        self.path, self.line, self.field, self.problem = path, line, field, problem
        location = path if line is None else f'{path}:{line}'
        super().__init__(': '.join(part for part in (location, field, problem) if part is not None))


class _Invalid(Exception):
    """A problem at a node; parse_config adds the file name."""

    def __init__(self, node: yaml.Node, field: str | None, problem: str):
        super().__init__(problem)
        self.line, self.field, self.problem = node.start_mark.line + 1, field, problem


def _invalid(node: yaml.Node, field: str | None, expected: str, value: Any) -> _Invalid:
    return _Invalid(node, field, f'expected {expected}, got {value!r}')


def _join(parent: str | None, key: str) -> str:
    return f'{parent}.{key}' if parent else key


class _Constructor(yaml.constructor.SafeConstructor):
    """What yaml.safe_load builds, except that an impossible date such as
    2026-02-30 stays text, so a rule can report it instead of crashing."""

    def construct_yaml_timestamp(self, node):
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


_Constructor.add_constructor('tag:yaml.org,2002:timestamp', _Constructor.construct_yaml_timestamp)


def _python(node: yaml.Node) -> Any:
    """The value YAML gives node (int, bool, date, list, ...)."""
    return _Constructor().construct_object(node, deep=True)


def _as_written(node: yaml.Node) -> Any:
    """A scalar's text as written, None for null. YAML 1.1 would read a PCI
    address like 0000:18:00.0 or a MAC as a base-60 number, 000001 as octal."""
    if isinstance(node, yaml.ScalarNode) and node.tag != _NULL_TAG:
        return node.value
    return _python(node)


def _entries(node: yaml.Node, field: str | None, expected: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    """A mapping node's entries: key as written -> (key node, value node)."""
    if not isinstance(node, yaml.MappingNode):
        raise _invalid(node, field, expected, _python(node))
    entries: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise _invalid(key_node, field, 'a plain key', _python(key_node))
        key = key_node.value
        if key in entries:  # YAML would silently keep the last one
            first_line = entries[key][0].start_mark.line + 1
            raise _invalid(key_node, _join(field, key), f'a key not already given on line {first_line}', key)
        entries[key] = key_node, value_node
    return entries


# Rules. Each has `expected` (what a valid value looks like, for messages) and
# `read(node, field, scope)`, which returns the value or raises _Invalid.
# scope holds the values read so far: the current record's fields first, then
# those of the records around it, up to the config's sections.

@dataclass(frozen=True)
class _Scalar:
    expected: str
    parse: Callable[[Any], Any]  # raises ValueError for a value that does not fit
    typed: bool = False  # parse YAML's value (int, bool) rather than the text as written

    def read(self, node: yaml.Node, field: str, scope: ChainMap) -> Any:
        value = _python(node) if self.typed else _as_written(node)
        if self.typed or isinstance(value, str):
            try:
                return self.parse(value)
            except ValueError:
                pass
        raise _invalid(node, field, self.expected, value)


@dataclass(frozen=True)
class _Related:
    """A value that must fit values read before it (the ports, the lcores)."""
    expected: str
    base: Any  # a rule
    relation: Callable[[Any, ChainMap], str | None]  # what was expected, if value does not fit

    def read(self, node: yaml.Node, field: str, scope: ChainMap) -> Any:
        return self.relate(self.base.read(node, field, scope), node, field, scope)

    def relate(self, value: Any, node: yaml.Node, field: str, scope: ChainMap) -> Any:
        expected = self.relation(value, scope)
        if expected:
            raise _invalid(node, field, expected, value)
        return value


PRICE_UNITS_PER_DOLLAR = 10_000  # order-path prices: OUCH's 4 implied decimals
AUTO = 'auto'  # an lcore the planner picks (hwconfig.placement)


@dataclass(frozen=True)
class _Auto:
    """The word auto, or what rule reads."""
    rule: Any

    @property
    def expected(self) -> str:
        return f'{self.rule.expected}, or auto'

    def read(self, node: yaml.Node, field: str, scope: ChainMap) -> Any:
        if isinstance(node, yaml.ScalarNode) and node.value == AUTO:
            return AUTO
        return self.rule.read(node, field, scope)


@dataclass(frozen=True)
class _List:
    item: Any  # a rule
    expected: str
    allow_empty: bool = False
    unique: tuple[str | None, ...] = ()  # required item fields no two items may share; None: the item itself
    max_items: int | None = None

    def read(self, node: yaml.Node, field: str, scope: ChainMap) -> tuple:
        if not isinstance(node, yaml.SequenceNode) or not (node.value or self.allow_empty):
            raise _invalid(node, field, self.expected, _python(node))
        if self.max_items is not None and len(node.value) > self.max_items:
            raise _invalid(node.value[self.max_items], field, self.expected, f'{len(node.value)} items')
        items = tuple(self.item.read(item_node, f'{field}[{index}]', scope)
                      for index, item_node in enumerate(node.value))
        for name in self.unique:
            first_paths: dict[Any, str] = {}
            for index, (item, item_node) in enumerate(zip(items, node.value)):
                path = f'{field}[{index}]'
                if name is not None:  # a field of a record item
                    item_node = _entries(item_node, path, '')[name][1]
                    item, path = getattr(item, name), f'{path}.{name}'
                if item in first_paths:
                    raise _invalid(item_node, path, f'a value not already used by {first_paths[item]}', item)
                first_paths[item] = path
        return items


@dataclass(frozen=True)
class _Dict:
    key: _Scalar
    value: _Record
    expected: str
    key_field: str | None = None  # the value's field that is given its key (a port's name)

    def read(self, node: yaml.Node, field: str, scope: ChainMap) -> dict:
        entries = _entries(node, field, self.expected)
        if not entries:
            raise _invalid(node, field, self.expected, {})
        result = {}
        for key, (key_node, value_node) in entries.items():
            path = _join(field, key)
            self.key.read(key_node, path, scope)
            given = {self.key_field: key} if self.key_field else {}
            result[key] = self.value.read(value_node, path, scope, **given)
        return result


@dataclass(frozen=True)
class _Record:
    """A mapping read into a dataclass whose fields carry their rules."""
    cls: type

    @property
    def fields(self) -> dict[str, dataclasses.Field]:
        return {f.name: f for f in dataclasses.fields(self.cls) if 'rule' in f.metadata}

    @property
    def expected(self) -> str:
        return f"a mapping of {', '.join(self.fields)}"

    def read(self, node: yaml.Node, field: str | None, scope: ChainMap, **given: Any) -> Any:
        entries = _entries(node, field, self.expected)
        fields = self.fields
        for key, (key_node, _) in entries.items():
            if key not in fields:
                raise _Invalid(key_node, _join(field, key),
                               f"unknown field (expected one of: {', '.join(fields)})")
        values = scope.new_child(given)
        for name, spec in fields.items():
            path, rule = _join(field, name), spec.metadata['rule']
            value_node = entries[name][1] if name in entries else None
            optional = spec.default is not dataclasses.MISSING
            if value_node is not None and not (optional and value_node.tag == _NULL_TAG):
                values[name] = rule.read(value_node, path, values)
            elif optional:  # left out or left empty: the default, which must fit like a given value
                values[name] = spec.default
                if isinstance(rule, _Related):
                    rule.relate(spec.default, node if value_node is None else value_node, path, values)
            else:
                raise _Invalid(node, path, f'missing (expected {rule.expected})')
        return self.cls(**values.maps[0])


def _field(rule, default=dataclasses.MISSING):
    """A dataclass field read from the config by rule; required unless it has a default."""
    return dataclasses.field(default=default, metadata={'rule': rule})


def _section(cls: type):
    """An optional section: left out, all its fields take their defaults."""
    return _field(_Record(cls), cls())


def _where(test: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A parse step keeping the values that pass test."""
    def parse(value):
        if not test(value):
            raise ValueError(value)
        return value
    return parse


def _matching(expected: str, pattern: str) -> _Scalar:
    return _Scalar(expected, _where(re.compile(pattern).fullmatch))


def _one_of(*choices: str) -> _Scalar:
    return _Scalar(' or '.join(map(repr, choices)), _where(lambda value: value in choices))


def _integer(low: int, high: int | None = None, *, power_of_two: bool = False) -> _Scalar:
    kind = 'a power of two' if power_of_two else 'an integer'
    expected = f'{kind} >= {low}' if high is None else f'{kind} from {low} to {high}'

    def fits(value):  # YAML booleans are Python ints; not here
        return (type(value) is int and low <= value and (high is None or value <= high)
                and not (power_of_two and value & (value - 1)))
    return _Scalar(expected, _where(fits), typed=True)


def _hugepages(value: Any) -> str:
    if isinstance(value, bool):  # YAML 1.1 reads on/off, yes/no, true/false as booleans
        return 'on' if value else 'off'
    if value not in ('auto', 'on', 'off'):
        raise ValueError(value)
    return value


def _price(max_units: int) -> _Scalar:
    """Dollars with at most 4 decimals, read as integer units of $0.0001 (OUCH's),
    up to max_units: the risk checks refuse a limits record with more. Read from
    the text as written: a YAML float keeps only about 16 significant digits."""
    most = decimal.Decimal(max_units) / PRICE_UNITS_PER_DOLLAR

    def units(text: str) -> int:
        try:
            amount = decimal.Decimal(text)
        except decimal.InvalidOperation:
            raise ValueError(text) from None
        if not amount.is_finite() or not 0 < amount <= most or amount.as_tuple().exponent < -4:
            raise ValueError(text)
        return int(amount * PRICE_UNITS_PER_DOLLAR)
    return _Scalar(f'an amount in dollars above 0 and at most {most} with at most 4 decimals', units)


def _basis_points(value: Any) -> int:
    """A percentage with at most 2 decimals -> hundredths of a percent."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(value)
    amount = decimal.Decimal(str(value))
    if not 0 < amount <= 100 or amount.as_tuple().exponent < -2:
        raise ValueError(value)
    return int(amount * 100)


def _ipv4_network(text: str) -> str:
    return str(ipaddress.IPv4Network(text, strict=True))


def _ipv4(text: str) -> str:
    return str(ipaddress.IPv4Address(text))


def _iso_date(text: str) -> datetime.date:
    if not re.fullmatch(r'[0-9]{4}-[0-9]{2}-[0-9]{2}', text):  # fromisoformat also takes 20261124
        raise ValueError(text)
    return datetime.date.fromisoformat(text)


def _time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (LookupError, OSError) as error:  # not found; a directory such as America
        raise ValueError(name) from error
    return name


def _known_account(name: str, scope: ChainMap) -> str | None:
    names = [account.name for account in scope['accounts']]
    return None if name in names else f'one of the accounts {names}'


def _known_port(name: str, scope: ChainMap) -> str | None:
    ports = scope['ports']
    return None if name in ports else f'one of the ports {list(ports)}'


def _sending_port(name: str, scope: ChainMap) -> str | None:
    unknown = _known_port(name, scope)
    if unknown or scope['ports'][name].ip:
        return unknown
    return 'a port with an ip (the source address)'


def _gateway_port(name: str, scope: ChainMap) -> str | None:
    """A port with an ip that the md stage does not use: each port's queues
    have one writer and one reader."""
    problem = _sending_port(name, scope)
    md_ports = ({line.port for feed in scope['feeds'] for line in feed.lines.values()}
                | {out.port for out in scope['outputs']})
    if problem or name not in md_ports:
        return problem
    return f"a port with an ip that the feeds and outputs do not use ({', '.join(sorted(md_ports))})"


def _outlasts_heartbeat(timeout_s: int, scope: ChainMap) -> str | None:
    heartbeat_s = scope['heartbeat_s']
    return f'more than heartbeat_s {heartbeat_s}' if timeout_s <= heartbeat_s else None


def _datapath_lcore(lcore: int, scope: ChainMap) -> str | None:
    if scope['eal'].lcores == AUTO:
        return 'auto, as eal.lcores is auto'
    lcores = list(scope['eal'].lcores)
    return None if lcore in lcores else f'one of the datapath lcores {lcores}'


def _not_main_lcore(lcore: int, scope: ChainMap) -> str | None:
    return f'an lcore other than main_lcore {lcore}' if lcore == scope['main_lcore'] else None


def _without_main_lcore(lcores: tuple[int, ...] | str, scope: ChainMap) -> str | None:
    """A list given is checked item by item (_WORKER_LCORE); this catches the
    default [1] left in place with main_lcore 1."""
    main = scope['main_lcore']
    return f'a list of lcores other than main_lcore {main}' if lcores != AUTO and main in lcores else None


_NAME = _matching('a name matching [a-z][a-z0-9_]*', r'[a-z][a-z0-9_]*')
_LCORE = _integer(0)
_UDP_PORT = _integer(1, 65535)
_DESCRIPTORS = _integer(64, 16384, power_of_two=True)
_IPV4 = _Scalar('an IPv4 address', _ipv4)
_MULTICAST = _Scalar('an IPv4 multicast address (224.0.0.0/4)',
                     _where(lambda text: ipaddress.IPv4Address(text).is_multicast))
_SESSION = _matching('1 to 10 printable ASCII characters', r'[ -~]{1,10}')
_PORT = _Related('the name of a port in ports', _NAME, _known_port)
_SENDING_PORT = _Related('the name of a port with an ip', _NAME, _sending_port)
_STAGE_LCORE = _Related('an lcore in eal.lcores', _LCORE, _datapath_lcore)
_WORKER_LCORE = _Related('an lcore other than main_lcore', _LCORE, _not_main_lcore)
_BOOL = _Scalar('true or false', _where(lambda value: isinstance(value, bool)), typed=True)
# The bounds of the C risk checks (risk_limits_valid): money and prices up to
# 2^62 units, a tick up to 2^32 units.
_PRICE = _price(2**62)
_TICK_SIZE = _price(2**32)
_PERCENT = _Scalar('a percentage above 0 and at most 100, with at most 2 decimals', _basis_points,
                   typed=True)
_COUNT = _integer(1, 2**32 - 1)
_SHARES = _integer(0, 2**62)
_DEVICE = _matching(
    'a PCI address like 0000:3b:00.0, or a vdev like net_pcap0,rx_pcap=feed.pcap '
    'of net_pcap, net_af_packet, net_af_xdp, net_ring, net_null or net_tap',
    r'(?:[0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[01][0-9a-fA-F]\.[0-7]'
    r'|net_(?:pcap|af_packet|af_xdp|ring|null|tap)[0-9]*(?:,.+)?')


@dataclass(frozen=True, kw_only=True)
class EalConfig:
    """DPDK's Environment Abstraction Layer: cores and memory."""
    main_lcore: int = _field(_LCORE, 0)
    # auto: the planner picks them (NIC-local, isolated first; hwconfig.placement).
    lcores: tuple[int, ...] | str = _field(_Related(
        'a list of one or more lcore ids other than main_lcore, or auto',
        _Auto(_List(_WORKER_LCORE, 'a list of one or more lcore ids', unique=(None,))),
        _without_main_lcore), (1,))
    memory_mb: int = _field(_integer(64, 1048576), 256)
    hugepages: str = _field(_Scalar("'auto', 'on' or 'off'", _hugepages, typed=True), 'auto')
    file_prefix: str = _field(_matching('letters, digits, _ or -', r'[A-Za-z0-9_-]+'), 'colo')
    extra_args: tuple[str, ...] = _field(_List(_Scalar('a string', str), 'a list of strings',
                                               allow_empty=True), ())


@dataclass(frozen=True, kw_only=True)
class PortConfig:
    name: str  # its key in ports
    device: str = _field(_DEVICE)
    ip: str | None = _field(_IPV4, None)
    mac: str | None = _field(_matching('a MAC address like aa:bb:cc:dd:ee:ff',
                                       r'[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}'), None)
    rx_descriptors: int = _field(_DESCRIPTORS, 1024)
    tx_descriptors: int = _field(_DESCRIPTORS, 1024)


@dataclass(frozen=True, kw_only=True)
class MempoolConfig:
    # rte_pktmbuf_pool_create takes an unsigned count and a 16-bit data room.
    mbufs: int = _field(_integer(1023, 2**32 - 1), 8191)
    cache: int = _field(_integer(0, 512), 256)
    data_room: int = _field(_integer(1024, 65535), 2176)


@dataclass(frozen=True, kw_only=True)
class LineConfig:
    port: str = _field(_PORT)
    group: str = _field(_MULTICAST)
    udp_port: int = _field(_UDP_PORT)


@dataclass(frozen=True, kw_only=True)
class FeedConfig:
    name: str = _field(_NAME)
    protocol: str = _field(_one_of('itch50-moldudp64'))
    session_date: datetime.date = _field(_Scalar('a date as YYYY-MM-DD', _iso_date))
    timezone: str = _field(_Scalar('an IANA time zone like America/New_York', _time_zone),
                           'America/New_York')
    session: str | None = _field(_SESSION, None)  # None: learn it from the first packet
    lines: dict[str, LineConfig] = _field(_Dict(_one_of('a', 'b'), _Record(LineConfig),
                                                'a mapping of line a and/or line b'))
    # With two lines, packets after a hole wait this long for the other line
    # to bring the missing ones before the hole counts as a gap.
    arbitration_wait_us: int = _field(_integer(0, 1_000_000), 1000)


@dataclass(frozen=True, kw_only=True)
class OutputConfig:
    name: str = _field(_NAME)
    port: str = _field(_SENDING_PORT)
    group: str = _field(_MULTICAST)
    udp_port: int = _field(_UDP_PORT)
    session: str = _field(_SESSION)
    mtu: int = _field(_integer(576, 9000), 1500)
    ttl: int = _field(_integer(1, 255), 8)
    source_port: int | None = _field(_UDP_PORT, None)  # None: udp_port
    rerequest_port: int | None = _field(_UDP_PORT, None)  # None: no re-request service

    def __post_init__(self):
        if self.source_port is None:  # subscribers see packets from the group's port by default
            object.__setattr__(self, 'source_port', self.udp_port)


@dataclass(frozen=True, kw_only=True)
class StagesConfig:
    """The lcore each data-plane stage runs on; None: the stage does not run;
    auto: the planner picks one of eal.lcores."""
    md: int | str = _field(_Auto(_STAGE_LCORE))
    gateway: int | str | None = _field(_Auto(_STAGE_LCORE), None)
    risk: int | str | None = _field(_Auto(_STAGE_LCORE), None)
    matching: int | str | None = _field(_Auto(_STAGE_LCORE), None)


@dataclass(frozen=True, kw_only=True)
class BookConfig:
    max_orders: int = _field(_integer(1024, 2**28), 1048576)
    max_symbols: int = _field(_integer(16, 65536), 16384)


@dataclass(frozen=True, kw_only=True)
class ChecksumConfig:
    drop_bad: bool = _field(_BOOL, False)


@dataclass(frozen=True, kw_only=True)
class MetricsConfig:
    prometheus_port: int = _field(_integer(0, 65535), 9108)  # 0: off


@dataclass(frozen=True, kw_only=True)
class InstrumentConfig:
    symbol: str = _field(_matching('1 to 8 printable ASCII characters without spaces', r'[!-~]{1,8}'))
    id: int = _field(_integer(1, 2**32 - 1))
    # For the order path; prices are kept in units of $0.0001 (OUCH's).
    tick_size: int = _field(_TICK_SIZE, 100)  # $0.01
    lot_size: int = _field(_COUNT, 1)
    reference_price: int | None = _field(_PRICE, None)  # None: the last trade, once there is one
    collar_percent: int | None = _field(_PERCENT, None)  # in hundredths of a percent once read
    collar_ticks: int | None = _field(_COUNT, None)
    restricted: bool = _field(_BOOL, False)


@dataclass(frozen=True, kw_only=True)
class AccountConfig:
    """Pre-trade limits of one trading account; None: no such limit."""
    name: str = _field(_NAME)
    credit_limit: int | None = _field(_PRICE, None)  # open buys plus net bought, in $0.0001
    max_order_qty: int | None = _field(_COUNT, None)
    max_order_notional: int | None = _field(_PRICE, None)
    max_open_orders: int | None = _field(_COUNT, None)
    short_selling: bool = _field(_BOOL, False)
    max_long: int | None = _field(_SHARES, None)  # per instrument, open buys counted
    max_short: int | None = _field(_SHARES, None)


@dataclass(frozen=True, kw_only=True)
class SessionConfig:
    """An order-entry session (docs/order-entry.md) and its throttles."""
    name: str = _field(_NAME)
    username: str = _field(_matching('1 to 6 letters or digits', r'[A-Za-z0-9]{1,6}'))
    password: str = _field(_matching('1 to 10 printable ASCII characters without spaces',
                                     r'[!-~]{1,10}'))
    account: str = _field(_Related('the name of an account in accounts', _NAME, _known_account))
    allowed_sources: tuple[str, ...] = _field(  # the gateway checks up to 8 per session
        _List(_Scalar('an IPv4 network like 10.0.0.0/24', _ipv4_network),
              'a list of one to eight IPv4 networks clients may send from', max_items=8))
    max_messages_per_second: int | None = _field(_COUNT, None)
    max_orders_per_second: int | None = _field(_COUNT, None)
    burst: int = _field(_COUNT, 100)
    cancel_on_disconnect: bool = _field(_BOOL, True)


@dataclass(frozen=True, kw_only=True)
class OrderEntryConfig:
    """Where order clients reach the gateway, and how it keeps their sessions
    (docs/order-entry.md)."""
    port: str = _field(_Related('the name of a port with an ip, of its own', _NAME,
                                _gateway_port))  # its ip is the gateway's address
    udp_port: int = _field(_UDP_PORT)
    heartbeat_s: int = _field(_integer(1, 60), 1)  # both directions, when idle
    # No packet from a session for this long: cancel-on-disconnect. A
    # heartbeat must be able to arrive first.
    timeout_s: int = _field(_Related('an integer from 1 to 3600, more than heartbeat_s',
                                     _integer(1, 3600), _outlasts_heartbeat), 3)
    max_orders: int = _field(_integer(1024, 2**24), 65536)  # open orders across the order path
    history: int = _field(_integer(1024, 1048576, power_of_two=True), 65536)  # responses kept per session


@dataclass(frozen=True, kw_only=True)
class Config:
    # Sections are read in this order; feeds, outputs, stages and order_entry refer
    # to eal and ports, sessions to accounts. The order path's rules across
    # sections are checked after them all (_check_order_path).
    path: str
    eal: EalConfig = _section(EalConfig)
    ports: dict[str, PortConfig] = _field(
        _Dict(_NAME, _Record(PortConfig), 'a mapping of one or more port names to ports', key_field='name'))
    mempool: MempoolConfig = _section(MempoolConfig)
    # One md stage serves one feed and one output for now: a longer list is an
    # error rather than entries silently left unserved.
    feeds: tuple[FeedConfig, ...] = _field(_List(_Record(FeedConfig), 'a list of one feed (one per appliance)',
                                                 unique=('name',), max_items=1))
    outputs: tuple[OutputConfig, ...] = _field(_List(_Record(OutputConfig), 'a list of one output (one per appliance)',
                                                     unique=('name',), max_items=1))
    stages: StagesConfig = _field(_Record(StagesConfig))
    book: BookConfig = _section(BookConfig)
    checksums: ChecksumConfig = _section(ChecksumConfig)
    metrics: MetricsConfig = _section(MetricsConfig)
    instruments: tuple[InstrumentConfig, ...] = _field(
        _List(_Record(InstrumentConfig), 'a list of instruments', allow_empty=True, unique=('symbol', 'id')), ())
    accounts: tuple[AccountConfig, ...] = _field(
        _List(_Record(AccountConfig), 'a list of accounts', allow_empty=True, unique=('name',)), ())
    sessions: tuple[SessionConfig, ...] = _field(
        _List(_Record(SessionConfig), 'a list of order-entry sessions', allow_empty=True,
              unique=('name', 'username')), ())
    order_entry: OrderEntryConfig | None = _field(_Record(OrderEntryConfig), None)  # None: no order path


_ORDER_STAGES = ('gateway', 'risk', 'matching')


def _check_order_path(root: yaml.Node, config: Config) -> None:
    """The order path runs whole or not at all: order_entry, its three stages and
    something to trade. Checked once every section is read, as either side may be
    the one left out; reported at order_entry, or at a stage set without it."""
    sections = _entries(root, None, '')
    running = [name for name in _ORDER_STAGES if getattr(config.stages, name) is not None]
    if config.order_entry is None:
        if running:
            stage_node = _entries(sections['stages'][1], 'stages', '')[running[0]][1]
            raise _Invalid(stage_node, f'stages.{running[0]}', 'needs an order_entry section')
        return
    missing = [name for name in _ORDER_STAGES if name not in running]
    if missing:
        raise _Invalid(sections['order_entry'][0], 'order_entry', 'needs stages.gateway, stages.risk and '
                       f"stages.matching (missing: {', '.join(missing)})")
    empty = [name for name in ('instruments', 'accounts', 'sessions') if not getattr(config, name)]
    if empty:
        raise _Invalid(sections['order_entry'][0], 'order_entry',
                       f"needs instruments, accounts and sessions (empty: {', '.join(empty)})")


def _check_symbol_room(root: yaml.Node, config: Config) -> None:
    """The instruments take symbol slots in the md stage's book before the feed's
    symbols do: more than book.max_symbols could only fail at start."""
    if len(config.instruments) > config.book.max_symbols:
        node = _entries(root, None, '')['instruments'][1]
        raise _Invalid(node, 'instruments', f'expected at most book.max_symbols '
                       f'({config.book.max_symbols}) instruments, got {len(config.instruments)}')


def parse_config(text: str, path: str | os.PathLike = '<string>') -> Config:
    """The config in text; path only names it in errors and in Config.path."""
    path = os.fspath(path)
    try:
        # an empty file (or only comments) reads as null, on line 1
        root = yaml.compose(text, Loader=yaml.SafeLoader) or yaml.compose('~', Loader=yaml.SafeLoader)
        config = _Record(Config).read(root, None, ChainMap(), path=path)
        _check_order_path(root, config)
        _check_symbol_room(root, config)
        return config
    except _Invalid as invalid:
        raise ConfigError(path, invalid.line, invalid.field, invalid.problem) from None
    except yaml.reader.ReaderError as error:  # a control character: it has an offset, not a mark
        line = text.count('\n', 0, error.position) + 1
        raise ConfigError(path, line, None, f'invalid YAML: {error.reason} (#x{error.character:04x})') from None
    except yaml.MarkedYAMLError as error:  # the context says what the parser was doing
        problem = ', '.join(part for part in (error.context, error.problem) if part)
        raise ConfigError(path, error.problem_mark.line + 1, None, f'invalid YAML: {problem}') from None


def load_config(path: str | os.PathLike) -> Config:
    """The config in the file at path."""
    try:
        text = Path(path).read_text(encoding='utf-8')
    except OSError as error:
        raise ConfigError(os.fspath(path), None, None, f'cannot read config: {error.strerror}') from None
    except UnicodeDecodeError as error:
        raise ConfigError(os.fspath(path), None, None,
                          f'cannot read config: not UTF-8 text ({error.reason} at byte {error.start})') from None
    return parse_config(text, path)


def example_config_text() -> str:
    """The commented example config shipped with the package; it is the demo's config."""
    return resources.files(__package__).joinpath('example_config.yaml').read_text(encoding='utf-8')
