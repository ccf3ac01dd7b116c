/* MoldUDP64 downstream receive: packet validation, session check, and A/B
 * line arbitration by sequence number (first copy wins). No EAL needed. */
#ifndef MOLDUDP64_RX_H
#define MOLDUDP64_RX_H

#include <stdint.h>

#include "colo.h"

#define MOLDUDP64_HEADER 20
#define MOLDUDP64_END_OF_SESSION 0xFFFF

struct moldudp64_rx {
	char session[10];
	int session_known;
	int started;
	uint64_t next_seq;        /* arbitrated stream: next message expected */
	uint64_t line_next[2];
	uint8_t line_started[2];
	int ended;                /* the feed sent end of session */
};

void moldudp64_rx_init(struct moldudp64_rx *rx, const char *session /* NULL: learn */);

/* Checks the packet and its sequence. suspect: it failed an IP or UDP
 * checksum. Returns -1 when it carries new messages: apply blocks
 * [*skip, *count) of it, in order. Otherwise the colo_drop_reason, or -2 for
 * a valid packet with nothing new (heartbeat, end of session). */
int moldudp64_rx_accept(struct moldudp64_rx *rx, unsigned line, const uint8_t *p,
		uint16_t len, int suspect, uint16_t *skip, uint16_t *count,
		struct md_counters *c);

#define MOLDUDP64_NOTHING_NEW (-2)

#endif
