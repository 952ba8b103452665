/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Alerts: one JSON schema (README.md, "Alert schema"), a firing and a
 * resolved line per alert, and the sinks they go to: NDJSON (file or
 * stdout, flushed per line), Alertmanager (exporter/alertmanager.c), and
 * the recent list served at /alerts. */
#ifndef HW_ALERTS_H
#define HW_ALERTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define HW_ALERTS_MAX_FIRING 4096 /* beyond it new alerts are dropped and counted */
#define HW_ALERTS_RECENT     256  /* lines kept for /alerts */
#define HW_ALERT_RULES_MAX   16

struct hw_am;

struct hw_alert_count {
	char rule[32];
	char severity[16];
	uint64_t fired;
};

struct hw_alerts {
	FILE *ndjson;
	bool ndjson_failed;
	uint64_t ndjson_lost;
	struct hw_am *am; /* NULL: no Alertmanager */
	json_t *firing;	  /* id -> alert object */
	json_t *recent[HW_ALERTS_RECENT];
	unsigned recent_head, recent_count;
	struct hw_alert_count counts[HW_ALERT_RULES_MAX];
	unsigned n_counts;
	uint64_t dropped; /* firing set full */
	uint64_t resend_ns, last_resend_ns;
};

int hw_alerts_init(struct hw_alerts *a);
void hw_alerts_free(struct hw_alerts *a);
/* a new alert (takes ownership); an id already firing is left as it is */
void hw_alerts_fire(struct hw_alerts *a, json_t *alert);
bool hw_alerts_is_firing(const struct hw_alerts *a, const char *id);
/* resolves a firing alert; extra (may be NULL, taken) is merged into its
 * evidence as "resolution" */
void hw_alerts_resolve(struct hw_alerts *a, const char *id, uint64_t ts_ns, json_t *extra);
/* re-sends firing alerts to Alertmanager every resend_ns */
void hw_alerts_tick(struct hw_alerts *a, uint64_t now_ns);
/* {"firing":[...],"recent":[...]} as a new string (free() it) */
char *hw_alerts_render(const struct hw_alerts *a);

/* helpers for detectors building alerts */
json_t *hw_alert_new(const char *rule, const char *severity, const char *group_key,
		     uint64_t starts_ns, const char *summary);
void hw_rfc3339(uint64_t ns, char *out, size_t len);

#endif
