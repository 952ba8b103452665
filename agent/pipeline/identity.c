// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Identity: HMAC-SHA256(key, kind ":" value), truncated to 96 bits (hex
 * where it is written out).
 * The kind prefix keeps a header value and an address that happen to be
 * the same string from mapping to the same account. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/addr.h"
#include "pipeline/identity.h"
#include "lib/hex.h"
#include "lib/sha.h"

static int parse_prefixes(const char *s, struct hw_identity *id)
{
	unsigned a, b;
	char tail;

	/* ":/24,/48", ":/24" or ":/48,/24" in either order by family size */
	if (sscanf(s, ":/%u,/%u%c", &a, &b, &tail) == 2) {
		if (a > 32 || b > 128 || b < 1 || a < 1)
			return -EINVAL;
		id->prefix4 = a;
		id->prefix6 = b;
		return 0;
	}
	if (sscanf(s, ":/%u%c", &a, &tail) == 1 && a >= 1 && a <= 32) {
		id->prefix4 = a;
		return 0;
	}
	return -EINVAL;
}

int hw_identity_parse(const char *spec, struct hw_identity *id, char *err, size_t errlen)
{
	id->prefix4 = 24;
	id->prefix6 = 48;
	if (!strcmp(spec, "client-ip")) {
		id->kind = HW_ID_CLIENT_IP;
		return 0;
	}
	if (!strcmp(spec, "xff")) {
		id->kind = HW_ID_XFF;
		return 0;
	}
	if (!strncmp(spec, "client-prefix", 13)) {
		id->kind = HW_ID_CLIENT_PREFIX;
		if (spec[13] == '\0' || !parse_prefixes(spec + 13, id))
			return 0;
		snprintf(err, errlen,
			 "--identity %s: want client-prefix, client-prefix:/N (IPv4 bits) or "
			 "client-prefix:/N,/M (IPv4, IPv6 bits)",
			 spec);
		return -EINVAL;
	}
	if (!strncmp(spec, "header:", 7)) {
		const char *name = spec + 7;
		size_t n = strlen(name);

		if (n == 0 || n >= sizeof(id->header)) {
			snprintf(err, errlen,
				 "--identity header:NAME: want a header name of 1-%zu bytes",
				 sizeof(id->header) - 1);
			return -EINVAL;
		}
		for (size_t i = 0; i < n; i++) {
			if (!isalnum((unsigned char)name[i]) && !strchr("-_", name[i])) {
				snprintf(err, errlen, "--identity header:%s: not a header name",
					 name);
				return -EINVAL;
			}
			id->header[i] = (char)tolower((unsigned char)name[i]);
		}
		id->header[n] = '\0';
		id->kind = HW_ID_HEADER;
		return 0;
	}
	snprintf(err, errlen,
		 "--identity %s: want header:NAME, client-ip, client-prefix[:/24,/48] or xff",
		 spec);
	return -EINVAL;
}

int hw_identity_load_key(struct hw_identity *id, const char *path, char *err, size_t errlen)
{
	struct stat st;
	ssize_t n;
	int fd, e;

	if (!path) {
		n = getrandom(id->key, 32, 0);
		if (n != 32) {
			e = n < 0 ? errno : EIO;
			snprintf(err, errlen, "getrandom: %s", strerror(e));
			return -e;
		}
		id->keylen = 32;
		id->ephemeral = true;
		return 0;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "--identity-key %s: %s", path, strerror(e));
		return -e;
	}
	e = fstat(fd, &st) ? errno : S_ISREG(st.st_mode) ? 0 : EINVAL;
	if (e) {
		snprintf(err, errlen, "--identity-key %s: not a regular file", path);
		close(fd);
		return -e;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen,
			 "--identity-key %s: readable by group or others (mode %03o): "
			 "chmod 600 %s",
			 path, (unsigned)(st.st_mode & 0777), path);
		close(fd);
		return -EPERM;
	}
	n = read(fd, id->key, sizeof(id->key));
	e = n < 0 ? errno : EINVAL;
	close(fd);
	/* a trailing newline from `echo` or an editor is not part of the key */
	while (n > 0 && (id->key[n - 1] == '\n' || id->key[n - 1] == '\r'))
		n--;
	if (n < HW_IDENTITY_KEY_MIN) {
		snprintf(err, errlen,
			 "--identity-key %s: want at least %d bytes of key "
			 "(e.g. head -c 32 /dev/urandom > %s)",
			 path, HW_IDENTITY_KEY_MIN, path);
		return -e;
	}
	id->keylen = (size_t)n;
	id->ephemeral = false;
	return 0;
}

bool hw_identity_needs_http(const struct hw_identity *id)
{
	return id->kind == HW_ID_HEADER || id->kind == HW_ID_XFF;
}

/* the account id's bits: HMAC-SHA256(key, kind value), truncated; the value
 * is hashed whole, however long. 0, or -ENOMEM / -EIO (libcrypto failed:
 * no id rather than one made of an uninitialised buffer). */
static int account_of(const struct hw_identity *id, const char *kind, const void *v, size_t n,
		      uint8_t out[HW_ACCOUNT_LEN / 2])
{
	unsigned char small[8 + 512], *msg = small;
	unsigned char mac[HW_SHA256_LEN];
	size_t klen = strlen(kind);
	int err = 0;

	if (klen + n > sizeof(small)) {
		msg = malloc(klen + n);
		if (!msg)
			return -ENOMEM;
	}
	memcpy(msg, kind, klen);
	memcpy(msg + klen, v, n);
	if (hw_hmac_sha256(id->key, id->keylen, msg, klen + n, mac))
		err = -EIO;
	else
		memcpy(out, mac, HW_ACCOUNT_LEN / 2);
	explicit_bzero(msg, klen + n);
	explicit_bzero(mac, sizeof(mac));
	if (msg != small)
		free(msg);
	return err;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int hw_identity_account_bytes(const char *hex, uint8_t out[HW_ACCOUNT_LEN / 2])
{
	for (size_t i = 0; i < HW_ACCOUNT_LEN / 2; i++) {
		int hi = hex_digit(hex[2 * i]), lo = hi < 0 ? -1 : hex_digit(hex[2 * i + 1]);

		if (lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int hw_identity_account(const struct hw_identity *id, const struct hw_http_request *req,
			const uint8_t client_addr[16], char *out)
{
	uint8_t key[HW_ACCOUNT_LEN / 2];
	int err = hw_identity_account_key(id, req, client_addr, key);

	if (err)
		return err;
	hw_hex(key, sizeof(key), out);
	return 0;
}

int hw_identity_account_key(const struct hw_identity *id, const struct hw_http_request *req,
			    const uint8_t client_addr[16], uint8_t out[HW_ACCOUNT_LEN / 2])
{
	uint8_t a[16];

	switch (id->kind) {
	case HW_ID_CLIENT_IP:
		return account_of(id, "ip:", client_addr, 16, out);
	case HW_ID_CLIENT_PREFIX: {
		hw_addr_prefix(client_addr, id->prefix4, id->prefix6, a);
		return account_of(id, "net:", a, 16, out);
	}
	case HW_ID_HEADER:
		if (!req || !req->ident.p || !req->ident.n)
			return -ENOENT;
		return account_of(id, "h:", req->ident.p, req->ident.n, out);
	case HW_ID_XFF: {
		size_t n = 0;

		if (!req || !req->xff.p)
			return -ENOENT;
		/* the left-most entry is the original client */
		while (n < req->xff.n && req->xff.p[n] != ',')
			n++;
		while (n && req->xff.p[n - 1] == ' ')
			n--;
		if (!n)
			return -ENOENT;
		return account_of(id, "xff:", req->xff.p, n, out);
	}
	}
	return -EINVAL;
}
