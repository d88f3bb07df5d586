/* SPDX-License-Identifier: MIT */
/**
 * @file
 * GPU attestation back ends for a prover (chipd, lmctl gpu-attest report): something that
 * signs an SPDM GET_MEASUREMENTS report (lm_spdm.h) over a requester nonce, and hands out
 * its device certificate chain. Two back ends share one ops table (gpu_private.h):
 *
 *   - emulated: a P-384 attestation key and a three-certificate chain (root, intermediate,
 *     leaf with the GPU id as NVIDIA names it) made with OpenSSL, producing byte-for-byte
 *     the SPDM structures an NVIDIA GPU produces, so lm_attest_verify() takes the path the
 *     real sample takes;
 *   - nvml: NVIDIA's NVML loaded at run time with dlopen() (libnvidia-ml.so.1), calling
 *     nvmlDeviceGetConfComputeGpuAttestationReport() and
 *     nvmlDeviceGetConfComputeGpuCertificate(). Always built; it works only where the
 *     library and a GPU in confidential-computing mode exist, and is untested without one.
 */
#ifndef LANDMARK_LM_GPU_H
#define LANDMARK_LM_GPU_H

#include <stddef.h>
#include <stdint.h>

#include "lm_common.h"
#include "lm_spdm.h"

struct lm_gpu;

/** Files of an emulated GPU in its directory. */
#define LM_GPU_EMU_KEY "ak.key" /**< attestation private key, PEM PKCS#8, mode 0600 */
#define LM_GPU_EMU_CHAIN "chain.pem" /**< leaf, intermediate, root */
#define LM_GPU_EMU_ROOT "root.pem" /**< the root a verifier pins */

/**
 * Make a new emulated GPU in directory dir (which must exist): a fresh root, intermediate
 * and attestation key, the leaf naming gpu_id (printable ASCII, 1..LM_GPU_ID_MAX bytes).
 * Refuses to overwrite existing files.
 * @return 0, -EINVAL (gpu_id), -EEXIST, -ENOMEM, -EIO (OpenSSL failed), or -errno.
 */
LM_WUR int lm_gpu_emu_generate(const char *dir, const char *gpu_id);

/**
 * Open the emulated GPU of directory dir.
 * @return handle, or NULL with errno (ENOENT, EPERM for a key file not 0600, EBADMSG for a
 *   key that is not P-384 PEM, ENOMEM); err says which file and why.
 */
struct lm_gpu *lm_gpu_emu_open(const char *dir, char *err, size_t errlen);

/**
 * Open GPU number index through NVML (dlopen of libnvidia-ml.so.1).
 * @return handle, or NULL with errno: ENOENT (no NVML library), ENOSYS (the library lacks
 *   the confidential-computing calls), ENODEV (no such GPU, or NVML init failed),
 *   EPERM (confidential computing is off); err carries NVML's own words.
 */
struct lm_gpu *lm_gpu_nvml_open(unsigned index, char *err, size_t errlen);

/** "emulated" or "nvml". */
const char *lm_gpu_backend(const struct lm_gpu *g);

/**
 * Get a signed report (request || response) over requester nonce `nonce`.
 * @return its length, -EMSGSIZE when over cap, -EIO when the device failed (err set).
 */
LM_WUR long lm_gpu_report(struct lm_gpu *g, const uint8_t nonce[static LM_SPDM_NONCE_LEN],
	uint8_t *out, size_t cap, char *err, size_t errlen);

/**
 * The device certificate chain, PEM, leaf first, NUL-terminated, malloc'd (caller frees).
 * @return 0, -ENOMEM, or -EIO (err set).
 */
LM_WUR int lm_gpu_chain_pem(struct lm_gpu *g, char **pem, size_t *len, char *err, size_t errlen);

/** Close; NULL-safe. */
void lm_gpu_destroy(struct lm_gpu *g);

#endif
