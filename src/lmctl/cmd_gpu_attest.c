/* SPDX-License-Identifier: MIT */
/* lmctl gpu-attest verify | emulate | report: a thin front end over lm_gpu_attest.h / lm_gpu.h. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "landmark/lm_gpu.h"
#include "landmark/lm_gpu_attest.h"
#include "lmctl.h"

static const char *const usage_text =
	"usage: lmctl gpu-attest verify REPORT --chain CHAIN.pem --root ROOT.pem [--nonce HEX]\n"
	"       lmctl gpu-attest emulate DIR --gpu-id ID\n"
	"       lmctl gpu-attest report (--emulated DIR | --nvml [--index N]) --nonce HEX\n"
	"                               [--chain-out FILE]\n"
	"  verify   check an SPDM GET_MEASUREMENTS report (hex or binary): ECDSA P-384\n"
	"           signature with the chain's leaf key, chain to the pinned root, GPU id\n"
	"           from the leaf, requester nonce; prints JSON, exit 0 ok, 1 rejected, 2 error\n"
	"  emulate  make an emulated GPU (P-384 attestation key, chain, root) in DIR\n"
	"  report   get a signed report over nonce HEX (64 hex digits) from an emulated GPU\n"
	"           or from NVML (GPU in confidential-computing mode); prints it as hex\n";

static int
parse_nonce(const char *cmd, const char *hex, uint8_t out[static LM_SPDM_NONCE_LEN])
{
	size_t n = 0;

	if (strlen(hex) != 2 * LM_SPDM_NONCE_LEN ||
		sodium_hex2bin(out, LM_SPDM_NONCE_LEN, hex, strlen(hex), NULL, &n, NULL) != 0 ||
		n != LM_SPDM_NONCE_LEN) {
		lmctl_err(cmd, "--nonce %s: must be %d hex digits", hex, 2 * LM_SPDM_NONCE_LEN);
		return -1;
	}
	return 0;
}

static json_t *
hex_json(const uint8_t *p, size_t len)
{
	char *h = malloc(2 * len + 1);
	json_t *j;

	if (h == NULL) {
		return json_null();
	}
	sodium_bin2hex(h, 2 * len + 1, p, len);
	j = json_string(h);
	free(h);
	return j;
}

static json_t *
result_json(const struct lm_attest_result *r)
{
	json_t *o = json_object();
	const struct lm_spdm_report *s = &r->report;
	const uint8_t *dv;
	uint16_t dvl;

	json_object_set_new(o, "ok", json_boolean(r->err == LM_ATTEST_OK));
	json_object_set_new(o, "reason",
		r->err == LM_ATTEST_OK ? json_null() : json_string(lm_attest_strerr(r->err)));
	json_object_set_new(
		o, "error", r->err == LM_ATTEST_OK ? json_null() : json_string(r->detail));
	json_object_set_new(o, "gpu_id", r->gpu_id[0] ? json_string(r->gpu_id) : json_null());
	json_object_set_new(
		o, "nonce", r->parsed ? hex_json(s->req_nonce, LM_SPDM_NONCE_LEN) : json_null());
	json_object_set_new(o, "nonce_checked", json_boolean(r->nonce_checked));
	json_object_set_new(
		o, "nonce_ok", r->nonce_checked ? json_boolean(r->nonce_ok) : json_null());
	json_object_set_new(o, "signature_ok", json_boolean(r->signature_ok));
	json_object_set_new(o, "chain_ok", json_boolean(r->chain_ok));
	json_object_set_new(o, "chain_length", json_integer(r->chain_len));
	json_object_set_new(o, "leaf_subject", json_string(r->leaf_subject));
	json_object_set_new(o, "ak_hash", hex_json(r->ak_hash, sizeof(r->ak_hash)));
	if (!r->parsed) {
		return o;
	}
	json_object_set_new(
		o, "spdm_version", json_sprintf("%u.%u", s->version >> 4, s->version & 0x0f));
	json_object_set_new(o, "measurement_count", json_integer(s->n_blocks));
	json_object_set_new(o, "measurement_record_bytes", json_integer(s->record_len));
	json_object_set_new(o, "responder_nonce", hex_json(s->resp_nonce, LM_SPDM_NONCE_LEN));
	json_object_set_new(o, "opaque_fields", json_integer(s->opaque_fields));
	if (lm_spdm_opaque_field(s, LM_SPDM_OPAQUE_DRIVER_VERSION, &dv, &dvl) == 0 && dvl > 0 &&
		memchr(dv, '\0', dvl) != NULL) {
		json_object_set_new(o, "driver_version", json_string((const char *)dv));
	}
	json_object_set_new(o, "signed_bytes", json_integer((json_int_t)s->signed_len));
	json_object_set_new(o, "report_bytes", json_integer((json_int_t)s->len));
	return o;
}

static int
cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{"chain", required_argument, NULL, 'c'},
		{"root", required_argument, NULL, 'r'},
		{"nonce", required_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *chain = NULL, *root = NULL, *nonce_hex = NULL;
	uint8_t nonce[LM_SPDM_NONCE_LEN];
	struct lm_attest_result res;
	enum lm_attest_err ae;
	struct lm_attest_pki *pki;
	char err[256] = "";
	uint8_t *buf = NULL;
	json_t *out;
	long len;
	int c, ret = 2;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			chain = optarg;
			break;
		case 'r':
			root = optarg;
			break;
		case 'n':
			nonce_hex = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			return 2;
		}
	}
	if (optind + 1 != argc || chain == NULL || root == NULL) {
		lmctl_err("gpu-attest",
			"usage: lmctl gpu-attest verify REPORT --chain CHAIN.pem "
			"--root ROOT.pem [--nonce HEX]");
		return 2;
	}
	if (nonce_hex != NULL && parse_nonce("gpu-attest", nonce_hex, nonce) != 0) {
		return 2;
	}
	buf = malloc(LM_SPDM_REPORT_MAX);
	if (buf == NULL) {
		lmctl_err("gpu-attest", "out of memory");
		return 2;
	}
	len = lm_attest_report_read(argv[optind], buf, LM_SPDM_REPORT_MAX);
	if (len < 0) {
		lmctl_err("gpu-attest", "%s: %s", argv[optind],
			len == -EBADMSG ? "not a hex or binary report" : strerror((int)-len));
		goto out;
	}
	pki = lm_attest_pki_load_files(chain, root, err, sizeof(err));
	if (pki == NULL) {
		lmctl_err("gpu-attest", "%s", err);
		goto out;
	}
	ae = lm_attest_verify(&res, pki, buf, (size_t)len, nonce_hex != NULL ? nonce : NULL);
	lm_attest_pki_destroy(pki);
	out = result_json(&res);
	json_dumpf(out, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(out);
	if (ae != LM_ATTEST_OK) {
		lmctl_err("gpu-attest", "%s: rejected: %s", argv[optind], res.detail);
		ret = 1;
	} else {
		ret = 0;
	}
out:
	free(buf);
	return ret;
}

static int
cmd_emulate(int argc, char **argv)
{
	static const struct option opts[] = {
		{"gpu-id", required_argument, NULL, 'g'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *gpu_id = NULL;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'g':
			gpu_id = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			return 2;
		}
	}
	if (optind + 1 != argc || gpu_id == NULL) {
		lmctl_err("gpu-attest", "usage: lmctl gpu-attest emulate DIR --gpu-id ID");
		return 2;
	}
	rc = lm_gpu_emu_generate(argv[optind], gpu_id);
	if (rc != 0) {
		lmctl_err("gpu-attest", "emulate %s: %s", argv[optind],
			rc == -EINVAL ? "--gpu-id must be 1..128 printable characters, no ','"
				: rc == -EIO ? "OpenSSL failed to make the keys or certificates"
					     : strerror(-rc));
		return 2;
	}
	printf("%s/%s\n%s/%s\n%s/%s\n", argv[optind], LM_GPU_EMU_KEY, argv[optind],
		LM_GPU_EMU_CHAIN, argv[optind], LM_GPU_EMU_ROOT);
	return 0;
}

static int
write_text(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "wxe");
	int ok;

	if (f == NULL) {
		return -errno;
	}
	ok = fwrite(text, 1, len, f) == len;
	if (fclose(f) != 0) {
		ok = 0;
	}
	return ok ? 0 : -EIO;
}

static int
cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{"emulated", required_argument, NULL, 'e'},
		{"nvml", no_argument, NULL, 'v'},
		{"index", required_argument, NULL, 'i'},
		{"nonce", required_argument, NULL, 'n'},
		{"chain-out", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *emu = NULL, *nonce_hex = NULL, *chain_out = NULL;
	uint8_t nonce[LM_SPDM_NONCE_LEN];
	long long index = 0;
	int nvml = 0, c, ret = 2;
	struct lm_gpu *g;
	char err[256] = "";
	uint8_t *buf = NULL;
	char *hex = NULL, *pem = NULL;
	size_t pem_len = 0;
	long len;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			emu = optarg;
			break;
		case 'v':
			nvml = 1;
			break;
		case 'i':
			if (lmctl_parse_i64("gpu-attest", "index", optarg, 0, 63, &index) != 0) {
				return 2;
			}
			break;
		case 'n':
			nonce_hex = optarg;
			break;
		case 'o':
			chain_out = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			return 2;
		}
	}
	if (optind != argc || (emu == NULL) == !nvml || nonce_hex == NULL) {
		lmctl_err("gpu-attest",
			"usage: lmctl gpu-attest report (--emulated DIR | --nvml "
			"[--index N]) --nonce HEX [--chain-out FILE]");
		return 2;
	}
	if (parse_nonce("gpu-attest", nonce_hex, nonce) != 0) {
		return 2;
	}
	g = emu != NULL ? lm_gpu_emu_open(emu, err, sizeof(err))
			: lm_gpu_nvml_open((unsigned)index, err, sizeof(err));
	if (g == NULL) {
		lmctl_err("gpu-attest", "%s GPU: %s", emu != NULL ? "emulated" : "nvml", err);
		return 2;
	}
	buf = malloc(LM_SPDM_REPORT_MAX);
	hex = malloc(2 * LM_SPDM_REPORT_MAX + 1);
	if (buf == NULL || hex == NULL) {
		lmctl_err("gpu-attest", "out of memory");
		goto out;
	}
	len = lm_gpu_report(g, nonce, buf, LM_SPDM_REPORT_MAX, err, sizeof(err));
	if (len < 0) {
		lmctl_err("gpu-attest", "%s GPU: report: %s", lm_gpu_backend(g), err);
		goto out;
	}
	if (chain_out != NULL) {
		int rc = lm_gpu_chain_pem(g, &pem, &pem_len, err, sizeof(err));

		if (rc == 0) {
			rc = write_text(chain_out, pem, pem_len);
			snprintf(err, sizeof(err), "%s: %s", chain_out, strerror(-rc));
		}
		if (rc != 0) {
			lmctl_err("gpu-attest", "%s GPU: chain: %s", lm_gpu_backend(g), err);
			goto out;
		}
	}
	sodium_bin2hex(hex, 2 * LM_SPDM_REPORT_MAX + 1, buf, (size_t)len);
	printf("%s\n", hex);
	ret = 0;
out:
	free(pem);
	free(hex);
	free(buf);
	lm_gpu_destroy(g);
	return ret;
}

int
lmctl_cmd_gpu_attest(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage_text, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "verify")) {
		return cmd_verify(argc - 1, argv + 1);
	}
	if (!strcmp(argv[1], "emulate")) {
		return cmd_emulate(argc - 1, argv + 1);
	}
	if (!strcmp(argv[1], "report")) {
		return cmd_report(argc - 1, argv + 1);
	}
	lmctl_err("gpu-attest", "unknown subcommand '%s' (verify, emulate, report)", argv[1]);
	return 2;
}
