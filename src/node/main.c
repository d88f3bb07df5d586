/* SPDX-License-Identifier: MIT */
/*
 * landmarkd: parse, init in order (EAL, config, keys, TSC calibration, ports, feed, control
 * side, engines, telemetry), run (worker lcores = datapath, main lcore = control/crypto),
 * fini in reverse on SIGINT/SIGTERM. The steps are in control/setup.c and dpdk/ (landmarkd.h).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include "landmark/lm_cert.h"
#include "landmark/lm_signer.h"
#include "landmarkd.h"

struct lmd lmd;

static void
on_signal(int sig)
{
	(void)sig;
	atomic_store(&lmd.stop, 1);
}

/* A list from revocation_nats refused (older, stale, bad): logged (rate-limited), counted by
 * the set. */
static void
on_revocation_refused(const char *why, void *arg)
{
	(void)arg;
	/* a writer of the bucket can repeat it: one line a second at most */
	LM_LOG_RL(1, LM_LOG_MOD_NODE, LM_LOG_WARNING, "landmarkd: revocation_nats: %s", why);
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: landmarkd [EAL options] -- -c FILE [--print-config]\n"
		"  DPDK poll-mode landmark node. EAL options pass through unchanged, e.g.\n"
		"  --no-huge -m 512 --no-pci --file-prefix lm0 --vdev=net_af_packet0,iface=veth0\n"
		"  -c FILE          configuration (libconfig); settings:\n");
	lm_cfg_print_help(f, lm_landmarkd_table);
	fprintf(f, "  --print-config   print a documented example configuration and exit\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{"print-config", no_argument, NULL, 'p'},
		{NULL, 0, NULL, 0},
	};
	struct lm_ctrl_conf cc;
	const char *conf_path = NULL;
	char err[1024];
	unsigned i;
	int64_t last_dump = 0;
	int64_t last_hwts = 0;
	int64_t last_tsc_check;
	int n;
	int opt;
	int rc = 1;

	if (sodium_init() < 0) {
		fprintf(stderr, "landmarkd: libsodium init failed\n");
		return 1;
	}
	for (i = 1; i < (unsigned)argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(argv[i], "--print-config") == 0) {
			lm_cfg_print_example(stdout, lm_landmarkd_table);
			return 0;
		}
	}
	n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "landmarkd: EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	lmd_log_setup();
	argc -= n;
	argv += n;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			conf_path = optarg;
			break;
		default:
			usage(stderr);
			goto out_eal;
		}
	}
	if (conf_path == NULL) {
		usage(stderr);
		goto out_eal;
	}
	if (lm_cfg_load(lm_landmarkd_table, &lmd.conf, conf_path, err, sizeof(err)) != 0) {
		fprintf(stderr, "landmarkd: %s\n", err);
		goto out_eal;
	}
	lmd.n_ports = lmd.conf.n_ports;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	if (lmd_tsc_setup(err, sizeof(err)) != 0) {
		fprintf(stderr, "landmarkd: %s\n", err);
		goto out_eal;
	}
	if (lmd_ctrl_conf(&cc, err, sizeof(err)) != 0) {
		fprintf(stderr, "landmarkd: %s\n", err);
		goto out_keys;
	}
	{
		struct lm_cred me = {.kind = LM_CRED_DELEGATION};
		uint8_t enc[LM_CRED_MAX_LEN];
		int len;

		uint8_t succ[LM_SUCCESSOR_LEN];
		static struct lm_batch_head last;
		bool have_last = false, have_succ = false;

		me.u.dlg = cc.dlg;
		len = lm_cred_encode(&me, enc);
		if (lmd_successor_load(&cc, succ, &have_succ, err, sizeof(err)) != 0) {
			fprintf(stderr, "landmarkd: %s\n", err);
			rc = 1;
			goto out_keys;
		}
		/* The chain continues from the log's last head; a new key needs the successor. */
		rc = len < 0 ? len
			     : lm_sink_feed_open(&lmd.sink, lmd.conf.feed_dir, enc, (size_t)len,
				       have_succ ? succ : NULL, sizeof(succ), &last, &have_last,
				       err, sizeof(err));
		if (rc != 0) {
			fprintf(stderr, "landmarkd: feed_dir %s: %s\n", lmd.conf.feed_dir, err);
			rc = 1;
			goto out_keys;
		}
		if (have_last) {
			char hex[2 * LM_PK_LEN + 1];

			sodium_bin2hex(hex, sizeof(hex), last.landmark_pk, LM_PK_LEN);
			NLOG(INFO, "feed chain continues after head seq %llu (signed by %s%s)",
				(unsigned long long)last.seq, hex,
				memcmp(last.landmark_pk, cc.pk, LM_PK_LEN) ? ", handed over by "
									     "successor_file"
									   : "");
			cc.last_head = &last;
		}
		rc = 1;
	}
	if (lmd_ports_setup(&cc, err, sizeof(err)) != 0) {
		fprintf(stderr, "landmarkd: %s\n", err);
		goto out_ports;
	}
	lmd_ports_update_hwts();
	lmd.ctrl = lm_ctrl_create(&cc, lm_tsc_clock(), lmd.sink);
	sodium_memzero(cc.sk, sizeof(cc.sk));
	if (lmd.ctrl == NULL) {
		fprintf(stderr, "landmarkd: control side: %s\n", strerror(errno));
		goto out_ports;
	}
	for (i = 0; i < lmd.n_ports; i++) {
		if (lm_ctrl_attach(lmd.ctrl, lm_dport_ring_chan(lmd.ports[i].from_ctrl),
			    lm_dport_ring_chan(lmd.ports[i].to_ctrl),
			    lm_dport_ring_chan(lmd.ports[i].pool)) < 0) {
			fprintf(stderr, "landmarkd: attach port %u failed\n", i);
			goto out_ctrl;
		}
		/* Records: each sample's tier is the one its stamps really had (lm_hwts_rtt()). */
		(void)lm_ctrl_set_hwts(lmd.ctrl, i, lmd.ports[i].hwts);
	}
	if (lmd.conf.revocation_nats[0] != '\0') {
		/* A thread of the control side follows the bucket; the datapath never waits. */
		lmd.rev_follow = lm_revset_follow_start(lmd.revset, lmd.conf.revocation_nats,
			lmd.conf.revocation_bucket, on_revocation_refused, NULL);
		if (lmd.rev_follow == NULL) {
			fprintf(stderr, "landmarkd: revocation_nats: %s\n", strerror(errno));
			goto out_ctrl;
		}
		NLOG(INFO, "following revocation lists in bucket %s at %s",
			lmd.conf.revocation_bucket, lmd.conf.revocation_nats);
	}
	lmd_telemetry_register();
	lmd_workers_launch();
	last_tsc_check = lm_clock_mono_raw_ns();
	printf("landmarkd: ready\n");
	fflush(stdout);
	while (!atomic_load(&lmd.stop)) {
		unsigned work = lm_ctrl_poll(lmd.ctrl, lm_clock_realtime_ns());
		int64_t now = lm_clock_mono_raw_ns();

		for (i = 0; i < lmd.n_ports; i++) {
			if (lmd.ports[i].lcore == rte_get_main_lcore()) {
				work += lm_engine_poll(lmd.ports[i].eng);
			}
		}
		if (now - last_hwts >= 100000000) {
			lmd_ports_update_hwts();
			last_hwts = now;
		}
		if (now - last_tsc_check >= lmd.conf.calibration_check_s * LM_NS_PER_S) {
			lmd_tsc_check();
			last_tsc_check = now;
		}
		if (now - last_dump >= 1000000000) {
			lmd_counters_write();
			last_dump = now;
		}
		if (work == 0 && rte_lcore_count() > 1) {
			/* The control side is not timed: a short sleep keeps it off the CPU. */
			struct timespec ts = {0, 100000};

			nanosleep(&ts, NULL);
		}
	}
	NLOG(INFO, "stopping");
	if (rte_lcore_count() == 1) {
		for (i = 0; i < lmd.n_ports; i++) {
			lm_engine_stop(lmd.ports[i].eng);
		}
	}
	rte_eal_mp_wait_lcore();
	/* Drain what the engines handed over while stopping, then close the last batch. */
	for (i = 0; i < 16; i++) {
		lm_ctrl_poll(lmd.ctrl, lm_clock_realtime_ns());
	}
	if (lm_ctrl_flush(lmd.ctrl, lm_clock_realtime_ns()) != 0) {
		fprintf(stderr, "landmarkd: feed flush failed\n");
	}
	lmd_counters_write();
	rc = 0;
out_ctrl:
	lm_revset_follow_stop(lmd.rev_follow);
	lmd.rev_follow = NULL;
	lm_ctrl_destroy(lmd.ctrl);
out_ports:
	lmd_ports_close();
	if (lmd.sink.ops != NULL) {
		lmd.sink.ops->close(lmd.sink.ctx);
	}
out_keys:
	lm_revset_follow_stop(lmd.rev_follow); /* NULL-safe; NULL after out_ctrl */
	lmd.rev_follow = NULL;
	lm_revset_destroy(lmd.revset);
	lm_signer_destroy(cc.signer);
	sodium_memzero(&cc, sizeof(cc));
out_eal:
	rte_eal_cleanup();
	return rc;
}
