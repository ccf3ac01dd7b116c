/* Pre-trade risk state: what the checks read, laid out so one order costs
 * a handful of loads (its account, session, instrument, position and an id
 * probe) and compares.
 *
 * Pre-computed: each instrument's collar bounds (from its limits and last
 * trade, redone when either changes), so the collar is two compares.
 * Reservations are kept as running totals (open buy notional per account,
 * open qty per position), adjusted on entry, replace, fill and cancel, so
 * credit and position checks never walk orders. Open orders sit in a pool
 * sized at creation, found by id through a u64_hash. */
#ifndef RISK_CHECK_H
#define RISK_CHECK_H

#include <stdint.h>

#include "colo.h"
#include "u64_hash.h"

#define RISK_NONE UINT32_MAX
/* Largest limit, so sums of limits and order sizes never overflow int64. */
#define RISK_LIMIT_MAX (INT64_C(1) << 62)

struct risk_limits {
	uint32_t accounts, sessions, instruments;
	struct risk_account_limits *account;
	struct risk_session_limits *session;
	struct risk_instrument_limits *instrument;
	struct risk_position_limits *position;   /* [account * instruments + instrument] */
};

/* A token bucket as credit in ns: each message costs its interval. */
struct risk_bucket {
	uint64_t credit_ns;
	uint64_t last_ns;
};

struct risk_session {
	struct risk_bucket msgs, orders;
	uint8_t killed, disconnected;
};

struct risk_instrument {
	int64_t collar_lo, collar_hi;   /* prices allowed, inclusive */
	int64_t last_trade;             /* 0 = none yet */
	uint8_t collared, halted;
};

struct risk_open_order {
	uint64_t id;
	int64_t price;                  /* reserved at: a market order's is its protection price */
	uint32_t leaves;                /* reserved: open, or a replace's qty until matching answers */
	uint32_t account, session, instrument;
	uint32_t pos;                   /* in risk.slots */
	uint8_t side;
};

struct risk {
	const struct risk_limits *limits;
	struct risk_account_state *accounts;
	struct risk_session *sessions;
	struct risk_instrument *instruments;
	struct risk_position_state *positions;  /* as limits->position */
	struct risk_open_order *orders;
	/* orders[] slots: [0, live) the open orders', then the free ones. A
	 * kill or a disconnect walks only the open orders. */
	uint32_t *slots;
	struct u64_hash by_id;
	uint32_t max_orders, live;
	uint8_t killed;
};

static inline const struct risk_position_limits *
risk_position_limits(const struct risk_limits *l, uint32_t account, uint32_t instrument)
{
	return &l->position[(size_t)account * l->instruments + instrument];
}

static inline struct risk_position_state *
risk_position_of(struct risk *r, uint32_t account, uint32_t instrument)
{
	return &r->positions[(size_t)account * r->limits->instruments + instrument];
}

/* The collar's reference: the last trade if the limits ask for it and
 * there is one, else the configured price; 0 = none. */
static inline int64_t
risk_reference(const struct risk *r, uint32_t instrument)
{
	const struct risk_instrument_limits *l = &r->limits->instrument[instrument];
	int64_t last = r->instruments[instrument].last_trade;

	return l->ref_last_trade && last != 0 ? last : l->ref_price;
}

/* risk_limits.c: whether a record is sound, and what follows from it. */
int risk_limits_valid(const struct risk_limits *l);
void risk_set_collar(struct risk *r, uint32_t instrument);

#endif
