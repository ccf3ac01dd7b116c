#include <string.h>

#include "itch_order_book.h"
#include "table_alloc.h"

#define CENT 100 /* ITCH prices have 4 decimals */

static uint64_t
level_key(uint32_t symbol, enum book_side side, uint32_t price)
{
	/* The low half is the price in whole cents shifted by a spread of the
	 * book's id, so a book's neighbouring cents sit in neighbouring slots
	 * of the index (its low bits are the slot: four to a cache line) while
	 * books land far apart. The high half names the book and holds the
	 * sub-cent part, keeping keys unique. */
	uint32_t book = symbol << 1 | side;
	return ((uint64_t)book << 7 | price % CENT) << 32 | (uint32_t)(price / CENT + book * 0x9E3779B9u);
}

int
itch_order_book_init(struct itch_order_book *b, uint32_t max_orders, uint32_t max_symbols)
{
	memset(b, 0, sizeof(*b));
	b->max_orders = max_orders;
	b->max_symbols = max_symbols;
	b->orders = table_alloc((size_t)max_orders * sizeof(*b->orders));
	/* A level holds at least one order, so max_orders levels suffice. */
	b->levels = table_alloc((size_t)max_orders * sizeof(*b->levels));
	b->ends = table_alloc((size_t)max_symbols * 2 * sizeof(*b->ends));
	if (b->orders == NULL || b->levels == NULL || b->ends == NULL ||
	    u64_hash_init(&b->order_index, max_orders, 1) != 0 ||
	    u64_hash_init(&b->level_index, max_orders, 1) != 0) {
		itch_order_book_free(b);
		return -1;
	}
	for (uint32_t i = 0; i < max_orders; i++) {
		b->orders[i].level = i + 1 < max_orders ? i + 1 : BOOK_NONE;
		b->levels[i].next = i + 1 < max_orders ? i + 1 : BOOK_NONE;
	}
	memset(b->ends, 0xff, (size_t)max_symbols * 2 * sizeof(*b->ends));
	b->free_order = 0;
	b->free_level = 0;
	return 0;
}

void
itch_order_book_free(struct itch_order_book *b)
{
	table_free(b->orders, (size_t)b->max_orders * sizeof(*b->orders));
	table_free(b->levels, (size_t)b->max_orders * sizeof(*b->levels));
	table_free(b->ends, (size_t)b->max_symbols * 2 * sizeof(*b->ends));
	u64_hash_free(&b->order_index);
	u64_hash_free(&b->level_index);
	memset(b, 0, sizeof(*b));
}

static int
better(enum book_side side, uint32_t a, uint32_t b)
{
	return side == BOOK_BID ? a > b : a < b;
}

#define SHORT_WALK 8  /* levels walked from the top before asking the index */
#define NEAR_CENTS 16 /* how far from a new price the index is asked for a level */

/* An existing level of the side within NEAR_CENTS whole cents of price,
 * nearest first, else BOOK_NONE: at $1 and above prices are whole cents, so
 * a deep book's new level finds a neighbour in a few index probes. */
static uint32_t
level_near(const struct itch_order_book *b, uint32_t symbol, enum book_side side,
	   uint32_t price)
{
	for (uint32_t k = CENT; k <= NEAR_CENTS * CENT; k += CENT) {
		uint32_t l = price <= UINT32_MAX - k ?
			     u64_hash_get(&b->level_index, level_key(symbol, side, price + k)) :
			     U64_HASH_EMPTY;
		if (l == U64_HASH_EMPTY && price >= k)
			l = u64_hash_get(&b->level_index, level_key(symbol, side, price - k));
		if (l != U64_HASH_EMPTY)
			return l;
	}
	return BOOK_NONE;
}

/* Where a new price goes between two linked levels: by a walk from the top,
 * short because feeds add near the inside; at once behind the worst level
 * when it is deeper still; and past a few levels, from a neighbour the
 * index finds, stepping only over the (sub-penny) levels in between. */
static void
level_place(const struct itch_order_book *b, uint32_t symbol, enum book_side side,
	    uint32_t price, uint32_t *prev, uint32_t *next)
{
	const struct book_ends *ends = &b->ends[symbol * 2 + side];
	uint32_t near;

	*prev = BOOK_NONE;
	*next = ends->best;
	if (ends->worst != BOOK_NONE && better(side, b->levels[ends->worst].price, price)) {
		*prev = ends->worst;
		*next = BOOK_NONE;
	}
	for (unsigned steps = 0; *next != BOOK_NONE && !better(side, price, b->levels[*next].price);
	     steps++) {
		if (steps == SHORT_WALK && (near = level_near(b, symbol, side, price)) != BOOK_NONE) {
			*prev = b->levels[near].prev;
			*next = near;
			break;
		}
		*prev = *next;
		*next = b->levels[*next].next;
	}
	/* From a neighbour: towards the top while the one above is worse... */
	while (*prev != BOOK_NONE && better(side, price, b->levels[*prev].price)) {
		*next = *prev;
		*prev = b->levels[*prev].prev;
	}
	/* ...or down while the one below is better. */
	while (*next != BOOK_NONE && better(side, b->levels[*next].price, price)) {
		*prev = *next;
		*next = b->levels[*next].next;
	}
}

/* Finds or creates the level; a new one is linked in price order. */
static uint32_t
level_get(struct itch_order_book *b, uint32_t symbol, enum book_side side, uint32_t price)
{
	uint32_t l = b->free_level; /* the new level's slot, if it is new */
	uint32_t found = u64_hash_get_or_put(&b->level_index, level_key(symbol, side, price), l);

	if (found != U64_HASH_EMPTY)
		return found;
	struct book_level *lv = &b->levels[l];
	b->free_level = lv->next;

	struct book_ends *ends = &b->ends[symbol * 2 + side];
	uint32_t prev, next;
	level_place(b, symbol, side, price, &prev, &next);
	*lv = (struct book_level){.shares = 0, .price = price, .symbol = symbol,
				  .prev = prev, .next = next, .side = side};
	if (prev == BOOK_NONE)
		ends->best = l;
	else
		b->levels[prev].next = l;
	if (next == BOOK_NONE)
		ends->worst = l;
	else
		b->levels[next].prev = l;
	return l;
}

static void
level_release(struct itch_order_book *b, uint32_t l)
{
	struct book_level *lv = &b->levels[l];

	struct book_ends *ends = &b->ends[lv->symbol * 2 + lv->side];

	if (lv->prev == BOOK_NONE)
		ends->best = lv->next;
	else
		b->levels[lv->prev].next = lv->next;
	if (lv->next == BOOK_NONE)
		ends->worst = lv->prev;
	else
		b->levels[lv->next].prev = lv->prev;
	u64_hash_del(&b->level_index, level_key(lv->symbol, lv->side, lv->price));
	lv->next = b->free_level;
	b->free_level = l;
}

enum book_add_result
itch_order_book_add(struct itch_order_book *b, uint64_t ref, uint32_t symbol,
		    enum book_side side, uint32_t price, uint32_t shares)
{
	uint32_t o = b->free_order;
	if (o == BOOK_NONE)
		return u64_hash_get(&b->order_index, ref) != U64_HASH_EMPTY ? BOOK_DUPLICATE_REF
									   : BOOK_FULL;
	if (u64_hash_get_or_put(&b->order_index, ref, o) != U64_HASH_EMPTY)
		return BOOK_DUPLICATE_REF;
	b->free_order = b->orders[o].level;

	uint32_t l = level_get(b, symbol, side, price);
	b->levels[l].shares += shares;
	b->orders[o] = (struct book_order){.shares = shares, .level = l};
	return BOOK_ADDED;
}

void
itch_order_book_reduce(struct itch_order_book *b, uint64_t ref, uint32_t o, uint32_t shares)
{
	struct book_order *order = &b->orders[o];
	uint32_t take = shares < order->shares ? shares : order->shares;
	uint32_t l = order->level;

	order->shares -= take;
	b->levels[l].shares -= take;
	if (order->shares == 0) {
		u64_hash_del(&b->order_index, ref);
		order->level = b->free_order;
		b->free_order = o;
	}
	if (b->levels[l].shares == 0)
		level_release(b, l);
}
