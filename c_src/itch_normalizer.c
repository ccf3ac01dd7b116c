#include <string.h>

#include "itch_normalizer.h"
#include "table_alloc.h"

/* ITCH 5.0 message lengths by type byte; 0 = not an ITCH 5.0 type. */
static const uint8_t itch_length[256] = {
	['S'] = 12, ['R'] = 39, ['H'] = 25, ['Y'] = 20, ['L'] = 26, ['V'] = 35,
	['W'] = 12, ['K'] = 28, ['J'] = 35, ['h'] = 21, ['A'] = 36, ['F'] = 40,
	['E'] = 31, ['C'] = 36, ['X'] = 23, ['D'] = 19, ['U'] = 35, ['P'] = 44,
	['Q'] = 40, ['B'] = 19, ['I'] = 50, ['N'] = 20, ['O'] = 48,
};

uint16_t
itch_message_length(uint8_t type)
{
	return itch_length[type];
}

static inline uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return __builtin_bswap32(v); }
static inline uint64_t raw64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static inline uint64_t rd64(const uint8_t *p) { return __builtin_bswap64(raw64(p)); }
static inline uint64_t rd48(const uint8_t *p) { return (uint64_t)rd16(p) << 32 | rd32(p + 2); }

/* Trade prices for apply_reduce besides a real price. */
#define TRADE_NONE INT64_MIN
#define TRADE_AT_ORDER_PRICE (INT64_MIN + 1)

static inline uint32_t
saturate32(uint64_t v)
{
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

int
itch_normalizer_init(struct itch_normalizer *n, const struct itch_normalizer_params *p,
		     struct md_counters *counters)
{
	memset(n, 0, sizeof(*n));
	n->max_symbols = p->max_symbols;
	/* Prefaulted like the book: a first message for a symbol or locate
	 * must not take a page fault (calloc maps large blocks lazily). */
	n->symbols = table_alloc((size_t)p->max_symbols * sizeof(*n->symbols));
	n->by_locate = table_alloc((UINT16_MAX + 1) * sizeof(*n->by_locate));
	if (n->symbols == NULL || n->by_locate == NULL || u64_hash_init(&n->symbol_index, p->max_symbols, 0) != 0 ||
	    itch_order_book_init(&n->book, p->max_orders, p->max_symbols) != 0) {
		itch_normalizer_free(n);
		return -1;
	}
	n->next_symbol_id = 1;
	n->midnight_ns = p->midnight_ns;
	n->counters = counters;
	return 0;
}

void
itch_normalizer_free(struct itch_normalizer *n)
{
	itch_order_book_free(&n->book);
	u64_hash_free(&n->symbol_index);
	table_free(n->symbols, (size_t)n->max_symbols * sizeof(*n->symbols));
	table_free(n->by_locate, (UINT16_MAX + 1) * sizeof(*n->by_locate));
	n->symbols = NULL;
	n->by_locate = NULL;
}

static uint32_t
symbol_add(struct itch_normalizer *n, uint64_t stock, uint32_t id)
{
	if (n->n_symbols == n->max_symbols)
		return BOOK_NONE;
	uint32_t s = n->n_symbols++;
	n->symbols[s].name = stock;
	n->symbols[s].id = id;
	if (id >= n->next_symbol_id)
		n->next_symbol_id = id + 1;
	u64_hash_get_or_put(&n->symbol_index, stock, s); /* absent: callers checked */
	return s;
}

int
itch_normalizer_set_symbol_id(struct itch_normalizer *n, const char stock[8], uint32_t id)
{
	uint64_t key = raw64((const uint8_t *)stock);

	if (id == 0 || u64_hash_get(&n->symbol_index, key) != U64_HASH_EMPTY)
		return -1;
	return symbol_add(n, key, id) == BOOK_NONE ? -1 : 0;
}

/* The index of the symbol message m names at stock, assigning the next id on
 * first sight. The exchange's stock locate code is tried first: one load and
 * a compare of the name, which the hash lookup is only the fallback for. */
static inline uint32_t
symbol_lookup(struct itch_normalizer *n, const uint8_t *m, const uint8_t *stock)
{
	uint64_t key = raw64(stock);
	uint32_t *cached = &n->by_locate[rd16(m + 1)];

	if (*cached != 0 && n->symbols[*cached - 1].name == key)
		return *cached - 1;
	uint32_t s = u64_hash_get(&n->symbol_index, key);
	if (s == U64_HASH_EMPTY) {
		s = symbol_add(n, key, n->next_symbol_id);
		if (s == BOOK_NONE) {
			n->counters->msg_events[COLO_MSG_SYMBOLS_FULL]++;
			return s;
		}
	}
	*cached = s + 1;
	return s;
}

static inline struct colo_tick *
tick(struct colo_tick *t, uint64_t ts, uint32_t symbol_id, int64_t price, uint32_t qty,
     uint8_t side, uint8_t type)
{
	t->ts_ns = ts;
	t->symbol_id = symbol_id;
	t->price = price;
	t->quantity = qty;
	t->side = side;
	t->type = type;
	return t + 1;
}

static inline uint8_t
aggressor_of(enum book_side resting)
{
	return resting == BOOK_BID ? 'S' : 'B';
}

/* A Q tick if the side's top differs from `before`. */
static inline struct colo_tick *
quote_if_changed(struct itch_normalizer *n, struct colo_tick *t, uint64_t ts, uint32_t s,
		 enum book_side side, struct book_top before)
{
	struct book_top after = itch_order_book_top(&n->book, s, side);

	if (after.price == before.price && after.shares == before.shares)
		return t;
	return tick(t, ts, n->symbols[s].id, (int64_t)after.price * COLO_ITCH_PRICE_SCALE,
		    saturate32(after.shares), side == BOOK_BID ? 'B' : 'S', 'Q');
}

static struct colo_tick *
apply_add(struct itch_normalizer *n, const uint8_t *m, uint64_t ts, struct colo_tick *t)
{
	uint32_t s = symbol_lookup(n, m, m + 24);
	uint8_t side_code = m[19];
	uint32_t shares = rd32(m + 20);

	if (s == BOOK_NONE)
		return t;
	if (side_code != 'B' && side_code != 'S') {
		n->counters->msg_events[COLO_MSG_BAD_FIELD]++;
		return t;
	}
	if (shares == 0) {
		n->counters->msg_events[COLO_MSG_ZERO_SHARES]++;
		return t;
	}
	enum book_side side = side_code == 'B' ? BOOK_BID : BOOK_ASK;
	struct book_top before = itch_order_book_top(&n->book, s, side);
	switch (itch_order_book_add(&n->book, rd64(m + 11), s, side, rd32(m + 32), shares)) {
	case BOOK_ADDED:
		return quote_if_changed(n, t, ts, s, side, before);
	case BOOK_DUPLICATE_REF:
		n->counters->msg_events[COLO_MSG_DUPLICATE_REF]++;
		return t;
	case BOOK_FULL:
		n->counters->msg_events[COLO_MSG_BOOK_FULL]++;
		return t;
	}
	return t;
}

/* A live order a message names, and its side's top before the message. */
struct named_order {
	uint32_t order, symbol, price;
	enum book_side side;
	struct book_top before;
};

/* False, counted as an orphan, when the reference is not on the book. */
static inline int
named_order_find(struct itch_normalizer *n, uint64_t ref, struct named_order *no)
{
	no->order = itch_order_book_find(&n->book, ref);
	if (no->order == BOOK_NONE) {
		n->counters->msg_events[COLO_MSG_ORPHAN_REF]++;
		return 0;
	}
	const struct book_level *lv = itch_order_book_level_of(&n->book, no->order);
	no->symbol = lv->symbol;
	no->price = lv->price;
	no->side = lv->side;
	no->before = itch_order_book_top(&n->book, lv->symbol, lv->side);
	return 1;
}

/* E, C, X, D: a trade (unless TRADE_NONE), the order reduced, a quote. */
static struct colo_tick *
apply_reduce(struct itch_normalizer *n, uint64_t ref, uint32_t shares, int64_t trade_price,
	     uint64_t ts, struct colo_tick *t)
{
	struct named_order no;

	if (!named_order_find(n, ref, &no))
		return t;
	if (trade_price == TRADE_AT_ORDER_PRICE)
		trade_price = (int64_t)no.price * COLO_ITCH_PRICE_SCALE;
	if (trade_price != TRADE_NONE)
		t = tick(t, ts, n->symbols[no.symbol].id, trade_price, shares, aggressor_of(no.side),
			 'T');
	itch_order_book_reduce(&n->book, ref, no.order, shares);
	return quote_if_changed(n, t, ts, no.symbol, no.side, no.before);
}

static struct colo_tick *
apply_replace(struct itch_normalizer *n, const uint8_t *m, uint64_t ts, struct colo_tick *t)
{
	uint64_t orig = rd64(m + 11), new_ref = rd64(m + 19);
	uint32_t shares = rd32(m + 27);
	struct named_order no;

	if (!named_order_find(n, orig, &no))
		return t;
	itch_order_book_reduce(&n->book, orig, no.order, UINT32_MAX);
	if (shares == 0)
		n->counters->msg_events[COLO_MSG_ZERO_SHARES]++;
	else if (itch_order_book_add(&n->book, new_ref, no.symbol, no.side, rd32(m + 31), shares) ==
		 BOOK_DUPLICATE_REF)
		n->counters->msg_events[COLO_MSG_DUPLICATE_REF]++;
	/* BOOK_FULL cannot happen: the original order's slot was just freed. */
	return quote_if_changed(n, t, ts, no.symbol, no.side, no.before);
}

unsigned
itch_normalizer_apply(struct itch_normalizer *n, const uint8_t *m, uint16_t len,
		      struct colo_tick out[ITCH_MAX_TICKS_PER_MSG])
{
	struct md_counters *c = n->counters;
	struct colo_tick *t = out;
	uint32_t s;

	if (len == 0) {
		c->msg_events[COLO_MSG_BAD_LENGTH]++;
		return 0;
	}
	uint8_t type = m[0];
	c->messages_by_type[type]++;
	if (itch_length[type] == 0) {
		c->msg_events[COLO_MSG_UNKNOWN_TYPE]++;
		return 0;
	}
	if (len != itch_length[type]) {
		c->msg_events[COLO_MSG_BAD_LENGTH]++;
		return 0;
	}
	uint64_t ts = n->midnight_ns + rd48(m + 5);

	switch (type) {
	case 'S':
		t = tick(t, ts, 0, 0, 0, m[11], 'S');
		break;
	case 'R':
		s = symbol_lookup(n, m, m + 11);
		if (s != BOOK_NONE)
			t = tick(t, ts, n->symbols[s].id, (int64_t)raw64(m + 11), rd32(m + 21), ' ', 'R');
		break;
	case 'H':
		s = symbol_lookup(n, m, m + 11);
		if (s != BOOK_NONE)
			t = tick(t, ts, n->symbols[s].id, 0, 0, m[19], 'H');
		break;
	case 'A':
	case 'F':
		t = apply_add(n, m, ts, t);
		break;
	case 'E':
		t = apply_reduce(n, rd64(m + 11), rd32(m + 19), TRADE_AT_ORDER_PRICE, ts, t);
		break;
	case 'C':
		t = apply_reduce(n, rd64(m + 11), rd32(m + 19),
				 m[31] == 'Y' ? (int64_t)rd32(m + 32) * COLO_ITCH_PRICE_SCALE : TRADE_NONE,
				 ts, t);
		break;
	case 'X':
		t = apply_reduce(n, rd64(m + 11), rd32(m + 19), TRADE_NONE, ts, t);
		break;
	case 'D':
		t = apply_reduce(n, rd64(m + 11), UINT32_MAX, TRADE_NONE, ts, t);
		break;
	case 'U':
		t = apply_replace(n, m, ts, t);
		break;
	case 'P':
		s = symbol_lookup(n, m, m + 24);
		if (s != BOOK_NONE)
			t = tick(t, ts, n->symbols[s].id, (int64_t)rd32(m + 32) * COLO_ITCH_PRICE_SCALE,
				 rd32(m + 20), m[19] == 'B' ? 'S' : m[19] == 'S' ? 'B' : ' ', 'T');
		break;
	case 'Q':
		s = symbol_lookup(n, m, m + 19);
		if (s != BOOK_NONE && rd64(m + 11) > 0)
			t = tick(t, ts, n->symbols[s].id, (int64_t)rd32(m + 27) * COLO_ITCH_PRICE_SCALE,
				 saturate32(rd64(m + 11)), ' ', 'T');
		break;
	default:
		break; /* valid ITCH, no tick: counted by type above */
	}
	for (struct colo_tick *p = out; p < t; p++)
		c->ticks_by_type[p->type]++;
	return (unsigned)(t - out);
}
