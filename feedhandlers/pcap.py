"""Classic libpcap files of Ethernet frames, and Ethernet/IPv4/UDP frames built and
parsed with struct alone (scapy is far too slow for captures of 100k+ packets)."""
import socket
import struct
from collections.abc import Iterable, Iterator
from os import PathLike

LINKTYPE_ETHERNET = 1
_MAGIC_MICROSECONDS = 0xA1B2C3D4
_MAGIC_NANOSECONDS = 0xA1B23C4D
_FILE_HEADER = '{}IHHiIII'  # magic, version 2.4, thiszone, sigfigs, snaplen, linktype
_RECORD = '{}IIII'  # ts_sec, ts_frac, captured length, original length
_SNAPLEN = 262144

_ETHERTYPE_IPV4 = b'\x08\x00'
_ETHERTYPE_VLAN = b'\x81\x00'
_IPPROTO_UDP = 17
_IPV4 = struct.Struct('>BBHHHBBH4s4s')
_UDP = struct.Struct('>HHHH')


class PcapWriter:
    """Writes a little-endian, microsecond, LINKTYPE_ETHERNET pcap file."""

    def __init__(self, path: str | PathLike):
        self._file = open(path, 'wb')
        self._record = struct.Struct(_RECORD.format('<'))
        self._file.write(struct.pack(_FILE_HEADER.format('<'), _MAGIC_MICROSECONDS, 2, 4, 0, 0,
                                     _SNAPLEN, LINKTYPE_ETHERNET))

    def write(self, frame: bytes, ts_ns: int = 0) -> None:
        seconds, micros = divmod(ts_ns // 1000, 1_000_000)
        self._file.write(self._record.pack(seconds, micros, len(frame), len(frame)))
        self._file.write(frame)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> 'PcapWriter':
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _byte_order(header: bytes) -> str | None:
    for order in '<>':
        if len(header) == 24 and struct.unpack_from(order + 'I', header)[0] in (
                _MAGIC_MICROSECONDS, _MAGIC_NANOSECONDS):
            return order
    return None


def read_pcap(path: str | PathLike) -> Iterator[bytes]:
    """The frames of a classic pcap file: either byte order, micro- or nanosecond
    timestamps, Ethernet link type only."""
    with open(path, 'rb') as file:
        header = file.read(24)
        order = _byte_order(header)
        if order is None:
            raise ValueError(f'{path}: not a classic pcap file (pcapng is not supported)')
        linktype = struct.unpack(_FILE_HEADER.format(order), header)[-1]
        if linktype & 0xFFFF != LINKTYPE_ETHERNET:  # the upper bits may carry FCS details
            raise ValueError(f'{path}: link type {linktype}, expected Ethernet '
                             f'({LINKTYPE_ETHERNET})')
        record = struct.Struct(_RECORD.format(order))
        offset = 24
        while head := file.read(record.size):
            if len(head) < record.size:
                raise ValueError(f'{path}: truncated record header at byte {offset}')
            captured = record.unpack(head)[2]
            frame = file.read(captured)
            if len(frame) < captured:
                raise ValueError(f'{path}: truncated frame at byte {offset}')
            yield frame
            offset += record.size + captured


def _mac(mac: str | bytes) -> bytes:
    raw = bytes.fromhex(mac.replace(':', '')) if isinstance(mac, str) else bytes(mac)
    if len(raw) != 6:
        raise ValueError(f'{mac!r} is not a MAC address')
    return raw


def _multicast_mac(ip: bytes) -> bytes:
    """RFC 1112: 01:00:5e followed by the low 23 bits of the group."""
    return b'\x01\x00\x5e' + bytes([ip[1] & 0x7F]) + ip[2:]


def _checksum(data: bytes) -> int:
    """RFC 1071 Internet checksum of data that is not all zeros. The one's-complement sum
    of 16-bit words is the big-endian integer modulo 0xFFFF (since 2**16 == 1 mod 0xFFFF),
    with 0xFFFF in place of 0."""
    remainder = int.from_bytes(data + b'\0' * (len(data) & 1), 'big') % 0xFFFF
    return 0xFFFF - remainder if remainder else 0


def udp_frame(payload: bytes, src_ip: str, dst_ip: str, sport: int, dport: int,
              src_mac: str | bytes = '02:00:00:00:00:01', dst_mac: str | bytes | None = None,
              vlan: int | None = None, ttl: int = 64) -> bytes:
    """An Ethernet (optionally one 802.1Q tag) / IPv4 / UDP frame with valid checksums.
    dst_mac defaults to the multicast MAC of a multicast dst_ip; unicast needs one given."""
    src, dst = socket.inet_aton(src_ip), socket.inet_aton(dst_ip)
    if dst_mac is None:
        if not 224 <= dst[0] <= 239:
            raise ValueError(f'dst_mac is required for unicast destination {dst_ip}')
        dst_mac = _multicast_mac(dst)
    udp_length = _UDP.size + len(payload)
    pseudo_header = src + dst + struct.pack('>xBH', _IPPROTO_UDP, udp_length)
    udp_checksum = _checksum(pseudo_header + _UDP.pack(sport, dport, udp_length, 0) + payload)
    udp = _UDP.pack(sport, dport, udp_length, udp_checksum or 0xFFFF)  # 0 means "no checksum"
    ip = _IPV4.pack(0x45, 0, _IPV4.size + udp_length, 0, 0, ttl, _IPPROTO_UDP, 0, src, dst)
    ip = ip[:10] + _checksum(ip).to_bytes(2, 'big') + ip[12:]  # checksum field at offset 10
    tag = b'' if vlan is None else _ETHERTYPE_VLAN + vlan.to_bytes(2, 'big')
    return b''.join((_mac(dst_mac), _mac(src_mac), tag, _ETHERTYPE_IPV4, ip, udp, payload))


def parse_udp(frame: bytes) -> tuple[str, int, bytes] | None:
    """(destination IP, destination port, payload) of an unfragmented IPv4/UDP frame,
    with or without one VLAN tag; None for anything else or anything inconsistent."""
    ip = 14
    ethertype = frame[12:14]
    if ethertype == _ETHERTYPE_VLAN:
        ip, ethertype = 18, frame[16:18]
    if ethertype != _ETHERTYPE_IPV4 or len(frame) < ip + _IPV4.size:
        return None
    version_ihl, _, total_length, _, fragment, _, protocol, _, _, dst = _IPV4.unpack_from(frame, ip)
    header_length = (version_ihl & 0xF) * 4
    if (version_ihl >> 4 != 4 or protocol != _IPPROTO_UDP or fragment & 0x3FFF
            or header_length < _IPV4.size or total_length < header_length + _UDP.size
            or ip + total_length > len(frame)):
        return None
    udp = ip + header_length
    _, dport, udp_length, _ = _UDP.unpack_from(frame, udp)
    if not _UDP.size <= udp_length <= total_length - header_length:
        return None
    return socket.inet_ntoa(dst), dport, frame[udp + _UDP.size:udp + udp_length]


def write_moldudp64_pcap(path: str | PathLike, packets: Iterable[bytes],
                         group: str = '233.54.12.111', port: int = 26477,
                         src_ip: str = '10.1.1.1', sport: int = 26400) -> int:
    """One multicast frame per MoldUDP64 payload; returns the number of frames."""
    count = 0
    with PcapWriter(path) as pcap:
        for count, payload in enumerate(packets, 1):
            pcap.write(udp_frame(payload, src_ip, group, sport, port))
    return count
