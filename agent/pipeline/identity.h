/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Accounts: what --identity names (a request header, the client address,
 * its prefix, or X-Forwarded-For), turned into a keyed hash at once.
 * Raw values are read where they lie in the capture; the only copy is the
 * HMAC's input, wiped as soon as it is hashed. */
#ifndef HW_IDENTITY_H
#define HW_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "proto/http.h"

#define HW_ACCOUNT_LEN	    24 /* hex characters: 96 bits of HMAC-SHA256 */
#define HW_IDENTITY_KEY_MIN 16
#define HW_IDENTITY_KEY_MAX 256
#define HW_HEADER_NAME_MAX  64

enum hw_identity_kind {
	HW_ID_CLIENT_IP = 0,
	HW_ID_CLIENT_PREFIX,
	HW_ID_HEADER,
	HW_ID_XFF,
};

struct hw_identity {
	enum hw_identity_kind kind;
	char header[HW_HEADER_NAME_MAX]; /* lowercase, for HW_ID_HEADER */
	unsigned prefix4;		 /* bits kept of IPv4 addresses */
	unsigned prefix6;		 /* bits kept of IPv6 addresses */
	unsigned char key[HW_IDENTITY_KEY_MAX];
	size_t keylen;
	bool ephemeral; /* random key: ids change on restart */
};

/* "header:NAME", "client-ip", "client-prefix[:/24,/48]", "xff". Returns 0,
 * or -EINVAL with err. */
int hw_identity_parse(const char *spec, struct hw_identity *id, char *err, size_t errlen);
/* Loads the HMAC key from path; refuses a file group or others can read.
 * path NULL: a random key (id->ephemeral). Returns 0, or -errno with err
 * (-EPERM: the file's mode; -EINVAL: too short or not a regular file). */
int hw_identity_load_key(struct hw_identity *id, const char *path, char *err, size_t errlen);
/* Derives the account id into out[HW_ACCOUNT_LEN + 1]. req may be NULL
 * (no HTTP head). Returns 0, or -ENOENT when the configured source is
 * absent (no such header, no X-Forwarded-For). */
int hw_identity_account(const struct hw_identity *id, const struct hw_http_request *req,
			const uint8_t client_addr[16], char *out);
/* The same id as its bits (what hw_identity_account writes in hex). */
int hw_identity_account_key(const struct hw_identity *id, const struct hw_http_request *req,
			    const uint8_t client_addr[16], uint8_t out[HW_ACCOUNT_LEN / 2]);
/* An account id's bits back from its hex: 0, or -EINVAL for a malformed id. */
int hw_identity_account_bytes(const char *hex, uint8_t out[HW_ACCOUNT_LEN / 2]);
/* true if the mode needs the HTTP head */
bool hw_identity_needs_http(const struct hw_identity *id);

#endif
