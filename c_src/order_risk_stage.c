/* The risk stage: judges every request from the gateway before matching
 * sees it, answers refusals itself, and follows each report from matching
 * back to the gateway, releasing what the order had reserved. Kill
 * switches and disconnects become cancels it sends to matching. */
#include <stdio.h>

#include <rte_malloc.h>
#include <rte_ring_elem.h>

#include "lcore_runner.h"
#include "order_path.h"
#include "risk_check.h"

struct order_risk_stage {
	struct order_risk_counters counters; /* first: cache aligned */
	struct rte_ring *requests_in, *requests_out, *reports_in, *reports_out, *halts;
	struct order_mailbox mailbox;
	const struct order_clock *clock;
	struct risk *risk;
	uint64_t *cancels;          /* ids a kill or a disconnect cancels */
	uint32_t n_cancels, next_cancel;
	uint8_t cancel_reason;
};

static unsigned
room(struct rte_ring *r)
{
	return rte_ring_free_count(r);
}

static unsigned
min(unsigned a, unsigned b)
{
	return a < b ? a : b;
}

/* The answer to a refused request, as matching would have given it. */
static struct order_report
refusal(const struct order_request *rq, int reason)
{
	static const uint8_t type_of[] = {
		[ORDER_REQ_NEW] = MATCH_REJECTED, [ORDER_REQ_REPLACE] = MATCH_MODIFY_REJECTED,
		[ORDER_REQ_CANCEL] = MATCH_CANCEL_REJECTED,
		[ORDER_REQ_MASS_CANCEL] = MATCH_CANCEL_REJECTED};

	return (struct order_report){
		.r = {.id = rq->cmd.order.id, .time_ns = rq->cmd.time_ns,
		      .type = type_of[rq->kind], .side = rq->cmd.order.side},
		.rx_tsc = rq->rx_tsc, .instrument = rq->instrument,
		.user_ref_num = rq->user_ref_num, .session = rq->session, .kind = rq->kind,
		.risk_reason = (uint8_t)reason};
}

static int
judge(struct order_risk_stage *rs, struct order_request *rq)
{
	struct match_order *o = &rq->cmd.order;

	switch (rq->kind) {
	case ORDER_REQ_NEW: {
		struct risk_order ro = {
			.id = o->id, .time_ns = rq->cmd.time_ns,
			.price = o->type == MATCH_MARKET ? 0 : o->price, .qty = o->qty,
			.account = o->account, .session = rq->session,
			.instrument = rq->instrument, .side = o->side};
		int reason = risk_check_order(rs->risk, &ro);
		/* A market order trades no worse than the price it was judged at. */
		if (reason == RISK_OK && o->type == MATCH_MARKET)
			o->price = risk_open_price(rs->risk, o->id);
		return reason;
	}
	case ORDER_REQ_REPLACE:
		return risk_replace(rs->risk, o->id, o->price, o->qty, rq->cmd.time_ns);
	default: /* cancels: only the session's message throttle */
		return risk_check_message(rs->risk, rq->session, rq->cmd.time_ns);
	}
}

/* A kill's or a disconnect's cancels not yet all sent: the list is in use. */
static int
cancels_pending(const struct order_risk_stage *rs)
{
	return rs->next_cancel < rs->n_cancels;
}

/* Sessions coming and going: no answer to send. */
static void
session_event(struct order_risk_stage *rs, const struct order_request *rq)
{
	if (rq->kind == ORDER_REQ_CONNECT) {
		risk_connect(rs->risk, rq->session);
		return;
	}
	int n = risk_disconnect(rs->risk, rq->session, rs->cancels, risk_max_orders(rs->risk));
	rs->n_cancels = n > 0 ? (uint32_t)n : 0;
	rs->next_cancel = 0;
	rs->cancel_reason = 'D';
}

static void
request_handle(struct order_risk_stage *rs, struct order_request *rq)
{
	if (rq->kind == ORDER_REQ_CONNECT || rq->kind == ORDER_REQ_DISCONNECT) {
		session_event(rs, rq);
		return;
	}
	rs->counters.requests++;
	int reason = judge(rs, rq);
	if (reason == RISK_OK) {
		rs->counters.passed++;
		rte_ring_enqueue_elem(rs->requests_out, rq, sizeof(*rq));
		return;
	}
	rs->counters.rejects[reason]++;
	struct order_report rep = refusal(rq, reason);
	rte_ring_enqueue_elem(rs->reports_out, &rep, sizeof(rep));
}

/* What an order's report releases or books. Matching's reports come in
 * the order it made them, so the leaves they carry are what it has open. */
static void
report_follow(struct order_risk_stage *rs, const struct order_report *rep)
{
	const struct match_report *r = &rep->r;

	switch (r->type) {
	case MATCH_FILL:
		risk_fill(rs->risk, r->id, r->qty, r->price, r->leaves);
		risk_fill(rs->risk, r->maker_id, r->qty, r->price, r->maker_leaves);
		risk_trade(rs->risk, rep->instrument, r->price);
		break;
	case MATCH_CANCELLED:
	case MATCH_REJECTED:
		risk_cancel(rs->risk, r->id, r->qty, r->leaves);
		break;
	case MATCH_MODIFIED:
	case MATCH_MODIFY_REJECTED:
		/* What rests now, replaced or as before the replace (a not-resting
		 * refusal names an order its last report has closed: no-op). */
		risk_settle(rs->risk, r->id, r->price, r->leaves);
		break;
	}
	rs->counters.reports++;
}

/* Cancels a kill switch or a disconnect owes matching, as room allows. */
static int
cancels_send(struct order_risk_stage *rs, uint64_t now)
{
	int sent = 0;

	for (; rs->next_cancel < rs->n_cancels && room(rs->requests_out) > 0; sent++) {
		uint64_t id = rs->cancels[rs->next_cancel++];
		uint32_t slot = u64_hash_get(&rs->risk->by_id, id);
		if (slot == U64_HASH_EMPTY)
			continue; /* finished meanwhile */
		const struct risk_open_order *m = &rs->risk->orders[slot];
		struct order_request rq = {
			.cmd = {.type = MATCH_CMD_CANCEL, .order = {.id = id},
				.time_ns = order_clock_ns(rs->clock, now)},
			.instrument = m->instrument, .session = (uint16_t)m->session,
			.kind = ORDER_REQ_CANCEL, .cancel_reason = rs->cancel_reason};
		rte_ring_enqueue_elem(rs->requests_out, &rq, sizeof(rq));
		rs->counters.kill_cancels++;
	}
	return sent;
}

static int
control_apply(struct order_risk_stage *rs, struct order_control *c)
{
	struct risk *r = rs->risk;

	switch (c->type) {
	case ORDER_CONTROL_KILL: {
		int n = risk_kill(r, c->scope, c->id, c->on, rs->cancels, risk_max_orders(r));
		if (n < 0)
			return -1;
		rs->n_cancels = c->cancels = (uint32_t)n;
		rs->next_cancel = 0;
		rs->cancel_reason = 'S';
		return 0;
	}
	case ORDER_CONTROL_LIMITS:
		if (risk_swap_limits(r, c->limits) != 0)
			return -1;
		rs->counters.limit_swaps++;
		return 0;
	case ORDER_CONTROL_ACCOUNT:
		return risk_account(r, c->id, &c->account);
	case ORDER_CONTROL_POSITION:
		return risk_position(r, c->id, c->instrument, &c->position);
	default:
		return -1;
	}
}

static int
risk_poll(void *arg, uint64_t now)
{
	struct order_risk_stage *rs = arg;
	struct order_report reps[ORDER_BURST];
	struct order_request rqs[ORDER_BURST];
	int work = cancels_send(rs, now);

	/* A new kill waits until the last one's cancels are out. */
	struct order_control *c = !cancels_pending(rs) ? mailbox_take(&rs->mailbox) : NULL;
	if (c != NULL) {
		c->result = control_apply(rs, c);
		mailbox_done(&rs->mailbox);
	}
	struct order_halt halt;
	while (rte_ring_dequeue_elem(rs->halts, &halt, sizeof(halt)) == 0) /* the feed's H */
		risk_halt(rs->risk, halt.instrument, (int)halt.halted);
	unsigned n = rte_ring_dequeue_burst_elem(rs->reports_in, reps, sizeof(reps[0]),
						 min(ORDER_BURST, room(rs->reports_out)),
						 NULL);
	for (unsigned i = 0; i < n; i++)
		report_follow(rs, &reps[i]);
	rte_ring_enqueue_burst_elem(rs->reports_out, reps, sizeof(reps[0]), n, NULL);
	work += (int)n;
	/* Each request goes on to matching or back to the gateway. A disconnect,
	 * like a kill, waits (in the ring, with what follows it) until the
	 * cancels before it are out: its list would take their place. */
	n = rte_ring_dequeue_burst_elem_start(rs->requests_in, rqs, sizeof(rqs[0]),
					      min(ORDER_BURST, min(room(rs->requests_out),
								   room(rs->reports_out))), NULL);
	unsigned taken = 0;
	while (taken < n && !(rqs[taken].kind == ORDER_REQ_DISCONNECT && cancels_pending(rs)))
		request_handle(rs, &rqs[taken++]);
	rte_ring_dequeue_elem_finish(rs->requests_in, taken);
	return work + (int)taken;
}

struct order_risk_stage *
order_risk_stage_create(const struct order_path_params *p, const struct order_clock *clock,
			struct rte_ring *requests_in,
			struct rte_ring *requests_out, struct rte_ring *reports_in,
			struct rte_ring *reports_out, struct rte_ring *halts)
{
	struct order_risk_stage *rs = rte_zmalloc("order_risk", sizeof(*rs), RTE_CACHE_LINE_SIZE);

	if (rs == NULL) {
		fprintf(stderr, "risk stage: cannot allocate the stage\n");
		return NULL;
	}
	*rs = (struct order_risk_stage){.requests_in = requests_in, .requests_out = requests_out,
					.reports_in = reports_in, .reports_out = reports_out,
					.halts = halts, .clock = clock};
	rs->risk = risk_create(p->limits, p->max_orders, 1); /* ids: see the matching stage */
	rs->cancels = rte_malloc("order_risk_cancels", p->max_orders * sizeof(uint64_t), 0);
	if (rs->risk == NULL || rs->cancels == NULL) {
		fprintf(stderr, "risk stage: invalid limits, or no memory for %u orders\n",
			p->max_orders);
		order_risk_stage_destroy(rs);
		return NULL;
	}
	return rs;
}

void
order_risk_stage_destroy(struct order_risk_stage *rs)
{
	if (rs == NULL)
		return;
	risk_destroy(rs->risk);
	rte_free(rs->cancels);
	rte_free(rs);
}

int
order_risk_stage_place(struct order_risk_stage *rs, unsigned lcore)
{
	return lcore_runner_place(lcore, "risk", risk_poll, NULL, rs);
}

struct order_mailbox *
order_risk_stage_mailbox(struct order_risk_stage *rs)
{
	return &rs->mailbox;
}

const struct order_risk_counters *
order_risk_stage_counters(const struct order_risk_stage *rs)
{
	return &rs->counters;
}
