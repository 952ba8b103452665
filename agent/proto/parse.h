/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* What every parser in proto/ returns: they are pure functions over bytes
 * that may be incomplete, foreign or hostile. */
#ifndef HW_PARSE_H
#define HW_PARSE_H

enum hw_parse_result {
	HW_PARSE_OK = 0,
	HW_PARSE_INCOMPLETE, /* well-formed so far, more bytes needed */
	HW_PARSE_NOT_MINE,   /* not this protocol at all */
	HW_PARSE_ERROR,	     /* malformed */
};

#endif
