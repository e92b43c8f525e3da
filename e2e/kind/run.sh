#!/usr/bin/env bash
# The deployment on a real Kubernetes: a kind cluster (kind-config.yaml: one control plane, two
# workers), the images built and loaded, the kind overlay applied, and every node's agent
# attested with an ID ending in that node's UID, and the server reachable from this machine at
# https://127.0.0.1:8081 (the dashboard's address). Needs docker, kind, kubectl and curl on PATH,
# and a Docker that can run kind's privileged node containers.
#
#   e2e/kind/run.sh [--keep] [--offline]     (or: make kind-e2e KIND_E2E_ARGS=--keep)
#
#   --keep     keep the cluster afterwards (kubectl --context kind-k8s-attest …); by default a
#              cluster this run created is deleted, also on failure, after the pods' logs and
#              events are printed. A cluster named k8s-attest that existed before is reused (its
#              pods restarted on the images just built) and never deleted.
#   --offline  build the images without pulling node:24-slim (deploy/images/build.sh --offline;
#              Linux hosts only: it copies this machine's Node binary into the base image)
#
# Each numbered step says what it waits for and for how long at most.
set -euo pipefail
cd "$(dirname "$0")/../.."

CLUSTER=k8s-attest
CONTEXT="kind-$CLUSTER"
NAMESPACE=spire
keep=false
created=false
build_args=()
for argument in "$@"; do
  case "$argument" in
    --keep) keep=true ;;
    --offline) build_args+=(--offline) ;;
    *) echo "run.sh: unknown argument \"$argument\" (see the top of $0)" >&2; exit 2 ;;
  esac
done

step() { printf '\n== %s\n' "$*"; }
kc() { kubectl --context "$CONTEXT" "$@"; }

for tool in docker kind kubectl curl; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is not on PATH (needs docker, kind, kubectl and curl)" >&2; exit 1; }
done

teardown() {
  local status=$?
  if [ "$status" -ne 0 ] && kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
    step "FAILED (exit $status): pods, events and every container's logs"
    kc get pods -A -o wide || true
    kc -n "$NAMESPACE" get events --sort-by=.lastTimestamp || true
    kc -n "$NAMESPACE" describe pods || true
    for pod in $(kc -n "$NAMESPACE" get pods -o name 2>/dev/null); do
      echo "--- logs of $pod"
      kc -n "$NAMESPACE" logs "$pod" --all-containers --prefix || true
      kc -n "$NAMESPACE" logs "$pod" --all-containers --prefix --previous 2>/dev/null || true
    done
  fi
  if $keep || ! $created; then
    if kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
      echo "run.sh: cluster $CLUSTER kept (kind delete cluster --name $CLUSTER to remove it)"
    fi
  elif kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
    step "Deleting cluster $CLUSTER"
    kind delete cluster --name "$CLUSTER"
  fi
  exit "$status"
}
trap teardown EXIT

step "1. Creating kind cluster $CLUSTER from kind-config.yaml (waits up to 180 s for the nodes to be Ready)"
if kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
  echo "cluster $CLUSTER exists: reusing it (it is not deleted afterwards)"
else
  created=true
  kind create cluster --config kind-config.yaml --wait 180s
fi

step "2. Building the images (deploy/images/build.sh, sizes printed; a few minutes the first time)"
# ${a[@]+"${a[@]}"}: an empty array under set -u is an error in bash before 4.4 (macOS's 3.2).
deploy/images/build.sh ${build_args[@]+"${build_args[@]}"}
tag="$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' apps/server/package.json)"

step "3. Loading the images into every node (kind load; no registry involved)"
kind load docker-image --name "$CLUSTER" "k8s-attest/server:$tag" "k8s-attest/agent:$tag"

step "4. Applying the kind overlay; waiting up to 180 s for the server to be ready (/ready: datastore and RBAC self-check)"
kc apply -k deploy/overlays/kind
if ! $created; then
  # Same tags and imagePullPolicy Never: apply changes nothing, so the pods of an earlier run
  # would go on with the images it loaded.
  kc -n "$NAMESPACE" rollout restart deployment/spire-server daemonset/spire-agent
fi
kc -n "$NAMESPACE" rollout status deployment/spire-server --timeout=180s

step "5. Waiting up to 60 s for the server to publish its trust bundle into ConfigMap spire-bundle (its k8sbundle notifier; the agents' pods wait for the key)"
deadline=$((SECONDS + 60))
published() { kc -n "$NAMESPACE" get configmap spire-bundle -o jsonpath='{.data.bundle\.crt}' 2>/dev/null || true; }
until [[ "$(published)" == *"BEGIN CERTIFICATE"* ]]; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "run.sh: ConfigMap spire-bundle holds no bundle.crt after 60 s; the server's log says why:" >&2
    kc -n "$NAMESPACE" logs deployment/spire-server | grep -i 'bundle' >&2 || true
    exit 1
  fi
  sleep 2
done
kc -n "$NAMESPACE" exec deployment/spire-server -- \
  node -e "process.stdout.write(require('node:fs').readFileSync('/var/lib/k8s-attest/ca/bundle.pem'))" |
  cmp -s - <(published) ||
  { echo "run.sh: ConfigMap spire-bundle differs from the server's data_dir/ca/bundle.pem" >&2; exit 1; }

step "6. Waiting up to 300 s for an agent on every node (startup probe: k8s-attest-agent healthcheck)"
kc -n "$NAMESPACE" rollout status daemonset/spire-agent --timeout=300s

admin_cli=(kc -n "$NAMESPACE" exec deployment/spire-server -- k8s-attest-server agent list
  -serverAddress spire-server.spire.svc:8081 -trustBundle /var/lib/k8s-attest/ca/bundle.pem
  -tokenFile /run/secrets/k8s-attest/admin-token)

step "7. Comparing the agents' SPIFFE IDs with the node UIDs kubectl reports (up to 120 s)"
node_uids="$(kc get nodes -o jsonpath='{range .items[*]}{.metadata.uid}{"\n"}{end}')"
deadline=$((SECONDS + 120))
while :; do
  listed="$("${admin_cli[@]}" -output json 2>/dev/null || true)"
  missing=""
  for uid in $node_uids; do
    grep -q "/spire/agent/k8s_psat/k8s-attest/$uid\"" <<<"$listed" || missing="$missing $uid"
  done
  [ -z "$missing" ] && break
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "run.sh: no agent attested for node UIDs:$missing" >&2
    exit 1
  fi
  sleep 3
done
echo "every node ($(wc -w <<<"$node_uids")) has an attested agent whose ID ends in its UID"

step "8. The server from this machine: https://127.0.0.1:8081/ready through kind's port mapping (kind-config.yaml) and NodePort 30081"
ca_file="$(mktemp)"
published >"$ca_file"
if ! curl --silent --show-error --fail --max-time 10 --cacert "$ca_file" https://127.0.0.1:8081/ready; then
  echo "run.sh: https://127.0.0.1:8081 does not answer; a cluster created before kind-config.yaml mapped the port needs recreating (kind delete cluster --name $CLUSTER)" >&2
  exit 1
fi
echo
echo "dashboard: https://127.0.0.1:8081/dashboard/ (sign in with deploy/overlays/kind/admin-token; the CA: ConfigMap spire-bundle)"

step "9. The attested agents"
"${admin_cli[@]}"
