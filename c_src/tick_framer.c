#include "tick_framer.h"

void
tick_framer_init(struct tick_framer *f, const struct udp_frame_template *udp,
		 const char session[10], uint16_t mtu)
{
	memset(f, 0, sizeof(*f));
	f->udp = *udp;
	memcpy(f->session, session, sizeof(f->session));
	f->next_seq = 1;
	/* MTU counts the IP packet: IPv4 20 + UDP 8 + MoldUDP64 20 + blocks. */
	f->max_ticks = (uint16_t)((mtu - 20 - 8 - 20) / TICK_BLOCK);
}

static uint16_t
frame_finish(struct tick_framer *f, uint8_t *frame, uint64_t seq, uint16_t count,
	     uint16_t payload_len)
{
	uint8_t *mold = frame + UDP_FRAME_HEADERS;
	uint64_t seq_be = __builtin_bswap64(seq);

	memcpy(mold, f->session, 10);
	memcpy(mold + 10, &seq_be, 8);
	mold[18] = (uint8_t)(count >> 8);
	mold[19] = (uint8_t)count;
	return udp_frame_write(frame, &f->udp, payload_len);
}

uint16_t
tick_framer_close(struct tick_framer *f)
{
	uint16_t len = frame_finish(f, f->frame, f->next_seq - f->count, f->count,
				    (uint16_t)(20 + f->count * TICK_BLOCK));

	f->frame = NULL;
	f->count = 0;
	return len;
}

uint16_t
tick_framer_control(struct tick_framer *f, uint8_t *frame, uint16_t count)
{
	return frame_finish(f, frame, f->next_seq, count, 20);
}
