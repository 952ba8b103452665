// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* fanout: each account's tooling and network keys, and the candidate
 * test the farm engine applies to the accounts sharing one. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "detect/fanout.h"
#include "lib/hash.h"

struct fanout_slot {
	uint64_t tooling, prefix;
};

struct fanout_state {
	struct hw_fanout_cfg cfg;
};

static int init(struct hw_detector *d, const void *cfg)
{
	struct fanout_state *s = d->state;

	s->cfg = *(const struct hw_fanout_cfg *)cfg;
	return 0;
}

static void on_exchange(struct hw_detector *d, struct hw_account *acct, void *slot,
			const struct hw_exchange_view *x)
{
	struct fanout_slot *f = slot;
	uint64_t h = 0x6a09e667f3bcc908ULL;
	bool any = false;

	(void)d, (void)acct;
	/* the fingerprint strings themselves, not host-local table hashes:
	 * the same client stack gives the same key on every host */
	for (int k = 0; k < HW_FP_KINDS; k++) {
		h = hw_hash64_more(h, x->fp[k], strlen(x->fp[k]));
		any |= x->fp[k][0] != '\0';
	}
	h = hw_hash64_more(h, x->ua_family, strlen(x->ua_family));
	any |= x->ua_family[0] && strcmp(x->ua_family, "none");
	f->tooling = any ? hw_hash64(&h, sizeof(h)) | 1 : 0;
	f->prefix = hw_hash64(x->prefix, 16) | 1;
}

void hw_fanout_keys(const struct hw_detector *d, struct hw_account *a, uint64_t *tooling,
		    uint64_t *prefix)
{
	const struct fanout_slot *f = hw_detector_slot(d, a);

	*tooling = f->tooling;
	*prefix = f->prefix;
}

bool hw_fanout_candidate(const struct hw_detector *d, unsigned accounts, uint64_t exchanges,
			 unsigned window_s)
{
	const struct fanout_state *s = d->state;

	return accounts >= s->cfg.min_accounts &&
	       (double)exchanges / (window_s ? window_s : 1) >= s->cfg.min_rate;
}

void hw_fanout_tooling_hex(uint64_t tooling, char out[17])
{
	snprintf(out, 17, "%016" PRIx64, tooling);
}

const struct hw_detector_ops hw_fanout_ops = {
    .name = "fanout",
    .state_size = sizeof(struct fanout_state),
    .account_state_size = sizeof(struct fanout_slot),
    .init = init,
    .reconfigure = init, /* copies and clamps: nothing sized */
    .exchange = on_exchange,
};
