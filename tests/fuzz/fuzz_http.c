// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* libFuzzer: HTTP request heads, fingerprint and identity over any bytes. */
#include <stdint.h>
#include <stddef.h>
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
	char fp[HW_HTTP_FP_LEN + 1], acct[HW_ACCOUNT_LEN + 1];

	if (hw_http_parse_request(data, size, id.header, &r) <= HW_PARSE_INCOMPLETE) {
		hw_http_fingerprint(&r, fp);
		hw_http_ua_family(r.user_agent.p, r.user_agent.n);
		hw_identity_account(&id, &r, addr, acct);
		id.kind = HW_ID_XFF;
		hw_identity_account(&id, &r, addr, acct);
		id.kind = HW_ID_HEADER;
	}
	return 0;
}
