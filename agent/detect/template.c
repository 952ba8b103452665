// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* template: each account's last request and response sizes. */
#include <string.h>
#include "detect/signals.h"
#include "detect/template.h"

struct template_slot {
	uint32_t req[HW_SIGNAL_RING], resp[HW_SIGNAL_RING]; /* bytes, saturating */
	uint8_t head, n;
};

struct template_state {
	struct hw_template_cfg cfg;
};

static int init(struct hw_detector *d, const void *cfg)
{
	struct template_state *s = d->state;

	s->cfg = *(const struct hw_template_cfg *)cfg;
	if (s->cfg.min_exchanges < 2)
		s->cfg.min_exchanges = 2;
	if (s->cfg.min_exchanges > HW_SIGNAL_RING)
		s->cfg.min_exchanges = HW_SIGNAL_RING;
	return 0;
}

static uint32_t sat32(uint64_t v)
{
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static void on_exchange(struct hw_detector *d, struct hw_account *acct, void *slot,
			const struct hw_exchange_view *x)
{
	struct template_slot *t = slot;
	unsigned at;

	(void)d, (void)acct;
	if (x->handshake)
		return; /* not a request */
	at = hw_ring_push(&t->head, &t->n);
	t->req[at] = sat32(x->req_bytes);
	t->resp[at] = sat32(x->resp_bytes);
}

void hw_template_of(const struct hw_detector *d, struct hw_account *a,
		    struct hw_template_stats *out)
{
	const struct template_state *s = d->state;
	const struct template_slot *t = hw_detector_slot(d, a);
	double req[HW_SIGNAL_RING], resp[HW_SIGNAL_RING];

	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < t->n; i++) {
		unsigned at = hw_ring_at(t->head, t->n, i);

		req[i] = t->req[at];
		resp[i] = t->resp[at];
	}
	out->exchanges = t->n;
	hw_signal_mean_cv(req, t->n, &out->req_mean, &out->req_cv);
	hw_signal_mean_cv(resp, t->n, &out->resp_mean, &out->resp_cv);
	out->clusters = hw_signal_clusters(req, t->n, s->cfg.tolerance, out->centers);
	out->templated = t->n >= s->cfg.min_exchanges && 2 * out->clusters <= t->n;
}

const struct hw_template_cfg *hw_template_cfg(const struct hw_detector *d)
{
	return &((const struct template_state *)d->state)->cfg;
}

const struct hw_detector_ops hw_template_ops = {
    .name = "template",
    .state_size = sizeof(struct template_state),
    .account_state_size = sizeof(struct template_slot),
    .init = init,
    .reconfigure = init, /* copies and clamps: nothing sized */
    .exchange = on_exchange,
};
