/* Open-addressed u64 -> u32 map with linear probing and backward-shift
 * deletion (no tombstones, so probe chains never degrade). Sized once at
 * creation: the hot path never allocates. One writer. */
#ifndef U64_HASH_H
#define U64_HASH_H

#include <stdint.h>

#define U64_HASH_EMPTY UINT32_MAX

struct u64_hash_slot {
	uint64_t key;
	uint32_t value; /* U64_HASH_EMPTY marks a free slot */
};

struct u64_hash {
	struct u64_hash_slot *slots;
	uint64_t mask;
	unsigned shift; /* 64 - log2(capacity) */
	int sequential;  /* keys arrive in sequence: index by their low bits */
};

/* Capacity is rounded up to a power of two at least twice max_entries.
 * sequential: keys are mostly handed out in order (ITCH order references),
 * so their low bits put recent keys in neighbouring slots, which keeps the
 * working set in cache; other keys are spread by Fibonacci hashing. */
int u64_hash_init(struct u64_hash *h, uint32_t max_entries, int sequential);
void u64_hash_free(struct u64_hash *h);

static inline uint64_t
u64_hash_index(const struct u64_hash *h, uint64_t key)
{
	if (h->sequential)
		return key & h->mask;
	return (key * 0x9E3779B97F4A7C15ull) >> h->shift;
}

static inline uint32_t
u64_hash_get(const struct u64_hash *h, uint64_t key)
{
	uint64_t i = u64_hash_index(h, key);

	for (;;) {
		const struct u64_hash_slot *s = &h->slots[i];
		if (s->value == U64_HASH_EMPTY || s->key == key)
			return s->value;
		i = (i + 1) & h->mask;
	}
}

/* Caller guarantees the key is absent and the table is not full. */
static inline void
u64_hash_put(struct u64_hash *h, uint64_t key, uint32_t value)
{
	uint64_t i = u64_hash_index(h, key);

	while (h->slots[i].value != U64_HASH_EMPTY)
		i = (i + 1) & h->mask;
	h->slots[i].key = key;
	h->slots[i].value = value;
}

void u64_hash_del(struct u64_hash *h, uint64_t key);

#endif
