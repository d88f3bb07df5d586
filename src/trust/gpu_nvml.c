/* SPDX-License-Identifier: MIT */
/*
 * NVML back end: libnvidia-ml.so.1 loaded with dlopen() at run time, so landmark builds and
 * runs everywhere and uses the GPU only where the library and a GPU in confidential-
 * computing mode exist. The NVML declarations below are the few this file needs, copied by
 * layout from NVIDIA's nvml.h (CUDA 12): NVML is a C ABI and these structs are fixed-size.
 * Untested without such a GPU (docs/gpu-attest.md).
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu_private.h"

#define NVML_SUCCESS 0
#define NVML_CC_SYSTEM_FEATURE_ENABLED 1
#define NVML_CC_GPU_CEC_NONCE_SIZE 0x20
#define NVML_CC_GPU_ATTESTATION_REPORT_SIZE 0x2000
#define NVML_CC_GPU_CEC_ATTESTATION_REPORT_SIZE 0x1000
#define NVML_GPU_CERT_CHAIN_SIZE 0x1000
#define NVML_GPU_ATTESTATION_CERT_CHAIN_SIZE 0x1400

typedef int nvml_ret;
typedef void *nvml_device;

struct nvml_cc_state {
	unsigned int environment;
	unsigned int cc_feature;
	unsigned int dev_tools_mode;
};

struct nvml_cert {
	unsigned int cert_chain_size;
	unsigned int attestation_cert_chain_size;
	unsigned char cert_chain[NVML_GPU_CERT_CHAIN_SIZE];
	unsigned char attestation_cert_chain[NVML_GPU_ATTESTATION_CERT_CHAIN_SIZE];
};

struct nvml_report {
	unsigned int is_cec_report_present;
	unsigned int report_size;
	unsigned int cec_report_size;
	unsigned char nonce[NVML_CC_GPU_CEC_NONCE_SIZE];
	unsigned char report[NVML_CC_GPU_ATTESTATION_REPORT_SIZE];
	unsigned char cec_report[NVML_CC_GPU_CEC_ATTESTATION_REPORT_SIZE];
};

struct gpu_nvml {
	struct lm_gpu gpu;
	void *lib;
	nvml_device dev;
	nvml_ret (*init)(void);
	nvml_ret (*shutdown)(void);
	nvml_ret (*by_index)(unsigned int, nvml_device *);
	nvml_ret (*cc_state)(struct nvml_cc_state *);
	nvml_ret (*report)(nvml_device, struct nvml_report *);
	nvml_ret (*cert)(nvml_device, struct nvml_cert *);
	const char *(*strerr)(nvml_ret);
	int inited;
};

static const char *
nv_err(const struct gpu_nvml *n, nvml_ret r)
{
	const char *s = n->strerr != NULL ? n->strerr(r) : NULL;

	return s != NULL ? s : "unknown NVML error";
}

static long
nvml_report_fn(struct lm_gpu *g, const uint8_t nonce[static LM_SPDM_NONCE_LEN], uint8_t *out,
	size_t cap, char *err, size_t errlen)
{
	struct gpu_nvml *n = (struct gpu_nvml *)g;
	struct nvml_report *r = calloc(1, sizeof(*r));
	nvml_ret rc;
	long len;

	if (r == NULL) {
		return -ENOMEM;
	}
	memcpy(r->nonce, nonce, LM_SPDM_NONCE_LEN);
	rc = n->report(n->dev, r);
	if (rc != NVML_SUCCESS) {
		snprintf(err, errlen, "nvmlDeviceGetConfComputeGpuAttestationReport: %s",
			nv_err(n, rc));
		free(r);
		return -EIO;
	}
	if (r->report_size == 0 || r->report_size > sizeof(r->report)) {
		snprintf(err, errlen, "NVML returned a report of %u bytes", r->report_size);
		free(r);
		return -EIO;
	}
	if (r->report_size > cap) {
		snprintf(err, errlen, "report of %u bytes, buffer has %zu", r->report_size, cap);
		free(r);
		return -EMSGSIZE;
	}
	memcpy(out, r->report, r->report_size);
	len = (long)r->report_size;
	free(r);
	return len;
}

static int
nvml_chain_fn(struct lm_gpu *g, char **pem, size_t *len, char *err, size_t errlen)
{
	struct gpu_nvml *n = (struct gpu_nvml *)g;
	struct nvml_cert *c = calloc(1, sizeof(*c));
	nvml_ret rc;
	size_t l;

	if (c == NULL) {
		return -ENOMEM;
	}
	rc = n->cert(n->dev, c);
	if (rc != NVML_SUCCESS) {
		snprintf(err, errlen, "nvmlDeviceGetConfComputeGpuCertificate: %s", nv_err(n, rc));
		free(c);
		return -EIO;
	}
	l = c->attestation_cert_chain_size;
	if (l == 0 || l > sizeof(c->attestation_cert_chain)) {
		snprintf(err, errlen, "NVML returned an attestation chain of %zu bytes", l);
		free(c);
		return -EIO;
	}
	*pem = malloc(l + 1);
	if (*pem == NULL) {
		free(c);
		return -ENOMEM;
	}
	/* PEM text, leaf first; stop at a NUL if NVML counted one */
	memcpy(*pem, c->attestation_cert_chain, l);
	(*pem)[l] = '\0';
	*len = strlen(*pem);
	free(c);
	return 0;
}

static void
nvml_destroy(struct lm_gpu *g)
{
	struct gpu_nvml *n = (struct gpu_nvml *)g;

	if (n->inited && n->shutdown != NULL) {
		n->shutdown();
	}
	if (n->lib != NULL) {
		dlclose(n->lib);
	}
	free(n);
}

static const struct lm_gpu_ops nvml_ops = {
	.name = "nvml",
	.report = nvml_report_fn,
	.chain_pem = nvml_chain_fn,
	.destroy = nvml_destroy,
};

/* Resolve one symbol; *(void **) cast is the POSIX-blessed way to take a function pointer. */
static int
sym(struct gpu_nvml *n, void *slot, const char *name, char *err, size_t errlen)
{
	void *p = dlsym(n->lib, name);

	if (p == NULL) {
		snprintf(err, errlen, "libnvidia-ml.so.1 has no %s (driver too old?)", name);
		return -1;
	}
	memcpy(slot, &p, sizeof(p));
	return 0;
}

struct lm_gpu *
lm_gpu_nvml_open(unsigned index, char *err, size_t errlen)
{
	struct gpu_nvml *n = calloc(1, sizeof(*n));
	struct nvml_cc_state st;
	const char *lib = getenv("LM_NVML_LIBRARY");
	nvml_ret rc;
	int e;

	if (n == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	n->gpu.ops = &nvml_ops;
	if (lib == NULL || lib[0] == '\0') {
		lib = "libnvidia-ml.so.1";
	}
	n->lib = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	if (n->lib == NULL) {
		snprintf(err, errlen, "NVML not available: %s", dlerror());
		e = ENOENT;
		goto fail;
	}
	if (sym(n, &n->init, "nvmlInit_v2", err, errlen) != 0 ||
		sym(n, &n->shutdown, "nvmlShutdown", err, errlen) != 0 ||
		sym(n, &n->by_index, "nvmlDeviceGetHandleByIndex_v2", err, errlen) != 0 ||
		sym(n, &n->strerr, "nvmlErrorString", err, errlen) != 0 ||
		sym(n, &n->cc_state, "nvmlSystemGetConfComputeState", err, errlen) != 0 ||
		sym(n, &n->report, "nvmlDeviceGetConfComputeGpuAttestationReport", err, errlen) !=
			0 ||
		sym(n, &n->cert, "nvmlDeviceGetConfComputeGpuCertificate", err, errlen) != 0) {
		e = ENOSYS;
		goto fail;
	}
	rc = n->init();
	if (rc != NVML_SUCCESS) {
		snprintf(err, errlen, "nvmlInit_v2: %s", nv_err(n, rc));
		e = ENODEV;
		goto fail;
	}
	n->inited = 1;
	rc = n->by_index(index, &n->dev);
	if (rc != NVML_SUCCESS) {
		snprintf(err, errlen, "GPU %u: nvmlDeviceGetHandleByIndex_v2: %s", index,
			nv_err(n, rc));
		e = ENODEV;
		goto fail;
	}
	memset(&st, 0, sizeof(st));
	rc = n->cc_state(&st);
	if (rc != NVML_SUCCESS) {
		snprintf(err, errlen, "nvmlSystemGetConfComputeState: %s", nv_err(n, rc));
		e = ENODEV;
		goto fail;
	}
	if (st.cc_feature != NVML_CC_SYSTEM_FEATURE_ENABLED) {
		snprintf(err, errlen,
			"confidential computing is off on this system (ccFeature %u): the GPU "
			"signs no attestation report",
			st.cc_feature);
		e = EPERM;
		goto fail;
	}
	return &n->gpu;
fail:
	nvml_destroy(&n->gpu);
	errno = e;
	return NULL;
}
