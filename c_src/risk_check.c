/* The pre-trade checks of a new order or a replace, and the fills and
 * cancels that feed back from matching. Checks run in enum risk_reason
 * order, each a load or two and a compare on state kept current by the
 * events. The checks both use are inline: out of line, as the compiler
 * leaves them with two callers, they cost a new order some 3 ns. */
#include "risk_check.h"

/* Refills by the time passed (never backwards), then takes one message's
 * cost if there is credit for it. */
static int
take_token(struct risk_bucket *b, uint64_t interval_ns, uint32_t burst, uint64_t now_ns)
{
	if (interval_ns == 0)
		return 1;
	uint64_t cap = interval_ns * burst;
	if (now_ns > b->last_ns) {
		uint64_t gained = now_ns - b->last_ns;
		b->credit_ns = gained >= cap - b->credit_ns ? cap : b->credit_ns + gained;
		b->last_ns = now_ns;
	}
	if (b->credit_ns < interval_ns)
		return 0;
	b->credit_ns -= interval_ns;
	return 1;
}

static int
valid(const struct risk_limits *l, const struct risk_order *o)
{
	return o->account < l->accounts && o->session < l->sessions &&
	       o->instrument < l->instruments && o->side <= MATCH_SELL && o->qty > 0 &&
	       o->price >= 0;
}

/* Who may send at all (kill switches, connection), then the message
 * throttle every message of the session passes. */
static inline int
sender_reason(struct risk *r, const struct risk_order *o)
{
	const struct risk_session_limits *sl = &r->limits->session[o->session];
	struct risk_session *s = &r->sessions[o->session];

	if (r->killed)
		return RISK_KILLED_ALL;
	if (s->killed)
		return RISK_KILLED_SESSION;
	if (r->accounts[o->account].killed)
		return RISK_KILLED_ACCOUNT;
	if (s->disconnected)
		return RISK_DISCONNECTED;
	if (!take_token(&s->msgs, sl->msg_interval_ns, sl->msg_burst, o->time_ns))
		return RISK_MESSAGE_RATE;
	return RISK_OK;
}

/* What a new order adds to a message: the order throttle, a new id. */
static int
new_order_reason(struct risk *r, const struct risk_order *o)
{
	const struct risk_session_limits *sl = &r->limits->session[o->session];

	if (!take_token(&r->sessions[o->session].orders, sl->order_interval_ns, sl->order_burst,
			o->time_ns))
		return RISK_ORDER_RATE;
	if (u64_hash_get(&r->by_id, o->id) != U64_HASH_EMPTY)
		return RISK_DUPLICATE_ID;
	return RISK_OK;
}

/* A market order's protection price, the worst it may trade at: the collar
 * bound on its side (no price is below 1), else the reference; 0 = none. */
static int64_t
market_price(const struct risk *r, const struct risk_order *o)
{
	const struct risk_instrument *is = &r->instruments[o->instrument];

	if (!is->collared)
		return risk_reference(r, o->instrument);
	if (o->side == MATCH_BUY)
		return is->collar_hi;
	return is->collar_lo > 1 ? is->collar_lo : 1;
}

/* The order on its own: instrument status, sizes, price. Sets the price it
 * is judged and reserved at: its limit, or for a market order (price 0, on
 * every tick) its protection price, within the collar by construction. */
static inline int
order_reason(const struct risk *r, const struct risk_order *o, int64_t *price,
	     int64_t *notional)
{
	const struct risk_limits *l = r->limits;
	const struct risk_instrument_limits *il = &l->instrument[o->instrument];
	const struct risk_instrument *is = &r->instruments[o->instrument];
	const struct risk_account_limits *al = &l->account[o->account];

	if (risk_position_limits(l, o->account, o->instrument)->restricted)
		return RISK_RESTRICTED;
	if (is->halted)
		return RISK_HALTED;
	if (o->qty % il->lot_size != 0)
		return RISK_LOT_SIZE;
	if (o->price % il->tick_size != 0)
		return RISK_TICK_SIZE;
	*price = o->price != 0 ? o->price : market_price(r, o);
	if (*price == 0)
		return RISK_NO_REFERENCE;
	if (o->qty > al->max_order_qty)
		return RISK_MAX_QTY;
	if (*price < is->collar_lo || *price > is->collar_hi)
		return RISK_PRICE_COLLAR;
	if (__builtin_mul_overflow(*price, (int64_t)o->qty, notional) ||
	    *notional > al->max_order_notional)
		return RISK_MAX_NOTIONAL;
	return RISK_OK;
}

/* Room for one more open order: the account's limit, the table. */
static int
room_reason(const struct risk *r, const struct risk_order *o)
{
	if (r->accounts[o->account].open_orders >= r->limits->account[o->account].max_open_orders)
		return RISK_MAX_OPEN_ORDERS;
	if (r->live == r->max_orders)
		return RISK_ORDERS_FULL;
	return RISK_OK;
}

/* The order on top of what the account has open and holds. Limits are at
 * most 2^62 and what is open stays within them, so no sum overflows. */
static inline int
exposure_reason(struct risk *r, const struct risk_order *o, int64_t notional)
{
	const struct risk_account_limits *al = &r->limits->account[o->account];
	const struct risk_account_state *as = &r->accounts[o->account];
	const struct risk_position_limits *pl =
		risk_position_limits(r->limits, o->account, o->instrument);
	const struct risk_position_state *ps = risk_position_of(r, o->account, o->instrument);

	if (o->side == MATCH_BUY) {
		if (as->net_bought + as->open_buy_notional + notional > al->credit_limit)
			return RISK_CREDIT;
		if (ps->position + ps->open_buy_qty + o->qty > pl->max_long)
			return RISK_POSITION_LIMIT;
		return RISK_OK;
	}
	int64_t short_after = ps->open_sell_qty + o->qty - ps->position;
	if (short_after > 0 && !al->short_sell)
		return RISK_SHORT_SELL;
	if (short_after > pl->max_short)
		return RISK_POSITION_LIMIT;
	return RISK_OK;
}

/* Adds an open order's qty to its reservations (a negative qty releases). */
static void
reserve(struct risk *r, const struct risk_open_order *m, int64_t qty)
{
	struct risk_position_state *ps = risk_position_of(r, m->account, m->instrument);

	if (m->side == MATCH_BUY) {
		r->accounts[m->account].open_buy_notional += qty * m->price;
		ps->open_buy_qty += qty;
	} else {
		ps->open_sell_qty += qty;
	}
}

static void
open_order(struct risk *r, const struct risk_order *o, int64_t price)
{
	uint32_t slot = r->slots[r->live];
	struct risk_open_order *m = &r->orders[slot];

	*m = (struct risk_open_order){.id = o->id, .price = price, .leaves = o->qty,
				      .account = o->account, .session = o->session,
				      .instrument = o->instrument, .pos = r->live,
				      .side = o->side};
	u64_hash_get_or_put(&r->by_id, o->id, slot);
	r->live++;
	r->accounts[o->account].open_orders++;
	reserve(r, m, o->qty);
}

int
risk_check_order(struct risk *r, const struct risk_order *o)
{
	int64_t price, notional;
	int reason;

	if (!valid(r->limits, o))
		return RISK_INVALID;
	reason = sender_reason(r, o);
	if (reason == RISK_OK)
		reason = new_order_reason(r, o);
	if (reason != RISK_OK)
		return reason;
	reason = order_reason(r, o, &price, &notional);
	if (reason == RISK_OK)
		reason = room_reason(r, o);
	if (reason == RISK_OK)
		reason = exposure_reason(r, o, notional);
	if (reason == RISK_OK)
		open_order(r, o, price);
	return reason;
}

int64_t
risk_open_price(const struct risk *r, uint64_t id)
{
	uint32_t slot = u64_hash_get(&r->by_id, id);

	return slot == U64_HASH_EMPTY ? 0 : r->orders[slot].price;
}

/* The order is judged as new with its own reservation released; refused,
 * the reservation goes back as it was. */
int
risk_replace(struct risk *r, uint64_t id, int64_t price, uint32_t qty, uint64_t time_ns)
{
	uint32_t slot = u64_hash_get(&r->by_id, id);
	int64_t notional;
	int reason;

	if (price <= 0 || qty == 0)
		return RISK_INVALID;
	if (slot == U64_HASH_EMPTY)
		return RISK_NOT_OPEN;
	struct risk_open_order *m = &r->orders[slot];
	const struct risk_order o = {.id = id, .time_ns = time_ns, .price = price, .qty = qty,
				     .account = m->account, .session = m->session,
				     .instrument = m->instrument, .side = m->side};
	reason = sender_reason(r, &o);
	if (reason != RISK_OK)
		return reason;
	reserve(r, m, -(int64_t)m->leaves);
	reason = order_reason(r, &o, &price, &notional);
	if (reason == RISK_OK)
		reason = exposure_reason(r, &o, notional);
	if (reason == RISK_OK) {
		m->price = price;
		m->leaves = qty;
	}
	reserve(r, m, m->leaves);
	return reason;
}

int
risk_check_message(struct risk *r, uint32_t session, uint64_t time_ns)
{
	const struct risk_session_limits *sl;

	if (session >= r->limits->sessions)
		return RISK_INVALID;
	sl = &r->limits->session[session];
	if (!take_token(&r->sessions[session].msgs, sl->msg_interval_ns, sl->msg_burst, time_ns))
		return RISK_MESSAGE_RATE;
	return RISK_OK;
}

/* The open order a report of qty names, else RISK_NONE. */
static uint32_t
open_slot(const struct risk *r, uint64_t id, uint32_t qty)
{
	uint32_t slot = u64_hash_get(&r->by_id, id);

	return slot == U64_HASH_EMPTY || qty == 0 ? RISK_NONE : slot;
}

/* Frees the slot of an order whose reservation is released. */
static void
close_order(struct risk *r, uint32_t slot)
{
	struct risk_open_order *m = &r->orders[slot];

	u64_hash_del(&r->by_id, m->id);
	r->accounts[m->account].open_orders--;
	/* The last open order takes its place; its slot joins the free ones. */
	uint32_t last = r->slots[--r->live];
	r->slots[m->pos] = last;
	r->orders[last].pos = m->pos;
	r->slots[r->live] = slot;
}

/* Matching took qty off an open order and has `open` of it left. A replace
 * judged while fills of the old order were on their way has already cut the
 * reservation to the new qty, so no more than it holds comes off; with
 * nothing open the order closes, and whatever it held goes. */
static void
take(struct risk *r, uint32_t slot, uint32_t qty, uint32_t open)
{
	struct risk_open_order *m = &r->orders[slot];
	uint32_t off = open == 0 || qty > m->leaves ? m->leaves : qty;

	reserve(r, m, -(int64_t)off);
	m->leaves -= off;
	if (open == 0)
		close_order(r, slot);
}

/* Position and net bought follow every fill matching reports, whatever
 * risk still reserved for it. */
int
risk_fill(struct risk *r, uint64_t id, uint32_t qty, int64_t price, uint32_t open)
{
	uint32_t slot = open_slot(r, id, qty);
	int64_t traded;

	if (slot == RISK_NONE || price <= 0 || __builtin_mul_overflow(price, (int64_t)qty, &traded))
		return -1;
	const struct risk_open_order *m = &r->orders[slot];
	int64_t sign = m->side == MATCH_BUY ? 1 : -1;
	uint32_t instrument = m->instrument;
	risk_position_of(r, m->account, instrument)->position += sign * qty;
	r->accounts[m->account].net_bought += sign * traded;
	take(r, slot, qty, open);
	return risk_trade(r, instrument, price);
}

int
risk_cancel(struct risk *r, uint64_t id, uint32_t qty, uint32_t open)
{
	uint32_t slot = open_slot(r, id, qty);

	if (slot == RISK_NONE)
		return -1;
	take(r, slot, qty, open);
	return 0;
}

/* Matching's word on a replaced order: what it has open, at what price. */
int
risk_settle(struct risk *r, uint64_t id, int64_t price, uint32_t open)
{
	uint32_t slot = u64_hash_get(&r->by_id, id);

	if (slot == U64_HASH_EMPTY || open == 0 || price <= 0)
		return -1;
	struct risk_open_order *m = &r->orders[slot];
	reserve(r, m, -(int64_t)m->leaves);
	m->price = price;
	m->leaves = open;
	reserve(r, m, open);
	return 0;
}

int
risk_trade(struct risk *r, uint32_t instrument, int64_t price)
{
	if (instrument >= r->limits->instruments || price <= 0)
		return -1;
	r->instruments[instrument].last_trade = price;
	risk_set_collar(r, instrument);
	return 0;
}

int
risk_halt(struct risk *r, uint32_t instrument, int halted)
{
	if (instrument >= r->limits->instruments)
		return -1;
	r->instruments[instrument].halted = halted != 0;
	return 0;
}
