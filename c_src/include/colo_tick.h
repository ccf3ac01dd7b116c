/* The 26-byte normalized tick: the wire contract in spec/ticks.md. */
#ifndef COLO_TICK_H
#define COLO_TICK_H

#include <stdint.h>

struct colo_tick {
	uint64_t ts_ns;     /* ns since the Unix epoch, UTC */
	uint32_t symbol_id; /* 0 = no instrument */
	int64_t price;      /* 1e-9 units; R ticks: 8 ASCII symbol bytes */
	uint32_t quantity;  /* saturates at 2^32-1 */
	uint8_t side;       /* 'B', 'S', ' ', or the H/S state code */
	uint8_t type;       /* 'T', 'Q', 'R', 'H', 'S' */
} __attribute__((packed));

_Static_assert(sizeof(struct colo_tick) == 26, "tick must be 26 bytes");

/* ITCH prices carry 4 decimals; ticks carry 9. */
#define COLO_ITCH_PRICE_SCALE 100000

#endif
