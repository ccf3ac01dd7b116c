/* Packets that arrived ahead of a hole in the arbitrated stream, held while
 * the other feed line may still bring the missing messages: without it, a
 * packet lost on line A and followed by A's next packet before B's copy of
 * the lost one would be a gap although B had it. Kept in sequence order;
 * the caller owns the packets (held mbufs). No EAL needed. */
#ifndef FEED_HOLD_H
#define FEED_HOLD_H

#include <stdint.h>

#include "moldudp64_rx.h"

#define FEED_HOLD_MAX 256

struct feed_held {
	void *owner;             /* the frame's buffer, freed by the caller */
	const uint8_t *payload;  /* its MoldUDP64 payload */
	uint16_t len;
	struct moldudp64_packet pkt;
};

struct feed_hold {
	struct feed_held held[FEED_HOLD_MAX];
	unsigned n;
	uint64_t since;          /* TSC when the oldest hole was first waited for */
};

enum feed_hold_result { FEED_HELD, FEED_HOLD_FULL, FEED_ALREADY_HELD };

/* Holds h unless full or a copy of the same sequence is already held. */
enum feed_hold_result feed_hold_push(struct feed_hold *f, const struct feed_held *h,
		uint64_t now);

/* Removes and returns the lowest sequence held; f must not be empty. */
struct feed_held feed_hold_pop(struct feed_hold *f);

#endif
