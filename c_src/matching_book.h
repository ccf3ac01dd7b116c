/* The resting orders of one matching book: storage only, no rules.
 *
 * Orders live in a pool fixed at creation (a free list, no allocation per
 * message), found by id through a u64_hash. Each price level holds its
 * orders in an intrusive doubly linked FIFO, so removing one is O(1).
 *
 * Levels: prices are unbounded i64 ticks, so instead of an array over a
 * price band (which would need a band and re-centring after a 40% swing)
 * each side keeps its levels in a doubly linked list sorted from the best
 * price, plus a u64_hash price -> level. The best level is the list head
 * (O(1), never stale: releasing an empty level relinks the head); a level
 * that already exists is found by hash; a new one is linked next to the
 * level one tick away when there is one (O(1) at any depth: ladders), else
 * after a walk from the best price, short because orders arrive near the
 * top. A sweep unlinks levels from the head, O(1) each. */
#ifndef MATCHING_BOOK_H
#define MATCHING_BOOK_H

#include <stdint.h>

#include "colo.h"
#include "u64_hash.h"

#define MATCH_NONE UINT32_MAX

struct match_resting {
	uint64_t id;
	uint32_t prev, next;  /* FIFO neighbours; next links the free list */
	uint32_t level;
	uint32_t leaves;
	uint32_t account, group;
	uint8_t side, tif, post_only, stp, stp_by_group;
};

struct match_level {
	int64_t price;
	uint64_t qty;         /* open quantity of its orders */
	uint32_t head, tail;  /* oldest and newest order */
	uint32_t better, worse;
};

struct match_side_levels {
	struct u64_hash by_price;
	uint32_t best;
};

struct match_book {
	struct match_resting *orders;
	struct match_level *levels;     /* both sides share the pool */
	struct u64_hash by_id;
	struct match_side_levels sides[2];
	uint32_t free_order, free_level;
	uint32_t max_orders, live;
};

int match_book_init(struct match_book *b, uint32_t max_orders, int sequential_ids);
void match_book_fini(struct match_book *b);

/* Appends a new order (id not live, book not full) at the tail of its
 * price level with `leaves` open; returns its slot. */
uint32_t match_book_add(struct match_book *b, const struct match_order *o, uint32_t leaves);
/* Takes qty (<= leaves) off a resting order; at 0 it leaves the book. */
void match_book_take(struct match_book *b, uint32_t slot, uint32_t qty);

static inline uint32_t
match_book_find(const struct match_book *b, uint64_t id)
{
	return u64_hash_get(&b->by_id, id);
}

static inline uint32_t
match_book_level_at(const struct match_book *b, uint8_t side, int64_t price)
{
	return u64_hash_get(&b->sides[side].by_price, (uint64_t)price);
}

/* Whether a resting price is within an order's limit. */
static inline int
match_crosses(uint8_t side, int64_t limit, int64_t resting)
{
	return side == MATCH_BUY ? resting <= limit : resting >= limit;
}

/* The benchmark driver's parts: where each message's reports go, and the
 * tally a consumer keeps of them. */
typedef void match_report_sink(void *ctx, const struct match_report *reports, int n);
int match_replay(struct match_book *b, const struct match_command *cmds, size_t n,
		struct match_report *out, uint32_t room, match_report_sink *sink, void *ctx);
void match_totals_add(struct match_totals *totals, const struct match_report *reports, int n);

#endif
