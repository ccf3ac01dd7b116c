/* The matching stage: one price-time book per instrument. Takes requests
 * from risk, hands every report back to risk, and publishes the books'
 * trades and top-of-book changes as ticks for the md stage. */
#include <stdio.h>
#include <string.h>

#include <rte_malloc.h>
#include <rte_ring_elem.h>

#include "lcore_runner.h"
#include "matching_book.h"
#include "order_path.h"

struct top {
	int64_t price;
	uint64_t qty;
};

struct order_matching_stage {
	struct order_matching_counters counters; /* first: cache aligned */
	struct rte_ring *requests, *reports, *ticks;
	struct order_mailbox mailbox;
	const struct order_clock *clock;
	uint32_t n_instruments;
	struct match_book **books;
	uint32_t *symbol_ids;
	struct top (*tops)[2];      /* last published, per instrument and side */
	struct match_report *out;   /* one request's reports */
	struct order_report *pending; /* reports not yet in the ring */
	uint32_t room, n_pending, sent;
	uint32_t day_ended; /* read by the md stage: its stream may end */
};

/* Reports waiting for ring room go first; new requests wait for them. */
static int
pending_flush(struct order_matching_stage *ms)
{
	while (ms->sent < ms->n_pending) {
		unsigned n = rte_ring_enqueue_burst_elem(ms->reports, ms->pending + ms->sent,
							 sizeof(ms->pending[0]),
							 ms->n_pending - ms->sent, NULL);
		if (n == 0)
			return 0;
		ms->sent += n;
	}
	ms->n_pending = ms->sent = 0;
	return 1;
}

static void
tick_send(struct order_matching_stage *ms, uint64_t time_ns, uint32_t instrument,
	  int64_t price, uint64_t qty, uint8_t side, uint8_t type)
{
	struct order_tick t = {.tick = {
		.ts_ns = time_ns, .symbol_id = ms->symbol_ids[instrument],
		.price = price * COLO_ITCH_PRICE_SCALE, /* OUCH, like ITCH: 4 decimals */
		.quantity = qty > UINT32_MAX ? UINT32_MAX : (uint32_t)qty,
		.side = side, .type = type}};

	if (rte_ring_enqueue_elem(ms->ticks, &t, sizeof(t)) == 0)
		ms->counters.ticks++;
	else
		ms->counters.ticks_dropped++;
}

/* A Q tick for each side of the book whose top changed (spec/ticks.md). */
static void
quotes_send(struct order_matching_stage *ms, uint32_t instrument, uint64_t time_ns)
{
	for (uint8_t side = MATCH_BUY; side <= MATCH_SELL; side++) {
		struct top now = {0, 0}, *last = &ms->tops[instrument][side];
		if (!match_best(ms->books[instrument], side, &now.price, &now.qty))
			now = (struct top){0, 0};
		if (now.price == last->price && now.qty == last->qty)
			continue;
		*last = now;
		tick_send(ms, time_ns, instrument, now.price, now.qty,
			  side == MATCH_BUY ? 'B' : 'S', 'Q');
	}
}

/* A cancel down to qty: the engine's modify (priority kept), told as a
 * cancel of what it took off. */
static int
partial_cancel(struct order_matching_stage *ms, struct match_book *b,
	       const struct match_command *c)
{
	uint32_t slot = match_book_find(b, c->order.id);

	if (slot == U64_HASH_EMPTY || c->order.qty >= b->orders[slot].leaves) {
		ms->out[0] = (struct match_report){.id = c->order.id, .time_ns = c->time_ns,
			.type = MATCH_CANCEL_REJECTED,
			.reason = slot == U64_HASH_EMPTY ? MATCH_REASON_NOT_RESTING
							 : MATCH_REASON_INVALID};
		return 1;
	}
	uint32_t before = b->orders[slot].leaves;
	int n = match_modify(b, c->order.id, b->levels[b->orders[slot].level].price,
			     c->order.qty, c->time_ns, ms->out, ms->room);
	ms->out[0].type = MATCH_CANCELLED;
	ms->out[0].reason = MATCH_REASON_USER;
	ms->out[0].qty = before - c->order.qty;
	return n;
}

static int
apply(struct order_matching_stage *ms, const struct order_request *rq, uint32_t instrument)
{
	struct match_book *b = ms->books[instrument];
	const struct match_command *c = &rq->cmd;

	if (rq->kind == ORDER_REQ_CANCEL && c->type == MATCH_CMD_MODIFY)
		return partial_cancel(ms, b, c);
	return match_apply(b, c, ms->out, ms->room);
}

/* Reports of one request for one book: to risk, and as ticks. */
static void
reports_add(struct order_matching_stage *ms, const struct order_request *rq,
	    uint32_t instrument, int n)
{
	uint32_t modified = UINT32_MAX, leaves = 1;

	for (int i = 0; i < n; i++) {
		struct match_report *r = &ms->out[i];
		if (r->type == MATCH_REJECTED)
			r->qty = rq->cmd.order.qty; /* what risk reserved */
		if (r->type == MATCH_FILL) {
			ms->counters.trades++;
			ms->counters.traded_qty += r->qty;
			/* The aggressor's side: the taker is the report's id. */
			tick_send(ms, r->time_ns, instrument, r->price, r->qty,
				  r->side == MATCH_BUY ? 'B' : 'S', 'T');
		}
		ms->counters.reports_by_type[r->type]++;
		uint32_t at = ms->n_pending++;
		if (r->type == MATCH_MODIFIED)
			modified = at;
		else if (modified != UINT32_MAX && r->id == ms->pending[modified].r.id &&
			 (r->type == MATCH_FILL || r->type == MATCH_CANCELLED))
			leaves = r->leaves;
		ms->pending[at] = (struct order_report){
			.r = *r, .rx_tsc = at == 0 ? rq->rx_tsc : 0,
			.instrument = instrument, .user_ref_num = rq->user_ref_num,
			.session = rq->session, .kind = rq->kind,
			.cancel_reason = rq->cancel_reason};
	}
	/* A replace that trades (or cancels) all it had: its Replaced says dead. */
	if (modified != UINT32_MAX)
		ms->pending[modified].order_done = leaves == 0;
	ms->counters.reports += (uint64_t)n;
	quotes_send(ms, instrument, rq->cmd.time_ns);
}

static void
request_handle(struct order_matching_stage *ms, const struct order_request *rq)
{
	ms->counters.commands++;
	if (rq->instrument != UINT32_MAX)
		reports_add(ms, rq, rq->instrument, apply(ms, rq, rq->instrument));
	else
		for (uint32_t i = 0; i < ms->n_instruments; i++) /* a mass cancel of every book */
			reports_add(ms, rq, i, match_apply(ms->books[i], &rq->cmd, ms->out,
							   ms->room));
	/* A mass cancel that found nothing is still answered: refused, nothing
	 * resting (each order it cancels is answered by its own Canceled). */
	if (rq->kind == ORDER_REQ_MASS_CANCEL && ms->n_pending == 0)
		ms->pending[ms->n_pending++] = (struct order_report){
			.r = {.type = MATCH_CANCEL_REJECTED, .reason = MATCH_REASON_NOT_RESTING,
			      .time_ns = rq->cmd.time_ns},
			.rx_tsc = rq->rx_tsc, .user_ref_num = rq->user_ref_num,
			.session = rq->session, .kind = rq->kind};
}

static void
depth_copy(const struct match_book *b, uint8_t side, struct order_depth_level *levels,
	   uint32_t *n)
{
	*n = 0;
	for (uint32_t l = b->sides[side].best; l != MATCH_NONE && *n < ORDER_DEPTH_LEVELS;
	     l = b->levels[l].worse) {
		uint32_t orders = 0;
		for (uint32_t o = b->levels[l].head; o != MATCH_NONE; o = b->orders[o].next)
			orders++;
		levels[(*n)++] = (struct order_depth_level){b->levels[l].price, b->levels[l].qty,
							    orders};
	}
}

/* Every book's DAY orders cancelled (reason end of day), then the marker
 * that has the gateway tell every session. */
static uint32_t
end_of_day(struct order_matching_stage *ms, uint64_t now)
{
	struct order_request rq = {.kind = ORDER_REQ_CANCEL,
				   .cmd = {.type = MATCH_CMD_END_OF_DAY,
					   .time_ns = order_clock_ns(ms->clock, now)}};
	uint32_t before = ms->n_pending;

	for (uint32_t i = 0; i < ms->n_instruments; i++)
		reports_add(ms, &rq, i, match_apply(ms->books[i], &rq.cmd, ms->out, ms->room));
	ms->pending[ms->n_pending++] = (struct order_report){
		.r = {.type = MATCH_REPORT_TYPE_N, .time_ns = rq.cmd.time_ns},
		.kind = ORDER_REQ_END_OF_DAY};
	/* After the day's last ticks are in the ring: md sends them, then may
	 * end its session. */
	__atomic_store_n(&ms->day_ended, 1, __ATOMIC_RELEASE);
	return ms->n_pending - 1 - before;
}

static void
control_handle(struct order_matching_stage *ms, uint64_t now)
{
	struct order_control *c = mailbox_take(&ms->mailbox);

	if (c == NULL)
		return;
	c->result = -1;
	if (c->type == ORDER_CONTROL_DEPTH && c->instrument < ms->n_instruments) {
		depth_copy(ms->books[c->instrument], MATCH_BUY, c->bids, &c->n_bids);
		depth_copy(ms->books[c->instrument], MATCH_SELL, c->asks, &c->n_asks);
		c->result = 0;
	} else if (c->type == ORDER_CONTROL_END_OF_DAY) {
		c->cancels = end_of_day(ms, now);
		c->result = 0;
	}
	mailbox_done(&ms->mailbox);
}

static int
matching_poll(void *arg, uint64_t now)
{
	struct order_matching_stage *ms = arg;
	int work = 0;

	if (ms->n_pending == 0) /* the day's cancels need the room */
		control_handle(ms, now);
	/* One request at a time: a sweep's reports may not fit the ring at once. */
	while (pending_flush(ms) && work < ORDER_BURST) {
		struct order_request rq;
		if (rte_ring_dequeue_elem(ms->requests, &rq, sizeof(rq)) != 0)
			break;
		request_handle(ms, &rq);
		work++;
	}
	return work + (ms->n_pending > 0);
}

struct order_matching_stage *
order_matching_stage_create(const struct order_path_params *p, const struct order_clock *clock,
			    struct rte_ring *requests, struct rte_ring *reports,
			    struct rte_ring *ticks)
{
	struct order_matching_stage *ms = rte_zmalloc("order_matching", sizeof(*ms),
						      RTE_CACHE_LINE_SIZE);

	if (ms == NULL) {
		fprintf(stderr, "matching stage: cannot allocate the stage\n");
		return NULL;
	}
	ms->clock = clock;
	ms->requests = requests;
	ms->reports = reports;
	ms->ticks = ticks;
	ms->n_instruments = p->n_instruments;
	ms->books = rte_zmalloc("order_books", p->n_instruments * sizeof(ms->books[0]), 0);
	ms->symbol_ids = rte_zmalloc("order_symbols", p->n_instruments * sizeof(uint32_t), 0);
	ms->tops = rte_zmalloc("order_tops", p->n_instruments * sizeof(ms->tops[0]), 0);
	if (ms->books == NULL || ms->symbol_ids == NULL || ms->tops == NULL)
		goto fail;
	for (uint32_t i = 0; i < p->n_instruments; i++) {
		/* Ids' low bits are the gateway's order slots, unique among live
		 * orders and dense: indexed by them. */
		ms->books[i] = match_book_create(p->max_orders, 1);
		if (ms->books[i] == NULL)
			goto fail;
		ms->symbol_ids[i] = p->instruments[i].symbol_id;
	}
	ms->room = match_report_room(ms->books[0]);
	/* A mass cancel, or the end of day, of every book: at most one report
	 * per open order, and the day's marker. */
	uint32_t pending = ms->room + p->max_orders + 1;
	ms->out = rte_malloc("order_match_out", ms->room * sizeof(ms->out[0]), 0);
	ms->pending = rte_malloc("order_match_pending", pending * sizeof(ms->pending[0]), 0);
	if (ms->out == NULL || ms->pending == NULL)
		goto fail;
	return ms;
fail:
	fprintf(stderr, "matching stage: cannot allocate %u books of %u orders\n",
		p->n_instruments, p->max_orders);
	order_matching_stage_destroy(ms);
	return NULL;
}

void
order_matching_stage_destroy(struct order_matching_stage *ms)
{
	if (ms == NULL)
		return;
	for (uint32_t i = 0; ms->books != NULL && i < ms->n_instruments; i++)
		match_book_destroy(ms->books[i]);
	rte_free(ms->books);
	rte_free(ms->symbol_ids);
	rte_free(ms->tops);
	rte_free(ms->out);
	rte_free(ms->pending);
	rte_free(ms);
}

int
order_matching_stage_place(struct order_matching_stage *ms, unsigned lcore)
{
	return lcore_runner_place(lcore, "matching", matching_poll, NULL, ms);
}

const uint32_t *
order_matching_stage_day_ended(const struct order_matching_stage *ms)
{
	return &ms->day_ended;
}

struct order_mailbox *
order_matching_stage_mailbox(struct order_matching_stage *ms)
{
	return &ms->mailbox;
}

const struct order_matching_counters *
order_matching_stage_counters(const struct order_matching_stage *ms)
{
	return &ms->counters;
}
