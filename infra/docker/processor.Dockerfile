# syntax=docker/dockerfile:1.7
#
# The processor image. Build from the repository root (the build context must be the whole repo):
#
#   docker build -f infra/docker/processor.Dockerfile -t touchpointtracker/processor:local .
#
# Stages: 1. build - the .NET 10 SDK publishes the processor;
#         2. final - the ASP.NET Core 10 runtime, non-root, port 8080, HEALTHCHECK on /healthz.
# No Node stage: the browser tag is embedded in the collector only.
#
# Base images: Microsoft publishes no Debian images for .NET 10 (its default is Ubuntu 24.04
# "noble"), so the runtime is aspnet:10.0-noble: same apt/glibc world as Debian. global.json pins a
# 10.0.4xx SDK (rollForward latestPatch): if the sdk:10.0-noble tag in use is on another feature
# band, pass --build-arg DOTNET_SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:<10.0.4xx version>-noble.
ARG DOTNET_SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0-noble
ARG DOTNET_RUNTIME_IMAGE=mcr.microsoft.com/dotnet/aspnet:10.0-noble

# ---- 1. the .NET build ------------------------------------------------------------------------------
FROM ${DOTNET_SDK_IMAGE} AS build
WORKDIR /src
COPY global.json nuget.config Directory.Build.props Directory.Packages.props .editorconfig ./
# The processor and the journey engine (processor/), and the libraries it shares with the collector:
# the message contracts, the messaging settings and librdkafka loader, the service defaults.
COPY processor/ processor/
COPY collector/TouchpointTracker.Contracts/ collector/TouchpointTracker.Contracts/
COPY collector/TouchpointTracker.Messaging/ collector/TouchpointTracker.Messaging/
COPY collector/TouchpointTracker.ServiceDefaults/ collector/TouchpointTracker.ServiceDefaults/
# Portable publish (no -r): librdkafka.redist's native builds stay under runtimes/<rid>/native, where
# the librdkafka loader (collector/TouchpointTracker.Messaging/Librdkafka.cs) looks, and so do DuckDB's
# (DuckDB.NET.Data.Full: runtimes/linux-x64|linux-arm64/native/libduckdb.so, which the .NET host resolves from
# the deps file; the analytics role needs it). Only the Linux x64 and arm64 builds stay (the packages also ship
# Windows, macOS and s390x ones: about 60 MB for librdkafka, more for DuckDB).
RUN --mount=type=cache,id=tt-nuget,target=/root/.nuget/packages \
    dotnet publish processor/TouchpointTracker.Processor/TouchpointTracker.Processor.csproj -c Release -o /app \
        -p:UseAppHost=false \
 && find /app/runtimes -mindepth 1 -maxdepth 1 ! -name linux-x64 ! -name linux-arm64 -exec rm -rf {} + \
 && rm -rf /app/librdkafka

# ---- 2. the runtime ---------------------------------------------------------------------------------
FROM ${DOTNET_RUNTIME_IMAGE} AS final
# librdkafka (librdkafka.redist, generic linux build) links libsasl2.so.3; the rest it needs is glibc.
# Without it the processor falls back to the redist's self-contained centos8 build (no GSSAPI).
RUN apt-get update \
 && apt-get install -y --no-install-recommends libsasl2-2 \
 && rm -rf /var/lib/apt/lists/*
COPY --chmod=0755 infra/docker/tt-healthcheck.sh /usr/local/bin/tt-healthcheck
# The analytics role's data folder (Analytics__Path=/var/lib/tt/analytics.duckdb in infra/docker-compose.yml and
# infra/k8s): owned by the non-root user, so a fresh named volume mounted here inherits that owner and is writable.
RUN mkdir -p /var/lib/tt && chown "$APP_UID:$APP_UID" /var/lib/tt
WORKDIR /app
COPY --from=build /app ./
# ASPNETCORE_URLS decides the listener; HTTP_PORTS (set by the base image) is emptied so Kestrel does
# not warn that URLS overrides it.
ENV ASPNETCORE_URLS=http://+:8080 \
    ASPNETCORE_HTTP_PORTS= \
    DOTNET_NOLOGO=1 \
    DOTNET_CLI_TELEMETRY_OPTOUT=1
EXPOSE 8080
# The non-root user of the .NET images (uid 1654); infra/k8s runs the pod as that uid.
USER $APP_UID
# Liveness only (process up). Readiness (/readyz: consuming, batches succeed, Redis answers) is what
# docker-compose's depends_on uses; Kubernetes ignores HEALTHCHECK and uses its own probes.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["tt-healthcheck", "/healthz"]
ENTRYPOINT ["dotnet", "TouchpointTracker.Processor.dll"]
