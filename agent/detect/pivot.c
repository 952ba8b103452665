// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* pivot: models' first sightings and each account's switches. */
#include <string.h>
#include "detect/pivot.h"
#include "lib/hash.h"

struct model {
	uint64_t hash; /* 0: free */
	uint64_t first_ns;
	char name[HW_PIVOT_NAME];
};

/* the account's last two distinct models: moving between them is not a
 * switch; a third model is, and its first use is the adoption */
struct pivot_slot {
	uint32_t model, prev; /* 32 bits of the models' hashes */
	uint64_t switch_ns;   /* first use of model after another; 0: never switched */
};

struct pivot_state {
	struct hw_pivot_cfg cfg;
	struct model models[HW_PIVOT_MODELS];
	uint64_t replaced;
};

static int init(struct hw_detector *d, const void *cfg)
{
	struct pivot_state *s = d->state;

	s->cfg = *(const struct hw_pivot_cfg *)cfg;
	return 0;
}

static struct model *model_find(struct pivot_state *s, uint64_t h)
{
	for (unsigned i = 0; i < HW_PIVOT_MODELS; i++)
		if (s->models[i].hash == h)
			return &s->models[i];
	return NULL;
}

/* by the 32 bits an account keeps */
static struct model *model_find32(struct pivot_state *s, uint32_t h)
{
	for (unsigned i = 0; i < HW_PIVOT_MODELS; i++)
		if (s->models[i].hash && (uint32_t)s->models[i].hash == h)
			return &s->models[i];
	return NULL;
}

static void model_seen(struct pivot_state *s, uint64_t h, const char *name, uint64_t start_ns)
{
	struct model *m = model_find(s, h), *oldest = &s->models[0];

	if (m)
		return;
	for (unsigned i = 0; i < HW_PIVOT_MODELS; i++) {
		if (!s->models[i].hash) {
			oldest = &s->models[i];
			break;
		}
		if (s->models[i].first_ns < oldest->first_ns)
			oldest = &s->models[i];
	}
	if (oldest->hash)
		s->replaced++;
	oldest->hash = h;
	oldest->first_ns = start_ns;
	snprintf(oldest->name, sizeof(oldest->name), "%s", name);
}

static void on_exchange(struct hw_detector *d, struct hw_account *acct, void *slot,
			const struct hw_exchange_view *x)
{
	struct pivot_state *s = d->state;
	struct pivot_slot *p = slot;
	uint64_t h;

	(void)acct;
	if (!x->model[0])
		return;
	h = hw_hash64(x->model, strlen(x->model)) | 1;
	/* one of the account's two models was seen when it first used it: the
	 * model table's scan is for models new to the account */
	if ((uint32_t)h == p->model || (uint32_t)h == p->prev)
		return;
	model_seen(s, h, x->model, x->start_ns);
	if (p->model)
		p->switch_ns = x->start_ns;
	p->prev = p->model;
	p->model = (uint32_t)h;
}

void hw_pivot_of(const struct hw_detector *d, struct hw_account *a, uint64_t eval_ns,
		 struct hw_pivot_stats *out)
{
	struct pivot_state *s = d->state;
	const struct pivot_slot *p = hw_detector_slot(d, a);
	const struct model *m = p->model ? model_find32(s, p->model) : NULL;

	memset(out, 0, sizeof(*out));
	out->model = p->model;
	out->switch_ns = p->switch_ns;
	if (!m)
		return;
	out->name = m->name;
	out->model_first_ns = m->first_ns;
	out->switched_to_new =
	    p->switch_ns && m->first_ns + (uint64_t)s->cfg.new_s * 1000000000ULL >= eval_ns;
}

const struct hw_pivot_cfg *hw_pivot_cfg(const struct hw_detector *d)
{
	return &((const struct pivot_state *)d->state)->cfg;
}

uint64_t hw_pivot_models_replaced(const struct hw_detector *d)
{
	return ((const struct pivot_state *)d->state)->replaced;
}

const struct hw_detector_ops hw_pivot_ops = {
    .name = "pivot",
    .state_size = sizeof(struct pivot_state),
    .account_state_size = sizeof(struct pivot_slot),
    .init = init,
    .reconfigure = init, /* copies and clamps: nothing sized */
    .exchange = on_exchange,
};
