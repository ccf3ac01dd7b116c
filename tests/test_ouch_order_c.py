"""The C side of order entry the gateway stage will use, held to the Python
codec (feedhandlers/ouch50.py): the inbound parser (c_src/ouch_order.c) reads
the same fields from the same bytes and refuses the same messages, and the
response writer (c_src/ouch_response.c) writes what the codec reads."""
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from dataplane._colo import ffi, lib
from feedhandlers.ouch50 import ORDERS, RESPONSES

u32 = st.integers(0, 2**32 - 1)
alpha = lambda n: st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=0, max_size=n)  # noqa: E731
code = st.sampled_from("BSTYEGNP ")
options = st.fixed_dictionaries({}, optional={
    "min_qty": u32, "post_only": st.sampled_from("YN"), "group_id": st.integers(0, 65535),
    "self_trade": st.sampled_from("NOBD")})
messages = st.one_of(
    st.builds(lambda *v: ("O", dict(zip(("user_ref_num", "side", "quantity", "symbol", "price",
                                         "time_in_force", "display", "capacity",
                                         "intermarket_sweep", "cross_type", "cl_ord_id",
                                         "appendage"), v))),
              u32, code, u32, alpha(8), st.integers(0, 2**64 - 1), code, code, code, code, code,
              alpha(14), options),
    st.builds(lambda *v: ("U", dict(zip(("orig_user_ref_num", "user_ref_num", "quantity", "price",
                                         "time_in_force", "display", "intermarket_sweep",
                                         "cl_ord_id", "appendage"), v))),
              u32, u32, u32, st.integers(0, 2**64 - 1), code, code, code, alpha(14), options),
    st.builds(lambda *v: ("X", dict(zip(("user_ref_num", "quantity"), v))), u32, u32),
    st.builds(lambda *v: ("C", dict(zip(("user_ref_num", "firm", "symbol"), v))),
              u32, alpha(4), alpha(8)),
)


def c_parse(raw: bytes):
    out = ffi.new("struct ouch_order_msg *")
    return lib.ouch_order_parse(raw, len(raw), out), out


def as_python(o, msg_type: str) -> dict:
    """The C struct's fields of one message type, shaped like ORDERS.decode."""
    text = lambda b: bytes(b).decode("latin-1").rstrip(" ")  # noqa: E731
    char = lambda v: chr(v)  # noqa: E731
    fields = {"type": msg_type}
    for name, _ in ORDERS.layouts[ord(msg_type)].fields:
        value = getattr(o, name)
        kind = dict(ORDERS.layouts[ord(msg_type)].fields)[name]
        fields[name] = char(value) if kind == "c" else text(ffi.buffer(value)) \
            if kind.endswith("s") else value
    if msg_type in "OU":
        fields["appendage"] = {name: (chr(getattr(o, name)) if name in ("post_only", "self_trade")
                                      else getattr(o, name))
                               for name in ("min_qty", "post_only", "group_id", "self_trade")
                               if getattr(o, "has_" + name)}
    return fields


@settings(max_examples=400, deadline=None)
@given(messages)
def test_c_reads_what_the_codec_writes(message):
    msg_type, fields = message
    raw = ORDERS.encode(msg_type, **fields)
    result, parsed = c_parse(raw)
    assert result == lib.OUCH_OK
    assert as_python(parsed, msg_type) == ORDERS.decode(raw)


@settings(max_examples=300, deadline=None)
@given(messages, st.integers(0, 2**32 - 1))
def test_c_and_the_codec_refuse_the_same_damaged_messages(message, seed):
    """Truncated, extended, or with bytes changed: accepted by both or by neither."""
    rng = random.Random(seed)
    raw = bytearray(ORDERS.encode(message[0], **message[1]))
    damage = rng.choice(["cut", "grow", "flip"])
    if damage == "cut":
        raw = raw[:rng.randrange(len(raw))]
    elif damage == "grow":
        raw += bytes(rng.randrange(256) for _ in range(rng.randint(1, 4)))
    else:
        for _ in range(rng.randint(1, 3)):
            raw[rng.randrange(len(raw))] = rng.randrange(256)
    try:
        ORDERS.decode(bytes(raw))
        python_ok = True
    except ValueError:
        python_ok = False
    assert (c_parse(bytes(raw))[0] == lib.OUCH_OK) == python_ok


def test_refusals_say_why():
    enter = ORDERS.encode("O", user_ref_num=1, side="B", quantity=100, symbol="AAPL",
                          price=1_500_000, appendage={"min_qty": 50})
    assert c_parse(b"Z" + enter[1:])[0] == lib.OUCH_UNKNOWN_TYPE
    assert c_parse(enter[:-1])[0] == lib.OUCH_BAD_LENGTH
    bad_tag = enter[:-7] + bytes([5, 99]) + enter[-4:]
    assert c_parse(bad_tag)[0] == lib.OUCH_BAD_APPENDAGE
    assert c_parse(b"")[0] == lib.OUCH_UNKNOWN_TYPE


RESPONSE_LAYOUTS = {chr(code): layout for code, layout in RESPONSES.layouts.items()}


def response_fields(msg_type: str):
    """A strategy for every field of one response type, by its layout."""
    kinds = {"c": code, "Q": st.integers(0, 2**64 - 1), "I": u32, "H": st.integers(0, 65535)}
    fields = RESPONSE_LAYOUTS[msg_type].fields
    return st.fixed_dictionaries({name: kinds[kind] if kind in kinds else alpha(int(kind[:-1]))
                                  for name, kind in fields})



@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(RESPONSE_LAYOUTS)).flatmap(
    lambda t: st.tuples(st.just(t), response_fields(t))))
def test_c_writes_what_the_codec_reads(message):
    msg_type, fields = message
    r = ffi.new("struct ouch_response *")
    r.type = ord(msg_type)
    for name, kind in RESPONSE_LAYOUTS[msg_type].fields:
        value = fields[name]
        if kind == "c":
            setattr(r, name, ord(value))
        elif kind.endswith("s"):
            ffi.memmove(getattr(r, name), value.encode().ljust(int(kind[:-1])), int(kind[:-1]))
        else:
            setattr(r, name, value)
    buf = ffi.new("uint8_t[]", 128)
    n = lib.ouch_response_write(buf, 128, r)
    expected = {"type": msg_type, **fields}
    if RESPONSE_LAYOUTS[msg_type].tail == "appendage":
        expected["appendage"] = {}
    assert RESPONSES.decode(bytes(ffi.buffer(buf, n))) == expected


def test_response_write_refuses_unknown_types_and_short_buffers():
    r = ffi.new("struct ouch_response *", {"type": ord("E")})
    buf = ffi.new("uint8_t[]", 64)
    assert lib.ouch_response_write(buf, 64, r) == RESPONSES.min_length("E")
    assert lib.ouch_response_write(buf, RESPONSES.min_length("E") - 1, r) == -1
    r.type = ord("Z")
    assert lib.ouch_response_write(buf, 64, r) == -1
