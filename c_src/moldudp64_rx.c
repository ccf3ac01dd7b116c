#include <string.h>

#include "moldudp64_rx.h"

static inline uint64_t
be64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return __builtin_bswap64(v);
}

void
moldudp64_rx_init(struct moldudp64_rx *rx, const char *session, unsigned n_lines)
{
	memset(rx, 0, sizeof(*rx));
	rx->n_lines = n_lines;
	if (session != NULL) {
		memcpy(rx->session, session, sizeof(rx->session));
		rx->session_known = 1;
	}
}

/* Every block must lie inside the packet and the blocks must fill it. */
static int
blocks_fit(const uint8_t *p, uint16_t len, uint16_t count)
{
	uint32_t off = MOLDUDP64_HEADER;

	for (uint16_t i = 0; i < count; i++) {
		if (off + 2 > len)
			return 0;
		off += 2 + (uint32_t)(p[off] << 8 | p[off + 1]);
	}
	return off == len;
}

int
moldudp64_rx_check(struct moldudp64_rx *rx, unsigned line, const uint8_t *p, uint16_t len,
		   int suspect, struct moldudp64_packet *pkt, struct md_counters *c)
{
	if (len < MOLDUDP64_HEADER)
		return COLO_DROP_BAD_MOLDUDP64;
	uint16_t n = (uint16_t)(p[18] << 8 | p[19]);
	int end = n == MOLDUDP64_END_OF_SESSION;
	if (end)
		n = 0;
	uint64_t seq = be64(p + 10);
	if (!blocks_fit(p, len, n) || seq > UINT64_MAX - n)
		return COLO_DROP_BAD_MOLDUDP64;
	/* A packet that failed its checksum may not open a gap: one flipped bit
	 * in a sequence number must not jump the feed forward and turn every
	 * good packet after it into a duplicate. */
	if (suspect && rx->started && seq > rx->next_seq)
		return COLO_DROP_BAD_CHECKSUM;
	/* A session learned from a packet that failed its checksum gives way
	 * to the first clean packet: one flipped byte must not lock out the
	 * real session. */
	if (!rx->session_known || (rx->session_suspect && !suspect)) {
		memcpy(rx->session, p, sizeof(rx->session));
		rx->session_known = 1;
		rx->session_suspect = (uint8_t)suspect;
	} else if (memcmp(rx->session, p, sizeof(rx->session)) != 0) {
		return COLO_DROP_WRONG_SESSION;
	}

	c->line_packets[line]++;
	if (!rx->line_started[line]) {
		rx->line_next[line] = seq;
		rx->line_started[line] = 1;
	}
	if (seq > rx->line_next[line]) {
		c->line_gaps[line]++;
		c->line_gap_messages[line] += seq - rx->line_next[line];
	}
	if (seq + n > rx->line_next[line])
		rx->line_next[line] = seq + n;
	/* A capture or a late join starts mid-session: the first sequence seen
	 * is the start, not a gap. */
	if (!rx->started) {
		rx->next_seq = seq;
		rx->started = 1;
	}
	*pkt = (struct moldudp64_packet){.seq = seq, .count = n, .end = end, .line = (uint8_t)line};
	return -1;
}

void
moldudp64_rx_give_up(struct moldudp64_rx *rx, uint64_t seq, struct md_counters *c)
{
	c->gaps++;
	c->gap_messages += seq - rx->next_seq;
	rx->next_seq = seq;
}

int
moldudp64_rx_sequence(struct moldudp64_rx *rx, const struct moldudp64_packet *pkt,
		      uint16_t *skip, struct md_counters *c)
{
	uint64_t seq = pkt->seq, n = pkt->count;

	if (pkt->end && !rx->ended) {
		rx->ended = 1;
		rx->end_seq = seq;
		c->feed_end_of_session++;
	}
	/* The session is over: ticks sent now would follow our own end of
	 * session, which subscribers stop at. */
	if (rx->ended && seq + n > rx->end_seq && n > 0)
		return seq + n <= rx->next_seq ? COLO_DROP_DUPLICATE : COLO_DROP_AFTER_END;
	/* A heartbeat or end of session ahead of us announces a gap, unless
	 * another line may still bring the messages. */
	if (seq > rx->next_seq && (n > 0 || !moldudp64_rx_hole_open(rx, pkt)))
		moldudp64_rx_give_up(rx, seq, c);
	if (n == 0)
		return MOLDUDP64_NOTHING_NEW;
	if (seq + n <= rx->next_seq)
		return COLO_DROP_DUPLICATE;
	*skip = (uint16_t)(rx->next_seq - seq);
	rx->next_seq = seq + n;
	return -1;
}
