/* Reports from risk and matching, answered in OUCH (docs/order-entry.md):
 * each goes to the session of the order it names, in the order the
 * reports came. */
#include <string.h>

#include <rte_cycles.h>

#include "matching_book.h"
#include "order_gateway.h"

/* OUCH reject codes (docs/order-entry.md) for risk's and matching's reasons. */
static const uint8_t risk_reject_code[32] = {
	[RISK_INVALID] = 1, [RISK_KILLED_ALL] = 19, [RISK_KILLED_SESSION] = 19,
	[RISK_KILLED_ACCOUNT] = 19, [RISK_DISCONNECTED] = 19, [RISK_MESSAGE_RATE] = 18,
	[RISK_ORDER_RATE] = 18, [RISK_DUPLICATE_ID] = 20, [RISK_RESTRICTED] = 10,
	[RISK_HALTED] = 9, [RISK_LOT_SIZE] = 4, [RISK_TICK_SIZE] = 3, [RISK_MAX_QTY] = 11,
	[RISK_PRICE_COLLAR] = 13, [RISK_MAX_NOTIONAL] = 12, [RISK_MAX_OPEN_ORDERS] = 17,
	[RISK_ORDERS_FULL] = 7, [RISK_CREDIT] = 14, [RISK_SHORT_SELL] = 16,
	[RISK_POSITION_LIMIT] = 15, [RISK_NOT_OPEN] = 8, [RISK_NO_REFERENCE] = 13,
};
static const uint8_t match_reject_code[MATCH_REASON_N] = {
	[MATCH_REASON_INVALID] = 1, [MATCH_REASON_DUPLICATE_ID] = 20,
	[MATCH_REASON_BOOK_FULL] = 7, [MATCH_REASON_POST_ONLY] = 6,
	[MATCH_REASON_NOT_RESTING] = 8,
};
static const uint8_t cancel_reason_letter[MATCH_REASON_N] = {
	[MATCH_REASON_USER] = 'U', [MATCH_REASON_UNFILLED] = 'I', [MATCH_REASON_FOK] = 'I',
	[MATCH_REASON_MIN_QTY] = 'I', [MATCH_REASON_SELF_TRADE] = 'Q',
	[MATCH_REASON_MASS_CANCEL] = 'U', [MATCH_REASON_END_OF_DAY] = 'Z',
};

static const char blank_cl_ord_id[14] = "              ";

static struct gateway_order *
order_of(struct order_gateway *g, uint64_t id)
{
	uint32_t slot = (uint32_t)id;

	if (slot >= g->p.max_orders || !g->orders[slot].live ||
	    g->orders[slot].generation != (uint32_t)(id >> 32))
		return NULL;
	return &g->orders[slot];
}

void
gateway_order_free(struct order_gateway *g, uint32_t slot)
{
	struct gateway_order *o = &g->orders[slot];

	u64_hash_del(&g->by_ref, gateway_ref_key(o->session, o->user_ref_num));
	o->live = 0;
	o->next_free = g->free_order;
	g->free_order = slot;
}

static uint64_t
ouch_time(const struct order_gateway *g, uint64_t time_ns)
{
	return time_ns - g->p.midnight_ns;
}

void
gateway_reject(struct order_gateway *g, struct gateway_session *s, uint32_t user_ref_num,
	       uint16_t reason, const char cl_ord_id[14])
{
	struct ouch_response r = {.type = 'J', .user_ref_num = user_ref_num, .reason = reason,
				  .timestamp = ouch_time(g, order_clock_ns(g->clock, g->now))};

	memcpy(r.cl_ord_id, cl_ord_id, 14);
	g->counters.rejects[reason < ORDER_REJECT_CODES ? reason : 0]++;
	stream_respond(g, s, &r);
}

/* The fields Accepted and Replaced share. */
static struct ouch_response
order_response(const struct order_gateway *g, const struct gateway_order *o, uint64_t id,
	       const struct match_report *r, uint8_t type)
{
	struct ouch_response resp = {
		.type = type, .timestamp = ouch_time(g, r->time_ns),
		.user_ref_num = o->user_ref_num, .side = o->side, .price = o->price,
		.time_in_force = o->tif, .display = 'Y', .order_ref = id,
		.capacity = o->capacity, .intermarket_sweep = o->intermarket_sweep,
		.cross_type = 'N', .order_state = 'L'};

	memcpy(resp.symbol, g->instruments[o->instrument].symbol, 8);
	memcpy(resp.cl_ord_id, o->cl_ord_id, 14);
	return resp;
}

static void
accepted(struct order_gateway *g, struct gateway_order *o, const struct match_report *r)
{
	struct ouch_response resp = order_response(g, o, r->id, r, 'A');

	resp.quantity = r->qty;
	/* IOC, FOK and market orders never rest: their fills or cancel follow. */
	if (o->tif == '3' || o->tif == '4' || o->price == OUCH_MARKET_PRICE)
		resp.order_state = 'D';
	stream_respond(g, &g->sessions[o->session], &resp);
}

static void
replaced(struct order_gateway *g, struct gateway_order *o, const struct order_report *rep)
{
	uint32_t slot = (uint32_t)rep->r.id;

	u64_hash_del(&g->by_ref, gateway_ref_key(o->session, o->user_ref_num));
	u64_hash_get_or_put(&g->by_ref, gateway_ref_key(o->session, rep->user_ref_num), slot);
	struct ouch_response resp = order_response(g, o, rep->r.id, &rep->r, 'U');
	resp.orig_user_ref_num = o->user_ref_num;
	resp.user_ref_num = rep->user_ref_num;
	resp.quantity = rep->r.leaves;
	resp.price = (uint64_t)rep->r.price;
	if (rep->order_done)
		resp.order_state = 'D';
	memcpy(resp.cl_ord_id, o->replace_cl_ord_id, 14);
	o->user_ref_num = rep->user_ref_num;
	o->price = resp.price;
	memcpy(o->cl_ord_id, o->replace_cl_ord_id, 14);
	o->replace_pending = 0;
	stream_respond(g, &g->sessions[o->session], &resp);
}

static void
executed(struct order_gateway *g, struct gateway_order *o, uint64_t id, uint32_t qty,
	 int64_t price, uint8_t liquidity, uint64_t match_number, uint32_t leaves)
{
	struct ouch_response resp = {
		.type = 'E', .timestamp = ouch_time(g, order_clock_ns(g->clock, g->now)),
		.user_ref_num = o->user_ref_num, .quantity = qty, .price = (uint64_t)price,
		.liquidity_flag = liquidity, .match_number = match_number};

	stream_respond(g, &g->sessions[o->session], &resp);
	if (leaves == 0)
		gateway_order_free(g, (uint32_t)id);
}

static void
canceled(struct order_gateway *g, struct gateway_order *o, const struct order_report *rep)
{
	struct ouch_response resp = {
		.type = 'C', .timestamp = ouch_time(g, rep->r.time_ns),
		.user_ref_num = o->user_ref_num, .quantity = rep->r.qty,
		.reason = rep->cancel_reason ? rep->cancel_reason
					     : cancel_reason_letter[rep->r.reason]};

	stream_respond(g, &g->sessions[o->session], &resp);
	if (rep->r.leaves == 0)
		gateway_order_free(g, (uint32_t)rep->r.id);
}

/* A refusal of the request itself: it named the order, or none. A kill's
 * or a disconnect's cancel that found the order already gone was no
 * client's request: nothing to answer. */
static void
refused(struct order_gateway *g, struct gateway_order *o, const struct order_report *rep)
{
	if (rep->kind == ORDER_REQ_CANCEL && rep->cancel_reason != 0)
		return;
	uint16_t code = rep->risk_reason ? risk_reject_code[rep->risk_reason]
					 : match_reject_code[rep->r.reason];
	const char *cl_ord_id = blank_cl_ord_id;

	if (rep->kind == ORDER_REQ_CANCEL && rep->r.reason == MATCH_REASON_INVALID)
		code = 4; /* a cancel down to no less than is open */
	if (o != NULL && rep->kind == ORDER_REQ_NEW)
		cl_ord_id = o->cl_ord_id;
	else if (o != NULL && rep->kind == ORDER_REQ_REPLACE) {
		cl_ord_id = o->replace_cl_ord_id;
		o->replace_pending = 0;
	}
	gateway_reject(g, &g->sessions[rep->session], rep->user_ref_num, code, cl_ord_id);
	if (o != NULL && rep->r.type == MATCH_REJECTED)
		gateway_order_free(g, (uint32_t)rep->r.id);
}

void
gateway_system_event(struct order_gateway *g, uint8_t code, uint64_t time_ns)
{
	struct ouch_response resp = {.type = 'S', .timestamp = ouch_time(g, time_ns),
				     .event_code = code};

	for (uint32_t i = 0; i < g->p.n_sessions; i++)
		stream_respond(g, &g->sessions[i], &resp);
}

void
gateway_report(struct order_gateway *g, const struct order_report *rep)
{
	const struct match_report *r = &rep->r;
	struct gateway_order *o = order_of(g, r->id);

	if (rep->kind == ORDER_REQ_END_OF_DAY) {
		gateway_system_event(g, 'E', r->time_ns);
		return;
	}
	if (rep->rx_tsc != 0 && g->n_answered < REPORTS_PER_POLL)
		g->answered_rx_tsc[g->n_answered++] = rep->rx_tsc;
	switch (r->type) {
	case MATCH_ACCEPTED:
		if (o != NULL)
			accepted(g, o, r);
		break;
	case MATCH_MODIFIED:
		if (o != NULL)
			replaced(g, o, rep);
		break;
	case MATCH_FILL: {
		struct gateway_order *maker = order_of(g, r->maker_id);
		uint64_t match_number = ++g->match_numbers[rep->instrument];
		if (maker != NULL)
			executed(g, maker, r->maker_id, r->qty, r->price, 'A', match_number,
				 r->maker_leaves);
		if (o != NULL)
			executed(g, o, r->id, r->qty, r->price, 'R', match_number, r->leaves);
		break;
	}
	case MATCH_CANCELLED:
		if (o != NULL)
			canceled(g, o, rep);
		break;
	default: /* rejects of a new order, a replace, a cancel */
		refused(g, o, rep);
	}
}
