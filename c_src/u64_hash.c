#include <string.h>

#include "table_alloc.h"
#include "u64_hash.h"

int
u64_hash_init(struct u64_hash *h, uint32_t max_entries, int sequential)
{
	uint64_t cap = 16;
	unsigned bits = 4;

	while (cap < 2ull * max_entries) {
		cap <<= 1;
		bits++;
	}
	h->slots = table_alloc(cap * sizeof(*h->slots));
	if (h->slots == NULL)
		return -1;
	memset(h->slots, 0xff, cap * sizeof(*h->slots));
	h->mask = cap - 1;
	h->shift = 64 - bits;
	h->sequential = sequential;
	return 0;
}

void
u64_hash_free(struct u64_hash *h)
{
	if (h->slots != NULL)
		table_free(h->slots, (h->mask + 1) * sizeof(*h->slots));
	h->slots = NULL;
}

void
u64_hash_del(struct u64_hash *h, uint64_t key)
{
	uint64_t i = u64_hash_index(h, key);

	for (uint32_t d = 0;; d++, i = (i + 1) & h->mask) {
		const struct u64_hash_slot *s = &h->slots[i];
		if (s->value == U64_HASH_EMPTY || s->dist < d)
			return;
		if (s->key == key)
			break;
	}
	/* Shift back the keys displaced past the hole; stop at one at home. */
	for (uint64_t j = (i + 1) & h->mask;; i = j, j = (j + 1) & h->mask) {
		struct u64_hash_slot *s = &h->slots[j];
		if (s->value == U64_HASH_EMPTY || s->dist == 0)
			break;
		h->slots[i] = *s;
		h->slots[i].dist--;
	}
	h->slots[i].value = U64_HASH_EMPTY;
}
