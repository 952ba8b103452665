// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The Alertmanager sender thread. The queue holds ready-to-send
 * Alertmanager alert objects; a failed POST puts its batch back at the
 * front and waits 1, 2, 4 ... 60 s before the next try. */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "exporter/alertmanager.h"
#include "snapshot.h"
#include "lib/hex.h"
#include "lib/log.h"
#include "lib/sha.h"

struct hw_am {
	char url[512];
	char instance[256];
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	json_t *queue; /* array, oldest first */
	bool stopping;
	struct hw_am_stats st;
};

/* "sha256:" + hex of the full member list joined by commas, as the alert
 * lists it: checks a capped annotation against the full NDJSON line */
static const char *members_digest(const json_t *members)
{
	static __thread char out[8 + 2 * HW_SHA256_LEN + 1];
	unsigned char d[HW_SHA256_LEN];
	size_t i, len = 0, o = 0;
	char *joined;
	json_t *m;

	json_array_foreach(members, i, m) len += strlen(json_string_value(m)) + 1;
	joined = malloc(len + 1);
	if (!joined)
		return "";
	joined[0] = '\0';
	json_array_foreach(members, i, m)
	{
		const char *v = json_string_value(m);
		size_t n = strlen(v);

		if (i)
			joined[o++] = ',';
		memcpy(joined + o, v, n);
		o += n;
	}
	hw_sha256(joined, o, d);
	free(joined);
	memcpy(out, "sha256:", 7);
	hw_hex(d, sizeof(d), out + 7);
	return out;
}

static json_t *to_am(const struct hw_am *am, const json_t *alert)
{
	const char *rule = json_string_value(json_object_get(alert, "rule"));
	const char *state = json_string_value(json_object_get(alert, "state"));
	json_t *group = json_object_get(alert, "group"),
	       *members = json_object_get(group, "members");
	char name[64], size[24], *evidence;
	json_t *out, *labels, *ann, *m;
	size_t i;
	char list[1024] = "";
	size_t o = 0;

	snprintf(name, sizeof(name), "hydrawatch_%s", rule ? rule : "unknown");
	json_array_foreach(members, i, m)
	{
		const char *s = json_string_value(m);

		if (i >= 20 || !s || o + strlen(s) + 2 >= sizeof(list))
			break;
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", i ? "," : "", s);
	}
	{
		/* per-member numbers stay in the NDJSON line and /alerts: a
		 * thousand-member group must not make the annotation unusable */
		json_t *ev = json_deep_copy(json_object_get(alert, "evidence"));

		json_object_del(ev, "members");
		evidence = json_dumps(ev, JSON_COMPACT);
		json_decref(ev);
	}
	labels = json_pack("{s:s, s:s, s:O, s:O, s:s}", "alertname", name, "rule", rule ? rule : "",
			   "severity", json_object_get(alert, "severity"), "alert_id",
			   json_object_get(alert, "id"), "instance", am->instance);
	snprintf(size, sizeof(size), "%" JSON_INTEGER_FORMAT,
		 json_integer_value(json_object_get(group, "size")));
	/* annotations are strings only */
	ann =
	    json_pack("{s:O, s:s, s:s, s:s}", "summary", json_object_get(alert, "summary"),
		      "members", list, "evidence", evidence ? evidence : "{}", "group_size", size);
	{
		char listed[64];
		size_t n = json_array_size(members);
		json_int_t size = json_integer_value(json_object_get(group, "size"));

		/* the annotation's members of the listed ones, of the group */
		snprintf(listed, sizeof(listed),
			 "%zu of %zu listed, group of %" JSON_INTEGER_FORMAT,
			 n > 20 ? (size_t)20 : n, n, size);
		json_object_set_new(ann, "members_listed", json_string(listed));
	}
	json_object_set_new(ann, "members_digest", json_string(members_digest(members)));
	/* a farm's id on its own alert and on its members' other alerts:
	 * deploy/alertmanager inhibits the latter under the former */
	if (json_is_string(json_object_get(alert, "farm_id")))
		json_object_set(labels, "farm_id", json_object_get(alert, "farm_id"));
	if (json_is_string(json_object_get(group, "tooling_key")))
		json_object_set(labels, "tooling_key", json_object_get(group, "tooling_key"));
	out = json_pack("{s:o, s:o, s:O}", "labels", labels, "annotations", ann, "startsAt",
			json_object_get(alert, "starts_at"));
	if (state && !strcmp(state, "resolved"))
		json_object_set(out, "endsAt", json_object_get(alert, "ends_at"));
	free(evidence);
	return out;
}

void hw_am_enqueue(struct hw_am *am, const json_t *alert)
{
	json_t *a = to_am(am, alert);

	if (!a)
		return;
	pthread_mutex_lock(&am->lock);
	if (json_array_size(am->queue) >= HW_AM_QUEUE_MAX) {
		json_array_remove(am->queue, 0);
		am->st.dropped++;
	}
	json_array_append_new(am->queue, a);
	pthread_cond_signal(&am->cond);
	pthread_mutex_unlock(&am->lock);
}

static size_t discard(char *p, size_t s, size_t n, void *u)
{
	(void)p, (void)u;
	return s * n;
}

/* one POST; 0 when Alertmanager said 2xx */
static int post(CURL *curl, const char *url, const char *body)
{
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	long code = 0;
	CURLcode rc;

	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
	rc = curl_easy_perform(curl);
	if (rc == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(h);
	return rc == CURLE_OK && code >= 200 && code < 300 ? 0 : -1;
}

static void *sender(void *arg)
{
	struct hw_am *am = arg;
	CURL *curl = curl_easy_init();
	unsigned backoff = 0;
	char url[600];

	snprintf(url, sizeof(url), "%s/api/v2/alerts", am->url);
	pthread_mutex_lock(&am->lock);
	for (;;) {
		json_t *batch;
		char *body;
		size_t n;
		int ok;

		while (!am->stopping && json_array_size(am->queue) == 0)
			pthread_cond_wait(&am->cond, &am->lock);
		if (json_array_size(am->queue) == 0)
			break;
		n = json_array_size(am->queue);
		if (n > HW_AM_BATCH_MAX)
			n = HW_AM_BATCH_MAX;
		batch = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append(batch, json_array_get(am->queue, i));
		for (size_t i = 0; i < n; i++)
			json_array_remove(am->queue, 0);
		pthread_mutex_unlock(&am->lock);

		body = json_dumps(batch, JSON_COMPACT);
		ok = curl && body && post(curl, url, body) == 0;
		free(body);

		pthread_mutex_lock(&am->lock);
		if (ok) {
			am->st.sent += n;
			backoff = 0;
			json_decref(batch);
			continue;
		}
		am->st.failures++;
		if (am->stopping) {
			am->st.dropped += n; /* shutting down: one try only */
			json_decref(batch);
			continue;
		}
		/* back to the front of the queue, within its bound */
		for (size_t i = n; i-- > 0;) {
			if (json_array_size(am->queue) >= HW_AM_QUEUE_MAX) {
				am->st.dropped++;
				continue;
			}
			json_array_insert(am->queue, 0, json_array_get(batch, i));
		}
		json_decref(batch);
		backoff = backoff ? backoff * 2 : 1;
		if (backoff > HW_AM_BACKOFF_MAX_S)
			backoff = HW_AM_BACKOFF_MAX_S;
		if (am->st.failures == 1 || backoff == HW_AM_BACKOFF_MAX_S)
			pr_warn("Alertmanager at %s did not take alerts; retrying in %us\n",
				am->url, backoff);
		{
			struct timespec until;

			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += backoff;
			while (!am->stopping &&
			       pthread_cond_timedwait(&am->cond, &am->lock, &until) == 0)
				;
		}
	}
	pthread_mutex_unlock(&am->lock);
	curl_easy_cleanup(curl);
	return NULL;
}

struct hw_am *hw_am_start(const char *url, const char *instance)
{
	struct hw_am *am = calloc(1, sizeof(*am));
	int e;

	if (!am)
		return NULL;
	snprintf(am->url, sizeof(am->url), "%s", url);
	/* a trailing slash would double in the path */
	while (strlen(am->url) && am->url[strlen(am->url) - 1] == '/')
		am->url[strlen(am->url) - 1] = '\0';
	snprintf(am->instance, sizeof(am->instance), "%s", instance);
	am->queue = json_array();
	pthread_mutex_init(&am->lock, NULL);
	pthread_cond_init(&am->cond, NULL);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	e = pthread_create(&am->thread, NULL, sender, am);
	if (e) {
		json_decref(am->queue);
		free(am);
		errno = e; /* what the caller reports; pthread_create does not set it */
		return NULL;
	}
	return am;
}

void hw_am_stats(struct hw_am *am, struct hw_am_stats *out)
{
	pthread_mutex_lock(&am->lock);
	*out = am->st;
	out->queued = json_array_size(am->queue);
	pthread_mutex_unlock(&am->lock);
}

void hw_am_stop(struct hw_am *am)
{
	if (!am)
		return;
	pthread_mutex_lock(&am->lock);
	am->stopping = true;
	pthread_cond_signal(&am->cond);
	pthread_mutex_unlock(&am->lock);
	pthread_join(am->thread, NULL);
	json_decref(am->queue);
	pthread_mutex_destroy(&am->lock);
	pthread_cond_destroy(&am->cond);
	curl_global_cleanup();
	free(am);
}

static void am_emit(void *ctx, const json_t *alert)
{
	hw_am_enqueue(ctx, alert);
}

struct hw_alert_sink hw_am_sink(struct hw_am *am)
{
	return (struct hw_alert_sink){.emit = am_emit, .refresh = am_emit, .ctx = am};
}
