// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* `hydrawatch verify --alerts FILE --trace FILE`: recomputes every farm
 * alert's per-member statistics from the trace — each member's last
 * exchanges as of the evaluation that admitted it, the time bins of every
 * account for lockstep — and checks them, and the signals they were
 * admitted on, against what the alert says. What an incident responder
 * hands a sceptic. Exit 0: every alert recomputes; 1: a mismatch; 2: bad
 * input. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "detect/lockstep.h"
#include "detect/signals.h"
#include "lib/grow.h"
#include "lib/hash.h"
#include "verify.h"

#define NS	 1000000000ULL
#define REL_EPS	 1e-9 /* printed doubles round-trip; allow for summation order */
#define NO_MODEL UINT32_MAX

struct line {
	uint64_t ts, start; /* Unix ns, as the trace has them */
	uint32_t account, model;
	uint32_t req, resp; /* saturated as the template detector keeps them */
	bool handshake;	    /* a TLS connection's first exchange: not a request */
};

struct account {
	char *hex;
	uint32_t *lines; /* indices into lines, file order */
	uint32_t n;
	size_t cap;
	/* scratch while counting bins for one evaluation */
	uint64_t last_counted; /* bin + 1 */
};

struct trace {
	struct line *lines;
	size_t n, cap;
	struct account *accounts;
	uint32_t n_accounts;
	size_t cap_accounts;
	uint32_t *index; /* open addressing: account index + 1 by hash of hex */
	uint32_t index_cap;
	char **models;
	uint32_t n_models;
};

static uint32_t intern_account(struct trace *t, const char *hex)
{
	uint64_t h;
	uint32_t i;

	if (t->n_accounts * 2 >= t->index_cap) {
		uint32_t cap = t->index_cap ? 2 * t->index_cap : 1024,
			 *idx = calloc(cap, sizeof(*idx));

		if (!idx)
			return UINT32_MAX;
		for (uint32_t a = 0; a < t->n_accounts; a++) {
			h = hw_hash64(t->accounts[a].hex, strlen(t->accounts[a].hex));
			for (i = (uint32_t)h & (cap - 1); idx[i]; i = (i + 1) & (cap - 1))
				;
			idx[i] = a + 1;
		}
		free(t->index);
		t->index = idx;
		t->index_cap = cap;
	}
	h = hw_hash64(hex, strlen(hex));
	for (i = (uint32_t)h & (t->index_cap - 1); t->index[i]; i = (i + 1) & (t->index_cap - 1))
		if (!strcmp(t->accounts[t->index[i] - 1].hex, hex))
			return t->index[i] - 1;
	if (hw_grow(&t->accounts, &t->cap_accounts, t->n_accounts, sizeof(*t->accounts), 1024))
		return UINT32_MAX;
	memset(&t->accounts[t->n_accounts], 0, sizeof(*t->accounts));
	t->accounts[t->n_accounts].hex = strdup(hex);
	t->index[i] = t->n_accounts + 1;
	return t->n_accounts++;
}

static uint32_t find_account(const struct trace *t, const char *hex)
{
	uint64_t h = hw_hash64(hex, strlen(hex));

	if (!t->index_cap)
		return UINT32_MAX;
	for (uint32_t i = (uint32_t)h & (t->index_cap - 1); t->index[i];
	     i = (i + 1) & (t->index_cap - 1))
		if (!strcmp(t->accounts[t->index[i] - 1].hex, hex))
			return t->index[i] - 1;
	return UINT32_MAX;
}

static uint32_t intern_model(struct trace *t, const char *m)
{
	char **v;

	for (uint32_t i = 0; i < t->n_models; i++)
		if (!strcmp(t->models[i], m))
			return i;
	v = realloc(t->models, (t->n_models + 1) * sizeof(*v));
	if (!v)
		return NO_MODEL;
	t->models = v;
	t->models[t->n_models] = strdup(m);
	return t->n_models++;
}

static uint32_t sat32(json_int_t v)
{
	return v < 0 ? 0 : v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static int load_trace(const char *path, struct trace *t, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned long lineno = 0;

	if (!f) {
		snprintf(err, errlen, "--trace %s: %s", path, strerror(errno));
		return -errno;
	}
	while ((len = getline(&buf, &cap, f)) > 0) {
		json_t *o, *acct;
		json_error_t jerr;
		struct account *a;
		struct line *l;
		uint32_t ai;

		lineno++;
		if (!strstr(buf, "\"exchange\""))
			continue; /* only exchanges carry accounts */
		o = json_loadb(buf, (size_t)len, 0, &jerr);
		if (!o) {
			snprintf(err, errlen, "--trace %s:%lu: not JSON: %s", path, lineno,
				 jerr.text);
			fclose(f);
			free(buf);
			return -EINVAL;
		}
		acct = json_object_get(o, "account");
		if (strcmp(json_string_value(json_object_get(o, "type")) ?: "", "exchange") ||
		    !json_is_string(acct)) {
			json_decref(o);
			continue;
		}
		if (hw_grow(&t->lines, &t->cap, t->n, sizeof(*t->lines), 65536))
			goto nomem;
		ai = intern_account(t, json_string_value(acct));
		if (ai == UINT32_MAX)
			goto nomem;
		l = &t->lines[t->n];
		l->ts = (uint64_t)json_integer_value(json_object_get(o, "ts_ns"));
		l->start = (uint64_t)json_integer_value(json_object_get(o, "start_ns"));
		l->account = ai;
		l->req = sat32(json_integer_value(json_object_get(o, "req_bytes")));
		l->resp = sat32(json_integer_value(json_object_get(o, "resp_bytes")));
		l->handshake = json_object_get(o, "ja4") &&
			       json_integer_value(json_object_get(o, "index")) == 1;
		l->model = json_is_string(json_object_get(o, "model"))
			       ? intern_model(t, json_string_value(json_object_get(o, "model")))
			       : NO_MODEL;
		a = &t->accounts[ai];
		if (hw_grow(&a->lines, &a->cap, a->n, sizeof(*a->lines), 8))
			goto nomem;
		a->lines[a->n++] = (uint32_t)t->n++;
		json_decref(o);
		continue;
	nomem:
		json_decref(o);
		fclose(f);
		free(buf);
		snprintf(err, errlen, "--trace %s: out of memory at line %lu", path, lineno);
		return -ENOMEM;
	}
	free(buf);
	fclose(f);
	return 0;
}

/* --- what the agent computed, recomputed ------------------------------- */

struct params {
	int64_t clock_to_unix;
	struct hw_lockstep_cfg lock;
	double cadence_cv_max;
	unsigned cadence_min_intervals;
	double template_tolerance, template_resp_tolerance;
	unsigned template_min;
	unsigned pivot_new_s;
	unsigned churn_new_s;
};

/* the hot bins of one evaluation */
struct bins {
	uint64_t eval; /* Unix ns */
	uint64_t first, end;
	uint8_t *hot;
	struct hw_lockstep_bins w;
};

static void compute_bins(struct trace *t, const struct params *p, uint64_t eval, struct bins *b)
{
	uint64_t bin_ns = (uint64_t)p->lock.bin_ms * 1000000ULL;
	unsigned n;
	double *count;

	uint64_t first_seen = UINT64_MAX;

	b->eval = eval;
	/* the earliest bin the agent counted: of every exchange charged by then */
	for (size_t i = 0; i < t->n; i++) {
		uint64_t bin = (t->lines[i].start - (uint64_t)p->clock_to_unix) / bin_ns;

		if (t->lines[i].ts <= eval && !t->lines[i].handshake && bin < first_seen)
			first_seen = bin;
	}
	hw_lockstep_window(&p->lock, eval - (uint64_t)p->clock_to_unix,
			   first_seen == UINT64_MAX ? 0 : first_seen, &b->first, &b->end);
	n = b->end > b->first ? (unsigned)(b->end - b->first) : 0;
	count = calloc(n + 1, sizeof(*count));
	b->hot = calloc(n + 1, 1);
	for (uint32_t a = 0; a < t->n_accounts; a++)
		t->accounts[a].last_counted = 0;
	/* in trace order, as the agent charged them; each account once per
	 * bin for consecutive exchanges in it */
	for (size_t i = 0; i < t->n; i++) {
		const struct line *l = &t->lines[i];
		struct account *a = &t->accounts[l->account];
		uint64_t bin;

		if (l->ts > eval || l->handshake)
			continue;
		bin = (l->start - (uint64_t)p->clock_to_unix) / bin_ns;
		if (a->last_counted == bin + 1)
			continue;
		a->last_counted = bin + 1;
		if (bin >= b->first && bin < b->end)
			count[bin - b->first]++;
	}
	memset(&b->w, 0, sizeof(b->w));
	if (n >= 2)
		hw_lockstep_judge(&p->lock, count, n, b->hot, &b->w);
	free(count);
}

struct member_stats {
	unsigned exchanges;
	unsigned lock_n, lock_k;
	double lock_p, p_hot;
	unsigned intervals;
	double cad_cv, cad_mean;
	double req_mean, req_cv, resp_mean;
	unsigned clusters;
	double centers[HW_SIGNAL_RING];
	const char *model;
	uint64_t switch_ns, model_first, first_ns;
};

static void member_stats(const struct trace *t, const struct params *p, const struct bins *b,
			 uint32_t ai, uint64_t eval, struct member_stats *out)
{
	const struct account *a = &t->accounts[ai];
	uint64_t bin_ns = (uint64_t)p->lock.bin_ms * 1000000ULL;
	uint32_t last[HW_SIGNAL_RING];
	unsigned n = 0, total = 0;
	double req[HW_SIGNAL_RING], resp[HW_SIGNAL_RING], iv[HW_SIGNAL_RING];
	uint64_t seen[HW_SIGNAL_RING];
	uint32_t model = NO_MODEL, prev = NO_MODEL;

	memset(out, 0, sizeof(*out));
	for (uint32_t i = 0; i < a->n; i++) {
		const struct line *l = &t->lines[a->lines[i]];

		if (l->ts > eval)
			continue;
		if (!out->first_ns || l->start < out->first_ns)
			out->first_ns = l->start;
		if (!l->handshake) { /* the rings hold requests */
			last[total % HW_SIGNAL_RING] = a->lines[i];
			total++;
		}
		/* as the pivot detector: back and forth between the last two
		 * models is not a switch */
		if (l->model != NO_MODEL && l->model != model && l->model != prev) {
			if (model != NO_MODEL)
				out->switch_ns = l->start;
			prev = model;
			model = l->model;
		}
	}
	n = total < HW_SIGNAL_RING ? total : HW_SIGNAL_RING;
	out->exchanges = n;
	for (unsigned i = 0; i < n; i++) {
		const struct line *l = &t->lines[last[(total - n + i) % HW_SIGNAL_RING]];
		uint64_t bin = (l->start - (uint64_t)p->clock_to_unix) / bin_ns;
		bool dup = false;

		req[i] = l->req;
		resp[i] = l->resp;
		if (i) {
			uint64_t a0 = t->lines[last[(total - n + i - 1) % HW_SIGNAL_RING]].start;

			/* milliseconds of the event clock, as the cadence detector keeps them */
			iv[i - 1] = hw_signal_interval_s(
			    (uint32_t)((a0 - (uint64_t)p->clock_to_unix) / 1000000),
			    (uint32_t)((l->start - (uint64_t)p->clock_to_unix) / 1000000));
		}
		if (bin < b->first || bin >= b->end)
			continue;
		for (unsigned j = 0; j < out->lock_n; j++)
			dup |= seen[j] == bin;
		if (dup)
			continue;
		seen[out->lock_n++] = bin;
		out->lock_k += b->hot[bin - b->first];
	}
	hw_signal_mean_cv(req, n, &out->req_mean, &out->req_cv);
	out->clusters = hw_signal_clusters(req, n, p->template_tolerance, out->centers);
	{
		double cv;

		hw_signal_mean_cv(resp, n, &out->resp_mean, &cv);
	}
	out->intervals = n ? n - 1 : 0;
	hw_signal_mean_cv(iv, out->intervals, &out->cad_mean, &out->cad_cv);
	out->p_hot = b->w.p_hot;
	out->lock_p = b->w.usable ? hw_signal_binom_tail(out->lock_n, out->lock_k, b->w.p_hot) : 1;
	if (model != NO_MODEL) {
		out->model = t->models[model];
		for (size_t i = 0; i < t->n; i++)
			if (t->lines[i].model == model && t->lines[i].ts <= eval) {
				out->model_first = t->lines[i].start;
				break;
			}
	}
}

/* --- comparing --------------------------------------------------------- */

struct report {
	char *text;
	size_t len, cap;
	unsigned mismatches;
};

static void say(struct report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct report *r, const char *fmt, ...)
{
	va_list ap;
	char line[512];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (r->len + (size_t)n + 1 > r->cap) {
		size_t cap = (r->cap + (size_t)n + 1) * 2;
		char *v = realloc(r->text, cap);

		if (!v)
			return;
		r->text = v;
		r->cap = cap;
	}
	memcpy(r->text + r->len, line, (size_t)n + 1);
	r->len += (size_t)n;
}

static bool close_enough(double a, double b)
{
	return fabs(a - b) <= REL_EPS * (fabs(a) > fabs(b) ? fabs(a) : fabs(b)) + 1e-12;
}

static void cmp_num(struct report *r, const char *who, const char *what, double alert, double trace)
{
	if (close_enough(alert, trace))
		return;
	r->mismatches++;
	say(r, "  member %s: %s is %.12g in the alert, %.12g from the trace (differs by %.6g)\n",
	    who, what, alert, trace, alert - trace);
}

static double num(const json_t *o, const char *a, const char *b)
{
	const json_t *v = json_object_get(b ? json_object_get(o, a) : o, b ? b : a);

	return json_number_value(v);
}

/* integers as integers: Unix nanoseconds do not fit a double's 53 bits */
static uint64_t inum(const json_t *o, const char *a, const char *b)
{
	const json_t *v = json_object_get(b ? json_object_get(o, a) : o, b ? b : a);

	return (uint64_t)json_integer_value(v);
}

static void claim(struct report *r, const char *who, char sig, bool holds, const char *why)
{
	if (holds)
		return;
	r->mismatches++;
	say(r, "  member %s: signal %c does not hold from the trace: %s\n", who, sig, why);
}

static void check_member(struct report *r, struct trace *t, const struct params *p,
			 struct bins *cache, unsigned *n_cache, const char *who, const json_t *m)
{
	uint64_t eval = (uint64_t)json_integer_value(json_object_get(m, "evaluated_ns"));
	uint32_t ai = find_account(t, who);
	const char *sig = json_string_value(json_object_get(m, "signals")) ?: "";
	struct member_stats st;
	struct bins *b = NULL;

	if (ai == UINT32_MAX) {
		r->mismatches++;
		say(r, "  member %s: no exchange of it in the trace\n", who);
		return;
	}
	for (unsigned i = 0; i < *n_cache; i++)
		if (cache[i].eval == eval)
			b = &cache[i];
	if (!b) {
		if (*n_cache == 256) { /* evaluations cached; the oldest recomputed */
			free(cache[0].hot);
			memmove(cache, cache + 1, 255 * sizeof(*cache));
			(*n_cache)--;
		}
		b = &cache[(*n_cache)++];
		compute_bins(t, p, eval, b);
	}
	member_stats(t, p, b, ai, eval, &st);
	cmp_num(r, who, "exchanges", num(m, "exchanges", NULL), st.exchanges);
	cmp_num(r, who, "lockstep.n", num(m, "lockstep", "n"), st.lock_n);
	cmp_num(r, who, "lockstep.k", num(m, "lockstep", "k"), st.lock_k);
	cmp_num(r, who, "lockstep.p_hot", num(m, "lockstep", "p_hot"), st.p_hot);
	cmp_num(r, who, "lockstep.p", num(m, "lockstep", "p"), st.lock_p);
	cmp_num(r, who, "cadence.intervals", num(m, "cadence", "intervals"), st.intervals);
	cmp_num(r, who, "cadence.cv", num(m, "cadence", "cv"), st.cad_cv);
	cmp_num(r, who, "template.req_mean", num(m, "template", "req_mean"), st.req_mean);
	cmp_num(r, who, "template.req_cv", num(m, "template", "req_cv"), st.req_cv);
	cmp_num(r, who, "template.resp_mean", num(m, "template", "resp_mean"), st.resp_mean);
	{
		const json_t *cl = json_object_get(json_object_get(m, "template"), "clusters");

		cmp_num(r, who, "template.clusters", (double)json_array_size(cl), st.clusters);
		for (unsigned k = 0; k < st.clusters && k < json_array_size(cl); k++)
			cmp_num(r, who, "template.cluster",
				json_number_value(json_array_get(cl, k)), st.centers[k]);
	}
	if (json_object_get(m, "pivot")) {
		const char *model =
		    json_string_value(json_object_get(json_object_get(m, "pivot"), "model"));

		if (!st.model || !model || strcmp(model, st.model)) {
			r->mismatches++;
			say(r, "  member %s: model is %s in the alert, %s from the trace\n", who,
			    model ?: "none", st.model ?: "none");
		}
		if (inum(m, "pivot", "switch_ns") != st.switch_ns) {
			r->mismatches++;
			say(r,
			    "  member %s: pivot.switch_ns is %llu in the alert, %llu from the "
			    "trace\n",
			    who, (unsigned long long)inum(m, "pivot", "switch_ns"),
			    (unsigned long long)st.switch_ns);
		}
	}
	/* each signal it was admitted on holds by the thresholds */
	for (const char *c = sig; *c; c++) {
		switch (*c) {
		case 'L':
			claim(r, who, *c,
			      st.lock_n >= p->lock.min_exchanges && st.lock_p <= p->lock.p_max,
			      "binomial tail above p_max or too few bins");
			break;
		case 'l':
			claim(r, who, *c,
			      st.lock_n >= 2 && st.lock_k == st.lock_n &&
				  st.lock_p <= p->lock.p_member,
			      "not every recent bin hot, or tail above p_member");
			break;
		case 'C':
			claim(r, who, *c,
			      st.intervals >= p->cadence_min_intervals && st.cad_mean > 0 &&
				  st.cad_cv <= p->cadence_cv_max,
			      "intervals not regular enough");
			break;
		case 'T':
		case 't': {
			const json_t *g = json_object_get(json_object_get(m, "template"), "group");
			const json_t *modes = json_object_get(g, "templates");
			double r0 = num(g, "resp_median_bytes", NULL);
			bool on = st.clusters > 0;

			for (unsigned k = 0; k < st.clusters && on; k++) {
				bool hit = false;

				for (size_t j = 0; j < json_array_size(modes) && !hit; j++) {
					double mv = json_number_value(json_array_get(modes, j));

					hit =
					    fabs(st.centers[k] - mv) <= p->template_tolerance * mv;
				}
				on = hit;
			}
			claim(r, who, *c,
			      (*c == 't' ? st.exchanges >= 1 : st.exchanges >= p->template_min) &&
				  on &&
				  fabs(st.resp_mean - r0) <=
				      p->template_resp_tolerance * (r0 > 1 ? r0 : 1),
			      "sizes not on few templates, or off the group's templates");
			break;
		}
		case 'P': {
			const json_t *g = json_object_get(json_object_get(m, "pivot"), "group");
			uint64_t lo = inum(g, "first_switch_ns", NULL);
			uint64_t hi = inum(g, "last_switch_ns", NULL);

			claim(r, who, *c,
			      st.switch_ns && st.switch_ns >= lo && st.switch_ns <= hi &&
				  st.model_first + (uint64_t)p->pivot_new_s * NS >= eval,
			      "no switch to a new model within the group's span");
			break;
		}
		case 'N':
			claim(r, who, *c, st.first_ns + (uint64_t)p->churn_new_s * NS >= eval,
			      "not new at the evaluation");
			break;
		default:
			break;
		}
	}
}

static int params_of(const json_t *ev, struct params *p)
{
	const json_t *th = json_object_get(ev, "thresholds"), *l = json_object_get(th, "lockstep");

	memset(p, 0, sizeof(*p));
	if (!l)
		return -1;
	p->clock_to_unix =
	    json_integer_value(json_object_get(json_object_get(ev, "window"), "clock_to_unix_ns"));
	p->lock.bin_ms = (unsigned)(json_integer_value(json_object_get(l, "bin_ns")) / 1000000);
	p->lock.window_s = (unsigned)num(l, "window_s", NULL);
	p->lock.hot_k = num(l, "hot_k", NULL);
	p->lock.hot_min = (unsigned)num(l, "hot_min", NULL);
	p->lock.p_max = num(l, "p_max", NULL);
	p->lock.p_member = num(l, "p_member", NULL);
	p->lock.min_exchanges = (unsigned)num(l, "min_exchanges", NULL);
	p->lock.hot_fraction_max = num(l, "hot_fraction_max", NULL);
	p->cadence_cv_max = num(th, "cadence", "cv_max");
	p->cadence_min_intervals = (unsigned)num(th, "cadence", "min_intervals");
	p->template_min = (unsigned)num(th, "template", "min_exchanges");
	p->template_tolerance = num(th, "template", "tolerance");
	p->template_resp_tolerance = num(th, "template", "resp_tolerance");
	p->pivot_new_s = (unsigned)num(th, "pivot", "new_s");
	p->churn_new_s = (unsigned)num(th, "churn", "new_s");
	if (!p->lock.bin_ms || num(l, "local_bins", NULL) != HW_LOCKSTEP_LOCAL ||
	    num(l, "lag_bins", NULL) != HW_LOCKSTEP_LAG_BINS)
		return -1;
	return 0;
}

static void verify_usage(FILE *f)
{
	fprintf(f, "Usage: hydrawatch verify --alerts FILE --trace FILE [--quiet]\n"
		   "Recomputes every farm alert's evidence in FILE (the --alerts stream) from the\n"
		   "trace the same agent wrote (--trace), and prints per alert line `ok` or which\n"
		   "statistic differs and by how much. Exit 0: all recompute; 1: a mismatch;\n"
		   "2: bad input.\n");
}

int hw_verify_main(int argc, char **argv)
{
	static const struct option opts[] = {{"alerts", required_argument, NULL, 'a'},
					     {"trace", required_argument, NULL, 't'},
					     {"quiet", no_argument, NULL, 'q'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	const char *alerts_path = NULL, *trace_path = NULL;
	struct trace t = {0};
	struct bins *cache = calloc(256, sizeof(*cache));
	unsigned n_cache = 0, checked = 0, failed = 0;
	bool quiet = false;
	char err[512], *buf = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned long lineno = 0;
	FILE *f;
	int c, rc = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "a:t:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			alerts_path = optarg;
			break;
		case 't':
			trace_path = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			verify_usage(stdout);
			free(cache);
			return 0;
		default:
			verify_usage(stderr);
			free(cache);
			return 2;
		}
	}
	if (!alerts_path || !trace_path || !cache) {
		verify_usage(stderr);
		free(cache);
		return 2;
	}
	if (load_trace(trace_path, &t, err, sizeof(err))) {
		fprintf(stderr, "hydrawatch verify: %s\n", err);
		free(cache);
		return 2;
	}
	f = fopen(alerts_path, "re");
	if (!f) {
		fprintf(stderr, "hydrawatch verify: --alerts %s: %s\n", alerts_path,
			strerror(errno));
		free(cache);
		return 2;
	}
	while ((len = getline(&buf, &cap, f)) > 0) {
		struct report r = {0};
		json_error_t jerr;
		json_t *al = json_loadb(buf, (size_t)len, 0, &jerr), *ev, *members, *m;
		struct params p;
		const char *key;
		size_t i;

		lineno++;
		if (!al) {
			fprintf(stderr, "hydrawatch verify: --alerts %s:%lu: not JSON: %s\n",
				alerts_path, lineno, jerr.text);
			rc = 2;
			break;
		}
		if (strcmp(json_string_value(json_object_get(al, "rule")) ?: "", "farm") ||
		    strcmp(json_string_value(json_object_get(al, "state")) ?: "", "firing")) {
			json_decref(al);
			continue;
		}
		ev = json_object_get(al, "evidence");
		members = json_object_get(ev, "members");
		if (params_of(ev, &p) || !json_is_object(members)) {
			fprintf(stderr,
				"hydrawatch verify: --alerts %s:%lu: no evidence to recompute\n",
				alerts_path, lineno);
			json_decref(al);
			rc = 2;
			break;
		}
		/* every listed member has its numbers */
		json_array_foreach(json_object_get(json_object_get(al, "group"), "members"), i, m)
		{
			if (!json_object_get(members, json_string_value(m))) {
				r.mismatches++;
				say(&r, "  member %s: listed without evidence\n",
				    json_string_value(m));
			}
		}
		json_object_foreach(members, key, m)
		    check_member(&r, &t, &p, cache, &n_cache, key, m);
		checked++;
		if (r.mismatches) {
			failed++;
			printf("%s (line %lu, %zu members): %u mismatches\n%s",
			       json_string_value(json_object_get(al, "id")), lineno,
			       json_object_size(members), r.mismatches, r.text);
		} else if (!quiet) {
			printf("%s (line %lu, %zu members): ok\n",
			       json_string_value(json_object_get(al, "id")), lineno,
			       json_object_size(members));
		}
		free(r.text);
		json_decref(al);
	}
	fclose(f);
	free(buf);
	printf("verify: %u alert lines checked, %u ok, %u with mismatches\n", checked,
	       checked - failed, failed);
	for (unsigned i = 0; i < n_cache; i++)
		free(cache[i].hot);
	free(cache);
	for (uint32_t a = 0; a < t.n_accounts; a++) {
		free(t.accounts[a].hex);
		free(t.accounts[a].lines);
	}
	for (uint32_t i = 0; i < t.n_models; i++)
		free(t.models[i]);
	free(t.models);
	free(t.accounts);
	free(t.index);
	free(t.lines);
	if (rc)
		return rc;
	return failed ? 1 : 0;
}
