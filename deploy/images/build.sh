#!/usr/bin/env bash
# Builds the server and agent images from apps/*/Dockerfile and prints each one's size; fails
# when one is 250 MB or more.
#
#   deploy/images/build.sh [--offline] [--base-image IMAGE] [--tag TAG]
#
#   --base-image IMAGE  the Dockerfiles' BASE_IMAGE (default node:24-slim, pulled by docker)
#   --offline           pull nothing and reach no registry from inside the build: builds the base
#                       image from the local Node binary (node-base-image.sh) and runs the
#                       deploy step (install, build, bundle) on this machine (--deploy-on-host)
#   --deploy-on-host    run deploy/images/app-deploy.ts here, where the npm registry is reachable,
#                       and hand its output to the Dockerfile (DEPLOY_OUTPUT)
#   --tag TAG           image tag (default: the apps' package.json version)
#
# Images: k8s-attest/server:TAG and k8s-attest/agent:TAG, the names deploy/base uses.
set -euo pipefail
cd "$(dirname "$0")/../.."

base_image=node:24-slim
deploy_on_host=false
offline=false
tag="$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' apps/server/package.json)"
while [ $# -gt 0 ]; do
  case "$1" in
    --base-image) base_image="$2"; shift 2 ;;
    --deploy-on-host) deploy_on_host=true; shift ;;
    --offline) offline=true; deploy_on_host=true; shift ;;
    --tag) tag="$2"; shift 2 ;;
    *) echo "build.sh: unknown argument \"$1\" (see the comment at the top of $0)" >&2; exit 2 ;;
  esac
done
max_bytes=$((250 * 1000 * 1000))

if $offline; then
  base_image=k8s-attest/node-base:24
  deploy/images/node-base-image.sh "$base_image"
fi
if $deploy_on_host; then . scripts/toolchain.sh; fi

status=0
for app in server agent; do
  image="k8s-attest/$app:$tag"
  build_args=(--build-arg "BASE_IMAGE=$base_image")
  context=.
  if $deploy_on_host; then
    # A context of its own: the deploy output and the two files the Dockerfile copies, so that
    # docker neither sends nor copies the rest of the workspace.
    context=".image-build/$app"
    rm -rf "$context" && mkdir -p "$context/deploy/images/bin"
    cp deploy/images/app-deploy.ts "$context/deploy/images/"
    cp "deploy/images/bin/k8s-attest-$app" "$context/deploy/images/bin/"
    node deploy/images/app-deploy.ts "@k8s-attest/$app" "$context/deploy-output" >&2
    build_args+=(--build-arg "DEPLOY_OUTPUT=deploy-output")
  fi
  # The classic builder: BuildKit needs the buildx plugin, which not every docker.io ships.
  DOCKER_BUILDKIT=0 docker build --quiet "${build_args[@]}" -f "apps/$app/Dockerfile" -t "$image" "$context" >/dev/null
  bytes="$(docker image inspect --format '{{.Size}}' "$image")"
  verdict=ok
  if [ "$bytes" -ge "$max_bytes" ]; then verdict="TOO LARGE (limit 250 MB)"; status=1; fi
  printf 'image %-28s %6.1f MB  %s\n' "$image" "$(awk -v bytes="$bytes" 'BEGIN { print bytes / 1000000 }')" "$verdict"
done
exit "$status"
