// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Alert state and fan-out to the registered sinks. The main thread owns
 * all of it; sinks copy what they keep. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <errno.h>
#include "detect/alerts.h"
#include "lib/hash.h"

int hw_alerts_init(struct hw_alerts *a)
{
	memset(a, 0, sizeof(*a));
	a->firing = json_object();
	a->resend_ns = 60ULL * 1000000000ULL;
	return a->firing ? 0 : -1;
}

void hw_alerts_free(struct hw_alerts *a)
{
	json_decref(a->firing);
	for (unsigned i = 0; i < HW_ALERTS_RECENT; i++)
		json_decref(a->recent[i]);
	memset(a, 0, sizeof(*a));
}

void hw_alerts_rfc3339(uint64_t ns, char *out, size_t len)
{
	time_t s = (time_t)(ns / 1000000000ULL);
	struct tm tm;
	char base[32];

	gmtime_r(&s, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, len, "%s.%03uZ", base, (unsigned)((ns / 1000000ULL) % 1000));
}

json_t *hw_alerts_new(const char *rule, const char *severity, const char *group_key,
		      uint64_t starts_ns, const char *summary)
{
	char id[64], ts[40];
	uint64_t h = hw_hash64(group_key, strlen(group_key));

	/* the id names the rule and the group, not the time: the same group
	 * firing again after a resolve is the same alert to Alertmanager */
	snprintf(id, sizeof(id), "%s-%016" PRIx64, rule, h);
	hw_alerts_rfc3339(starts_ns, ts, sizeof(ts));
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:n, s:I, s:n, s:s, s:{s:i, s:[], s:[], s:[]}, "
			 "s:{}}",
			 "id", id, "rule", rule, "severity", severity, "state", "firing",
			 "starts_at", ts, "ends_at", "starts_ns", (json_int_t)starts_ns, "ends_ns",
			 "summary", summary, "group", "size", 0, "members", "fingerprints",
			 "prefixes", "evidence");
}

/* the count of rule at severity, created at 0; NULL past HW_ALERT_RULES_MAX */
static struct hw_alert_count *count_of(struct hw_alerts *a, const char *rule, const char *severity)
{
	unsigned i;

	for (i = 0; i < a->n_counts; i++)
		if (!strcmp(a->counts[i].rule, rule) && !strcmp(a->counts[i].severity, severity))
			break;
	if (i == a->n_counts) {
		if (a->n_counts == HW_ALERT_RULES_MAX)
			return NULL;
		snprintf(a->counts[i].rule, sizeof(a->counts[i].rule), "%s", rule);
		snprintf(a->counts[i].severity, sizeof(a->counts[i].severity), "%s", severity);
		a->n_counts++;
	}
	return &a->counts[i];
}

static void count_fired(struct hw_alerts *a, const char *rule, const char *severity)
{
	struct hw_alert_count *c = count_of(a, rule, severity);

	if (c)
		c->fired++;
}

void hw_alerts_declare(struct hw_alerts *a, const char *rule, const char *severity)
{
	count_of(a, rule, severity);
}

int hw_alerts_add_sink(struct hw_alerts *a, const struct hw_alert_sink *sink)
{
	if (a->n_sinks == HW_ALERT_SINKS_MAX)
		return -ENOSPC;
	a->sinks[a->n_sinks++] = *sink;
	return 0;
}

/* what the recent list keeps of a state change: all of it but per-member
 * numbers (a farm alert re-sent as its group grows would otherwise keep
 * HW_ALERTS_RECENT copies of thousands of members' evidence); the firing
 * set and the sinks have them */
static json_t *recent_copy(const json_t *alert)
{
	json_t *c = json_deep_copy(alert), *ev = json_object_get(c, "evidence");

	if (json_object_get(ev, "members")) {
		json_object_del(ev, "members");
		json_object_set_new(ev, "members_omitted", json_true());
	}
	return c;
}

/* one alert state change to every sink */
static void emit(struct hw_alerts *a, json_t *alert)
{
	for (unsigned i = 0; i < a->n_sinks; i++)
		a->sinks[i].emit(a->sinks[i].ctx, alert);
	json_decref(a->recent[a->recent_head]);
	a->recent[a->recent_head] = recent_copy(alert);
	a->recent_head = (a->recent_head + 1) % HW_ALERTS_RECENT;
	if (a->recent_count < HW_ALERTS_RECENT)
		a->recent_count++;
}

bool hw_alerts_is_firing(const struct hw_alerts *a, const char *id)
{
	return json_object_get(a->firing, id) != NULL;
}

void hw_alerts_fire(struct hw_alerts *a, json_t *alert)
{
	const char *id = json_string_value(json_object_get(alert, "id"));

	if (!id || hw_alerts_is_firing(a, id)) {
		json_decref(alert);
		return;
	}
	if (json_object_size(a->firing) >= HW_ALERTS_MAX_FIRING) {
		a->dropped++;
		json_decref(alert);
		return;
	}
	count_fired(a, json_string_value(json_object_get(alert, "rule")),
		    json_string_value(json_object_get(alert, "severity")));
	emit(a, alert);
	json_object_set_new(a->firing, id, alert);
}

const json_t *hw_alerts_get(const struct hw_alerts *a, const char *id)
{
	return json_object_get(a->firing, id);
}

void hw_alerts_update(struct hw_alerts *a, json_t *alert)
{
	const char *id = json_string_value(json_object_get(alert, "id"));
	json_t *old = id ? json_object_get(a->firing, id) : NULL;

	if (!old) {
		hw_alerts_fire(a, alert);
		return;
	}
	/* the alert started when it first fired */
	json_object_set(alert, "starts_at", json_object_get(old, "starts_at"));
	json_object_set(alert, "starts_ns", json_object_get(old, "starts_ns"));
	a->updates++;
	emit(a, alert);
	json_object_set_new(a->firing, id, alert);
}

void hw_alerts_resolve(struct hw_alerts *a, const char *id, uint64_t ts_ns, json_t *extra)
{
	json_t *alert = json_object_get(a->firing, id);
	char ts[40];

	if (!alert) {
		json_decref(extra);
		return;
	}
	json_incref(alert);
	json_object_del(a->firing, id);
	hw_alerts_rfc3339(ts_ns, ts, sizeof(ts));
	json_object_set_new(alert, "state", json_string("resolved"));
	json_object_set_new(alert, "ends_at", json_string(ts));
	json_object_set_new(alert, "ends_ns", json_integer((json_int_t)ts_ns));
	if (extra)
		json_object_set_new(json_object_get(alert, "evidence"), "resolution", extra);
	emit(a, alert);
	json_decref(alert);
}

void hw_alerts_tick(struct hw_alerts *a, uint64_t now_ns)
{
	const char *id;
	json_t *alert;

	if (now_ns - a->last_resend_ns < a->resend_ns)
		return;
	a->last_resend_ns = now_ns;
	/* Alertmanager forgets an alert that is not re-sent: keep them fresh */
	for (unsigned i = 0; i < a->n_sinks; i++) {
		if (!a->sinks[i].refresh)
			continue;
		json_object_foreach(a->firing, id, alert) a->sinks[i].refresh(a->sinks[i].ctx,
									      alert);
	}
}

char *hw_alerts_render(const struct hw_alerts *a)
{
	json_t *out = json_object(), *firing = json_array(), *recent = json_array();
	const char *id;
	json_t *alert;
	char *s;

	json_object_foreach(a->firing, id, alert) json_array_append(firing, alert);
	/* newest first */
	for (unsigned i = 0; i < a->recent_count; i++) {
		unsigned idx = (a->recent_head + HW_ALERTS_RECENT - 1 - i) % HW_ALERTS_RECENT;

		json_array_append(recent, a->recent[idx]);
	}
	json_object_set_new(out, "firing", firing);
	json_object_set_new(out, "recent", recent);
	s = json_dumps(out, JSON_COMPACT);
	json_decref(out);
	return s;
}
