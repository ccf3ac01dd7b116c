/* Counter names, indexed by the enums in colo.h: the one list the control
 * plane, metrics and telemetry all use. */
#include "colo.h"

const char *const colo_drop_reason_names[COLO_DROP_N] = {
	[COLO_DROP_RUNT] = "runt",
	[COLO_DROP_NOT_IPV4_UDP] = "not_ipv4_udp",
	[COLO_DROP_IP_FRAGMENT] = "ip_fragment",
	[COLO_DROP_BAD_LENGTH] = "bad_length",
	[COLO_DROP_BAD_CHECKSUM] = "bad_checksum",
	[COLO_DROP_NOT_SUBSCRIBED] = "not_subscribed",
	[COLO_DROP_BAD_MOLDUDP64] = "bad_moldudp64",
	[COLO_DROP_WRONG_SESSION] = "wrong_session",
	[COLO_DROP_DUPLICATE] = "duplicate",
	[COLO_DROP_AFTER_END] = "after_end_of_session",
};

const char *const colo_msg_event_names[COLO_MSG_EVENT_N] = {
	[COLO_MSG_ORPHAN_REF] = "orphan_ref",
	[COLO_MSG_DUPLICATE_REF] = "duplicate_ref",
	[COLO_MSG_BAD_LENGTH] = "bad_message_length",
	[COLO_MSG_UNKNOWN_TYPE] = "unknown_type",
	[COLO_MSG_ZERO_SHARES] = "zero_shares",
	[COLO_MSG_BAD_FIELD] = "bad_field",
	[COLO_MSG_BOOK_FULL] = "book_full",
	[COLO_MSG_SYMBOLS_FULL] = "symbols_full",
};
