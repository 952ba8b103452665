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
/* --trusted-proxies: entries kept, and the default (uvicorn's
 * --forwarded-allow-ips trusts 127.0.0.1 alone by default, nginx nothing
 * until set_real_ip_from names it: a proxy on the same host) */
#define HW_TRUSTED_MAX		   64
#define HW_TRUSTED_PROXIES_DEFAULT "127.0.0.0/8,::1/128"

enum hw_identity_kind {
	HW_ID_CLIENT_IP = 0,
	HW_ID_CLIENT_PREFIX,
	HW_ID_HEADER,
	HW_ID_XFF,
};

/* an address range: IPv4 v4-mapped, bits counted over the 16 bytes */
struct hw_cidr {
	uint8_t addr[16];
	unsigned bits;
};

struct hw_identity {
	enum hw_identity_kind kind;
	char header[HW_HEADER_NAME_MAX]; /* lowercase, for HW_ID_HEADER */
	unsigned prefix4;		 /* bits kept of IPv4 addresses */
	unsigned prefix6;		 /* bits kept of IPv6 addresses */
	unsigned char key[HW_IDENTITY_KEY_MAX];
	size_t keylen;
	bool ephemeral; /* random key: ids change on restart */
	/* xff: the proxies whose X-Forwarded-For entries are believed */
	struct hw_cidr trusted[HW_TRUSTED_MAX];
	unsigned n_trusted;
};

/* "header:NAME", "client-ip", "client-prefix[:/24,/48]", "xff"; the trusted
 * proxies are reset to HW_TRUSTED_PROXIES_DEFAULT. Returns 0, or -EINVAL
 * with err. */
int hw_identity_parse(const char *spec, struct hw_identity *id, char *err, size_t errlen);
/* Loads the HMAC key from path; refuses a file group or others can read.
 * path NULL: a random key (id->ephemeral). Returns 0, or -errno with err
 * (-EPERM: the file's mode; -EINVAL: too short or not a regular file). */
int hw_identity_load_key(struct hw_identity *id, const char *path, char *err, size_t errlen);
/* --trusted-proxies: "CIDR,CIDR,..." (an address alone is its /32 or
 * /128), or "none". 0, or -EINVAL with err. */
int hw_identity_set_trusted(struct hw_identity *id, const char *list, char *err, size_t errlen);
bool hw_identity_trusted(const struct hw_identity *id, const uint8_t addr[16]);
/* xff: the client's address as nginx's real_ip module with
 * real_ip_recursive on finds it. A peer that is not a trusted proxy is the
 * client: whatever X-Forwarded-For it sent is its own writing. From a
 * trusted peer, the entries of every X-Forwarded-For line (one list, in
 * wire order) are walked from the right, past trusted proxies: the first
 * untrusted address is the client, or the left-most entry when all are
 * trusted; an entry that is no address ends the walk at the address
 * before it. 0 with out, -ENOENT (a trusted peer sent no entry), or
 * -EINVAL (the right-most entry is no address). */
int hw_identity_xff_client(const struct hw_identity *id, const struct hw_http_request *req,
			   const uint8_t peer[16], uint8_t out[16]);
/* Derives the account id into out[HW_ACCOUNT_LEN + 1]. req may be NULL
 * (no HTTP head). xff accounts are the client address's, as client-ip
 * makes them. Returns 0, -ENOENT when the configured source is absent (no
 * such header; a trusted peer without X-Forwarded-For), -EINVAL (an
 * X-Forwarded-For entry that is no address), or -ENOMEM/-EIO (libcrypto). */
int hw_identity_account(const struct hw_identity *id, const struct hw_http_request *req,
			const uint8_t client_addr[16], char *out);
/* The same id as its bits (what hw_identity_account writes in hex). */
int hw_identity_account_key(const struct hw_identity *id, const struct hw_http_request *req,
			    const uint8_t client_addr[16], uint8_t out[HW_ACCOUNT_LEN / 2]);
/* An account id's bits back from its hex: 0, or -EINVAL for a malformed id. */
int hw_identity_account_bytes(const char *hex, uint8_t out[HW_ACCOUNT_LEN / 2]);
/* true if the mode reads the HTTP head (xff only from a trusted peer) */
bool hw_identity_needs_http(const struct hw_identity *id);

#endif
