#!/usr/bin/env bash
# Builds the deployment image where a container engine runs; skips (77) elsewhere.
set -u
src=${LM_SRC:-$(dirname "$0")/../..}
if ! command -v docker >/dev/null 2>&1 || ! docker info >/dev/null 2>&1; then
	echo "SKIP: no container engine here (docker info failed)"
	exit 77
fi
tag=landmark-test-$$
trap 'docker rmi -f "$tag" >/dev/null 2>&1' EXIT
docker build -t "$tag" "$src" || exit 1
# The runtime image's entrypoint is landmarkd and it carries the default config.
docker run --rm --entrypoint /bin/sh "$tag" -c \
	'test -x /usr/local/bin/landmarkd && test -f /etc/landmark/landmarkd.conf && landmarkd --help >/dev/null 2>&1 || landmarkd -- --help' ||
	exit 1
echo "image $tag built and checked"
