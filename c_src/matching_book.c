#include <string.h>

#include "matching_book.h"
#include "table_alloc.h"

int
match_book_init(struct match_book *b, uint32_t max_orders, int sequential_ids)
{
	memset(b, 0, sizeof(*b));
	b->max_orders = max_orders;
	b->orders = table_alloc((size_t)max_orders * sizeof(*b->orders));
	/* A level holds at least one order, so max_orders levels suffice. */
	b->levels = table_alloc((size_t)max_orders * sizeof(*b->levels));
	if (b->orders == NULL || b->levels == NULL ||
	    u64_hash_init(&b->by_id, max_orders, sequential_ids) != 0 ||
	    /* Ticks are dense integers: their low bits spread them best. */
	    u64_hash_init(&b->sides[MATCH_BUY].by_price, max_orders, 1) != 0 ||
	    u64_hash_init(&b->sides[MATCH_SELL].by_price, max_orders, 1) != 0) {
		match_book_fini(b);
		return -1;
	}
	for (uint32_t i = 0; i < max_orders; i++) {
		b->orders[i].next = i + 1 < max_orders ? i + 1 : MATCH_NONE;
		b->levels[i].worse = i + 1 < max_orders ? i + 1 : MATCH_NONE;
	}
	b->sides[MATCH_BUY].best = MATCH_NONE;
	b->sides[MATCH_SELL].best = MATCH_NONE;
	return 0;
}

void
match_book_fini(struct match_book *b)
{
	table_free(b->orders, (size_t)b->max_orders * sizeof(*b->orders));
	table_free(b->levels, (size_t)b->max_orders * sizeof(*b->levels));
	u64_hash_free(&b->by_id);
	u64_hash_free(&b->sides[MATCH_BUY].by_price);
	u64_hash_free(&b->sides[MATCH_SELL].by_price);
	memset(b, 0, sizeof(*b));
}

static int
better(uint8_t side, int64_t a, int64_t than)
{
	return side == MATCH_BUY ? a > than : a < than;
}

/* The level one tick from price (step +1 or -1), if there is one. */
static uint32_t
level_next_to(const struct match_side_levels *s, int64_t price, int step)
{
	if ((step > 0 && price == INT64_MAX) || (step < 0 && price == INT64_MIN))
		return MATCH_NONE; /* no wrapping around */
	return u64_hash_get(&s->by_price, (uint64_t)(price + step));
}

/* Where a new level goes: next to the level one tick better or worse when
 * there is one (a probe of the neighbouring index slot, as prices are
 * indexed by their low bits), so a ladder of ticks is built in O(1) at any
 * depth; else after a walk from the best price. */
static void
level_place(const struct match_book *b, uint8_t side, int64_t price, uint32_t *prev,
	    uint32_t *next)
{
	const struct match_side_levels *s = &b->sides[side];
	int towards_better = side == MATCH_BUY ? 1 : -1;
	uint32_t n = level_next_to(s, price, towards_better);

	if (n != MATCH_NONE) {
		*prev = n;
		*next = b->levels[n].worse;
		return;
	}
	n = level_next_to(s, price, -towards_better);
	if (n != MATCH_NONE) {
		*prev = b->levels[n].better;
		*next = n;
		return;
	}
	*prev = MATCH_NONE;
	*next = s->best;
	while (*next != MATCH_NONE && !better(side, price, b->levels[*next].price)) {
		*prev = *next;
		*next = b->levels[*next].worse;
	}
}

/* Finds the side's level at price, or links in a new empty one. */
static uint32_t
level_get(struct match_book *b, uint8_t side, int64_t price)
{
	struct match_side_levels *s = &b->sides[side];
	uint32_t l = b->free_level; /* the new level's slot, if it is new */
	uint32_t found = u64_hash_get_or_put(&s->by_price, (uint64_t)price, l);

	if (found != U64_HASH_EMPTY)
		return found;
	struct match_level *lv = &b->levels[l];
	b->free_level = lv->worse;

	uint32_t prev, next;
	level_place(b, side, price, &prev, &next);
	*lv = (struct match_level){.price = price, .qty = 0, .head = MATCH_NONE,
				   .tail = MATCH_NONE, .better = prev, .worse = next};
	if (prev == MATCH_NONE)
		s->best = l;
	else
		b->levels[prev].worse = l;
	if (next != MATCH_NONE)
		b->levels[next].better = l;
	return l;
}

static void
level_release(struct match_book *b, uint8_t side, uint32_t l)
{
	struct match_side_levels *s = &b->sides[side];
	struct match_level *lv = &b->levels[l];

	if (lv->better == MATCH_NONE)
		s->best = lv->worse;
	else
		b->levels[lv->better].worse = lv->worse;
	if (lv->worse != MATCH_NONE)
		b->levels[lv->worse].better = lv->better;
	u64_hash_del(&s->by_price, (uint64_t)lv->price);
	lv->worse = b->free_level;
	b->free_level = l;
}

uint32_t
match_book_add(struct match_book *b, const struct match_order *o, uint32_t leaves)
{
	uint32_t slot = b->free_order;
	struct match_resting *r = &b->orders[slot];

	b->free_order = r->next;
	b->live++;
	u64_hash_get_or_put(&b->by_id, o->id, slot);

	uint32_t l = level_get(b, o->side, o->price);
	struct match_level *lv = &b->levels[l];
	*r = (struct match_resting){.id = o->id, .prev = lv->tail, .next = MATCH_NONE,
				    .level = l, .leaves = leaves, .account = o->account,
				    .group = o->group, .side = o->side, .tif = o->tif,
				    .post_only = o->post_only, .stp = o->stp,
				    .stp_by_group = o->stp_by_group};
	if (lv->tail == MATCH_NONE)
		lv->head = slot;
	else
		b->orders[lv->tail].next = slot;
	lv->tail = slot;
	lv->qty += leaves;
	return slot;
}

static void
order_release(struct match_book *b, uint32_t slot)
{
	struct match_resting *r = &b->orders[slot];
	struct match_level *lv = &b->levels[r->level];

	if (r->prev == MATCH_NONE)
		lv->head = r->next;
	else
		b->orders[r->prev].next = r->next;
	if (r->next == MATCH_NONE)
		lv->tail = r->prev;
	else
		b->orders[r->next].prev = r->prev;
	if (lv->head == MATCH_NONE)
		level_release(b, r->side, r->level);
	u64_hash_del(&b->by_id, r->id);
	r->next = b->free_order;
	b->free_order = slot;
	b->live--;
}

void
match_book_take(struct match_book *b, uint32_t slot, uint32_t qty)
{
	struct match_resting *r = &b->orders[slot];

	r->leaves -= qty;
	b->levels[r->level].qty -= qty;
	if (r->leaves == 0)
		order_release(b, slot);
}
