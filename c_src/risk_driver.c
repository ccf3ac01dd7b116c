/* Replays an array of orders through the checks so a benchmark measures
 * them and not their caller; and the baseline loop beside it. */
#include "risk_check.h"

void
risk_run(struct risk *r, const struct risk_order *orders, size_t n, uint64_t *by_reason)
{
	for (size_t i = 0; i < n; i++)
		by_reason[risk_check_order(r, &orders[i])]++;
}

/* What every check starts from: ids validated, account, session and
 * instrument looked up; nothing decided. */
uint64_t
risk_lookup_run(const struct risk *r, const struct risk_order *orders, size_t n)
{
	const struct risk_limits *l = r->limits;
	uint64_t sum = 0;

	for (size_t i = 0; i < n; i++) {
		const struct risk_order *o = &orders[i];
		if (o->account < l->accounts && o->session < l->sessions &&
		    o->instrument < l->instruments)
			sum += r->accounts[o->account].open_orders + r->sessions[o->session].killed +
			       r->instruments[o->instrument].halted;
	}
	return sum;
}
