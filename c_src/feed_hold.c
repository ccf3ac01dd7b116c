#include <string.h>

#include "feed_hold.h"

enum feed_hold_result
feed_hold_push(struct feed_hold *f, const struct feed_held *h, uint64_t now)
{
	unsigned i = f->n;

	if (f->n == FEED_HOLD_MAX)
		return FEED_HOLD_FULL;
	/* Lines deliver in order, so the new packet almost always goes last. */
	while (i > 0 && f->held[i - 1].pkt.seq >= h->pkt.seq) {
		if (f->held[i - 1].pkt.seq == h->pkt.seq)
			return FEED_ALREADY_HELD;
		i--;
	}
	memmove(&f->held[i + 1], &f->held[i], (f->n - i) * sizeof(*h));
	f->held[i] = *h;
	if (f->n++ == 0)
		f->since = now;
	return FEED_HELD;
}

struct feed_held
feed_hold_pop(struct feed_hold *f)
{
	struct feed_held h = f->held[0];

	f->n--;
	memmove(&f->held[0], &f->held[1], f->n * sizeof(h));
	return h;
}
