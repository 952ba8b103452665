/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* TLS ClientHello parsing and the JA4 fingerprint (FoxIO JA4 specification,
 * technical_details/JA4.md). A pure function over captured bytes. */
#ifndef HW_TLS_H
#define HW_TLS_H

#include <stddef.h>
#include <stdint.h>
#include "proto/parse.h"

#define HW_TLS_MAX_CIPHERS 256
#define HW_TLS_MAX_EXTS	   128
#define HW_TLS_MAX_SIGALGS 128
#define HW_SNI_MAX	   255
#define HW_ALPN_MAX	   64	 /* first ALPN value as printed: longer ones are cut */
#define HW_JA4_LEN	   36	 /* t13d1516h2_8daaf6152771_e5627efa2ab1 */
#define HW_HELLO_MAX	   16384 /* a ClientHello larger than this is refused */

struct hw_client_hello {
	uint16_t legacy_version;
	uint16_t max_supported_version; /* from supported_versions, 0 if absent */
	int has_supported_versions;
	uint16_t ciphers[HW_TLS_MAX_CIPHERS]; /* GREASE removed, wire order */
	unsigned n_ciphers;
	uint16_t exts[HW_TLS_MAX_EXTS]; /* GREASE removed, wire order */
	unsigned n_exts;
	uint16_t sigalgs[HW_TLS_MAX_SIGALGS]; /* GREASE removed, wire order */
	unsigned n_sigalgs;
	int has_sni;
	char sni[HW_SNI_MAX + 1];	 /* printable host name, "" if none */
	unsigned char alpn[HW_ALPN_MAX]; /* first ALPN protocol, raw */
	unsigned alpn_len;
	char alpn_list[HW_ALPN_MAX * 2]; /* all protocols, comma-joined, printable */
};

/* Parses a ClientHello from the start of a TCP stream (TLS records, the
 * handshake possibly spread over several). */
enum hw_parse_result hw_tls_parse_client_hello(const uint8_t *buf, size_t len,
					       struct hw_client_hello *out);
/* JA4 of a parsed hello into out[HW_JA4_LEN + 1]. */
void hw_tls_ja4(const struct hw_client_hello *h, char *out);
int hw_tls_is_grease(uint16_t v);

#endif
