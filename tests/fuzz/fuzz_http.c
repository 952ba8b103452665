// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* libFuzzer: HTTP request heads (lenient header lines, folded values,
 * leading empty lines), fingerprint, the body's model (plain and chunked),
 * and identity (a header, X-Forwarded-For walked past trusted proxies)
 * over any bytes. */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include "proto/http.h"
#include "pipeline/identity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hw_identity id = {.kind = HW_ID_HEADER,
					.header = "x-api-key",
					.key = "fuzz-key-0123456789",
					.keylen = 19};
	static const uint8_t addr[16] = {[10] = 0xff, [11] = 0xff, 127, 0, 0, 1};
	struct hw_http_request r;
	char fp[HW_HTTP_FP_LEN + 1], acct[HW_ACCOUNT_LEN + 1], model[HW_HTTP_MODEL_MAX], err[128];
	uint8_t client[16];
	size_t n;
	unsigned keys;

	/* every address a proxy: the X-Forwarded-For walk goes to its end */
	if (!id.n_trusted &&
	    hw_identity_set_trusted(&id, "0.0.0.0/1,128.0.0.0/2,::/0", err, sizeof(err)))
		abort();
	hw_http_body_model(data, size, size && data[0] & 1, model, sizeof(model), &n, &keys);
	if (hw_http_parse_request(data, size, id.header, &r) <= HW_PARSE_INCOMPLETE) {
		hw_http_fingerprint(&r, fp);
		hw_http_ua_family(r.user_agent.p, r.user_agent.n);
		if (r.ident.p) {
			char *flat = malloc(r.ident.n + 1);

			if (flat && hw_http_unfold(r.ident, flat) > r.ident.n)
				abort();
			free(flat);
		}
		hw_identity_account(&id, &r, addr, acct);
		hw_identity_xff_client(&id, &r, addr, client);
		id.kind = HW_ID_XFF;
		hw_identity_account(&id, &r, addr, acct);
		id.kind = HW_ID_HEADER;
	}
	return 0;
}
