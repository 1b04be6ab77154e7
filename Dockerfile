# syntax=docker/dockerfile:1
#
# One image for the three production binaries: server, worker and migrate
# (deploy/README.md, "Build the image"). Build it with
#
#   docker build -t aftersales:VERSION .
#
# deploy/deploy_test.go checks what can be checked without a Docker engine:
# this file parses, the final stage runs as a numeric non-root user and holds
# the three binaries, and the binaries build from the context .dockerignore
# leaves with the flags used below.

# GO_VERSION must be at least go.mod's go line: the build runs with
# GOTOOLCHAIN=local, so an older image fails instead of downloading a newer
# toolchain behind our back (the test compares the two).
ARG GO_VERSION=1.26.8
# distroless/static: CA certificates, /usr/share/zoneinfo, /etc/passwd with the
# nonroot user (65532), and no shell or package manager to exploit. Pin it by
# digest in your own registry mirror if your policy asks for it.
ARG RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot

# The build stage runs on the builder's own platform and cross-compiles, which
# a pure-Go (CGO_ENABLED=0) build does without emulation.
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
ENV GOTOOLCHAIN=local CGO_ENABLED=0
WORKDIR /src
# Modules first, so a source change does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG TARGETOS TARGETARCH
# -trimpath: no build-machine paths in the binaries or their stack traces.
# -tags timetzdata: the zone database is embedded, so TIME_ZONE
# (Asia/Shanghai by default) loads even on a base without /usr/share/zoneinfo.
# -s -w: no symbol tables or DWARF; panics still print file:line.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -tags timetzdata -ldflags="-s -w" -o /out/ ./cmd/server ./cmd/worker ./cmd/migrate

FROM ${RUNTIME_IMAGE}
COPY --from=build /out/server /out/worker /out/migrate /usr/local/bin/
# Numeric, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 65532:65532
# No ENTRYPOINT: the chart (and `docker run aftersales:VERSION server`) names
# the binary, so one image serves all three roles.
CMD ["server"]
