/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* What the agent writes out, parsed so that tests assert on fields rather
 * than on substrings: JSON lines (trace, stats) through jansson, and the
 * Prometheus text exposition as name{labels} value samples. Header-only;
 * include after <cmocka.h>. */
#ifndef HW_OUTPUT_CHECK_H
#define HW_OUTPUT_CHECK_H

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- JSON lines ---------------------------------------------------------- */

/* one line as hw_trace_format writes it, n bytes: a single JSON object and
 * its '\n', nothing else. Returns the object (json_decref it). */
static inline json_t *json_line(const char *line, size_t n)
{
	json_error_t e;
	json_t *o;

	assert_true(n > 0);
	assert_int_equal(strlen(line), n);
	assert_int_equal(line[n - 1], '\n');
	assert_ptr_equal(strchr(line, '\n'), line + n - 1); /* one line, never two */
	o = json_loadb(line, n, 0, &e);
	if (!o)
		fail_msg("not JSON (%s at %d): %s", e.text, e.position, line);
	assert_true(json_is_object(o));
	return o;
}

/* every line of text (each ending in '\n') as an array of objects */
static inline json_t *json_lines(const char *text)
{
	json_t *all = json_array();
	const char *p = text, *nl;

	while (*p) {
		char *one;

		nl = strchr(p, '\n');
		assert_non_null(nl); /* a line cut short */
		one = strndup(p, (size_t)(nl - p + 1));
		json_array_append_new(all, json_line(one, strlen(one)));
		free(one);
		p = nl + 1;
	}
	return all;
}

/* got must equal want as JSON values (key order aside); want is consumed */
#define assert_json_equal(got, want) check_json_equal((got), (want), __FILE__, __LINE__)
static inline void check_json_equal(const json_t *got, json_t *want, const char *file, int line)
{
	if (!want)
		fail_msg("%s:%d: the expected value did not pack", file, line);
	if (!json_equal(got, want)) {
		char *g = json_dumps(got, JSON_SORT_KEYS), *w = json_dumps(want, JSON_SORT_KEYS);

		print_error("%s:%d: JSON differs\n  got:  %s\n  want: %s\n", file, line, g, w);
		free(g);
		free(w);
		json_decref(want);
		_fail(file, line);
	}
	json_decref(want);
}

/* a field that must be there with that type */
static inline json_int_t json_int_field(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		fail_msg("\"%s\" is not an integer field", key);
	return json_integer_value(v);
}

static inline const char *json_str_field(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_string(v))
		fail_msg("\"%s\" is not a string field", key);
	return json_string_value(v);
}

/* --- Prometheus text exposition (format 0.0.4) --------------------------- */

#define PROM_NAME_MAX	128
#define PROM_LABELS_MAX 8
#define PROM_VALUE_MAX	256

struct prom_sample {
	char name[PROM_NAME_MAX];
	unsigned nlabels;
	char label[PROM_LABELS_MAX][2][PROM_VALUE_MAX]; /* name, unescaped value */
	double value;
};

struct prom {
	struct prom_sample *s;
	size_t n;
	char (*typed)[PROM_NAME_MAX]; /* families with a # TYPE line */
	size_t ntyped;
};

static inline int prom_name_char(char c, int first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
	       (!first && c >= '0' && c <= '9');
}

/* a metric or label name at *p into out; advances *p */
static inline void prom_name(const char **p, char *out, size_t cap, const char *line)
{
	size_t n = 0;

	if (!prom_name_char(**p, 1))
		fail_msg("no name at \"%s\" in: %s", *p, line);
	while (prom_name_char(**p, n == 0) && n + 1 < cap)
		out[n++] = *(*p)++;
	out[n] = '\0';
}

/* the family a sample belongs to: histograms add _bucket, _sum, _count */
static inline int prom_typed(const struct prom *m, const char *name)
{
	static const char *const suffixes[] = {"", "_bucket", "_sum", "_count"};

	for (size_t i = 0; i < m->ntyped; i++)
		for (size_t k = 0; k < sizeof(suffixes) / sizeof(suffixes[0]); k++) {
			size_t fl = strlen(m->typed[i]);

			if (!strncmp(name, m->typed[i], fl) && !strcmp(name + fl, suffixes[k]))
				return 1;
		}
	return 0;
}

/* parses a whole exposition; every line must be a HELP or TYPE comment or
 * a sample "name{label="value",...} value" of a family typed before it */
static inline void prom_parse(const char *text, struct prom *m)
{
	const char *line = text;

	memset(m, 0, sizeof(*m));
	assert_true(*text && text[strlen(text) - 1] == '\n');
	while (*line) {
		const char *nl = strchr(line, '\n'), *p;
		char *l = strndup(line, (size_t)(nl - line)), *end;
		struct prom_sample *s;

		line = nl + 1;
		if (!strncmp(l, "# HELP ", 7)) {
			free(l);
			continue;
		}
		if (!strncmp(l, "# TYPE ", 7)) {
			char name[PROM_NAME_MAX];

			p = l + 7;
			prom_name(&p, name, sizeof(name), l);
			for (size_t i = 0; i < m->ntyped; i++)
				if (!strcmp(m->typed[i], name))
					fail_msg("family typed twice: %s", l);
			if (strcmp(p, " counter") && strcmp(p, " gauge") && strcmp(p, " histogram"))
				fail_msg("unknown type: %s", l);
			m->typed = realloc(m->typed, (m->ntyped + 1) * sizeof(*m->typed));
			strcpy(m->typed[m->ntyped++], name);
			free(l);
			continue;
		}
		m->s = realloc(m->s, (m->n + 1) * sizeof(*m->s));
		s = &m->s[m->n++];
		memset(s, 0, sizeof(*s));
		p = l;
		prom_name(&p, s->name, sizeof(s->name), l);
		if (!prom_typed(m, s->name))
			fail_msg("sample of a family with no # TYPE before it: %s", l);
		if (*p == '{') {
			p++;
			while (*p != '}') {
				size_t n = 0;

				if (s->nlabels == PROM_LABELS_MAX)
					fail_msg("too many labels: %s", l);
				prom_name(&p, s->label[s->nlabels][0], PROM_VALUE_MAX, l);
				if (p[0] != '=' || p[1] != '"')
					fail_msg("want =\" after a label name: %s", l);
				for (p += 2; *p != '"'; p++) {
					char c = *p;

					if (!c || c == '\n' || n + 1 >= PROM_VALUE_MAX)
						fail_msg("label value cut short: %s", l);
					if (c == '\\') {
						c = *++p;
						if (c == 'n')
							c = '\n';
						else if (c != '\\' && c != '"')
							fail_msg("bad escape in: %s", l);
					}
					s->label[s->nlabels][1][n++] = c;
				}
				s->label[s->nlabels++][1][n] = '\0';
				p++;
				if (*p == ',')
					p++;
				else if (*p != '}')
					fail_msg("want , or } after a label: %s", l);
			}
			p++;
		}
		if (*p != ' ')
			fail_msg("want one space before the value: %s", l);
		s->value = strtod(p + 1, &end);
		if (end == p + 1 || *end)
			fail_msg("bad value (or a timestamp): %s", l);
		free(l);
	}
}

static inline void prom_free(struct prom *m)
{
	free(m->s);
	free(m->typed);
	memset(m, 0, sizeof(*m));
}

/* the one sample named name with exactly the labels given as NULL-ended
 * name, value pairs; fails unless there is exactly one */
static inline double prom_value(const struct prom *m, const char *name, ...)
{
	const struct prom_sample *found = NULL;
	char want[PROM_LABELS_MAX][2][PROM_VALUE_MAX];
	unsigned nwant = 0, hits = 0;
	const char *k;
	va_list ap;

	va_start(ap, name);
	while ((k = va_arg(ap, const char *)) && nwant < PROM_LABELS_MAX) {
		snprintf(want[nwant][0], PROM_VALUE_MAX, "%s", k);
		snprintf(want[nwant][1], PROM_VALUE_MAX, "%s", va_arg(ap, const char *));
		nwant++;
	}
	va_end(ap);
	for (size_t i = 0; i < m->n; i++) {
		const struct prom_sample *s = &m->s[i];
		unsigned same = 0;

		if (strcmp(s->name, name) || s->nlabels != nwant)
			continue;
		for (unsigned w = 0; w < nwant; w++)
			for (unsigned j = 0; j < s->nlabels; j++)
				same += !strcmp(s->label[j][0], want[w][0]) &&
					!strcmp(s->label[j][1], want[w][1]);
		if (same == nwant) {
			found = s;
			hits++;
		}
	}
	if (hits != 1) {
		char labels[PROM_LABELS_MAX * 2 * PROM_VALUE_MAX] = "";
		size_t o = 0;

		for (unsigned w = 0; w < nwant && o < sizeof(labels); w++)
			o += (size_t)snprintf(labels + o, sizeof(labels) - o, "%s%s=\"%s\"",
					      w ? "," : "", want[w][0], want[w][1]);
		fail_msg("%u samples %s{%s}, want one", hits, name, labels);
	}
	return found->value;
}

#endif
