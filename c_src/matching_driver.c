/* Replays an array of commands, one message at a time, so a benchmark
 * measures the engine and not its caller; as any caller that holds the next
 * commands may, it prefetches what they will touch. (The matching stage
 * does not: looking at the ring a burst at a time to do so raised the order
 * path's p99 at 1 M orders/s from 3.9-4.3 to 4.3-11 us.) */
#include "matching_book.h"

/* How far ahead: a command takes ~60 ns and a line from memory longer,
 * so the index line is asked for INDEX_AHEAD commands ahead and, once it is
 * in, the order ORDER_AHEAD ahead (static workload: 13 M msgs/s at 2 and 1,
 * 16 M at 6 and 3, no better further). */
#define INDEX_AHEAD 6
#define ORDER_AHEAD 3

/* The id index line a command will probe... */
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

void
match_totals_add(struct match_totals *totals, const struct match_report *reports, int n)
{
	totals->reports += (uint64_t)n;
	for (int r = 0; r < n; r++) {
		totals->by_type[reports[r].type]++;
		if (reports[r].type == MATCH_FILL)
			totals->traded_qty += reports[r].qty;
	}
}

int
match_replay(struct match_book *b, const struct match_command *cmds, size_t n,
	     struct match_report *out, uint32_t room, match_report_sink *sink, void *ctx)
{
	for (size_t i = 0; i < n; i++) {
		if (i + INDEX_AHEAD < n)
			prefetch_index(b, &cmds[i + INDEX_AHEAD]);
		if (i + ORDER_AHEAD < n)
			prefetch_order(b, &cmds[i + ORDER_AHEAD]);
		int written = match_apply(b, &cmds[i], out, room);
		if (written < 0)
			return -1;
		sink(ctx, out, written);
	}
	return 0;
}

static void
totals_sink(void *totals, const struct match_report *reports, int n)
{
	((struct match_totals *)totals)->messages++;
	match_totals_add(totals, reports, n);
}

int
match_run(struct match_book *b, const struct match_command *cmds, size_t n,
	  struct match_report *out, uint32_t room, struct match_totals *totals)
{
	return match_replay(b, cmds, n, out, room, totals_sink, totals);
}
