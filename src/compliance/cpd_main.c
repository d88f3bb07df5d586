/* SPDX-License-Identifier: MIT */
/* lm-complianced: parse, open the service, serve HTTP, run until SIGTERM, close. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "cpd.h"

static volatile int stop_flag;

static void
on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: lm-complianced -c FILE [--check] | --print-config | --help\n"
		"  The compliance service (docs/compliance.md): one status per licensed chip from\n"
		"  the feed, alerts on transitions, an HTTP view.\n"
		"  -c FILE          configuration (libconfig); settings:\n");
	lm_cfg_print_help(f, cpd_conf_table);
	fprintf(f,
		"  --check          load the configuration, licences, keys and lists, then exit\n"
		"  --print-config   print a documented example configuration and exit\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"check", no_argument, NULL, 'k'},
		{"help", no_argument, NULL, 'h'},
		{"print-config", no_argument, NULL, 'p'},
		{NULL, 0, NULL, 0},
	};
	struct cpd_service *s = NULL;
	struct cpd_http *h = NULL;
	struct cpd_conf conf;
	struct sigaction sa;
	const char *path = NULL;
	bool check = false;
	char err[1024];
	int opt, rc = 1;

	while ((opt = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'k':
			check = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'p':
			lm_cfg_print_example(stdout, cpd_conf_table);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!path || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "lm-complianced: libsodium init failed\n");
		return 1;
	}
	if (cpd_conf_load(&conf, path, err, sizeof(err)) != 0) {
		fprintf(stderr, "lm-complianced: %s\n", err);
		return 1;
	}
	s = cpd_service_create(&conf, err, sizeof(err));
	if (!s) {
		fprintf(stderr, "lm-complianced: %s\n", err);
		return 1;
	}
	if (check) {
		printf("lm-complianced: %s: configuration, licences, keys and lists are good\n",
			path);
		rc = 0;
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (conf.http_port > 0) {
		h = cpd_http_start(s, conf.http_listen, (uint16_t)conf.http_port);
		if (!h) {
			fprintf(stderr, "lm-complianced: http %s:%lld: %s\n", conf.http_listen,
				(long long)conf.http_port, strerror(errno));
			goto out;
		}
		fprintf(stderr, "lm-complianced: http on %s:%u\n", conf.http_listen,
			(unsigned)cpd_http_port(h));
	}
	rc = cpd_service_run(s, &stop_flag) == 0 ? 0 : 1;
out:
	cpd_http_stop(h);
	cpd_service_destroy(s);
	return rc;
}
