/* The order path on DPDK's telemetry socket, for `colo status`, `colo book`,
 * `colo risk show`, `colo kill` and `colo eod`: counters, depth, an
 * account's state, kill switches and the end of the day. Commands other than /colo/orders go to the stages through
 * order_path_control, answered between two of their messages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_telemetry.h>

#include "order_path.h"
#include "telemetry_guard.h"

#define CONTROL_TIMEOUT_MS 1000

static struct telemetry_guard served;

static int
orders_command(struct order_path *op, const char *params, struct rte_tel_data *d)
{
	(void)params;
	const struct order_gateway_counters *g = order_path_gateway_counters(op);
	const struct order_risk_counters *r = order_path_risk_counters(op);
	const struct order_matching_counters *m = order_path_matching_counters(op);
	rte_tel_data_add_dict_u64(d, "rx_packets", g->rx_packets);
	rte_tel_data_add_dict_u64(d, "tx_packets", g->tx_packets);
	rte_tel_data_add_dict_u64(d, "tx_dropped", g->tx_dropped);
	rte_tel_data_add_dict_u64(d, "logins", g->logins);
	rte_tel_data_add_dict_u64(d, "login_rejects", g->login_rejects);
	rte_tel_data_add_dict_u64(d, "timeouts", g->timeouts);
	rte_tel_data_add_dict_u64(d, "repeats", g->repeats);
	rte_tel_data_add_dict_u64(d, "orders", g->messages_by_type['O']);
	rte_tel_data_add_dict_u64(d, "rejects", g->responses_by_type['J']);
	for (int i = 0; i < ORDER_DROP_N; i++)
		rte_tel_data_add_dict_u64(d, order_drop_reason_names[i], g->drops[i]);
	rte_tel_data_add_dict_u64(d, "risk_passed", r->passed);
	rte_tel_data_add_dict_u64(d, "kill_cancels", r->kill_cancels);
	rte_tel_data_add_dict_u64(d, "limit_swaps", r->limit_swaps);
	rte_tel_data_add_dict_u64(d, "trades", m->trades);
	rte_tel_data_add_dict_u64(d, "traded_qty", m->traded_qty);
	rte_tel_data_add_dict_u64(d, "ticks", m->ticks);
	return 0;
}

/* params: comma-separated unsigned numbers; returns how many were read. */
static int
numbers(const char *params, unsigned long *v, int max)
{
	int n = 0;
	char *end;

	while (params != NULL && *params != '\0' && n < max) {
		v[n++] = strtoul(params, &end, 10);
		if (end == params || (*end != ',' && *end != '\0'))
			return -1;
		params = *end == ',' ? end + 1 : end;
	}
	return n;
}

static int
control(struct order_path *op, struct order_control *c, struct rte_tel_data *d)
{
	if (order_path_control(op, c, CONTROL_TIMEOUT_MS) != 0) {
		rte_tel_data_add_dict_string(d, "error", "the order path did not answer");
		return 0;
	}
	if (c->result != 0)
		rte_tel_data_add_dict_string(d, "error", "refused: no such id");
	return c->result == 0;
}

static void
levels_add(struct rte_tel_data *d, const char *name, const struct order_depth_level *l,
	   uint32_t n)
{
	struct rte_tel_data *list = rte_tel_data_alloc();

	if (list == NULL)
		return;
	rte_tel_data_start_array(list, RTE_TEL_U64_VAL);
	for (uint32_t i = 0; i < n; i++) { /* price, shares, orders: flat triples */
		rte_tel_data_add_array_u64(list, (uint64_t)l[i].price);
		rte_tel_data_add_array_u64(list, l[i].qty);
		rte_tel_data_add_array_u64(list, l[i].orders);
	}
	rte_tel_data_add_dict_container(d, name, list, 0);
}

/* /colo/book,INSTRUMENT */
static int
book_command(struct order_path *op, const char *params, struct rte_tel_data *d)
{
	unsigned long v[1];
	struct order_control c = {.type = ORDER_CONTROL_DEPTH};

	if (numbers(params, v, 1) != 1)
		return -1;
	c.instrument = (uint32_t)v[0];
	if (control(op, &c, d)) {
		levels_add(d, "bids", c.bids, c.n_bids);
		levels_add(d, "asks", c.asks, c.n_asks);
	}
	return 0;
}

/* /colo/risk,ACCOUNT[,INSTRUMENT] */
static int
risk_command(struct order_path *op, const char *params, struct rte_tel_data *d)
{
	unsigned long v[2];
	int n = numbers(params, v, 2);
	struct order_control c = {.type = ORDER_CONTROL_ACCOUNT};

	if (n < 1)
		return -1;
	c.id = (uint32_t)v[0];
	if (!control(op, &c, d))
		return 0;
	rte_tel_data_add_dict_int(d, "open_orders", (int)c.account.open_orders);
	rte_tel_data_add_dict_int(d, "killed", c.account.killed);
	char money[32]; /* i64 money as text: telemetry has no signed 64-bit values */
	snprintf(money, sizeof(money), "%lld", (long long)c.account.open_buy_notional);
	rte_tel_data_add_dict_string(d, "open_buy_notional", money);
	snprintf(money, sizeof(money), "%lld", (long long)c.account.net_bought);
	rte_tel_data_add_dict_string(d, "net_bought", money);
	if (n == 2) {
		c = (struct order_control){.type = ORDER_CONTROL_POSITION, .id = (uint32_t)v[0],
					   .instrument = (uint32_t)v[1]};
		if (!control(op, &c, d))
			return 0;
		snprintf(money, sizeof(money), "%lld", (long long)c.position.position);
		rte_tel_data_add_dict_string(d, "position", money);
		rte_tel_data_add_dict_u64(d, "open_buy_qty", (uint64_t)c.position.open_buy_qty);
		rte_tel_data_add_dict_u64(d, "open_sell_qty", (uint64_t)c.position.open_sell_qty);
	}
	return 0;
}

/* /colo/kill,SCOPE,ID,ON: scope as enum risk_scope; ON 1 or 0. */
static int
kill_command(struct order_path *op, const char *params, struct rte_tel_data *d)
{
	unsigned long v[3];
	struct order_control c = {.type = ORDER_CONTROL_KILL};

	if (numbers(params, v, 3) != 3 || v[2] > 1)
		return -1;
	c.scope = (uint8_t)v[0];
	c.id = (uint32_t)v[1];
	c.on = (uint8_t)v[2];
	if (control(op, &c, d))
		rte_tel_data_add_dict_u64(d, "cancelled", c.cancels);
	return 0;
}

/* /colo/eod */
static int
eod_command(struct order_path *op, const char *params, struct rte_tel_data *d)
{
	struct order_control c = {.type = ORDER_CONTROL_END_OF_DAY};

	(void)params;
	if (control(op, &c, d))
		rte_tel_data_add_dict_u64(d, "cancelled", c.cancels);
	return 0;
}

static const struct {
	const char *name;
	int (*run)(struct order_path *op, const char *params, struct rte_tel_data *d);
	const char *help;
} commands[] = {
	{"/colo/orders", orders_command, "Order path counters. No parameters."},
	{"/colo/book", book_command, "Depth of an order-path book. Parameter: instrument index."},
	{"/colo/risk", risk_command, "An account's risk state. Parameters: account[,instrument]."},
	{"/colo/kill", kill_command,
	 "Kill switch. Parameters: scope (0 all, 1 session, 2 account),id,on (1 or 0)."},
	{"/colo/eod", eod_command, "End of day: DAY orders cancelled, sessions told. No parameters."},
};

/* Every command runs holding the order path, so it is not destroyed under it. */
static int
command(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct order_path *op = telemetry_hold(&served);
	int ret = 0;

	rte_tel_data_start_dict(d);
	for (size_t i = 0; op != NULL && i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(cmd, commands[i].name) == 0)
			ret = commands[i].run(op, params, d);
	telemetry_release(&served);
	return ret;
}

void
order_telemetry_register(struct order_path *op)
{
	static int registered;

	telemetry_serve(&served, op);
	if (registered || op == NULL)
		return;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		rte_telemetry_register_cmd(commands[i].name, command, commands[i].help);
	registered = 1;
}
