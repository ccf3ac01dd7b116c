/* Outbound OUCH 5.0 responses (docs/order-entry.md): System Event 'S',
 * Accepted 'A', Replaced 'U', Canceled 'C', Executed 'E', Rejected 'J'.
 * Each layout is a table of fields, as in feedhandlers/ouch50.py, written by
 * one loop. No EAL needed. */
#include <stddef.h>
#include <string.h>

#include "colo.h"

enum field_kind { INT, ALPHA }; /* a big-endian integer, or bytes as they are */

struct field {
	uint8_t kind;
	uint8_t width;   /* on the wire */
	uint8_t size;    /* of the struct member */
	uint16_t offset; /* of the struct member */
};

#define F(kind, width, member) \
	{kind, width, sizeof(((struct ouch_response *)0)->member), \
	 offsetof(struct ouch_response, member)}

static const struct field system_event[] = {F(INT, 8, timestamp), F(INT, 1, event_code)};
static const struct field accepted[] = {
	F(INT, 8, timestamp), F(INT, 4, user_ref_num), F(INT, 1, side), F(INT, 4, quantity),
	F(ALPHA, 8, symbol), F(INT, 8, price), F(INT, 1, time_in_force), F(INT, 1, display),
	F(INT, 8, order_ref), F(INT, 1, capacity), F(INT, 1, intermarket_sweep),
	F(INT, 1, cross_type), F(INT, 1, order_state), F(ALPHA, 14, cl_ord_id)};
static const struct field replaced[] = {
	F(INT, 8, timestamp), F(INT, 4, orig_user_ref_num), F(INT, 4, user_ref_num),
	F(INT, 1, side), F(INT, 4, quantity), F(ALPHA, 8, symbol), F(INT, 8, price),
	F(INT, 1, time_in_force), F(INT, 1, display), F(INT, 8, order_ref), F(INT, 1, capacity),
	F(INT, 1, intermarket_sweep), F(INT, 1, cross_type), F(INT, 1, order_state),
	F(ALPHA, 14, cl_ord_id)};
static const struct field canceled[] = {
	F(INT, 8, timestamp), F(INT, 4, user_ref_num), F(INT, 4, quantity), F(INT, 1, reason)};
static const struct field executed[] = {
	F(INT, 8, timestamp), F(INT, 4, user_ref_num), F(INT, 4, quantity), F(INT, 8, price),
	F(INT, 1, liquidity_flag), F(INT, 8, match_number)};
static const struct field rejected[] = {
	F(INT, 8, timestamp), F(INT, 4, user_ref_num), F(INT, 2, reason),
	F(ALPHA, 14, cl_ord_id)};

struct layout {
	const struct field *fields;
	unsigned n;
	int appendage; /* an empty TagValue appendage follows: no options echoed */
};

#define L(table, appendage) {table, sizeof(table) / sizeof(table[0]), appendage}

static const struct layout layouts[256] = {
	['S'] = L(system_event, 0), ['A'] = L(accepted, 1), ['U'] = L(replaced, 1),
	['C'] = L(canceled, 0), ['E'] = L(executed, 1), ['J'] = L(rejected, 0),
};

/* Integer fields are 1, 2, 4 or 8 bytes, on the wire and in the struct:
 * fixed-size loads and stores, not byte loops (a response is written for
 * every report, on the order path's hot path). */
static uint64_t
member_load(const uint8_t *v, unsigned size)
{
	uint16_t x16;
	uint32_t x32;
	uint64_t x64;

	switch (size) {
	case 1:
		return *v;
	case 2:
		memcpy(&x16, v, 2);
		return x16;
	case 4:
		memcpy(&x32, v, 4);
		return x32;
	default:
		memcpy(&x64, v, 8);
		return x64;
	}
}

static uint8_t *
put_be(uint8_t *p, uint64_t v, unsigned width)
{
	uint16_t x16;
	uint32_t x32;
	uint64_t x64;

	switch (width) {
	case 1:
		*p = (uint8_t)v;
		break;
	case 2:
		x16 = __builtin_bswap16((uint16_t)v);
		memcpy(p, &x16, 2);
		break;
	case 4:
		x32 = __builtin_bswap32((uint32_t)v);
		memcpy(p, &x32, 4);
		break;
	default:
		x64 = __builtin_bswap64(v);
		memcpy(p, &x64, 8);
		break;
	}
	return p + width;
}

int
ouch_response_write(uint8_t *buf, uint16_t room, const struct ouch_response *r)
{
	const struct layout *l = &layouts[r->type];
	const uint8_t *src = (const uint8_t *)r;
	unsigned len = 1 + 2u * (unsigned)l->appendage;

	if (l->fields == NULL)
		return -1;
	for (unsigned i = 0; i < l->n; i++)
		len += l->fields[i].width;
	if (len > room)
		return -1;
	uint8_t *p = buf;
	*p++ = r->type;
	for (unsigned i = 0; i < l->n; i++) {
		const struct field *f = &l->fields[i];
		const uint8_t *v = src + f->offset;
		if (f->kind == ALPHA) {
			memcpy(p, v, f->width);
			p += f->width;
		} else {
			p = put_be(p, member_load(v, f->size), f->width);
		}
	}
	if (l->appendage)
		p = put_be(p, 0, 2);
	return (int)(p - buf);
}
