/* The normalizer on its own, over in-memory MoldUDP64 blocks: unit tests
 * and the normalizer benchmark, no EAL. */
#include <stdlib.h>
#include <string.h>

#include "itch_normalizer.h"

struct colo_normalizer {
	struct md_counters counters;
	struct itch_normalizer n;
};

struct colo_normalizer *
colo_normalizer_create(const struct itch_normalizer_params *p)
{
	struct colo_normalizer *cn = calloc(1, sizeof(*cn));

	if (cn == NULL)
		return NULL;
	if (itch_normalizer_init(&cn->n, p, &cn->counters) != 0) {
		free(cn);
		return NULL;
	}
	return cn;
}

void
colo_normalizer_destroy(struct colo_normalizer *cn)
{
	if (cn == NULL)
		return;
	itch_normalizer_free(&cn->n);
	free(cn);
}

int
colo_normalizer_set_symbol_id(struct colo_normalizer *cn, const char stock[8], uint32_t id)
{
	return itch_normalizer_set_symbol_id(&cn->n, stock, id);
}

size_t
colo_normalizer_run(struct colo_normalizer *cn, const uint8_t *blocks, size_t len,
		    uint8_t *ticks, size_t max_ticks, size_t *consumed)
{
	size_t off = 0, n_ticks = 0;

	while (off + 2 <= len && n_ticks + ITCH_MAX_TICKS_PER_MSG <= max_ticks) {
		uint16_t mlen = (uint16_t)(blocks[off] << 8 | blocks[off + 1]);
		if (off + 2 + mlen > len)
			break;
		struct colo_tick out[ITCH_MAX_TICKS_PER_MSG];
		unsigned n = itch_normalizer_apply(&cn->n, blocks + off + 2, mlen, out);
		memcpy(ticks + n_ticks * sizeof(struct colo_tick), out, n * sizeof(struct colo_tick));
		n_ticks += n;
		cn->counters.messages++;
		off += 2 + (size_t)mlen;
	}
	*consumed = off;
	return n_ticks;
}

const struct md_counters *
colo_normalizer_counters(const struct colo_normalizer *cn)
{
	return &cn->counters;
}
