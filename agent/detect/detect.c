// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The detector registry: per-account slots laid out after struct
 * hw_account, the account table's eviction callback fanned out to every
 * detector, exchanges and ticks dispatched in registration order, and
 * each detector's cost measured. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "detect/alerts.h"
#include "detect/detect.h"

#define SLOT_ALIGN 8
/* an exchange hook's cost is sampled: a clock read per exchange would cost
 * more than a small detector's hook */
#define COST_SAMPLE 64

static uint64_t cpu_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int hw_detect_register(struct hw_detect *dt, const struct hw_detector_ops *ops, const void *cfg)
{
	struct hw_detector *d;
	size_t slot;
	int err;

	if (dt->started)
		return -EBUSY;
	if (dt->n == HW_DETECTORS_MAX)
		return -ENOSPC;
	if (hw_detect_find(dt, ops->name))
		return -EEXIST;
	d = &dt->d[dt->n];
	memset(d, 0, sizeof(*d));
	d->ops = ops;
	d->env = dt;
	d->cfg = cfg;
	d->state = ops->state_size ? calloc(1, ops->state_size) : NULL;
	if (ops->state_size && !d->state)
		return -ENOMEM;
	slot = (ops->account_state_size + SLOT_ALIGN - 1) & ~(size_t)(SLOT_ALIGN - 1);
	d->slot_offset = sizeof(struct hw_account) + dt->account_extra;
	err = ops->init ? ops->init(d, cfg) : 0;
	if (err) {
		free(d->state);
		d->state = NULL;
		return err;
	}
	dt->account_extra += slot;
	dt->n++;
	return 0;
}

size_t hw_detect_account_extra(const struct hw_detect *dt)
{
	return dt->account_extra;
}

const char *hw_detect_account_group(const struct hw_detect *dt, const struct hw_account *acct)
{
	for (unsigned i = 0; i < dt->n; i++) {
		const struct hw_detector *d = &dt->d[i];
		const char *id;

		if (d->ops->account_group &&
		    (id = d->ops->account_group(d, acct, (const char *)acct + d->slot_offset)))
			return id;
	}
	return NULL;
}

void hw_detect_flush(struct hw_detect *dt)
{
	for (unsigned i = 0; i < dt->n; i++)
		if (dt->d[i].ops->flush)
			dt->d[i].ops->flush(&dt->d[i]);
}

int hw_detect_reconfigure(struct hw_detect *dt)
{
	int err = 0;

	for (unsigned i = 0; i < dt->n; i++) {
		struct hw_detector *d = &dt->d[i];
		int e = d->ops->reconfigure ? d->ops->reconfigure(d, d->cfg) : 0;

		if (e && !err)
			err = e;
	}
	return err;
}

const struct hw_detector *hw_detect_find(const struct hw_detect *dt, const char *name)
{
	for (unsigned i = 0; i < dt->n; i++)
		if (!strcmp(dt->d[i].ops->name, name))
			return &dt->d[i];
	return NULL;
}

/* the account table's one eviction callback, for every detector */
static void on_account_evict(void *ctx, const void *key, void *value)
{
	struct hw_detect *dt = ctx;

	for (unsigned i = 0; i < dt->n; i++) {
		struct hw_detector *d = &dt->d[i];

		if (d->ops->evict)
			d->ops->evict(d, key, value, hw_detector_slot(d, value));
	}
}

/* the account table's keep callback: any detector that wants it kept */
static bool on_account_keep(void *ctx, const void *key, const void *value)
{
	const struct hw_detect *dt = ctx;

	(void)key;
	for (unsigned i = 0; i < dt->n; i++) {
		const struct hw_detector *d = &dt->d[i];

		if (d->ops->keep && d->ops->keep(d, value, (const char *)value + d->slot_offset))
			return true;
	}
	return false;
}

int hw_detect_start(struct hw_detect *dt, struct hw_agg *agg, struct hw_alerts *alerts)
{
	if (agg->accounts.value_size < sizeof(struct hw_account) + dt->account_extra)
		return -EINVAL; /* the table was sized without the detectors' slots */
	if (agg->accounts.on_evict && agg->accounts.on_evict != on_account_evict)
		return -EBUSY;
	dt->agg = agg;
	dt->alerts = alerts;
	for (unsigned i = 0; alerts && i < dt->n; i++)
		for (const char *const *sv = dt->d[i].ops->severities; sv && *sv; sv++)
			hw_alerts_declare(alerts, dt->d[i].ops->name, *sv);
	agg->accounts.on_evict = on_account_evict;
	agg->accounts.keep = on_account_keep;
	agg->accounts.evict_ctx = dt;
	dt->started = true;
	return 0;
}

void hw_detect_exchange(struct hw_detect *dt, struct hw_account *acct,
			const struct hw_exchange_view *x)
{
	dt->dispatched++;
	if (__builtin_expect(++dt->sample % COST_SAMPLE == 0, 0)) {
		for (unsigned i = 0; i < dt->n; i++) {
			struct hw_detector *d = &dt->d[i];
			uint64_t t0 = cpu_now_ns();

			d->ops->exchange(d, acct, hw_detector_slot(d, acct), x);
			d->cpu_ns += (cpu_now_ns() - t0) * COST_SAMPLE;
		}
		return;
	}
	for (unsigned i = 0; i < dt->n; i++) {
		struct hw_detector *d = &dt->d[i];

		d->ops->exchange(d, acct, (char *)acct + d->slot_offset, x);
	}
}

void hw_detect_tick(struct hw_detect *dt, uint64_t now_ns)
{
	dt->now_ns = now_ns;
	for (unsigned i = 0; i < dt->n; i++)
		dt->d[i].exchanges = dt->dispatched; /* every detector sees every exchange */
	for (unsigned i = 0; i < dt->n; i++) {
		struct hw_detector *d = &dt->d[i];
		uint64_t t0;

		if (!d->ops->tick)
			continue;
		t0 = cpu_now_ns();
		d->ops->tick(d, now_ns);
		d->cpu_ns += cpu_now_ns() - t0;
		d->ticks++;
	}
}

void hw_detect_free(struct hw_detect *dt)
{
	for (unsigned i = 0; i < dt->n; i++) {
		struct hw_detector *d = &dt->d[i];

		if (d->ops->destroy)
			d->ops->destroy(d);
		free(d->state);
	}
	if (dt->agg && dt->agg->accounts.on_evict == on_account_evict) {
		dt->agg->accounts.on_evict = NULL;
		dt->agg->accounts.keep = NULL;
	}
	memset(dt, 0, sizeof(*dt));
}
