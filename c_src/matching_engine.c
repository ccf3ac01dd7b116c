/* The matching rules over a match_book: price-time priority, order types,
 * self-trade prevention and the reports each message produces. */
#include <stdlib.h>

#include "matching_book.h"

/* Reports are compared byte for byte: padding would carry stale bytes. */
_Static_assert(sizeof(struct match_report) == 48, "struct match_report has padding");

/* One message being handled: where its reports go and the time they carry. */
struct match_call {
	struct match_book *b;
	struct match_report *out;
	uint32_t n;
	uint64_t time_ns;
};

static struct match_report *
report(struct match_call *c, uint8_t type, uint8_t reason, uint64_t id, uint8_t side)
{
	struct match_report *r = &c->out[c->n++];

	*r = (struct match_report){.id = id, .time_ns = c->time_ns, .type = type,
				   .reason = reason, .side = side};
	return r;
}

static void
report_cancel(struct match_call *c, uint8_t reason, uint64_t id, uint8_t side, int64_t price,
	      uint32_t qty, uint32_t leaves)
{
	struct match_report *r = report(c, MATCH_CANCELLED, reason, id, side);

	r->price = price;
	r->qty = qty;
	r->leaves = leaves;
}

/* Takes qty off a resting order and tells its owner why. */
static void
cancel_resting(struct match_call *c, uint32_t slot, uint8_t reason, uint32_t qty)
{
	const struct match_resting *m = &c->b->orders[slot];

	report_cancel(c, reason, m->id, m->side, c->b->levels[m->level].price, qty,
		      m->leaves - qty);
	match_book_take(c->b, slot, qty);
}

static int
rests(const struct match_order *o)
{
	return o->type == MATCH_LIMIT && (o->tif == MATCH_DAY || o->tif == MATCH_GTC);
}

/* The price its reports show: market orders have none (their price is the
 * protection risk judged them at). */
static int64_t
shown_price(const struct match_order *o)
{
	return o->type == MATCH_LIMIT ? o->price : 0;
}

/* Self trades are an account's: another account never counts as the same
 * owner, whatever its group; by group, only the taker's group of it does. */
static int
same_owner(const struct match_order *t, const struct match_resting *m)
{
	return t->account == m->account && (!t->stp_by_group || t->group == m->group);
}

/* What a self-trade leaves of the taker's qty (0: the taker is finished). */
static uint32_t
prevent_self_trade(struct match_call *c, const struct match_order *t, uint32_t left,
		   uint32_t slot)
{
	int64_t price = shown_price(t);
	uint32_t maker_leaves = c->b->orders[slot].leaves;
	uint32_t dec = left < maker_leaves ? left : maker_leaves;

	switch (t->stp) {
	case MATCH_STP_CANCEL_OLDEST:
		cancel_resting(c, slot, MATCH_REASON_SELF_TRADE, maker_leaves);
		return left;
	case MATCH_STP_CANCEL_BOTH:
		cancel_resting(c, slot, MATCH_REASON_SELF_TRADE, maker_leaves);
		break;
	case MATCH_STP_DECREMENT:
		cancel_resting(c, slot, MATCH_REASON_SELF_TRADE, dec);
		report_cancel(c, MATCH_REASON_SELF_TRADE, t->id, t->side, price, dec, left - dec);
		return left - dec;
	default: /* cancel newest */
		break;
	}
	report_cancel(c, MATCH_REASON_SELF_TRADE, t->id, t->side, price, left, 0);
	return 0;
}

static uint32_t
fill(struct match_call *c, const struct match_order *t, uint32_t left, uint32_t slot)
{
	struct match_book *b = c->b;
	const struct match_resting *m = &b->orders[slot];
	uint32_t qty = left < m->leaves ? left : m->leaves;
	struct match_report *r = report(c, MATCH_FILL, MATCH_REASON_NONE, t->id, t->side);

	r->maker_id = m->id;
	r->price = b->levels[m->level].price;
	r->qty = qty;
	r->leaves = left - qty;
	r->maker_leaves = m->leaves - qty;
	match_book_take(b, slot, qty);
	return left - qty;
}

/* Trades the taker against the opposite side, best price first, oldest
 * order first, in one pass however many orders it sweeps. Returns the qty
 * left to rest or cancel (0 also when STP finished the taker). */
static uint32_t
match_taker(struct match_call *c, const struct match_order *t, uint32_t left)
{
	struct match_book *b = c->b;
	const struct match_side_levels *opposite = &b->sides[!t->side];

	while (left > 0 && opposite->best != MATCH_NONE) {
		const struct match_level *lv = &b->levels[opposite->best];
		if (!match_crosses(t->side, t->price, lv->price))
			break;
		uint32_t slot = lv->head;
		if (t->stp != MATCH_STP_NONE && same_owner(t, &b->orders[slot]))
			left = prevent_self_trade(c, t, left, slot);
		else
			left = fill(c, t, left, slot);
	}
	return left;
}

/* A dry run of match_taker (STP included) counting what it would trade,
 * stopping once `need` is reached: FOK and minimum quantity must be met
 * before anything on the book is touched. Without STP whole levels count. */
static uint32_t
tradable(const struct match_book *b, const struct match_order *t, uint32_t need)
{
	uint32_t left = t->qty, traded = 0;

	for (uint32_t l = b->sides[!t->side].best; l != MATCH_NONE && left > 0 && traded < need;
	     l = b->levels[l].worse) {
		const struct match_level *lv = &b->levels[l];
		if (!match_crosses(t->side, t->price, lv->price))
			break;
		if (t->stp == MATCH_STP_NONE) {
			uint32_t qty = lv->qty < left ? (uint32_t)lv->qty : left;
			traded += qty;
			left -= qty;
			continue;
		}
		for (uint32_t o = lv->head; o != MATCH_NONE && left > 0; o = b->orders[o].next) {
			const struct match_resting *m = &b->orders[o];
			uint32_t qty = left < m->leaves ? left : m->leaves;
			if (!same_owner(t, m)) {
				traded += qty;
				left -= qty;
			} else if (t->stp == MATCH_STP_DECREMENT) {
				left -= qty;
			} else if (t->stp != MATCH_STP_CANCEL_OLDEST) {
				return traded;
			}
		}
	}
	return traded;
}

static int
valid(const struct match_order *o)
{
	if (o->qty == 0 || o->side > MATCH_SELL || o->type > MATCH_MARKET ||
	    o->tif > MATCH_FOK || o->stp >= MATCH_STP_N || o->stp_by_group > 1 ||
	    o->post_only > 1)
		return 0;
	if (o->min_qty != 0 && (o->tif != MATCH_IOC || o->min_qty > o->qty))
		return 0;
	return !o->post_only || rests(o);
}

/* Whether a limit order would take liquidity on arrival. */
static int
would_take(const struct match_book *b, uint8_t side, int64_t price)
{
	uint32_t best = b->sides[!side].best;

	return best != MATCH_NONE && match_crosses(side, price, b->levels[best].price);
}

static uint8_t
reject_reason(const struct match_book *b, const struct match_order *o)
{
	if (!valid(o))
		return MATCH_REASON_INVALID;
	if (match_book_find(b, o->id) != U64_HASH_EMPTY)
		return MATCH_REASON_DUPLICATE_ID;
	if (rests(o) && b->live == b->max_orders)
		return MATCH_REASON_BOOK_FULL;
	if (o->post_only && would_take(b, o->side, o->price))
		return MATCH_REASON_POST_ONLY;
	return MATCH_REASON_NONE;
}

/* Matches what it can, then rests or cancels the rest as its type says. */
static void
execute(struct match_call *c, const struct match_order *o, uint32_t qty)
{
	uint32_t left = match_taker(c, o, qty);

	if (left == 0)
		return;
	if (rests(o))
		match_book_add(c->b, o, left);
	else
		report_cancel(c, MATCH_REASON_UNFILLED, o->id, o->side, shown_price(o), left, 0);
}

static void
submit(struct match_call *c, const struct match_order *o)
{
	uint8_t reason = reject_reason(c->b, o);
	int64_t price = shown_price(o);

	if (reason != MATCH_REASON_NONE) {
		report(c, MATCH_REJECTED, reason, o->id, o->side <= MATCH_SELL ? o->side : 0);
		return;
	}
	struct match_report *r = report(c, MATCH_ACCEPTED, MATCH_REASON_NONE, o->id, o->side);
	r->price = price;
	r->qty = o->qty;
	r->leaves = o->qty;

	uint32_t need = o->tif == MATCH_FOK ? o->qty : o->min_qty;
	if (need > 0 && tradable(c->b, o, need) < need) {
		report_cancel(c, o->tif == MATCH_FOK ? MATCH_REASON_FOK : MATCH_REASON_MIN_QTY,
			      o->id, o->side, price, o->qty, 0);
		return;
	}
	execute(c, o, o->qty);
}

static void
cancel(struct match_call *c, uint64_t id)
{
	uint32_t slot = match_book_find(c->b, id);

	if (slot == U64_HASH_EMPTY)
		report(c, MATCH_CANCEL_REJECTED, MATCH_REASON_NOT_RESTING, id, 0);
	else
		cancel_resting(c, slot, MATCH_REASON_USER, c->b->orders[slot].leaves);
}

static void
report_modified(struct match_call *c, const struct match_order *o, int kept)
{
	struct match_report *r = report(c, MATCH_MODIFIED, MATCH_REASON_NONE, o->id, o->side);

	r->price = o->price;
	r->qty = o->qty;
	r->leaves = o->qty;
	r->priority_kept = kept;
}

/* The resting order as the order it was entered as, with a new price and qty. */
static struct match_order
order_of(const struct match_book *b, uint32_t slot, int64_t price, uint32_t qty)
{
	const struct match_resting *m = &b->orders[slot];

	return (struct match_order){.id = m->id, .price = price, .qty = qty,
				    .account = m->account, .group = m->group,
				    .side = m->side, .type = MATCH_LIMIT, .tif = m->tif,
				    .post_only = m->post_only, .stp = m->stp,
				    .stp_by_group = m->stp_by_group};
}

/* A modify of a resting order refused: the report says what still rests
 * (risk moved its reservation when it passed the replace). */
static void
refuse_modify(struct match_call *c, uint32_t slot, uint8_t reason)
{
	const struct match_resting *m = &c->b->orders[slot];
	struct match_report *r = report(c, MATCH_MODIFY_REJECTED, reason, m->id, m->side);

	r->price = c->b->levels[m->level].price;
	r->leaves = m->leaves;
}

static void
modify(struct match_call *c, uint64_t id, int64_t price, uint32_t qty)
{
	struct match_book *b = c->b;
	uint32_t slot = match_book_find(b, id);

	if (slot == U64_HASH_EMPTY) {
		report(c, MATCH_MODIFY_REJECTED, MATCH_REASON_NOT_RESTING, id, 0);
		return;
	}
	struct match_resting *m = &b->orders[slot];
	struct match_order o = order_of(b, slot, price, qty);
	if (qty == 0) {
		refuse_modify(c, slot, MATCH_REASON_INVALID);
		return;
	}
	if (price == b->levels[m->level].price && qty <= m->leaves) {
		match_book_take(b, slot, m->leaves - qty); /* in place: priority kept */
		report_modified(c, &o, 1);
		return;
	}
	if (m->post_only && would_take(b, m->side, price)) {
		refuse_modify(c, slot, MATCH_REASON_POST_ONLY);
		return;
	}
	match_book_take(b, slot, m->leaves); /* cancel and re-enter */
	report_modified(c, &o, 0);
	execute(c, &o, qty);
}

static int
is_account(const struct match_resting *m, uint32_t account)
{
	return m->account == account;
}

static int
is_day(const struct match_resting *m, uint32_t unused)
{
	return m->tif == MATCH_DAY;
}

/* Cancels the resting orders `chosen` picks: bids then asks, best price
 * first, oldest first. */
static void
cancel_where(struct match_call *c, uint8_t reason,
	     int (*chosen)(const struct match_resting *, uint32_t), uint32_t arg)
{
	struct match_book *b = c->b;

	for (uint8_t side = MATCH_BUY; side <= MATCH_SELL; side++) {
		uint32_t l = b->sides[side].best;
		while (l != MATCH_NONE) {
			uint32_t o = b->levels[l].head;
			l = b->levels[l].worse; /* read first: the level may be released */
			while (o != MATCH_NONE) {
				uint32_t next = b->orders[o].next;
				if (chosen(&b->orders[o], arg))
					cancel_resting(c, o, reason, b->orders[o].leaves);
				o = next;
			}
		}
	}
}

struct match_book *
match_book_create(uint32_t max_orders, int sequential_ids)
{
	struct match_book *b;

	/* Calls return their report count, 2 per resting order + 2, as an int. */
	if (max_orders == 0 || max_orders > (INT32_MAX - 2) / 2)
		return NULL;
	b = malloc(sizeof(*b));
	if (b == NULL)
		return NULL;
	if (match_book_init(b, max_orders, sequential_ids) != 0) {
		free(b);
		return NULL;
	}
	return b;
}

void
match_book_destroy(struct match_book *b)
{
	if (b == NULL)
		return;
	match_book_fini(b);
	free(b);
}

uint32_t
match_report_room(const struct match_book *b)
{
	return 2 * b->max_orders + 2;
}

int
match_apply(struct match_book *b, const struct match_command *cmd, struct match_report *out,
	    uint32_t room)
{
	struct match_call c = {.b = b, .out = out, .n = 0, .time_ns = cmd->time_ns};
	const struct match_order *o = &cmd->order;

	if (room < match_report_room(b))
		return -1;
	switch (cmd->type) {
	case MATCH_CMD_SUBMIT:
		submit(&c, o);
		break;
	case MATCH_CMD_CANCEL:
		cancel(&c, o->id);
		break;
	case MATCH_CMD_MODIFY:
		modify(&c, o->id, o->price, o->qty);
		break;
	case MATCH_CMD_MASS_CANCEL:
		cancel_where(&c, MATCH_REASON_MASS_CANCEL, is_account, o->account);
		break;
	case MATCH_CMD_END_OF_DAY:
		cancel_where(&c, MATCH_REASON_END_OF_DAY, is_day, 0);
		break;
	default:
		return -1;
	}
	return c.n;
}

int
match_submit(struct match_book *b, const struct match_order *o, uint64_t time_ns,
	     struct match_report *out, uint32_t room)
{
	struct match_command cmd = {.time_ns = time_ns, .order = *o, .type = MATCH_CMD_SUBMIT};

	return match_apply(b, &cmd, out, room);
}

int
match_cancel(struct match_book *b, uint64_t id, uint64_t time_ns, struct match_report *out,
	     uint32_t room)
{
	struct match_command cmd = {.time_ns = time_ns, .order = {.id = id},
				    .type = MATCH_CMD_CANCEL};

	return match_apply(b, &cmd, out, room);
}

int
match_modify(struct match_book *b, uint64_t id, int64_t price, uint32_t qty, uint64_t time_ns,
	     struct match_report *out, uint32_t room)
{
	struct match_command cmd = {.time_ns = time_ns,
				    .order = {.id = id, .price = price, .qty = qty},
				    .type = MATCH_CMD_MODIFY};

	return match_apply(b, &cmd, out, room);
}

int
match_mass_cancel(struct match_book *b, uint32_t account, uint64_t time_ns,
		  struct match_report *out, uint32_t room)
{
	struct match_command cmd = {.time_ns = time_ns, .order = {.account = account},
				    .type = MATCH_CMD_MASS_CANCEL};

	return match_apply(b, &cmd, out, room);
}

int
match_end_of_day(struct match_book *b, uint64_t time_ns, struct match_report *out,
		 uint32_t room)
{
	struct match_command cmd = {.time_ns = time_ns, .type = MATCH_CMD_END_OF_DAY};

	return match_apply(b, &cmd, out, room);
}

int
match_best(const struct match_book *b, uint8_t side, int64_t *price, uint64_t *qty)
{
	uint32_t l = side <= MATCH_SELL ? b->sides[side].best : MATCH_NONE;

	if (l == MATCH_NONE)
		return 0;
	*price = b->levels[l].price;
	*qty = b->levels[l].qty;
	return 1;
}

uint64_t
match_qty_at(const struct match_book *b, uint8_t side, int64_t price)
{
	uint32_t l = side <= MATCH_SELL ? match_book_level_at(b, side, price) : MATCH_NONE;

	return l == MATCH_NONE ? 0 : b->levels[l].qty;
}

uint32_t
match_live_orders(const struct match_book *b)
{
	return b->live;
}
