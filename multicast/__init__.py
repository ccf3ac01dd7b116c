"""Subscriber library for the appliance's tick multicast (spec/ticks.md)."""
from multicast.subscriber import Subscriber
from multicast.ticks import (BLOCK_DTYPE, TICK_DTYPE, TickPacket, decode_packet, format_price,
                             format_tick, symbol_of_r_tick)

__all__ = ['BLOCK_DTYPE', 'TICK_DTYPE', 'Subscriber', 'TickPacket', 'decode_packet',
           'format_price', 'format_tick', 'symbol_of_r_tick']
