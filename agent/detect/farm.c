// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* farm: candidate groups, per-member behaviour, admission, one alert per
 * group with recomputable evidence (docs/FARM.md has the definitions). */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "detect/cadence.h"
#include "detect/churn.h"
#include "detect/fanout.h"
#include "detect/farm.h"
#include "detect/lockstep.h"
#include "detect/pivot.h"
#include "detect/signals.h"
#include "detect/template.h"
#include "lib/addr.h"
#include "lib/grow.h"
#include "lib/hash.h"
#include "lib/hex.h"

#define NS		  1000000000ULL
#define KEY_LEN		  (HW_ACCOUNT_LEN / 2)
#define MAX_LISTED_FP	  8	/* distinct fingerprints per kind in an alert's group */
#define MAX_PREFIXES	  16	/* prefixes listed in an alert's group */
#define FARM_SCRATCH_KEEP 65536 /* evaluation records kept between evaluations */

#define SIG_L	      (1u << HW_FARM_LOCKSTEP)
#define SIG_C	      (1u << HW_FARM_CADENCE)
#define SIG_T	      (1u << HW_FARM_TEMPLATE)
#define SIG_P	      (1u << HW_FARM_PIVOT)
#define SIG_N	      (1u << HW_FARM_CHURN)
#define SIG_BEHAVIOUR (SIG_L | SIG_C | SIG_T | SIG_P)

const char *const hw_farm_signal_names[6] = {"fanout",	 "lockstep", "cadence",
					     "template", "pivot",    "churn"};
/* a group's score: the signals' shares among its admitted members, weighed
 * (cadence and churn contribute, weak alone) */
static const double signal_weight[6] = {0, 1.0, 0.5, 1.0, 1.0, 0.5};

enum key_kind { KEY_TOOLING = 0, KEY_PREFIX, KEY_TEMPLATE, KEY_LOCKSTEP };
static const char *const key_kind_names[] = {"tooling", "prefix", "template", "lockstep"};

/* one active account, as of one evaluation */
struct rec {
	struct hw_account *acct;
	const uint8_t *key;
	uint64_t tooling, prefix;
	uint64_t last_ns;
	struct hw_lockstep_stats l;
	struct hw_cadence_stats c;
	struct hw_template_stats t;
	struct hw_pivot_stats p;
	bool is_new;
	bool weak_lockstep; /* lockstep on the group's strength (fit_lockstep) */
	bool weak_template; /* on the group's templates with too few exchanges for T */
	bool own_head;	    /* on the templates of the farm's own key (fit_fresh) */
	bool taken;	    /* admitted by a group this evaluation */
	uint8_t sig;
};

struct member {
	uint8_t key[KEY_LEN];
};

#define HW_FARM_TEMPLATES	 16
#define HW_FARM_TEMPLATE_SUPPORT 3

/* a group's templates: the request sizes its members share, and the median
 * of their mean responses */
struct template_fit {
	unsigned members, n_modes;
	double modes[HW_FARM_TEMPLATES], resp_median;
};

struct group {
	bool firing;
	enum key_kind kind;
	uint64_t key;
	char id[48];
	struct member *members; /* sorted by key */
	uint32_t n;
	size_t cap;
	uint64_t dropped_members;
	uint64_t first_ns;	 /* event clock */
	json_t *member_evidence; /* account hex -> the numbers that admitted it */
	json_t *signals;	 /* the last evaluation's signal statistics */
	json_t *fingerprints, *prefixes;
	double score;
	struct template_fit templates; /* the last fit that found any */
	unsigned signal_members[6];
	unsigned new_members, quiet_members;
};

/* per account, in its slot: the group it belongs to (index + 1) */
struct farm_slot {
	uint32_t group;
	uint32_t group_gen; /* the group's generation when it joined */
};

struct farm_state {
	struct hw_farm_cfg cfg;
	const struct hw_detector *lockstep, *cadence, *tmpl, *pivot, *fanout, *churn;
	struct group *groups;
	uint32_t *gen; /* per group slot: bumped when it resolves */
	uint64_t next_eval_ns;
	uint64_t last_charge_ns;
	uint64_t last_eval_charge_ns;
	uint64_t eval_ns; /* of the evaluation under way */
	struct rec *recs;
	size_t n_recs, cap_recs;
	uint32_t *idx; /* scratch: indices into recs */
	size_t cap_idx;
	struct hw_farm_counts counts;
};

static int init(struct hw_detector *d, const void *cfg)
{
	struct farm_state *s = d->state;
	struct hw_detect *dt = d->env;

	s->cfg = *(const struct hw_farm_cfg *)cfg;
	if (!s->cfg.interval_s)
		s->cfg.interval_s = 30;
	if (!s->cfg.max_groups)
		s->cfg.max_groups = 256;
	if (!s->cfg.min_signals)
		s->cfg.min_signals = 2;
	if (!s->cfg.min_members)
		s->cfg.min_members = 2;
	/* the signal detectors register first: their state is what farm reads */
	s->lockstep = hw_detect_find(dt, "lockstep");
	s->cadence = hw_detect_find(dt, "cadence");
	s->tmpl = hw_detect_find(dt, "template");
	s->pivot = hw_detect_find(dt, "pivot");
	s->fanout = hw_detect_find(dt, "fanout");
	s->churn = hw_detect_find(dt, "churn");
	if (!s->lockstep || !s->cadence || !s->tmpl || !s->pivot || !s->fanout || !s->churn)
		return -ENOENT;
	s->groups = calloc(s->cfg.max_groups, sizeof(*s->groups));
	s->gen = calloc(s->cfg.max_groups, sizeof(*s->gen));
	if (!s->groups || !s->gen)
		return -ENOMEM;
	return 0;
}

static void group_clear(struct group *g)
{
	free(g->members);
	json_decref(g->member_evidence);
	json_decref(g->signals);
	json_decref(g->fingerprints);
	json_decref(g->prefixes);
	memset(g, 0, sizeof(*g));
}

/* the group slots and member lists stay as sized */
static int reconfigure(struct hw_detector *d, const void *cfg)
{
	struct farm_state *s = d->state;
	struct hw_farm_cfg c = *(const struct hw_farm_cfg *)cfg;

	c.max_groups = s->cfg.max_groups;
	c.max_members = s->cfg.max_members;
	if (!c.interval_s)
		c.interval_s = s->cfg.interval_s;
	if (!c.min_signals)
		c.min_signals = 2;
	if (!c.min_members)
		c.min_members = 2;
	s->cfg = c;
	return 0;
}

static void destroy(struct hw_detector *d)
{
	struct farm_state *s = d->state;

	for (unsigned i = 0; s->groups && i < s->cfg.max_groups; i++)
		group_clear(&s->groups[i]);
	free(s->groups);
	free(s->gen);
	free(s->recs);
	free(s->idx);
}

static void on_exchange(struct hw_detector *d, struct hw_account *acct, void *slot,
			const struct hw_exchange_view *x)
{
	struct farm_state *s = d->state;

	(void)acct, (void)slot;
	if (x->ts_ns > s->last_charge_ns)
		s->last_charge_ns = x->ts_ns;
}

/* the group an account belongs to, or NULL (its group resolved since) */
static struct group *group_of(struct farm_state *s, const struct farm_slot *f)
{
	struct group *g;

	if (!f->group || f->group > s->cfg.max_groups)
		return NULL;
	g = &s->groups[f->group - 1];
	return g->firing && s->gen[f->group - 1] == f->group_gen ? g : NULL;
}

static struct group *group_find(struct farm_state *s, enum key_kind kind, uint64_t key)
{
	for (unsigned i = 0; i < s->cfg.max_groups; i++)
		if (s->groups[i].firing && s->groups[i].kind == kind && s->groups[i].key == key)
			return &s->groups[i];
	return NULL;
}

/* --- gathering the active accounts ------------------------------------ */

static int gather(struct hw_detector *d, uint64_t eval_ns)
{
	struct farm_state *s = d->state;
	struct hw_agg *agg = d->env->agg;
	uint64_t since =
	    eval_ns > (uint64_t)s->cfg.window_s * NS ? eval_ns - (uint64_t)s->cfg.window_s * NS : 0;

	s->n_recs = 0;
	/* most recently used first: stop at the first account older than the window */
	for (struct hw_account *a = hw_table_first(&agg->accounts); a;
	     a = hw_table_next(&agg->accounts, a)) {
		uint64_t last = hw_churn_last_ns(s->churn, a);
		struct rec *r;

		if ((uint64_t)a->last_s * NS + NS < since)
			break;
		if (!last || last < since || last > eval_ns)
			continue;
		if (hw_grow(&s->recs, &s->cap_recs, s->n_recs, sizeof(*s->recs), 4096))
			return -ENOMEM;
		r = &s->recs[s->n_recs++];
		memset(r, 0, sizeof(*r));
		r->acct = a;
		r->key = hw_table_key(&agg->accounts, a);
		r->last_ns = last;
		hw_fanout_keys(s->fanout, a, &r->tooling, &r->prefix);
		hw_lockstep_of(s->lockstep, a, &r->l);
		hw_cadence_of(s->cadence, a, &r->c);
		hw_template_of(s->tmpl, a, &r->t);
		hw_pivot_of(s->pivot, a, eval_ns, &r->p);
		r->is_new = hw_churn_is_new(s->churn, a, eval_ns);
		r->sig = (r->l.lockstep ? SIG_L : 0) | (r->c.regular ? SIG_C : 0);
		s->counts.candidates[HW_FARM_LOCKSTEP] += r->l.lockstep;
		s->counts.candidates[HW_FARM_CADENCE] += r->c.regular;
		s->counts.candidates[HW_FARM_TEMPLATE] += r->t.templated;
		s->counts.candidates[HW_FARM_PIVOT] += r->p.switched_to_new;
	}
	if (s->cap_idx < s->n_recs) {
		uint32_t *v = realloc(s->idx, s->n_recs * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->idx = v;
		s->cap_idx = s->n_recs;
	}
	return 0;
}

/* --- group-wide behaviour ---------------------------------------------- */

static const struct rec *sort_recs;

/* by the smallest request size an account's clusters are around */
static int cmp_first_center(const void *a, const void *b)
{
	double x = sort_recs[*(const uint32_t *)a].t.centers[0];
	double y = sort_recs[*(const uint32_t *)b].t.centers[0];

	return x < y ? -1 : x > y;
}

static int cmp_switch(const void *a, const void *b)
{
	uint64_t x = sort_recs[*(const uint32_t *)a].p.switch_ns;
	uint64_t y = sort_recs[*(const uint32_t *)b].p.switch_ns;

	return x < y ? -1 : x > y;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The group's templates: the request sizes that many of its templated
 * members share. Every templated member's cluster centers, sorted; a run
 * of centers within tolerance of the run's first is a template when at
 * least HW_FARM_TEMPLATE_SUPPORT members (and a twentieth of the templated)
 * have a cluster in it; its size is the run's mean. A member with
 * min_exchanges whose every cluster lies within tolerance of a template,
 * and whose mean response is within resp_tolerance of those members'
 * median, is marked SIG_T. */

struct center {
	double v;
	uint32_t rec;
};

static int cmp_center(const void *a, const void *b)
{
	double x = ((const struct center *)a)->v, y = ((const struct center *)b)->v;

	return x < y ? -1 : x > y;
}

static bool on_templates(const struct template_fit *fit, const struct hw_template_stats *t,
			 double tol)
{
	for (unsigned c = 0; c < t->clusters; c++) {
		bool hit = false;

		for (unsigned k = 0; k < fit->n_modes && !hit; k++)
			hit = fabs(t->centers[c] - fit->modes[k]) <= tol * fit->modes[k];
		if (!hit)
			return false;
	}
	return t->clusters > 0;
}

static void fit_template(struct farm_state *s, const uint32_t *m, unsigned n,
			 struct template_fit *fit)
{
	const struct hw_template_cfg *tc = hw_template_cfg(s->tmpl);
	struct center *c = malloc(((size_t)n * HW_SIGNAL_RING + 1) * sizeof(*c));
	double *resp = malloc(((size_t)n + 1) * sizeof(*resp));
	unsigned nc = 0, templated = 0, support, nr = 0;

	memset(fit, 0, sizeof(*fit));
	if (!c || !resp)
		goto out;
	for (unsigned i = 0; i < n; i++) {
		const struct rec *r = &s->recs[m[i]];

		if (!r->t.templated)
			continue;
		templated++;
		for (unsigned k = 0; k < r->t.clusters; k++)
			c[nc++] = (struct center){r->t.centers[k], m[i]};
	}
	support =
	    templated / 20 > HW_FARM_TEMPLATE_SUPPORT ? templated / 20 : HW_FARM_TEMPLATE_SUPPORT;
	if (templated < HW_FARM_TEMPLATE_SUPPORT)
		goto out;
	qsort(c, nc, sizeof(*c), cmp_center);
	for (unsigned i = 0, j; i < nc && fit->n_modes < HW_FARM_TEMPLATES; i = j) {
		double sum = 0;

		for (j = i; j < nc && c[j].v <= c[i].v * (1 + tc->tolerance); j++)
			sum += c[j].v;
		if (j - i >= support)
			fit->modes[fit->n_modes++] = sum / (j - i);
	}
	if (!fit->n_modes)
		goto out;
	/* every member on the templates: its own sizes need not have shown the
	 * concentration that established them (a farm's accounts are many,
	 * each used rarely), only be nothing but the group's templates */
	for (unsigned i = 0; i < n; i++) {
		const struct rec *r = &s->recs[m[i]];

		if (r->t.exchanges >= tc->min_exchanges && on_templates(fit, &r->t, tc->tolerance))
			resp[nr++] = r->t.resp_mean;
	}
	if (nr < HW_FARM_TEMPLATE_SUPPORT) {
		fit->n_modes = 0;
		goto out;
	}
	qsort(resp, nr, sizeof(*resp), cmp_double);
	fit->resp_median = resp[nr / 2];
	for (unsigned i = 0; i < n; i++) {
		struct rec *r = &s->recs[m[i]];

		if (r->t.exchanges >= tc->min_exchanges &&
		    on_templates(fit, &r->t, tc->tolerance) &&
		    fabs(r->t.resp_mean - fit->resp_median) <=
			tc->resp_tolerance * (fit->resp_median > 1 ? fit->resp_median : 1)) {
			r->sig |= SIG_T;
			fit->members++;
		}
	}
out:
	free(c);
	free(resp);
}

/* the pivot: members that switched to one new model within spread_s of one
 * another, if they are min_fraction of the group's accounts that switched
 * to it. Marks them SIG_P. */
struct pivot_fit {
	unsigned members;
	uint64_t model, from_ns, to_ns;
	const char *name;
};

static void fit_pivot(struct farm_state *s, const uint32_t *m, unsigned n, struct pivot_fit *fit)
{
	const struct hw_pivot_cfg *pc = hw_pivot_cfg(s->pivot);
	uint32_t *v = malloc((n ? n : 1) * sizeof(*v));
	unsigned k = 0, best_i = 0, best_n = 0, j = 0;
	uint64_t model = 0;
	unsigned votes = 0;

	memset(fit, 0, sizeof(*fit));
	if (!v)
		return;
	/* the new model most of the switchers went to (Boyer-Moore majority) */
	for (unsigned i = 0; i < n; i++) {
		const struct rec *r = &s->recs[m[i]];

		if (!r->p.switched_to_new)
			continue;
		if (!votes)
			model = r->p.model;
		votes += model == r->p.model ? 1 : -1u;
	}
	for (unsigned i = 0; i < n; i++)
		if (s->recs[m[i]].p.switched_to_new && s->recs[m[i]].p.model == model)
			v[k++] = m[i];
	if (k < 2)
		goto out;
	sort_recs = s->recs;
	qsort(v, k, sizeof(*v), cmp_switch);
	for (unsigned i = 0; i < k; i++) {
		uint64_t lo = s->recs[v[i]].p.switch_ns;

		if (j < i)
			j = i;
		while (j < k && s->recs[v[j]].p.switch_ns <= lo + (uint64_t)pc->spread_s * NS)
			j++;
		if (j - i > best_n) {
			best_n = j - i;
			best_i = i;
		}
	}
	/* of those that switched to the model: a launch day's customers each
	 * at their own pace put few in any one span */
	if (best_n < 2 || best_n < pc->min_fraction * k)
		goto out;
	fit->members = best_n;
	fit->model = model;
	fit->name = s->recs[v[best_i]].p.name;
	fit->from_ns = s->recs[v[best_i]].p.switch_ns;
	fit->to_ns = s->recs[v[best_i + best_n - 1]].p.switch_ns;
	for (unsigned i = best_i; i < best_i + best_n; i++)
		s->recs[v[i]].sig |= SIG_P;
out:
	free(v);
}

/* In a group that moves in lockstep (enough members whose own exchanges
 * prove it), a member with few exchanges, all of them in hot bins, moves
 * with it: a farm's accounts are many and each is used rarely. */
static void fit_lockstep(struct farm_state *s, const uint32_t *m, unsigned n)
{
	const struct hw_lockstep_cfg *lc = hw_lockstep_cfg(s->lockstep);
	unsigned strong = 0, need = s->cfg.min_members / 2 > 3 ? s->cfg.min_members / 2 : 3;

	for (unsigned i = 0; i < n; i++)
		strong += s->recs[m[i]].l.lockstep;
	if (strong < need)
		return;
	for (unsigned i = 0; i < n; i++) {
		struct rec *r = &s->recs[m[i]];

		if (!r->l.lockstep && r->l.n >= 2 && r->l.k == r->l.n && r->l.p <= lc->p_member) {
			r->sig |= SIG_L;
			r->weak_lockstep = true;
		}
	}
}

/* --- alerts ------------------------------------------------------------ */

static int member_cmp(const void *a, const void *b)
{
	return memcmp(a, b, KEY_LEN);
}

/* adds key to g's members; true if it is new */
static bool group_add(struct farm_state *s, struct group *g, const uint8_t *key)
{
	struct member *hit;

	if (g->n && (hit = bsearch(key, g->members, g->n, sizeof(*g->members), member_cmp)))
		return false;
	if (g->n >= s->cfg.max_members) {
		g->dropped_members++;
		s->counts.members_dropped++;
		return false;
	}
	if (hw_grow(&g->members, &g->cap, g->n, sizeof(*g->members), 64))
		return false;
	/* insertion keeps the list sorted: groups grow by a few per evaluation */
	{
		uint32_t at = g->n;

		while (at && memcmp(g->members[at - 1].key, key, KEY_LEN) > 0)
			at--;
		memmove(&g->members[at + 1], &g->members[at], (g->n - at) * sizeof(*g->members));
		memcpy(g->members[at].key, key, KEY_LEN);
		g->n++;
	}
	return true;
}

static json_int_t unix_ns(const struct hw_detector *d, uint64_t ns)
{
	return (json_int_t)hw_detect_unix_ns(d->env, ns);
}

/* the numbers that admitted r, as verify recomputes them */
static json_t *modes_json(const struct template_fit *tf)
{
	json_t *a = json_array();

	for (unsigned k = 0; k < tf->n_modes; k++)
		json_array_append_new(a, json_real(tf->modes[k]));
	return a;
}

static json_t *member_json(const struct hw_detector *d, const struct rec *r, uint64_t eval_ns,
			   double p_hot, const struct template_fit *tf, const struct pivot_fit *pf)
{
	char sig[8] = "";
	size_t o = 0;
	json_t *m;

	if (r->sig & SIG_L)
		sig[o++] = r->weak_lockstep ? 'l' : 'L';
	if (r->sig & SIG_C)
		sig[o++] = 'C';
	if (r->sig & SIG_T)
		sig[o++] = r->weak_template ? 't' : 'T';
	if (r->sig & SIG_P)
		sig[o++] = 'P';
	if (r->sig & SIG_N)
		sig[o++] = 'N';
	sig[o] = '\0';
	m = json_pack("{s:s, s:I, s:i, s:{s:i, s:i, s:f, s:f}, s:{s:i, s:f, s:f}, "
		      "s:{s:i, s:f, s:f, s:f}}",
		      "signals", sig, "evaluated_ns", unix_ns(d, eval_ns), "exchanges",
		      (int)r->t.exchanges, "lockstep", "n", (int)r->l.n, "k", (int)r->l.k, "p",
		      r->l.p, "p_hot", p_hot, "cadence", "intervals", (int)r->c.intervals, "cv",
		      r->c.cv, "burstiness", r->c.burstiness, "template", "exchanges",
		      (int)r->t.exchanges, "req_mean", r->t.req_mean, "req_cv", r->t.req_cv,
		      "resp_mean", r->t.resp_mean);
	if (m && r->p.name)
		json_object_set_new(m, "pivot",
				    json_pack("{s:s, s:I}", "model", r->p.name, "switch_ns",
					      r->p.switch_ns ? unix_ns(d, r->p.switch_ns) : 0));
	if (m) {
		json_t *centers = json_array();

		for (unsigned k = 0; k < r->t.clusters; k++)
			json_array_append_new(centers, json_real(r->t.centers[k]));
		json_object_set_new(json_object_get(m, "template"), "clusters", centers);
	}
	if (m && (r->sig & SIG_T))
		json_object_set_new(json_object_get(m, "template"), "group",
				    json_pack("{s:o, s:f}", "templates", modes_json(tf),
					      "resp_median_bytes", tf->resp_median));
	if (m && (r->sig & SIG_P) && json_object_get(m, "pivot"))
		json_object_set_new(json_object_get(m, "pivot"), "group",
				    json_pack("{s:I, s:I}", "first_switch_ns",
					      unix_ns(d, pf->from_ns), "last_switch_ns",
					      unix_ns(d, pf->to_ns)));
	if (m && (r->sig & SIG_N))
		json_object_set_new(
		    m, "first_ns",
		    json_integer(unix_ns(
			d, hw_churn_first_ns(((struct farm_state *)d->state)->churn, r->acct))));
	return m;
}

static void add_fingerprints(const struct hw_detector *d, struct group *g, const struct rec *r)
{
	const struct hw_agg *agg = d->env->agg;
	char prefix[HW_ADDR_STRLEN];
	size_t i;
	json_t *v;

	if (!g->fingerprints)
		g->fingerprints = json_array();
	if (!g->prefixes)
		g->prefixes = json_array();
	for (int k = 0; k < HW_FP_KINDS; k++) {
		const char *fp = hw_agg_fp_of(agg, (enum hw_fp_kind)k, &r->acct->last_fp[k]);
		const char *kind = hw_agg_fp_kind_name((enum hw_fp_kind)k);
		bool dup = false;
		unsigned same_kind = 0;

		if (!fp)
			continue;
		json_array_foreach(g->fingerprints, i, v)
		{
			const char *vk = json_string_value(json_object_get(v, "kind"));

			if (strcmp(vk, kind))
				continue;
			same_kind++;
			dup |= !strcmp(json_string_value(json_object_get(v, "value")), fp);
		}
		if (!dup && same_kind < MAX_LISTED_FP)
			json_array_append_new(g->fingerprints,
					      json_pack("{s:s, s:s}", "kind", kind, "value", fp));
	}
	hw_addr_str(r->acct->last_prefix, prefix, sizeof(prefix));
	if (json_array_size(g->prefixes) < MAX_PREFIXES) {
		bool dup = false;

		json_array_foreach(g->prefixes, i, v) dup |= !strcmp(json_string_value(v), prefix);
		if (!dup)
			json_array_append_new(g->prefixes, json_string(prefix));
	}
}

/* every threshold a member's signals were judged by: verify needs them all */
static json_t *thresholds_json(const struct hw_detector *d)
{
	struct farm_state *s = d->state;
	const struct hw_lockstep_cfg *lc = hw_lockstep_cfg(s->lockstep);
	const struct hw_template_cfg *tc = hw_template_cfg(s->tmpl);
	const struct hw_cadence_cfg *cc = hw_cadence_cfg(s->cadence);
	const struct hw_pivot_cfg *pc = hw_pivot_cfg(s->pivot);
	const struct hw_churn_cfg *hc = hw_churn_cfg(s->churn);

	return json_pack(
	    "{s:i, s:i, s:{s:I, s:i, s:f, s:i, s:f, s:f, s:i, s:f, s:i, s:i}, s:{s:f, s:i}, "
	    "s:{s:i, s:f, s:f}, s:{s:i, s:i, s:f}, s:{s:i, s:i}}",
	    "min_members", (int)s->cfg.min_members, "min_signals", (int)s->cfg.min_signals,
	    "lockstep", "bin_ns", (json_int_t)lc->bin_ms * 1000000, "window_s", (int)lc->window_s,
	    "hot_k", lc->hot_k, "hot_min", (int)lc->hot_min, "p_max", lc->p_max, "p_member",
	    lc->p_member, "min_exchanges", (int)lc->min_exchanges, "hot_fraction_max",
	    lc->hot_fraction_max, "local_bins", HW_LOCKSTEP_LOCAL, "lag_bins", HW_LOCKSTEP_LAG_BINS,
	    "cadence", "cv_max", cc->cv_max, "min_intervals", (int)cc->min_intervals, "template",
	    "min_exchanges", (int)tc->min_exchanges, "tolerance", tc->tolerance, "resp_tolerance",
	    tc->resp_tolerance, "pivot", "new_s", (int)pc->new_s, "spread_s", (int)pc->spread_s,
	    "min_fraction", pc->min_fraction, "churn", "new_s", (int)hc->new_s, "quiet_s",
	    (int)hc->quiet_s);
}

static void group_alert(struct hw_detector *d, struct group *g, uint64_t eval_ns, bool fresh)
{
	struct farm_state *s = d->state;
	const struct hw_farm_cfg *fc = &s->cfg;
	char summary[512], key[64], tooling[17], hex[HW_ACCOUNT_LEN + 1];
	json_t *alert, *group, *members, *ev;
	const char *severity =
	    g->n >= 2 * fc->min_members && g->score >= 1.5 ? "critical" : "warning";
	size_t o = 0;

	hw_fanout_tooling_hex(g->key, tooling);
	snprintf(key, sizeof(key), "farm:%s:%s", key_kind_names[g->kind], tooling);
	o += (size_t)snprintf(summary, sizeof(summary),
			      "%u accounts sharing a %s key behave as one operator:", g->n,
			      key_kind_names[g->kind]);
	for (int k = HW_FARM_LOCKSTEP; k <= HW_FARM_CHURN && o < sizeof(summary); k++)
		if (g->signal_members[k])
			o += (size_t)snprintf(summary + o, sizeof(summary) - o, " %s %u,",
					      hw_farm_signal_names[k], g->signal_members[k]);
	if (o < sizeof(summary))
		snprintf(summary + o - 1, sizeof(summary) - o + 1, " (score %.2f)", g->score);
	alert =
	    hw_alerts_new("farm", severity, key, hw_detect_unix_ns(d->env, g->first_ns), summary);
	if (!alert)
		return;
	snprintf(g->id, sizeof(g->id), "%s", json_string_value(json_object_get(alert, "id")));
	/* what a member's other alerts carry, so routing can inhibit them */
	json_object_set_new(alert, "farm_id", json_string(g->id));
	group = json_object_get(alert, "group");
	json_object_set_new(group, "size", json_integer((json_int_t)(g->n + g->dropped_members)));
	members = json_object_get(group, "members");
	for (uint32_t i = 0; i < g->n; i++) {
		hw_hex(g->members[i].key, KEY_LEN, hex);
		json_array_append_new(members, json_string(hex));
	}
	json_object_set(group, "fingerprints", g->fingerprints);
	json_object_set(group, "prefixes", g->prefixes);
	json_object_set_new(
	    group, "key",
	    json_pack("{s:s, s:s}", "kind", key_kind_names[g->kind], "value", tooling));
	/* the same fingerprints give the same key on every host */
	if (g->kind == KEY_TOOLING)
		json_object_set_new(group, "tooling_key", json_string(tooling));
	if (g->dropped_members)
		json_object_set_new(group, "members_not_listed",
				    json_integer((json_int_t)g->dropped_members));
	ev = json_object_get(alert, "evidence");
	json_object_set_new(ev, "window",
			    json_pack("{s:I, s:I, s:i, s:I}", "start_ns",
				      unix_ns(d, eval_ns - (uint64_t)fc->window_s * NS), "end_ns",
				      unix_ns(d, eval_ns), "seconds", (int)fc->window_s,
				      "clock_to_unix_ns", (json_int_t)d->env->clock_to_unix_ns));
	json_object_set(ev, "signals", g->signals);
	json_object_set_new(ev, "score", json_real(g->score));
	json_object_set_new(ev, "statistics",
			    json_pack("{s:i, s:i, s:i}", "members", (int)g->n, "new_members",
				      (int)g->new_members, "quiet_members", (int)g->quiet_members));
	json_object_set_new(ev, "thresholds", thresholds_json(d));
	json_object_set(ev, "members", g->member_evidence);
	if (fresh)
		hw_alerts_fire(d->env->alerts, alert);
	else
		hw_alerts_update(d->env->alerts, alert);
}

static json_t *signals_json(const struct hw_detector *d, const struct template_fit *tf,
			    const struct pivot_fit *pf, const unsigned *counts)
{
	struct farm_state *s = d->state;
	const struct hw_lockstep_bins *b = hw_lockstep_bins(s->lockstep);
	const struct hw_lockstep_cfg *lc = hw_lockstep_cfg(s->lockstep);
	const struct hw_template_cfg *tc = hw_template_cfg(s->tmpl);
	const struct hw_pivot_cfg *pc = hw_pivot_cfg(s->pivot);
	json_t *o = json_object();

	if (counts[HW_FARM_LOCKSTEP])
		json_object_set_new(
		    o, "lockstep",
		    json_pack("{s:{s:i, s:i, s:i, s:f, s:f, s:f, s:f, s:f}, s:{s:f, s:i, "
			      "s:f, s:i, s:I, s:i, s:i, s:f}}",
			      "statistic", "members", (int)counts[HW_FARM_LOCKSTEP], "bins",
			      (int)b->bins, "hot_bins", (int)b->hot, "p_hot", b->p_hot, "median",
			      b->median, "mad", b->mad, "pair_median", b->pair_median, "pair_mad",
			      b->pair_mad, "threshold", "p_max", lc->p_max, "min_exchanges",
			      (int)lc->min_exchanges, "hot_k", lc->hot_k, "hot_min",
			      (int)lc->hot_min, "bin_ns", (json_int_t)lc->bin_ms * 1000000,
			      "window_s", (int)lc->window_s, "local_bins", HW_LOCKSTEP_LOCAL,
			      "p_member", lc->p_member));
	if (counts[HW_FARM_TEMPLATE])
		json_object_set_new(
		    o, "template",
		    json_pack("{s:{s:i, s:o, s:f}, s:{s:i, s:f, s:f, s:i}}", "statistic", "members",
			      (int)counts[HW_FARM_TEMPLATE], "templates", modes_json(tf),
			      "resp_median_bytes", tf->resp_median, "threshold", "min_exchanges",
			      (int)tc->min_exchanges, "tolerance", tc->tolerance, "resp_tolerance",
			      tc->resp_tolerance, "min_support", HW_FARM_TEMPLATE_SUPPORT));
	if (counts[HW_FARM_CADENCE])
		json_object_set_new(o, "cadence",
				    json_pack("{s:{s:i}, s:{s:f}}", "statistic", "members",
					      (int)counts[HW_FARM_CADENCE], "threshold", "cv_max",
					      hw_cadence_cfg(s->cadence)->cv_max));
	if (counts[HW_FARM_PIVOT] && pf->name)
		json_object_set_new(
		    o, "pivot",
		    json_pack("{s:{s:i, s:s, s:I, s:I}, s:{s:i, s:i, s:f}}", "statistic", "members",
			      (int)counts[HW_FARM_PIVOT], "model", pf->name, "first_switch_ns",
			      unix_ns(d, pf->from_ns), "last_switch_ns", unix_ns(d, pf->to_ns),
			      "threshold", "new_s", (int)pc->new_s, "spread_s", (int)pc->spread_s,
			      "min_fraction", pc->min_fraction));
	if (counts[HW_FARM_CHURN])
		json_object_set_new(o, "churn",
				    json_pack("{s:{s:i}, s:{s:i, s:i}}", "statistic", "new_members",
					      (int)counts[HW_FARM_CHURN], "threshold", "new_s",
					      (int)hw_churn_cfg(s->churn)->new_s, "quiet_s",
					      (int)hw_churn_cfg(s->churn)->quiet_s));
	return o;
}

static struct group *group_new(struct farm_state *s, enum key_kind kind, uint64_t key,
			       uint64_t eval_ns, uint32_t *slot_index)
{
	for (unsigned i = 0; i < s->cfg.max_groups; i++) {
		struct group *g = &s->groups[i];

		if (g->firing)
			continue;
		group_clear(g);
		g->firing = true;
		g->kind = kind;
		g->key = key;
		g->first_ns = eval_ns;
		g->member_evidence = json_object();
		s->gen[i]++;
		*slot_index = i;
		return g;
	}
	s->counts.groups_dropped++;
	return NULL;
}

/* The heads of a firing farm's own key: when nearly every established
 * (not new) account of this key sends nothing but the group's templates
 * (the key is the farm's own tooling or network, no crowd's: a crowd's
 * requests are all sizes) and accounts of it have gone quiet (heads are
 * being cut off and replaced), every account of the key whose requests are all on
 * the templates is one of its heads, however few its requests — fresh ones
 * and ones already retired: marked SIG_T (weak: 't'), and SIG_N if new. */
#define FRESH_PURITY 0.8

static bool on_group_templates(const struct template_fit *tf, const struct hw_template_stats *t,
			       const struct hw_template_cfg *tc)
{
	return t->exchanges && on_templates(tf, t, tc->tolerance) &&
	       fabs(t->resp_mean - tf->resp_median) <=
		   tc->resp_tolerance * (tf->resp_median > 1 ? tf->resp_median : 1);
}

/* whether accounts m[0..n) are a farm's own: some have gone quiet (or the
 * group has quiet members already), and at least min_established are
 * established, FRESH_PURITY of whom send nothing but tf's templates */
static bool farm_own(const struct farm_state *s, const struct template_fit *tf, const uint32_t *m,
		     unsigned n, unsigned quiet, unsigned min_established)
{
	const struct hw_template_cfg *tc = hw_template_cfg(s->tmpl);
	unsigned on = 0, established = 0;

	if (!tf->n_modes)
		return false;
	for (unsigned i = 0; i < n; i++) {
		const struct rec *r = &s->recs[m[i]];

		quiet += hw_churn_is_quiet(s->churn, r->last_ns, s->eval_ns);
		if (r->is_new)
			continue;
		established++;
		on += on_group_templates(tf, &r->t, tc);
	}
	return quiet && established && established >= min_established &&
	       on >= FRESH_PURITY * established;
}

static void fit_fresh(const struct group *g, struct farm_state *s, const struct template_fit *tf,
		      const uint32_t *m, unsigned n)
{
	const struct hw_template_cfg *tc = hw_template_cfg(s->tmpl);

	if (!farm_own(s, tf, m, n, g->quiet_members, 1))
		return;
	for (unsigned i = 0; i < n; i++) {
		struct rec *r = &s->recs[m[i]];

		if (!on_group_templates(tf, &r->t, tc))
			continue;
		/* a head with the exchanges for T keeps it; one with fewer is 't' */
		if (!(r->sig & SIG_T))
			r->weak_template = true;
		r->sig |= SIG_T | (r->is_new ? SIG_N : 0);
		r->own_head = true;
	}
}

/* Whether a candidate's signals admit it: --farm-min-signals behaviours of
 * which one is lockstep or template (cadence and a model switch are what
 * honest customers show too: a regular user moving to a launched model is
 * not a farm's head); or new and like the group (N); or a head on the
 * templates of the farm's own key */
static bool admits(const struct farm_state *s, const struct rec *r)
{
	unsigned shown = (unsigned)__builtin_popcount(r->sig & SIG_BEHAVIOUR);

	return r->own_head || (r->sig & SIG_N) ||
	       (shown >= s->cfg.min_signals && (r->sig & (SIG_L | SIG_T)));
}

/* one candidate group: members m[0..n) (indices into recs, none taken);
 * into: the firing group it continues (a farm that rotated its tooling) */
static void evaluate_group(struct hw_detector *d, enum key_kind kind, uint64_t key, uint32_t *m,
			   unsigned n, uint64_t eval_ns, struct group *into)
{
	struct farm_state *s = d->state;
	struct group *g = into ? into : group_find(s, kind, key);
	struct template_fit tf;
	struct pivot_fit pf;
	unsigned counts[6] = {0}, admitted = 0;
	uint32_t gi = g ? (uint32_t)(g - s->groups) : 0;
	bool fresh = false, grew = false;
	double p_hot = hw_lockstep_bins(s->lockstep)->p_hot;
	/* what makes a new account like the group, beyond what formed it: its
	 * sizes or its timing; not a model switch alone, which a new customer
	 * on launch day makes at any moment */
	unsigned like_group = kind == KEY_LOCKSTEP   ? SIG_T
			      : kind == KEY_TEMPLATE ? SIG_L
						     : SIG_T | SIG_L;

	for (unsigned i = 0; i < n; i++) {
		struct rec *r = &s->recs[m[i]];

		r->sig = (r->l.lockstep ? SIG_L : 0) | (r->c.regular ? SIG_C : 0);
		r->weak_lockstep = r->weak_template = r->own_head = false;
	}
	fit_template(s, m, n, &tf);
	fit_pivot(s, m, n, &pf);
	fit_lockstep(s, m, n);
	/* a key joined on the group's templates (by_key) may hold too few
	 * established accounts to find them again: the group's last serve */
	if (g && !tf.n_modes && g->templates.n_modes)
		tf = g->templates;
	if (g)
		fit_fresh(g, s, &tf, m, n);
	for (unsigned i = 0; i < n; i++) {
		struct rec *r = &s->recs[m[i]];
		struct group *og = group_of(s, hw_detector_slot(d, r->acct));

		if (og && og != g)
			continue; /* a member of another firing group stays there */
		/* a fresh account of a firing group's key that is like the group
		 * (its templates) or moves in lockstep: its own regularity alone
		 * is a batch job, not a replaced head */
		if (g && r->is_new && (r->sig & like_group))
			r->sig |= SIG_N;
		admitted += admits(s, r);
	}
	if (!admitted || (!g && admitted < s->cfg.min_members))
		return;
	if (!g) {
		g = group_new(s, kind, key, eval_ns, &gi);
		if (!g)
			return;
		fresh = true;
	}
	for (unsigned i = 0; i < n; i++) {
		struct rec *r = &s->recs[m[i]];
		struct farm_slot *f = hw_detector_slot(d, r->acct);
		char hex[HW_ACCOUNT_LEN + 1];

		struct group *og = group_of(s, f);

		if ((og && og != g) || !admits(s, r))
			continue;
		r->taken = true;
		for (int k = HW_FARM_LOCKSTEP; k <= HW_FARM_CHURN; k++)
			counts[k] += (r->sig >> k) & 1;
		if (og == g)
			continue; /* a member already (listed, or counted as not listed) */
		f->group = gi + 1;
		f->group_gen = s->gen[gi];
		if (!group_add(s, g, r->key))
			continue;
		grew = true;
		for (int k = HW_FARM_LOCKSTEP; k <= HW_FARM_CHURN; k++)
			g->signal_members[k] += (r->sig >> k) & 1;
		hw_hex(r->key, KEY_LEN, hex);
		json_object_set_new(g->member_evidence, hex,
				    member_json(d, r, eval_ns, p_hot, &tf, &pf));
		add_fingerprints(d, g, r);
		g->new_members += (r->sig & SIG_N) != 0;
	}
	if (!grew)
		return;
	if (tf.n_modes)
		g->templates = tf;
	json_decref(g->signals);
	g->signals = signals_json(d, &tf, &pf, counts);
	g->score = 0;
	for (int k = HW_FARM_LOCKSTEP; k <= HW_FARM_CHURN; k++)
		g->score += signal_weight[k] * g->signal_members[k] / (g->n ? g->n : 1);
	group_alert(d, g, eval_ns, fresh);
}

/* --- candidates by key ------------------------------------------------- */

static uint64_t rec_key(const struct rec *r, enum key_kind kind)
{
	return kind == KEY_TOOLING ? r->tooling : r->prefix;
}

static enum key_kind sort_kind;

static int cmp_by_key(const void *a, const void *b)
{
	uint64_t x = rec_key(&sort_recs[*(const uint32_t *)a], sort_kind);
	uint64_t y = rec_key(&sort_recs[*(const uint32_t *)b], sort_kind);

	return x < y ? -1 : x > y;
}

/* the firing group that most of these accounts already belong to, if it
 * is at least half of them: a farm that rotated to a new tooling key or
 * address pool continues its alert rather than starting another */
static struct group *majority_group(const struct hw_detector *d, const uint32_t *m, unsigned n)
{
	struct farm_state *s = d->state;
	struct group *cand = NULL;
	unsigned votes = 0, count = 0;

	for (unsigned i = 0; i < n; i++) {
		struct group *g = group_of(s, hw_detector_slot(d, s->recs[m[i]].acct));

		if (!g)
			continue;
		if (!votes)
			cand = g;
		votes += g == cand ? 1 : -1u;
	}
	if (!cand)
		return NULL;
	for (unsigned i = 0; i < n; i++)
		count += group_of(s, hw_detector_slot(d, s->recs[m[i]].acct)) == cand;
	return 2 * count >= n ? cand : NULL;
}

/* The firing group whose templates nearly every established account of
 * these sends (and some of which have gone quiet): a farm's retired heads
 * on a tooling key of theirs that no group fired on (they rotated before
 * it could) are still its heads. */
static struct group *template_group(const struct hw_detector *d, const uint32_t *m, unsigned n)
{
	struct farm_state *s = d->state;

	for (unsigned gi = 0; gi < s->cfg.max_groups; gi++) {
		struct group *g = &s->groups[gi];

		if (g->firing && farm_own(s, &g->templates, m, n, 0, HW_FARM_TEMPLATE_SUPPORT))
			return g;
	}
	return NULL;
}

/* accounts sharing one key, large and busy enough to be a candidate
 * (fanout), each evaluated as a group */
static void by_key(struct hw_detector *d, enum key_kind kind, uint64_t eval_ns)
{
	struct farm_state *s = d->state;
	unsigned n = 0;

	for (size_t i = 0; i < s->n_recs; i++)
		if (!s->recs[i].taken && rec_key(&s->recs[i], kind))
			s->idx[n++] = (uint32_t)i;
	sort_recs = s->recs;
	sort_kind = kind;
	qsort(s->idx, n, sizeof(*s->idx), cmp_by_key);
	for (unsigned i = 0, j; i < n; i = j) {
		uint64_t key = rec_key(&s->recs[s->idx[i]], kind), exchanges = 0;
		struct group *into;

		for (j = i; j < n && rec_key(&s->recs[s->idx[j]], kind) == key; j++)
			exchanges += (uint64_t)hw_agg_window_sum(
			    &s->recs[s->idx[j]].acct->w, eval_ns, (s->cfg.window_s + 59) / 60);
		into = group_find(s, kind, key) ? NULL : majority_group(d, &s->idx[i], j - i);
		if (!into && !group_find(s, kind, key))
			into = template_group(d, &s->idx[i], j - i);
		if (!into && !group_find(s, kind, key) &&
		    !hw_fanout_candidate(s->fanout, j - i, exchanges, s->cfg.window_s))
			continue;
		s->counts.candidates[HW_FARM_FANOUT]++;
		evaluate_group(d, kind, key, &s->idx[i], j - i, eval_ns, into);
	}
}

/* accounts no key group took that share nothing but behaviour: one
 * template (clusters of request means) or lockstep */
static void by_behaviour(struct hw_detector *d, uint64_t eval_ns)
{
	struct farm_state *s = d->state;
	const struct hw_template_cfg *tc = hw_template_cfg(s->tmpl);
	unsigned n = 0;

	/* lockstep accounts, all together: they move with one another */
	for (size_t i = 0; i < s->n_recs; i++)
		if (!s->recs[i].taken && s->recs[i].l.lockstep)
			s->idx[n++] = (uint32_t)i;
	if (n)
		evaluate_group(d, KEY_LOCKSTEP, 1, s->idx, n, eval_ns, NULL);
	/* templated accounts, clustered by their smallest template */
	n = 0;
	for (size_t i = 0; i < s->n_recs; i++)
		if (!s->recs[i].taken && s->recs[i].t.templated)
			s->idx[n++] = (uint32_t)i;
	sort_recs = s->recs;
	qsort(s->idx, n, sizeof(*s->idx), cmp_first_center);
	for (unsigned i = 0, j; i < n; i = j) {
		double lo = s->recs[s->idx[i]].t.centers[0];
		uint64_t key;

		for (j = i + 1;
		     j < n && s->recs[s->idx[j]].t.centers[0] <=
				  s->recs[s->idx[j - 1]].t.centers[0] * (1 + tc->tolerance);
		     j++)
			;
		/* the cluster's key: its lower end on a log grid, stable as it grows */
		key = (uint64_t)floor(log(lo > 1 ? lo : 1) / log1p(2 * tc->tolerance)) + 1;
		evaluate_group(d, KEY_TEMPLATE, key, &s->idx[i], j - i, eval_ns, NULL);
	}
}

/* --- resolving ---------------------------------------------------------- */

static void resolve_quiet(struct hw_detector *d, uint64_t now_ns)
{
	struct farm_state *s = d->state;
	struct hw_agg *agg = d->env->agg;

	s->counts.groups_firing = 0;
	s->counts.members_firing = 0;
	s->counts.largest_group = 0;
	for (unsigned i = 0; i < s->cfg.max_groups; i++) {
		struct group *g = &s->groups[i];
		uint64_t last = 0;
		unsigned quiet = 0;

		if (!g->firing)
			continue;
		for (uint32_t j = 0; j < g->n; j++) {
			struct hw_account *a = hw_table_peek(&agg->accounts, g->members[j].key);
			uint64_t l = a ? hw_churn_last_ns(s->churn, a) : 0;

			if (l > last)
				last = l;
			quiet += hw_churn_is_quiet(s->churn, l, now_ns);
		}
		g->quiet_members = quiet;
		if (last + (uint64_t)s->cfg.resolve_s * NS >= now_ns) {
			s->counts.groups_firing++;
			s->counts.members_firing += g->n;
			if (g->n > s->counts.largest_group)
				s->counts.largest_group = g->n;
			continue;
		}
		hw_alerts_resolve(d->env->alerts, g->id, hw_detect_unix_ns(d->env, now_ns),
				  json_pack("{s:s, s:I, s:i}", "reason", "quiet", "last_member_ns",
					    (json_int_t)hw_detect_unix_ns(d->env, last), "quiet_s",
					    (int)s->cfg.resolve_s));
		group_clear(g);
		s->gen[i]++;
	}
}

/* one evaluation as of the last charged exchange: the state holds exactly
 * the exchanges up to it, as the trace does; nothing new charged, nothing
 * to do */
static void evaluate(struct hw_detector *d)
{
	struct farm_state *s = d->state;
	uint64_t eval_ns = s->last_charge_ns;

	if (!eval_ns || eval_ns == s->last_eval_charge_ns)
		return;
	s->last_eval_charge_ns = eval_ns;
	s->eval_ns = eval_ns;
	memset(s->counts.candidates, 0, sizeof(s->counts.candidates));
	hw_lockstep_evaluate((struct hw_detector *)s->lockstep, eval_ns);
	if (!gather(d, eval_ns)) {
		s->counts.accounts_evaluated = (unsigned)s->n_recs;
		/* accounts already in a firing group stay with it */
		for (size_t i = 0; i < s->n_recs; i++) {
			struct group *g = group_of(s, hw_detector_slot(d, s->recs[i].acct));

			if (g && (g->kind == KEY_TEMPLATE || g->kind == KEY_LOCKSTEP))
				s->recs[i].taken = true;
		}
		by_key(d, KEY_TOOLING, eval_ns);
		by_key(d, KEY_PREFIX, eval_ns);
		by_behaviour(d, eval_ns);
		s->counts.candidates[HW_FARM_CHURN] = 0;
		for (size_t i = 0; i < s->n_recs; i++)
			s->counts.candidates[HW_FARM_CHURN] += s->recs[i].is_new;
	}
	s->counts.evaluations++;
	/* a large evaluation's scratch goes back: it is sized by the accounts
	 * active at the time, not needed between evaluations */
	if (s->cap_recs > FARM_SCRATCH_KEEP) {
		free(s->recs);
		free(s->idx);
		s->recs = NULL;
		s->idx = NULL;
		s->cap_recs = s->cap_idx = 0;
	}
}

static void on_tick(struct hw_detector *d, uint64_t now_ns)
{
	struct farm_state *s = d->state;

	if (now_ns < s->next_eval_ns)
		return;
	s->next_eval_ns =
	    now_ns - now_ns % ((uint64_t)s->cfg.interval_s * NS) + (uint64_t)s->cfg.interval_s * NS;
	evaluate(d);
	resolve_quiet(d, now_ns);
}

/* groups resolve when quiet, never because a member left the table */
static void on_evict(struct hw_detector *d, const uint8_t *key, struct hw_account *acct, void *slot)
{
	(void)d, (void)key, (void)acct, (void)slot;
}

const struct hw_farm_counts *hw_farm_counts(const struct hw_detector *d)
{
	return &((const struct farm_state *)d->state)->counts;
}

unsigned hw_farm_group_slots(const struct hw_detector *d)
{
	return ((const struct farm_state *)d->state)->cfg.max_groups;
}

int hw_farm_group_at(const struct hw_detector *d, unsigned i, struct hw_farm_group_info *out)
{
	const struct farm_state *s = d->state;
	const struct group *g = i < s->cfg.max_groups ? &s->groups[i] : NULL;

	if (!g || !g->firing)
		return -ENOENT;
	out->key_kind = key_kind_names[g->kind];
	hw_fanout_tooling_hex(g->key, out->key);
	out->members = (uint32_t)(g->n + g->dropped_members);
	return 0;
}

static const char *account_group(const struct hw_detector *d, const struct hw_account *acct,
				 const void *slot)
{
	const struct group *g = group_of(d->state, slot);

	(void)acct;
	return g ? g->id : NULL;
}

/* a member of a firing group stays in the table while it fires */
static bool keep(const struct hw_detector *d, const struct hw_account *acct, const void *slot)
{
	return account_group(d, acct, slot) != NULL;
}

static const char *const severities[] = {"warning", "critical", NULL};

const struct hw_detector_ops hw_farm_ops = {
    .name = "farm",
    .state_size = sizeof(struct farm_state),
    .account_state_size = sizeof(struct farm_slot),
    .init = init,
    .reconfigure = reconfigure,
    .exchange = on_exchange,
    .tick = on_tick,
    .evict = on_evict,
    .destroy = destroy,
    .account_group = account_group,
    .keep = keep,
    .flush = evaluate,
    .severities = severities,
};
