#include <rte_telemetry.h>

#include "md_telemetry.h"
#include "telemetry_guard.h"

static struct telemetry_guard served;

static void
counters_add(struct rte_tel_data *d, const struct md_counters *c)
{
	rte_tel_data_add_dict_u64(d, "rx_packets", c->rx_packets);
	rte_tel_data_add_dict_u64(d, "rx_bytes", c->rx_bytes);
	rte_tel_data_add_dict_u64(d, "feed_packets", c->feed_packets);
	rte_tel_data_add_dict_u64(d, "messages", c->messages);
	rte_tel_data_add_dict_u64(d, "gaps", c->gaps);
	rte_tel_data_add_dict_u64(d, "feed_end_of_session", c->feed_end_of_session);
	rte_tel_data_add_dict_u64(d, "gap_messages", c->gap_messages);
	rte_tel_data_add_dict_u64(d, "tx_packets", c->tx_packets);
	rte_tel_data_add_dict_u64(d, "tx_ticks", c->tx_ticks);
	rte_tel_data_add_dict_u64(d, "tx_dropped", c->tx_dropped);
	rte_tel_data_add_dict_u64(d, "tx_heartbeats", c->tx_heartbeats);
	rte_tel_data_add_dict_u64(d, "tx_end_of_session", c->tx_end_of_session);
	rte_tel_data_add_dict_u64(d, "igmp_reports", c->igmp_reports);
	rte_tel_data_add_dict_u64(d, "igmp_leaves", c->igmp_leaves);
	rte_tel_data_add_dict_u64(d, "rerequests", c->rerequests);
	for (int i = 0; i < COLO_DROP_N; i++)
		rte_tel_data_add_dict_u64(d, colo_drop_reason_names[i], c->drops[i]);
	for (int i = 0; i < COLO_MSG_EVENT_N; i++)
		rte_tel_data_add_dict_u64(d, colo_msg_event_names[i], c->msg_events[i]);
}

static int
colo_md_command(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct md_counters *c = telemetry_hold(&served);

	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	if (c != NULL)
		counters_add(d, c);
	telemetry_release(&served);
	return 0;
}

void
md_telemetry_register(const struct md_counters *c)
{
	static int registered;

	telemetry_serve(&served, (void *)c);
	if (!registered && c != NULL) {
		rte_telemetry_register_cmd("/colo/md", colo_md_command,
					   "Market-data stage counters. No parameters.");
		registered = 1;
	}
}
