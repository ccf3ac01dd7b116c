/* Limits records: made permissive, edited by the control plane, checked
 * whole before they are put in force. */
#include <stdlib.h>

#include "risk_check.h"

void
risk_limits_destroy(struct risk_limits *l)
{
	if (l == NULL)
		return;
	free(l->account);
	free(l->session);
	free(l->instrument);
	free(l->position);
	free(l);
}

static void
allow_everything(struct risk_limits *l)
{
	for (uint32_t a = 0; a < l->accounts; a++)
		l->account[a] = (struct risk_account_limits){
			.max_order_notional = RISK_LIMIT_MAX, .credit_limit = RISK_LIMIT_MAX,
			.max_order_qty = UINT32_MAX, .max_open_orders = UINT32_MAX};
	for (uint32_t i = 0; i < l->instruments; i++)
		l->instrument[i] = (struct risk_instrument_limits){.tick_size = 1, .lot_size = 1};
	for (size_t p = 0; p < (size_t)l->accounts * l->instruments; p++)
		l->position[p] = (struct risk_position_limits){.max_long = RISK_LIMIT_MAX,
							       .max_short = RISK_LIMIT_MAX};
	/* Sessions: calloc's zeros are no throttle. */
}

struct risk_limits *
risk_limits_create(uint32_t accounts, uint32_t sessions, uint32_t instruments)
{
	struct risk_limits *l = calloc(1, sizeof(*l));

	if (l == NULL || accounts == 0 || sessions == 0 || instruments == 0) {
		free(l);
		return NULL;
	}
	*l = (struct risk_limits){.accounts = accounts, .sessions = sessions,
				  .instruments = instruments};
	l->account = calloc(accounts, sizeof(*l->account));
	l->session = calloc(sessions, sizeof(*l->session));
	l->instrument = calloc(instruments, sizeof(*l->instrument));
	l->position = calloc((size_t)accounts * instruments, sizeof(*l->position));
	if (!l->account || !l->session || !l->instrument || !l->position) {
		risk_limits_destroy(l);
		return NULL;
	}
	allow_everything(l);
	return l;
}

struct risk_account_limits *
risk_limits_account(struct risk_limits *l, uint32_t account)
{
	return account < l->accounts ? &l->account[account] : NULL;
}

struct risk_session_limits *
risk_limits_session(struct risk_limits *l, uint32_t session)
{
	return session < l->sessions ? &l->session[session] : NULL;
}

struct risk_instrument_limits *
risk_limits_instrument(struct risk_limits *l, uint32_t instrument)
{
	return instrument < l->instruments ? &l->instrument[instrument] : NULL;
}

struct risk_position_limits *
risk_limits_position(struct risk_limits *l, uint32_t account, uint32_t instrument)
{
	if (account >= l->accounts || instrument >= l->instruments)
		return NULL;
	return &l->position[(size_t)account * l->instruments + instrument];
}

static int
in_range(int64_t v, int64_t lo, int64_t hi)
{
	return v >= lo && v <= hi;
}

/* A bucket's capacity, interval * burst, must fit in 64 bits. */
static int
bucket_valid(uint64_t interval_ns, uint32_t burst)
{
	return interval_ns == 0 || (burst > 0 && interval_ns <= UINT64_MAX / burst);
}

int
risk_limits_valid(const struct risk_limits *l)
{
	for (uint32_t a = 0; a < l->accounts; a++) {
		const struct risk_account_limits *x = &l->account[a];
		if (!in_range(x->max_order_notional, 0, RISK_LIMIT_MAX) ||
		    !in_range(x->credit_limit, 0, RISK_LIMIT_MAX) || x->short_sell > 1)
			return 0;
	}
	for (uint32_t s = 0; s < l->sessions; s++) {
		const struct risk_session_limits *x = &l->session[s];
		if (!bucket_valid(x->msg_interval_ns, x->msg_burst) ||
		    !bucket_valid(x->order_interval_ns, x->order_burst) ||
		    x->cancel_on_disconnect > 1)
			return 0;
	}
	for (uint32_t i = 0; i < l->instruments; i++) {
		const struct risk_instrument_limits *x = &l->instrument[i];
		if (!in_range(x->tick_size, 1, INT64_C(1) << 32) ||
		    !in_range(x->ref_price, 0, RISK_LIMIT_MAX) ||
		    !in_range(x->collar_ticks, 0, INT64_C(1) << 32) || x->lot_size == 0 ||
		    x->ref_last_trade > 1)
			return 0;
	}
	for (size_t p = 0; p < (size_t)l->accounts * l->instruments; p++) {
		const struct risk_position_limits *x = &l->position[p];
		if (!in_range(x->max_long, 0, RISK_LIMIT_MAX) ||
		    !in_range(x->max_short, 0, RISK_LIMIT_MAX) || x->restricted > 1)
			return 0;
	}
	return 1;
}

static int64_t
clamped(__int128 v)
{
	return v > INT64_MAX ? INT64_MAX : v < INT64_MIN ? INT64_MIN : (int64_t)v;
}

/* The collar bounds from the reference in force, computed once here so an
 * order pays two compares. */
void
risk_set_collar(struct risk *r, uint32_t instrument)
{
	const struct risk_instrument_limits *l = &r->limits->instrument[instrument];
	struct risk_instrument *s = &r->instruments[instrument];
	int64_t ref = risk_reference(r, instrument);
	__int128 band = -1; /* none */

	if (l->collar_bp != 0)
		band = (__int128)ref * l->collar_bp / 10000;
	if (l->collar_ticks != 0 && (band < 0 || (__int128)l->collar_ticks * l->tick_size < band))
		band = (__int128)l->collar_ticks * l->tick_size;
	s->collared = ref != 0 && band >= 0;
	if (!s->collared) {
		s->collar_lo = INT64_MIN;
		s->collar_hi = INT64_MAX;
		return;
	}
	s->collar_lo = clamped(ref - band);
	s->collar_hi = clamped(ref + band);
}
