// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* SipHash-2-4 as specified in "SipHash: a fast short-input PRF" (2012):
 * two compression rounds per 8-byte word, four finalization rounds. */
#include <endian.h>
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include "lib/siphash.h"

#define ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

struct sip {
	uint64_t v0, v1, v2, v3;
};

static inline void sipround(struct sip *s)
{
	s->v0 += s->v1;
	s->v1 = ROTL(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = ROTL(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = ROTL(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = ROTL(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = ROTL(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = ROTL(s->v2, 32);
}

static inline void compress(struct sip *s, uint64_t m)
{
	s->v3 ^= m;
	sipround(s);
	sipround(s);
	s->v0 ^= m;
}

/* n < 8 bytes as a little-endian word, whatever the host */
static inline uint64_t le64(const uint8_t *b, size_t n)
{
	uint64_t w = 0;

	for (size_t i = 0; i < n; i++)
		w |= (uint64_t)b[i] << (8 * i);
	return w;
}

uint64_t hw_siphash24(const struct hw_sipkey *key, const void *data, size_t len)
{
	const uint8_t *b = data;
	struct sip s = {
	    key->k0 ^ 0x736f6d6570736575ULL,
	    key->k1 ^ 0x646f72616e646f6dULL,
	    key->k0 ^ 0x6c7967656e657261ULL,
	    key->k1 ^ 0x7465646279746573ULL,
	};
	size_t left = len;

	for (; left >= 8; b += 8, left -= 8) {
		uint64_t w;

		memcpy(&w, b, 8);
		compress(&s, le64toh(w));
	}
	/* the last word: the remaining bytes, the length's low byte on top */
	compress(&s, le64(b, left) | (uint64_t)(len & 0xff) << 56);
	s.v2 ^= 0xff;
	for (int i = 0; i < 4; i++)
		sipround(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

int hw_sipkey_random(struct hw_sipkey *key)
{
	uint8_t k[16];
	size_t have = 0;

	while (have < sizeof(k)) {
		ssize_t n = getrandom(k + have, sizeof(k) - have, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		have += (size_t)n;
	}
	key->k0 = le64(k, 8);
	key->k1 = le64(k + 8, 8);
	explicit_bzero(k, sizeof(k));
	return 0;
}
