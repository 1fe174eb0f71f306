# syntax=docker/dockerfile:1.7
#
# The collector image. Build from the repository root (the build context must be the whole repo):
#
#   docker build -f infra/docker/collector.Dockerfile -t touchpointtracker/collector:local .
#
# Stages: 1. tag   - Node 20 builds the browser tag (tag/dist/tt.js, tt.full.js);
#         2. build - the .NET 10 SDK publishes the collector with that tag embedded;
#         3. final - the ASP.NET Core 10 runtime, non-root, port 8080, HEALTHCHECK on /healthz.
#
# Base images: Microsoft publishes no Debian images for .NET 10 (its default is Ubuntu 24.04
# "noble"), so the runtime is aspnet:10.0-noble: same apt/glibc world as Debian. global.json pins a
# 10.0.4xx SDK (rollForward latestPatch): if the sdk:10.0-noble tag in use is on another feature
# band, pass --build-arg DOTNET_SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:<10.0.4xx version>-noble.
ARG NODE_IMAGE=node:20-bookworm-slim
ARG DOTNET_SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0-noble
ARG DOTNET_RUNTIME_IMAGE=mcr.microsoft.com/dotnet/aspnet:10.0-noble

# ---- 1. the browser tag -----------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS tag
WORKDIR /src/tag
COPY tag/package.json tag/package-lock.json ./
RUN --mount=type=cache,id=tt-npm,target=/root/.npm \
    npm ci --no-audit --no-fund --loglevel=error
COPY tag/build.mjs ./
COPY tag/src ./src
RUN npm run --silent build

# ---- 2. the .NET build ------------------------------------------------------------------------------
FROM ${DOTNET_SDK_IMAGE} AS build
WORKDIR /src
COPY global.json nuget.config Directory.Build.props Directory.Packages.props .editorconfig ./
# The collector and the libraries it references (every project under collector/; the journey engine
# and the analytics store of the embedded mode in processor/). The enrichment project brings uap-core's
# user-agent rules (collector/TouchpointTracker.Enrichment/UserAgents/uap-core), which the publish puts
# beside the binary as uap-core/regexes.yaml; a Release build fails without them.
COPY collector/ collector/
COPY processor/TouchpointTracker.Journeys/ processor/TouchpointTracker.Journeys/
COPY processor/TouchpointTracker.Analytics/ processor/TouchpointTracker.Analytics/
COPY processor/TouchpointTracker.Attribution/ processor/TouchpointTracker.Attribution/
# From the tag stage: the bundles the collector embeds. SkipTagBuild stops MSBuild from running npm
# again (no Node in this stage).
COPY --from=tag /src/tag/dist/ tag/dist/
# Portable publish (no -r): librdkafka.redist's native builds stay under runtimes/<rid>/native, where
# both the runtime's probing and the librdkafka loader (collector/TouchpointTracker.Messaging/Librdkafka.cs) look. Only the Linux x64 and arm64
# builds stay (the package also ships Windows, macOS and s390x ones: about 60 MB).
RUN --mount=type=cache,id=tt-nuget,target=/root/.nuget/packages \
    dotnet publish collector/TouchpointTracker.Collector/TouchpointTracker.Collector.csproj -c Release -o /app \
        -p:SkipTagBuild=true -p:UseAppHost=false \
 && find /app/runtimes -mindepth 1 -maxdepth 1 ! -name linux-x64 ! -name linux-arm64 -exec rm -rf {} + \
 && rm -rf /app/librdkafka

# ---- 3. the runtime ---------------------------------------------------------------------------------
FROM ${DOTNET_RUNTIME_IMAGE} AS final
# librdkafka (librdkafka.redist, generic linux build) links libsasl2.so.3; the rest it needs is glibc.
# (ldd runtimes/linux-x64/native/librdkafka.so; tests/TouchpointTracker.Infra.Tests checks this list.)
RUN apt-get update \
 && apt-get install -y --no-install-recommends libsasl2-2 \
 && rm -rf /var/lib/apt/lists/*
COPY --chmod=0755 infra/docker/tt-healthcheck.sh /usr/local/bin/tt-healthcheck
WORKDIR /app
COPY --from=build /app ./
# ASPNETCORE_URLS decides the listener; HTTP_PORTS (set by the base image) is emptied so Kestrel does
# not warn that URLS overrides it.
# Collector__RequireExplicitMode: the image never falls back to the embedded mode silently; set
# Collector__Mode=Distributed (with Redis and Kafka) or Embedded (which, listening on all interfaces,
# also needs Collector__InspectApiKey).
ENV ASPNETCORE_URLS=http://+:8080 \
    ASPNETCORE_HTTP_PORTS= \
    Collector__RequireExplicitMode=true \
    DOTNET_NOLOGO=1 \
    DOTNET_CLI_TELEMETRY_OPTOUT=1
EXPOSE 8080
# The non-root user of the .NET images (uid 1654); infra/k8s runs the pod as that uid.
USER $APP_UID
# Liveness only (process up). Readiness (/readyz) is what load balancers and docker-compose's
# depends_on use; Kubernetes ignores HEALTHCHECK and uses its own probes.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["tt-healthcheck", "/healthz"]
ENTRYPOINT ["dotnet", "TouchpointTracker.Collector.dll"]
