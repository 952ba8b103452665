/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Growable arrays: room for one more element, doubling the capacity. */
#ifndef HW_GROW_H
#define HW_GROW_H

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

/* makes room for element n of *arr (elements of elem bytes, capacity
 * *cap, first allocation first elements): 0, or -ENOMEM with the array
 * left as it was */
static inline int hw_grow(void *arr, size_t *cap, size_t n, size_t elem, size_t first)
{
	void **p = arr;
	size_t c;
	void *v;

	if (n < *cap)
		return 0;
	c = *cap ? 2 * *cap : first;
	while (c <= n)
		c *= 2;
	v = realloc(*p, c * elem);
	if (!v)
		return -ENOMEM;
	*p = v;
	*cap = c;
	return 0;
}

#endif
