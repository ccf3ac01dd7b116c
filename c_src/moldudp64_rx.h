/* MoldUDP64 downstream receive: packet validation, session check, and A/B
 * line arbitration by sequence number (first copy wins). No EAL needed. */
#ifndef MOLDUDP64_RX_H
#define MOLDUDP64_RX_H

#include <stdint.h>

#include "colo.h"

#define MOLDUDP64_HEADER 20
#define MOLDUDP64_END_OF_SESSION 0xFFFF
#define MOLDUDP64_NOTHING_NEW (-2)

struct moldudp64_rx {
	char session[10];
	int session_known;
	uint8_t session_suspect;  /* learned from a packet that failed its checksum */
	int started;
	uint64_t next_seq;        /* arbitrated stream: next message expected */
	uint64_t line_next[2];
	uint8_t line_started[2];
	unsigned n_lines;
	int ended;                /* the feed sent end of session... */
	uint64_t end_seq;         /* ...numbering no message from here on */
};

struct moldudp64_packet {
	uint64_t seq;
	uint16_t count;           /* messages; 0 for heartbeats and end of session */
	int end;
	uint8_t line;
};

void moldudp64_rx_init(struct moldudp64_rx *rx, const char *session /* NULL: learn */,
		unsigned n_lines);

/* Validates a packet and counts it on its line. suspect: it failed an IP or
 * UDP checksum. Returns -1 with *pkt filled, or the colo_drop_reason. */
int moldudp64_rx_check(struct moldudp64_rx *rx, unsigned line, const uint8_t *p,
		uint16_t len, int suspect, struct moldudp64_packet *pkt, struct md_counters *c);

/* Whether the messages before pkt may still come on another line: none of
 * the other lines has yet passed the arbitrated stream's next message. */
static inline int
moldudp64_rx_hole_open(const struct moldudp64_rx *rx, const struct moldudp64_packet *pkt)
{
	if (pkt->seq <= rx->next_seq)
		return 0;
	for (unsigned l = 0; l < rx->n_lines; l++)
		if (l != pkt->line && (!rx->line_started[l] || rx->line_next[l] <= rx->next_seq))
			return 1;
	return 0;
}

/* Takes a checked packet into the arbitrated stream; a hole before it is
 * counted as a gap. Returns -1 when it carries new messages: apply blocks
 * [*skip, count) in order. Otherwise MOLDUDP64_NOTHING_NEW or the
 * colo_drop_reason (duplicate, after end of session). */
/* Gives up the hole before seq (seq > next_seq): counted as a gap. */
void moldudp64_rx_give_up(struct moldudp64_rx *rx, uint64_t seq, struct md_counters *c);

int moldudp64_rx_sequence(struct moldudp64_rx *rx, const struct moldudp64_packet *pkt,
		uint16_t *skip, struct md_counters *c);

#endif
