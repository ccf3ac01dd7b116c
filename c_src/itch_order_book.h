/* Per-symbol price-level book for a full-depth order feed (ITCH): live
 * orders by reference, shares aggregated per price level, levels of each side
 * kept in price order so the top is always one load away. All memory is
 * sized at creation; nothing allocates per message. One writer. */
#ifndef ITCH_ORDER_BOOK_H
#define ITCH_ORDER_BOOK_H

#include <stdint.h>

#include "u64_hash.h"

#define BOOK_NONE UINT32_MAX

enum book_side { BOOK_BID = 0, BOOK_ASK = 1 };

struct book_level {
	uint64_t shares; /* total displayed shares at this price */
	uint32_t price;  /* ITCH price, 4 decimals */
	uint32_t symbol;
	uint32_t prev, next; /* towards the better / worse price */
	uint8_t side;
};

struct book_order {
	uint32_t shares;
	uint32_t level; /* the level holds price, side and symbol; on the free list: next free */
};

struct book_top {
	uint32_t price;
	uint64_t shares;
};

/* A side's levels run from best to worst; both ends are kept so a level
 * beyond the worst (a deep book being built) is linked without a walk. */
struct book_ends {
	uint32_t best, worst; /* levels[], BOOK_NONE when the side is empty */
};

struct itch_order_book {
	struct u64_hash order_index; /* order ref -> orders[] */
	struct u64_hash level_index; /* (symbol, side, price) -> levels[] */
	struct book_order *orders;
	struct book_level *levels;
	struct book_ends *ends;      /* [symbol * 2 + side] */
	uint32_t free_order, free_level;
	uint32_t max_orders, max_symbols;
};

int itch_order_book_init(struct itch_order_book *b, uint32_t max_orders, uint32_t max_symbols);
void itch_order_book_free(struct itch_order_book *b);

enum book_add_result { BOOK_ADDED, BOOK_DUPLICATE_REF, BOOK_FULL };

enum book_add_result itch_order_book_add(struct itch_order_book *b, uint64_t ref,
		uint32_t symbol, enum book_side side, uint32_t price, uint32_t shares);

/* The order's index, or BOOK_NONE when the reference is not live. */
static inline uint32_t
itch_order_book_find(const struct itch_order_book *b, uint64_t ref)
{
	return u64_hash_get(&b->order_index, ref);
}

/* Takes min(shares, remaining) off an order; removes it at zero. */
void itch_order_book_reduce(struct itch_order_book *b, uint64_t ref, uint32_t order,
		uint32_t shares);

static inline const struct book_level *
itch_order_book_level_of(const struct itch_order_book *b, uint32_t order)
{
	return &b->levels[b->orders[order].level];
}

static inline struct book_top
itch_order_book_top(const struct itch_order_book *b, uint32_t symbol, enum book_side side)
{
	uint32_t l = b->ends[symbol * 2 + side].best;
	struct book_top top = {0, 0};

	if (l != BOOK_NONE) {
		top.price = b->levels[l].price;
		top.shares = b->levels[l].shares;
	}
	return top;
}

#endif
