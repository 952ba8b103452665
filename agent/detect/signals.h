/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* What the farm engine reads of each account from the signal detectors
 * (cadence, template, lockstep, pivot, fanout): the statistics over the
 * account's last HW_SIGNAL_RING exchanges, defined exactly so that
 * `hydrawatch verify` recomputes them from the trace (docs/FARM.md). */
#ifndef HW_SIGNALS_H
#define HW_SIGNALS_H

#include <stdint.h>

/* exchanges each account's statistics are computed over: its last 8 */
#define HW_SIGNAL_RING 8

/* a ring of the last HW_SIGNAL_RING values, oldest overwritten */
static inline unsigned hw_ring_push(uint8_t *head, uint8_t *n)
{
	unsigned at = *head;

	*head = (uint8_t)((*head + 1) % HW_SIGNAL_RING);
	if (*n < HW_SIGNAL_RING)
		(*n)++;
	return at;
}

/* the i-th oldest slot of a ring (i < n) */
static inline unsigned hw_ring_at(uint8_t head, uint8_t n, unsigned i)
{
	return (head + HW_SIGNAL_RING - n + i) % HW_SIGNAL_RING;
}

/* mean and coefficient of variation (population standard deviation over
 * the mean) of v[0..n): the one formula the agent and verify share */
static inline void hw_signal_mean_cv(const double *v, unsigned n, double *mean, double *cv)
{
	double s = 0, ss = 0;

	*mean = 0;
	*cv = 0;
	if (!n)
		return;
	for (unsigned i = 0; i < n; i++)
		s += v[i];
	*mean = s / n;
	for (unsigned i = 0; i < n; i++)
		ss += (v[i] - *mean) * (v[i] - *mean);
	if (*mean > 0)
		*cv = __builtin_sqrt(ss / n) / *mean;
}

/* the gap between two exchange starts in milliseconds of the event clock
 * (kept mod 2^32: 49 days), in seconds; a start earlier than the one
 * before (concurrent connections) gives 0 */
static inline double hw_signal_interval_s(uint32_t a0_ms, uint32_t a1_ms)
{
	int32_t d = (int32_t)(a1_ms - a0_ms);

	return d > 0 ? d / 1e3 : 0;
}

/* Groups sizes into clusters: sorted ascending, a cluster starts at a value
 * and takes every following value up to value * (1 + tol). centers[] gets
 * each cluster's mean, ascending; returns how many (n <= HW_SIGNAL_RING). */
static inline unsigned hw_signal_clusters(const double *v, unsigned n, double tol, double *centers)
{
	double s[HW_SIGNAL_RING];
	unsigned k = 0;

	for (unsigned i = 0; i < n; i++) {
		unsigned j = i;

		while (j && s[j - 1] > v[i]) {
			s[j] = s[j - 1];
			j--;
		}
		s[j] = v[i];
	}
	for (unsigned i = 0, j; i < n; i = j) {
		double sum = 0;

		for (j = i; j < n && s[j] <= s[i] * (1 + tol); j++)
			sum += s[j];
		centers[k++] = sum / (j - i);
	}
	return k;
}

/* P(X >= k) for X ~ Binomial(n, p): how likely k of n exchanges fall in
 * hot bins by chance */
static inline double hw_signal_binom_tail(unsigned n, unsigned k, double p)
{
	double total = 0, c = 1; /* c = C(n, i) */

	if (!k)
		return 1;
	for (unsigned i = 0; i <= n; i++) {
		if (i >= k)
			total += c * __builtin_pow(p, i) * __builtin_pow(1 - p, n - i);
		c = c * (n - i) / (i + 1);
	}
	return total > 1 ? 1 : total;
}

#endif
