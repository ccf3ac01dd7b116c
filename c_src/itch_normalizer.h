/* NASDAQ TotalView-ITCH 5.0 -> 26-byte ticks, per spec/ticks.md section 2. */
#ifndef ITCH_NORMALIZER_H
#define ITCH_NORMALIZER_H

#include <stdint.h>

#include "colo.h"
#include "colo_tick.h"
#include "itch_order_book.h"

/* The most ticks one ITCH message can produce (E: a trade, then a quote). */
#define ITCH_MAX_TICKS_PER_MSG 2

struct itch_symbol {
	uint64_t name; /* the 8 raw stock bytes */
	uint32_t id;
};

struct itch_normalizer {
	struct itch_order_book book;
	struct u64_hash symbol_index; /* 8 raw stock bytes -> symbols[] */
	struct itch_symbol *symbols;
	uint32_t *by_locate;          /* ITCH stock locate -> symbols[] + 1; 0: not seen */
	uint32_t n_symbols, max_symbols;
	uint32_t next_symbol_id;
	uint64_t midnight_ns;
	struct md_counters *counters;
};

int itch_normalizer_init(struct itch_normalizer *n, const struct itch_normalizer_params *p,
		struct md_counters *counters);
void itch_normalizer_free(struct itch_normalizer *n);

/* Fixes a symbol's id before the session starts (configured instruments). */
int itch_normalizer_set_symbol_id(struct itch_normalizer *n, const char stock[8], uint32_t id);

/* Applies one message; writes its ticks to out and returns how many. */
unsigned itch_normalizer_apply(struct itch_normalizer *n, const uint8_t *msg, uint16_t len,
		struct colo_tick out[ITCH_MAX_TICKS_PER_MSG]);

#endif
