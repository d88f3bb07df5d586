# landmark: multi-stage Debian 12 build. The runtime image carries only the binaries, the
# libraries they link and the default configuration; its entrypoint is landmarkd.
#
#   docker build -t landmark .
#   docker run --rm --privileged --cpuset-cpus 2,3 \
#       -v /dev/hugepages:/dev/hugepages -v /sys/bus/pci:/sys/bus/pci \
#       -v /dev/vfio:/dev/vfio -v /etc/landmark:/etc/landmark:ro \
#       -v /var/lib/landmark:/var/lib/landmark landmark \
#       -l 2,3 -a 0000:3b:00.0 -- -c /etc/landmark/landmarkd.conf
#
# See docs/deploy.md for what each flag is for (hugepages, device access, the CPU set).

FROM debian:12 AS build
COPY tools/setup.sh /src/tools/setup.sh
RUN bash /src/tools/setup.sh
COPY . /src
WORKDIR /src
RUN rm -rf build && meson setup build -Dbuildtype=release -Dtests=disabled \
	&& ninja -C build \
	&& DESTDIR=/out meson install -C build --no-rebuild

FROM debian:12-slim AS runtime
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	--no-install-recommends dpdk libconfig9 libjansson4 libmicrohttpd12 libnats3.4 \
	libp11-kit0 libproj25 libsodium23 libssl3 ca-certificates \
	&& rm -rf /var/lib/apt/lists/*
COPY --from=build /out/usr/local /usr/local
COPY conf/landmarkd.conf /etc/landmark/landmarkd.conf
VOLUME ["/var/lib/landmark"]
ENTRYPOINT ["/usr/local/bin/landmarkd"]
CMD ["--", "-c", "/etc/landmark/landmarkd.conf"]
