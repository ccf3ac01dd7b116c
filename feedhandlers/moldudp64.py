"""MoldUDP64 downstream packets: session(10) sequence(8) count(2), big-endian, then
`count` message blocks of u16 length + message."""
import struct
from collections.abc import Iterable, Iterator

HEADER = 20
END_OF_SESSION = 0xFFFF
MAX_COUNT = END_OF_SESSION - 1  # 0xFFFF in the count field means end of session

_HEADER = struct.Struct('>10sQH')


def _session(session: bytes | str) -> bytes:
    raw = session.encode('ascii') if isinstance(session, str) else bytes(session)
    if len(raw) != 10:
        raise ValueError(f'MoldUDP64 session must be 10 bytes, got {raw!r}')
    return raw


def encode_packet(session: bytes, seq: int, messages: list[bytes]) -> bytes:
    """A packet whose first message has sequence number `seq`."""
    if len(messages) > MAX_COUNT:
        raise ValueError(f'{len(messages)} messages do not fit one packet')
    parts = [_HEADER.pack(_session(session), seq, len(messages))]
    for msg in messages:
        parts += (len(msg).to_bytes(2, 'big'), msg)
    return b''.join(parts)


def heartbeat(session: bytes, next_seq: int) -> bytes:
    return _HEADER.pack(_session(session), next_seq, 0)


def end_of_session(session: bytes, next_seq: int) -> bytes:
    return _HEADER.pack(_session(session), next_seq, END_OF_SESSION)


def decode_packet(payload: bytes) -> tuple[bytes, int, int, list[bytes]]:
    """(session, sequence, count, messages); raises ValueError unless the blocks exactly
    fill the payload (heartbeats and end of session carry none)."""
    if len(payload) < HEADER:
        raise ValueError(f'MoldUDP64 packet of {len(payload)} bytes is shorter than its header')
    session, seq, count = _HEADER.unpack_from(payload)
    blocks = 0 if count == END_OF_SESSION else count
    messages, offset = [], HEADER
    for index in range(blocks):
        length = int.from_bytes(payload[offset:offset + 2], 'big')
        end = offset + 2 + length
        if end > len(payload):
            raise ValueError(f'MoldUDP64 message {index} of {count} at byte {offset} '
                             f'overruns the {len(payload)}-byte packet')
        messages.append(bytes(payload[offset + 2:end]))
        offset = end
    if offset != len(payload):
        raise ValueError(f'MoldUDP64 packet has {len(payload) - offset} bytes after its '
                         f'{count} message(s)')
    return session, seq, count, messages


def frame_messages(messages: Iterable[bytes], session: bytes, first_seq: int = 1,
                   max_payload: int = 1400, max_count: int | None = None) -> Iterator[bytes]:
    """Pack messages, in order, into as few packets as fit `max_payload` UDP payload bytes
    and `max_count` messages each."""
    limit = min(max_count or MAX_COUNT, MAX_COUNT)
    batch, size, seq = [], HEADER, first_seq
    for msg in messages:
        block = 2 + len(msg)
        if HEADER + block > max_payload:
            raise ValueError(f'a {len(msg)}-byte message does not fit a {max_payload}-byte payload')
        if batch and (size + block > max_payload or len(batch) == limit):
            yield encode_packet(session, seq, batch)
            seq += len(batch)
            batch, size = [], HEADER
        batch.append(msg)
        size += block
    if batch:
        yield encode_packet(session, seq, batch)
