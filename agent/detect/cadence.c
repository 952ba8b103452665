// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* cadence: each account's last exchange start times, and the regularity of
 * the intervals between them. */
#include <string.h>
#include "detect/cadence.h"
#include "detect/signals.h"

struct cadence_slot {
	uint32_t start_ms[HW_SIGNAL_RING]; /* event clock, milliseconds mod 2^32 */
	uint8_t head, n;
};

struct cadence_state {
	struct hw_cadence_cfg cfg;
};

static int init(struct hw_detector *d, const void *cfg)
{
	struct cadence_state *s = d->state;

	s->cfg = *(const struct hw_cadence_cfg *)cfg;
	if (s->cfg.min_intervals < 2)
		s->cfg.min_intervals = 2;
	if (s->cfg.min_intervals > HW_SIGNAL_RING - 1)
		s->cfg.min_intervals = HW_SIGNAL_RING - 1;
	return 0;
}

static void on_exchange(struct hw_detector *d, struct hw_account *acct, void *slot,
			const struct hw_exchange_view *x)
{
	struct cadence_slot *c = slot;

	(void)d, (void)acct;
	if (x->handshake)
		return; /* not a request */
	c->start_ms[hw_ring_push(&c->head, &c->n)] = (uint32_t)(x->start_ns / 1000000);
}

void hw_cadence_of(const struct hw_detector *d, struct hw_account *a, struct hw_cadence_stats *out)
{
	const struct cadence_state *s = d->state;
	const struct cadence_slot *c = hw_detector_slot(d, a);
	double iv[HW_SIGNAL_RING];
	unsigned n = 0;

	memset(out, 0, sizeof(*out));
	/* intervals between consecutive starts in charge order */
	for (unsigned i = 1; i < c->n; i++)
		iv[n++] = hw_signal_interval_s(c->start_ms[hw_ring_at(c->head, c->n, i - 1)],
					       c->start_ms[hw_ring_at(c->head, c->n, i)]);
	out->intervals = n;
	if (!n)
		return;
	hw_signal_mean_cv(iv, n, &out->mean_s, &out->cv);
	if (out->mean_s > 0) {
		double sd = out->cv * out->mean_s;

		out->burstiness = (sd - out->mean_s) / (sd + out->mean_s);
	}
	out->regular = n >= s->cfg.min_intervals && out->mean_s > 0 && out->cv <= s->cfg.cv_max;
}

const struct hw_cadence_cfg *hw_cadence_cfg(const struct hw_detector *d)
{
	return &((const struct cadence_state *)d->state)->cfg;
}

const struct hw_detector_ops hw_cadence_ops = {
    .name = "cadence",
    .state_size = sizeof(struct cadence_state),
    .account_state_size = sizeof(struct cadence_slot),
    .init = init,
    .reconfigure = init, /* copies and clamps: nothing sized */
    .exchange = on_exchange,
};
