// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Identity: HMAC-SHA256(key, kind ":" value), truncated to 96 bits (hex
 * where it is written out).
 * The kind prefix keeps a header value and an address that happen to be
 * the same string from mapping to the same account. */
#include <arpa/inet.h>
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

/* one address as text, IPv4 v4-mapped; 4 or 6 by its family, or -EINVAL */
static int addr_parse(const char *s, size_t n, uint8_t out[16])
{
	char buf[INET6_ADDRSTRLEN];

	if (!n || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	memset(out, 0, 16);
	if (inet_pton(AF_INET, buf, out + 12) == 1) {
		out[10] = out[11] = 0xff;
		return 4;
	}
	return inet_pton(AF_INET6, buf, out) == 1 ? 6 : -EINVAL;
}

static bool in_cidr(const struct hw_cidr *c, const uint8_t a[16])
{
	unsigned full = c->bits / 8, rest = c->bits % 8;

	if (memcmp(c->addr, a, full))
		return false;
	return !rest || !((c->addr[full] ^ a[full]) & (0xff00 >> rest));
}

bool hw_identity_trusted(const struct hw_identity *id, const uint8_t addr[16])
{
	for (unsigned i = 0; i < id->n_trusted; i++)
		if (in_cidr(&id->trusted[i], addr))
			return true;
	return false;
}

int hw_identity_set_trusted(struct hw_identity *id, const char *list, char *err, size_t errlen)
{
	struct hw_cidr r[HW_TRUSTED_MAX];
	const char *p = list;
	unsigned n = 0;

	if (!strcmp(list, "none")) {
		id->n_trusted = 0;
		return 0;
	}
	while (*p) {
		size_t len = strcspn(p, ","), alen = strcspn(p, "/,");
		struct hw_cidr c = {0};
		int fam = addr_parse(p, alen, c.addr);
		unsigned long bits = fam == 4 ? 32 : 128;
		char *end;

		if (n == HW_TRUSTED_MAX) {
			snprintf(err, errlen, "--trusted-proxies: at most %d ranges",
				 HW_TRUSTED_MAX);
			return -EINVAL;
		}
		if (fam < 0)
			goto bad;
		if (alen < len) {
			errno = 0;
			bits = strtoul(p + alen + 1, &end, 10);
			if (errno || end != p + len || end == p + alen + 1 ||
			    bits > (fam == 4 ? 32u : 128u))
				goto bad;
		}
		c.bits = (unsigned)bits + (fam == 4 ? 96 : 0);
		/* the network, so that in_cidr need not mask it */
		for (unsigned b = c.bits; b < 128; b++)
			c.addr[b / 8] &= (uint8_t) ~(0x80 >> (b % 8));
		r[n++] = c;
		p += len;
		if (*p == ',' && *++p == '\0')
			goto bad; /* a trailing comma */
	}
	if (!n)
		goto bad;
	memcpy(id->trusted, r, n * sizeof(r[0]));
	id->n_trusted = n;
	return 0;
bad:
	snprintf(err, errlen,
		 "--trusted-proxies %s: want addresses or ranges such as 10.0.0.0/8,fd00::/8 "
		 "(or none)",
		 list);
	return -EINVAL;
}

static bool xff_sep(char c)
{
	/* nginx splits on commas and spaces; a folded line's end is a space */
	return c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* an X-Forwarded-For entry: an address, maybe with a port ("192.0.2.1:443",
 * "[2001:db8::1]:443", as some proxies write them) */
static int xff_entry(const char *s, size_t n, uint8_t out[16])
{
	const char *colon;

	if (n && s[0] == '[') {
		const char *close = memchr(s, ']', n);

		if (!close)
			return -EINVAL;
		return addr_parse(s + 1, (size_t)(close - s - 1), out);
	}
	colon = memchr(s, ':', n);
	if (colon && !memchr(colon + 1, ':', (size_t)(s + n - colon - 1)) && memchr(s, '.', n))
		n = (size_t)(colon - s);
	return addr_parse(s, n, out);
}

int hw_identity_xff_client(const struct hw_identity *id, const struct hw_http_request *req,
			   const uint8_t peer[16], uint8_t out[16])
{
	bool found = false;

	memcpy(out, peer, 16);
	if (!hw_identity_trusted(id, peer))
		return 0;
	for (unsigned h = req ? req->n_xff : 0; h-- > 0;) {
		const char *b = req->xff[h].p, *e = b ? b + req->xff[h].n : b;

		while (b && e > b) {
			const char *s;
			uint8_t a[16];

			while (e > b && xff_sep(e[-1]))
				e--;
			if (e == b)
				break;
			for (s = e; s > b && !xff_sep(s[-1]); s--)
				;
			if (xff_entry(s, (size_t)(e - s), a) < 0)
				return found ? 0 : -EINVAL;
			memcpy(out, a, 16);
			found = true;
			if (!hw_identity_trusted(id, a))
				return 0;
			e = s;
		}
	}
	return found ? 0 : -ENOENT;
}

int hw_identity_parse(const char *spec, struct hw_identity *id, char *err, size_t errlen)
{
	char msg[8];

	id->prefix4 = 24;
	id->prefix6 = 48;
	if (hw_identity_set_trusted(id, HW_TRUSTED_PROXIES_DEFAULT, msg, sizeof(msg)))
		return -EINVAL; /* cannot happen: the default parses */
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

/* a header value continued over folded lines: hashed as servers read it,
 * each fold one space, so it is the account of the same value on one line */
static int account_folded(const struct hw_identity *id, struct hw_str v,
			  uint8_t out[HW_ACCOUNT_LEN / 2])
{
	char *flat = malloc(v.n ? v.n : 1);
	size_t n;
	int err;

	if (!flat)
		return -ENOMEM;
	n = hw_http_unfold(v, flat);
	err = n ? account_of(id, "h:", flat, n, out) : -ENOENT;
	explicit_bzero(flat, v.n);
	free(flat);
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
		if (req->ident_folded)
			return account_folded(id, req->ident, out);
		return account_of(id, "h:", req->ident.p, req->ident.n, out);
	case HW_ID_XFF: {
		int err = hw_identity_xff_client(id, req, client_addr, a);

		/* the client's address: the account client-ip would give it */
		return err ? err : account_of(id, "ip:", a, 16, out);
	}
	}
	return -EINVAL;
}
