/* SPDX-License-Identifier: MIT */
#include "landmark/lm_common.h"

static const char *const reason_names[LM_E__COUNT] = {
	[LM_OK] = "ok",
	[LM_E_SHORT] = "short",
	[LM_E_LONG] = "long",
	[LM_E_MAGIC] = "magic",
	[LM_E_VERSION] = "version",
	[LM_E_TYPE] = "type",
	[LM_E_LENGTH] = "length",
	[LM_E_FIELD] = "field",
	[LM_E_KEY] = "key",
	[LM_E_SIG] = "sig",
	[LM_E_EXPIRED] = "expired",
	[LM_E_NOTYET] = "not_yet_valid",
	[LM_E_ISSUER] = "issuer",
	[LM_E_BINDING] = "binding",
	[LM_E_MAC] = "mac",
	[LM_E_COMMIT] = "commit",
	[LM_E_PROOF] = "proof",
	[LM_E_CHAIN] = "chain",
	[LM_E_RESERVED] = "reserved",
};

const char *
lm_reason_str(enum lm_reason r)
{
	if ((unsigned)r >= LM_E__COUNT || reason_names[r] == NULL) {
		return "unknown";
	}
	return reason_names[r];
}
