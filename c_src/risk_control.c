/* The risk stage's life and what the control plane does to it between two
 * orders: limits swaps, kill switches, halts, disconnects, queries. */
#include <stdlib.h>

#include "risk_check.h"
#include "table_alloc.h"

void
risk_destroy(struct risk *r)
{
	if (r == NULL)
		return;
	free(r->accounts);
	free(r->sessions);
	free(r->instruments);
	free(r->positions);
	table_free(r->orders, (size_t)r->max_orders * sizeof(*r->orders));
	table_free(r->slots, (size_t)r->max_orders * sizeof(*r->slots));
	u64_hash_free(&r->by_id);
	free(r);
}

/* What follows from the limits in force: buckets no fuller than their new
 * size (an unthrottled one keeps its credit), collars. */
static void
apply_limits(struct risk *r)
{
	const struct risk_limits *l = r->limits;

	for (uint32_t s = 0; s < l->sessions; s++) {
		const struct risk_session_limits *sl = &l->session[s];
		struct risk_session *ss = &r->sessions[s];
		uint64_t msg_cap = sl->msg_interval_ns * sl->msg_burst;
		uint64_t order_cap = sl->order_interval_ns * sl->order_burst;
		if (sl->msg_interval_ns != 0 && ss->msgs.credit_ns > msg_cap)
			ss->msgs.credit_ns = msg_cap;
		if (sl->order_interval_ns != 0 && ss->orders.credit_ns > order_cap)
			ss->orders.credit_ns = order_cap;
	}
	for (uint32_t i = 0; i < l->instruments; i++)
		risk_set_collar(r, i);
}

struct risk *
risk_create(const struct risk_limits *l, uint32_t max_orders, int sequential_ids)
{
	struct risk *r;

	/* Lists of open orders are counted in an int. */
	if (max_orders == 0 || max_orders > INT32_MAX || !risk_limits_valid(l))
		return NULL;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	r->limits = l;
	r->max_orders = max_orders;
	r->accounts = calloc(l->accounts, sizeof(*r->accounts));
	r->sessions = calloc(l->sessions, sizeof(*r->sessions));
	r->instruments = calloc(l->instruments, sizeof(*r->instruments));
	r->positions = calloc((size_t)l->accounts * l->instruments, sizeof(*r->positions));
	r->orders = table_alloc((size_t)max_orders * sizeof(*r->orders));
	r->slots = table_alloc((size_t)max_orders * sizeof(*r->slots));
	if (!r->accounts || !r->sessions || !r->instruments || !r->positions || !r->orders ||
	    !r->slots ||
	    u64_hash_init(&r->by_id, max_orders, sequential_ids) != 0) {
		risk_destroy(r);
		return NULL;
	}
	for (uint32_t i = 0; i < max_orders; i++)
		r->slots[i] = i;
	for (uint32_t s = 0; s < l->sessions; s++) /* full buckets */
		r->sessions[s].msgs.credit_ns = r->sessions[s].orders.credit_ns = UINT64_MAX;
	apply_limits(r);
	return r;
}

int
risk_swap_limits(struct risk *r, const struct risk_limits *l)
{
	const struct risk_limits *now = r->limits;

	if (l->accounts != now->accounts || l->sessions != now->sessions ||
	    l->instruments != now->instruments || !risk_limits_valid(l))
		return -1;
	r->limits = l;
	apply_limits(r);
	return 0;
}

static int
in_scope(const struct risk_open_order *m, uint8_t scope, uint32_t id)
{
	return scope == RISK_SCOPE_ALL || (scope == RISK_SCOPE_SESSION && m->session == id) ||
	       (scope == RISK_SCOPE_ACCOUNT && m->account == id);
}

/* Not the hot path: a walk over the open orders. */
static int
open_ids(const struct risk *r, uint8_t scope, uint32_t id, uint64_t *ids)
{
	int n = 0;

	for (uint32_t i = 0; i < r->live; i++) {
		const struct risk_open_order *m = &r->orders[r->slots[i]];
		if (in_scope(m, scope, id))
			ids[n++] = m->id;
	}
	return n;
}

/* The kill switch flag of a scope, or NULL. */
static uint8_t *
kill_flag(struct risk *r, uint8_t scope, uint32_t id)
{
	switch (scope) {
	case RISK_SCOPE_ALL:
		return &r->killed;
	case RISK_SCOPE_SESSION:
		return id < r->limits->sessions ? &r->sessions[id].killed : NULL;
	case RISK_SCOPE_ACCOUNT:
		return id < r->limits->accounts ? &r->accounts[id].killed : NULL;
	default:
		return NULL;
	}
}

int
risk_kill(struct risk *r, uint8_t scope, uint32_t id, int on, uint64_t *ids, uint32_t room)
{
	uint8_t *killed = kill_flag(r, scope, id);

	if (killed == NULL || room < r->max_orders)
		return -1;
	*killed = on != 0;
	return on ? open_ids(r, scope, id, ids) : 0;
}

int
risk_disconnect(struct risk *r, uint32_t session, uint64_t *ids, uint32_t room)
{
	if (session >= r->limits->sessions || room < r->max_orders)
		return -1;
	r->sessions[session].disconnected = 1;
	if (!r->limits->session[session].cancel_on_disconnect)
		return 0;
	return open_ids(r, RISK_SCOPE_SESSION, session, ids);
}

int
risk_connect(struct risk *r, uint32_t session)
{
	if (session >= r->limits->sessions)
		return -1;
	r->sessions[session].disconnected = 0;
	return 0;
}

uint32_t
risk_max_orders(const struct risk *r)
{
	return r->max_orders;
}

uint32_t
risk_open_orders(const struct risk *r)
{
	return r->live;
}

int
risk_account(const struct risk *r, uint32_t account, struct risk_account_state *out)
{
	if (account >= r->limits->accounts)
		return -1;
	*out = r->accounts[account];
	return 0;
}

int
risk_position(const struct risk *r, uint32_t account, uint32_t instrument,
	      struct risk_position_state *out)
{
	if (account >= r->limits->accounts || instrument >= r->limits->instruments)
		return -1;
	*out = r->positions[(size_t)account * r->limits->instruments + instrument];
	return 0;
}
