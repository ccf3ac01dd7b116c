/* Packs ticks into MoldUDP64 downstream packets (spec/ticks.md section 3)
 * inside caller-supplied frame buffers. No EAL needed. */
#ifndef TICK_FRAMER_H
#define TICK_FRAMER_H

#include <stdint.h>
#include <string.h>

#include "colo_tick.h"
#include "udp_frame.h"

#define TICK_BLOCK (2 + sizeof(struct colo_tick))
#define TICK_PAYLOAD_OFFSET (UDP_FRAME_HEADERS + 20)

struct tick_framer {
	struct udp_frame_template udp;
	char session[10];
	uint64_t next_seq;  /* sequence number the next tick will get */
	uint16_t max_ticks; /* per packet, from the MTU */
	uint16_t count;     /* ticks in the open frame */
	uint8_t *frame;     /* the open frame, NULL when none */
};

void tick_framer_init(struct tick_framer *f, const struct udp_frame_template *udp,
		const char session[10], uint16_t mtu);

static inline void
tick_framer_open(struct tick_framer *f, uint8_t *frame)
{
	f->frame = frame;
	f->count = 0;
}

static inline int
tick_framer_full(const struct tick_framer *f)
{
	return f->count == f->max_ticks;
}

/* The open frame must not be full. */
static inline void
tick_framer_add(struct tick_framer *f, const struct colo_tick *t)
{
	uint8_t *block = f->frame + TICK_PAYLOAD_OFFSET + (uint32_t)f->count * TICK_BLOCK;

	block[0] = 0;
	block[1] = sizeof(*t);
	memcpy(block + 2, t, sizeof(*t));
	f->count++;
	f->next_seq++;
}

/* Finishes the open frame; returns its length. */
uint16_t tick_framer_close(struct tick_framer *f);

/* Writes a tickless packet into frame: a heartbeat (count 0) or end of
 * session (count 0xFFFF); returns its length. */
uint16_t tick_framer_control(struct tick_framer *f, uint8_t *frame, uint16_t count);

#endif
