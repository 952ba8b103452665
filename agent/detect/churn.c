// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* churn: when each account first and last started an exchange. */
#include "detect/churn.h"

#define NS 1000000000ULL

struct churn_slot {
	uint64_t first_ns, last_ns; /* exchange starts, event clock; 0: none */
};

struct churn_state {
	struct hw_churn_cfg cfg;
};

static int init(struct hw_detector *d, const void *cfg)
{
	struct churn_state *s = d->state;

	s->cfg = *(const struct hw_churn_cfg *)cfg;
	return 0;
}

static void on_exchange(struct hw_detector *d, struct hw_account *acct, void *slot,
			const struct hw_exchange_view *x)
{
	struct churn_slot *c = slot;

	(void)d, (void)acct;
	if (!c->first_ns || x->start_ns < c->first_ns)
		c->first_ns = x->start_ns;
	if (x->start_ns > c->last_ns)
		c->last_ns = x->start_ns;
}

const struct hw_churn_cfg *hw_churn_cfg(const struct hw_detector *d)
{
	return &((const struct churn_state *)d->state)->cfg;
}

uint64_t hw_churn_first_ns(const struct hw_detector *d, struct hw_account *a)
{
	return ((const struct churn_slot *)hw_detector_slot(d, a))->first_ns;
}

uint64_t hw_churn_last_ns(const struct hw_detector *d, struct hw_account *a)
{
	return ((const struct churn_slot *)hw_detector_slot(d, a))->last_ns;
}

bool hw_churn_is_new(const struct hw_detector *d, struct hw_account *a, uint64_t eval_ns)
{
	const struct churn_state *s = d->state;
	uint64_t first = hw_churn_first_ns(d, a);

	return first && first + (uint64_t)s->cfg.new_s * NS >= eval_ns;
}

bool hw_churn_is_quiet(const struct hw_detector *d, uint64_t last_ns, uint64_t eval_ns)
{
	const struct churn_state *s = d->state;

	return last_ns + (uint64_t)s->cfg.quiet_s * NS < eval_ns;
}

const struct hw_detector_ops hw_churn_ops = {
    .name = "churn",
    .state_size = sizeof(struct churn_state),
    .account_state_size = sizeof(struct churn_slot),
    .init = init,
    .reconfigure = init, /* copies and clamps: nothing sized */
    .exchange = on_exchange,
};
