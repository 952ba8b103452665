/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Alert state: one JSON schema (README.md, "Alerts"), a firing line per
 * alert (again when its group changes) and a resolved one, the firing set,
 * the recent list served at /alerts, and the sinks each state change goes
 * to. The sinks themselves (NDJSON, Alertmanager) live in exporter/ and
 * register here: this layer never includes them. */
#ifndef HW_ALERTS_H
#define HW_ALERTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define HW_ALERTS_MAX_FIRING 4096 /* beyond it new alerts are dropped and counted */
#define HW_ALERTS_RECENT     256  /* lines kept for /alerts */
#define HW_ALERT_RULES_MAX   16
#define HW_ALERT_SINKS_MAX   4

/* where alert state changes go */
struct hw_alert_sink {
	/* a firing, updated or resolved alert: the sink copies what it keeps */
	void (*emit)(void *ctx, const json_t *alert);
	/* a firing alert re-sent every resend_ns to keep it fresh (NULL: the
	 * sink does not want it) */
	void (*refresh)(void *ctx, const json_t *alert);
	void *ctx;
};

struct hw_alert_count {
	char rule[32];
	char severity[16];
	uint64_t fired;
};

struct hw_alerts {
	struct hw_alert_sink sinks[HW_ALERT_SINKS_MAX];
	unsigned n_sinks;
	json_t *firing; /* id -> alert object */
	json_t *recent[HW_ALERTS_RECENT];
	unsigned recent_head, recent_count;
	struct hw_alert_count counts[HW_ALERT_RULES_MAX];
	unsigned n_counts;
	uint64_t dropped; /* firing set full */
	uint64_t updates; /* firing alerts re-sent because their group changed */
	uint64_t resend_ns, last_resend_ns;
};

int hw_alerts_init(struct hw_alerts *a);
void hw_alerts_free(struct hw_alerts *a);
/* 0, or -ENOSPC past HW_ALERT_SINKS_MAX */
int hw_alerts_add_sink(struct hw_alerts *a, const struct hw_alert_sink *sink);
/* a rule and severity that may fire: counted from 0 (hydrawatch_alerts_total
 * has the series before the first alert, so increase() sees that one) */
void hw_alerts_declare(struct hw_alerts *a, const char *rule, const char *severity);
/* a new alert (takes ownership); an id already firing is left as it is */
void hw_alerts_fire(struct hw_alerts *a, json_t *alert);
/* a firing alert whose group or evidence changed (takes ownership): it
 * replaces the firing one (keeping its start) and goes to every sink again;
 * an id not firing fires */
void hw_alerts_update(struct hw_alerts *a, json_t *alert);
/* the firing alert with this id (borrowed), or NULL */
const json_t *hw_alerts_get(const struct hw_alerts *a, const char *id);
bool hw_alerts_is_firing(const struct hw_alerts *a, const char *id);
/* resolves a firing alert; extra (may be NULL, taken) is merged into its
 * evidence as "resolution" */
void hw_alerts_resolve(struct hw_alerts *a, const char *id, uint64_t ts_ns, json_t *extra);
/* re-sends firing alerts to the sinks that refresh, every resend_ns */
void hw_alerts_tick(struct hw_alerts *a, uint64_t now_ns);
/* {"firing":[...],"recent":[...]} as a new string (free() it) */
char *hw_alerts_render(const struct hw_alerts *a);

/* helpers for detectors building alerts */
json_t *hw_alerts_new(const char *rule, const char *severity, const char *group_key,
		      uint64_t starts_ns, const char *summary);
void hw_alerts_rfc3339(uint64_t ns, char *out, size_t len);

#endif
