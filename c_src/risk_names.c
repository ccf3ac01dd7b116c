/* Risk reject reasons by name, indexed by enum risk_reason: the one list
 * the control plane, metrics and clients' reject texts use. */
#include "colo.h"

const char *const risk_reason_names[RISK_REASON_N] = {
	[RISK_OK] = "ok",
	[RISK_INVALID] = "invalid",
	[RISK_KILLED_ALL] = "killed_all",
	[RISK_KILLED_SESSION] = "killed_session",
	[RISK_KILLED_ACCOUNT] = "killed_account",
	[RISK_DISCONNECTED] = "disconnected",
	[RISK_MESSAGE_RATE] = "message_rate",
	[RISK_ORDER_RATE] = "order_rate",
	[RISK_DUPLICATE_ID] = "duplicate_id",
	[RISK_RESTRICTED] = "restricted",
	[RISK_HALTED] = "halted",
	[RISK_LOT_SIZE] = "lot_size",
	[RISK_TICK_SIZE] = "tick_size",
	[RISK_MAX_QTY] = "max_qty",
	[RISK_PRICE_COLLAR] = "price_collar",
	[RISK_MAX_NOTIONAL] = "max_notional",
	[RISK_MAX_OPEN_ORDERS] = "max_open_orders",
	[RISK_ORDERS_FULL] = "orders_full",
	[RISK_CREDIT] = "credit",
	[RISK_SHORT_SELL] = "short_sell",
	[RISK_POSITION_LIMIT] = "position_limit",
	[RISK_NOT_OPEN] = "not_open",
	[RISK_NO_REFERENCE] = "no_reference",
};
