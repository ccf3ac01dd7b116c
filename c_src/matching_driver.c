/* Replays an array of commands, one message at a time, so a benchmark
 * measures the engine and not its caller; like a stage's loop, it prefetches
 * what the next messages will touch. */
#include "matching_book.h"

/* The id index line a command will probe, two commands ahead... */
static void
prefetch_index(const struct match_book *b, const struct match_command *c)
{
	__builtin_prefetch(&b->by_id.slots[u64_hash_index(&b->by_id, c->order.id)]);
}

/* ... then, that line loaded, the order it names: a cancel deep in a queue
 * would otherwise wait on two cache misses in a row. */
static void
prefetch_order(const struct match_book *b, const struct match_command *c)
{
	uint32_t slot = match_book_find(b, c->order.id);

	if (slot != U64_HASH_EMPTY)
		__builtin_prefetch(&b->orders[slot]);
}

int
match_run(struct match_book *b, const struct match_command *cmds, size_t n,
	  struct match_report *out, uint32_t room, struct match_totals *totals)
{
	for (size_t i = 0; i < n; i++) {
		if (i + 2 < n)
			prefetch_index(b, &cmds[i + 2]);
		if (i + 1 < n)
			prefetch_order(b, &cmds[i + 1]);
		int written = match_apply(b, &cmds[i], out, room);
		if (written < 0)
			return -1;
		totals->messages++;
		totals->reports += written;
		for (int r = 0; r < written; r++) {
			totals->by_type[out[r].type]++;
			if (out[r].type == MATCH_FILL)
				totals->traded_qty += out[r].qty;
		}
	}
	return 0;
}
