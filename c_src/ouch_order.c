/* Inbound OUCH 5.0 order messages (docs/order-entry.md): Enter 'O', Replace
 * 'U', Cancel 'X', Mass Cancel 'C', with the TagValue appendage options Colo
 * supports. No EAL needed; the gateway stage parses each client message with
 * it, and tests hold it to the Python codec (feedhandlers/ouch50.py). */
#include <stddef.h>
#include <string.h>

#include "colo.h"

static inline uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t be32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return __builtin_bswap32(v); }
static inline uint64_t be64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return __builtin_bswap64(v); }

/* The fixed part of each message, type byte included; 0: not an order message. */
static const uint8_t fixed_length[256] = {['O'] = 45, ['U'] = 38, ['X'] = 9, ['C'] = 17};
static const uint8_t has_appendage[256] = {['O'] = 1, ['U'] = 1};

/* The TagValue options Colo supports (OUCH 5.0 tags; 200 is Colo's
 * self-trade mode): each a big-endian value of a fixed size into a member of
 * struct ouch_order_msg, with the flag that says it was given. */
struct option {
	uint8_t tag, size;
	uint16_t value, given; /* member offsets */
};

#define OPTION(tag, size, member) \
	{tag, size, offsetof(struct ouch_order_msg, member), \
	 offsetof(struct ouch_order_msg, has_##member)}

static const struct option options[] = {
	OPTION(3, 4, min_qty), OPTION(12, 1, post_only), OPTION(24, 2, group_id),
	OPTION(200, 1, self_trade),
};

static int
options_parse(const uint8_t *p, uint16_t len, struct ouch_order_msg *o)
{
	for (uint16_t off = 0; off < len;) {
		uint8_t elem = p[off]; /* tag and value */
		if (elem < 1 || off + 1 + elem > len)
			return OUCH_BAD_APPENDAGE;
		const struct option *opt = NULL;
		for (unsigned i = 0; i < sizeof(options) / sizeof(options[0]); i++)
			if (options[i].tag == p[off + 1])
				opt = &options[i];
		if (opt == NULL || opt->size != elem - 1)
			return OUCH_BAD_APPENDAGE;
		uint64_t v = 0;
		for (unsigned b = 0; b < opt->size; b++)
			v = v << 8 | p[off + 2 + b];
		memcpy((uint8_t *)o + opt->value, &v, opt->size); /* little-endian host */
		((uint8_t *)o)[opt->given] = 1;
		off = (uint16_t)(off + 1 + elem);
	}
	return OUCH_OK;
}

int
ouch_order_parse(const uint8_t *m, uint16_t len, struct ouch_order_msg *o)
{
	memset(o, 0, sizeof(*o));
	if (len == 0 || fixed_length[m[0]] == 0)
		return OUCH_UNKNOWN_TYPE;
	uint16_t fixed = fixed_length[m[0]];
	if (has_appendage[m[0]] ? len < fixed + 2 || fixed + 2 + be16(m + fixed) != len
				: len != fixed)
		return OUCH_BAD_LENGTH;
	o->type = m[0];
	switch (m[0]) {
	case 'O':
		o->user_ref_num = be32(m + 1);
		o->side = m[5];
		o->quantity = be32(m + 6);
		memcpy(o->symbol, m + 10, 8);
		o->price = be64(m + 18);
		o->time_in_force = m[26];
		o->display = m[27];
		o->capacity = m[28];
		o->intermarket_sweep = m[29];
		o->cross_type = m[30];
		memcpy(o->cl_ord_id, m + 31, 14);
		break;
	case 'U':
		o->orig_user_ref_num = be32(m + 1);
		o->user_ref_num = be32(m + 5);
		o->quantity = be32(m + 9);
		o->price = be64(m + 13);
		o->time_in_force = m[21];
		o->display = m[22];
		o->intermarket_sweep = m[23];
		memcpy(o->cl_ord_id, m + 24, 14);
		break;
	case 'X':
		o->user_ref_num = be32(m + 1);
		o->quantity = be32(m + 5);
		break;
	case 'C':
		o->user_ref_num = be32(m + 1);
		memcpy(o->firm, m + 5, 4);
		memcpy(o->symbol, m + 9, 8);
		break;
	}
	return has_appendage[m[0]] ? options_parse(m + fixed + 2, (uint16_t)(len - fixed - 2), o)
				   : OUCH_OK;
}
