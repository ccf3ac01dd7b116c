/* Open-addressed u64 -> u32 map: linear probing kept in Robin Hood order
 * (each key's distance from its home slot recorded), so lookups stop early
 * and a delete shifts back only the displaced keys behind it. Sized once at
 * creation: the hot path never allocates. One writer. */
#ifndef U64_HASH_H
#define U64_HASH_H

#include <stdint.h>

#define U64_HASH_EMPTY UINT32_MAX

struct u64_hash_slot {
	uint64_t key;
	uint32_t value; /* U64_HASH_EMPTY marks a free slot */
	uint32_t dist;  /* probe distance from the key's home slot */
};

struct u64_hash {
	struct u64_hash_slot *slots;
	uint64_t mask;
	unsigned shift;  /* 64 - log2(capacity) */
	int sequential;  /* index by the keys' low bits */
};

/* Capacity is rounded up to a power of two at least twice max_entries.
 * sequential: the keys' low bits already put keys used together in
 * neighbouring slots (order references handed out in sequence, a book's
 * nearby prices), which keeps the working set in cache; other keys are
 * spread by Fibonacci hashing. */
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

	for (uint32_t d = 0;; d++, i = (i + 1) & h->mask) {
		const struct u64_hash_slot *s = &h->slots[i];
		/* A resident closer to home than we are: the key would be here. */
		if (s->value == U64_HASH_EMPTY || s->dist < d)
			return U64_HASH_EMPTY;
		if (s->key == key)
			return s->value;
	}
}

/* Returns the key's value if present; else stores value for it (the table
 * must not be full) and returns U64_HASH_EMPTY. One probe does both. */
static inline uint32_t
u64_hash_get_or_put(struct u64_hash *h, uint64_t key, uint32_t value)
{
	uint64_t i = u64_hash_index(h, key);
	uint32_t d = 0;

	for (;; d++, i = (i + 1) & h->mask) {
		const struct u64_hash_slot *s = &h->slots[i];
		if (s->value == U64_HASH_EMPTY || s->dist < d)
			break;
		if (s->key == key)
			return s->value;
	}
	/* Absent: it belongs here; Robin Hood pushes the richer keys on. */
	struct u64_hash_slot carry = {.key = key, .value = value, .dist = d};
	for (;; carry.dist++, i = (i + 1) & h->mask) {
		struct u64_hash_slot *s = &h->slots[i];
		if (s->value == U64_HASH_EMPTY) {
			*s = carry;
			return U64_HASH_EMPTY;
		}
		if (s->dist < carry.dist) {
			struct u64_hash_slot t = *s;
			*s = carry;
			carry = t;
		}
	}
}

void u64_hash_del(struct u64_hash *h, uint64_t key);

#endif
