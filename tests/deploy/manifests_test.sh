#!/usr/bin/env bash
# The Kubernetes overlays and deploy/monitoring, offline: `kubectl
# kustomize` renders each, every rendered object must pass the schema and
# strict-field checks (validator/validate.mjs; cert-manager's and the
# Prometheus Operator's kinds against their CRDs' schemas) and rexec's own
# promises (contract.mjs, cert_manager_check.mjs, monitoring_check.mjs:
# PromQL that parses and names what a running rexecd exports), the
# documented image override must reach every image, the DaemonSet's policy
# must load in rexecd, and a manifest with a wrong field must fail. The validator's npm packages are pinned by its lock file and
# installed once into WORK.
#
#   manifests_test.sh SOURCE_DIR WORK_DIR REXECD
set -euo pipefail
src=$1 work=$2 rexecd=$3
mkdir -p "$work"
validator="$work/validator"
if ! cmp -s "$src/tests/deploy/validator/package-lock.json" \
     "$validator/package-lock.json" || [ ! -d "$validator/node_modules" ]; then
  rm -rf "$validator" && mkdir -p "$validator"
  cp "$src"/tests/deploy/validator/{package.json,package-lock.json,validate.mjs} \
     "$validator/"
  (cd "$validator" && npm ci --no-audit --no-fund --loglevel=error)
fi
cp "$src/tests/deploy/validator/validate.mjs" "$src/tests/deploy/contract.mjs" \
   "$src/tests/deploy/monitoring_check.mjs" \
   "$src/tests/deploy/cert_manager_check.mjs" "$validator/"

fail() { echo "FAIL: $*" >&2; exit 1; }

# Components and `labels` need kustomize v4 or later (kubectl 1.21+).
kustomize=$(kubectl version --client 2>/dev/null | sed -n 's/^Kustomize Version: v//p')
[ "${kustomize%%.*}" -ge 4 ] 2>/dev/null \
  || fail "kubectl with kustomize v4 or later is needed; this one has \"${kustomize:-none}\""

for overlay in sidecar daemonset cert-manager; do
  out="$work/$overlay.yaml"
  kubectl kustomize "$src/deploy/kubernetes/overlays/$overlay" > "$out" \
    || fail "kubectl kustomize $overlay"
  node "$validator/validate.mjs" "$out" || fail "$overlay does not validate"
  # cert-manager's is the DaemonSet's, with its Secret made by cert-manager.
  node "$validator/contract.mjs" "${overlay/cert-manager/daemonset}" "$out" \
    || fail "$overlay breaks a promise"
done
# The server certificate fills the Secret the DaemonSet mounts, for the
# Service's name, from the CA its Issuer signs with; the client
# certificate's URI is an identity the policy names.
node "$validator/cert_manager_check.mjs" "$work/cert-manager.yaml" \
  || fail "cert-manager's certificates do not fit the DaemonSet"

# deploy/monitoring: valid objects, and PromQL that parses and names what a
# running rexecd exports.
kubectl kustomize "$src/deploy/monitoring" > "$work/monitoring.yaml" \
  || fail "kubectl kustomize monitoring"
node "$validator/validate.mjs" "$work/monitoring.yaml" \
  || fail "monitoring does not validate"
"$rexecd" --listen 127.0.0.1:0 --insecure --metrics-listen 127.0.0.1:0 \
  2> "$work/metrics-rexecd.log" &
metrics_pid=$!
for _ in $(seq 100); do
  grep -q "metrics on http://" "$work/metrics-rexecd.log" && break
  sleep 0.1
done
url=$(grep -o "http://[0-9.:]*/metrics" "$work/metrics-rexecd.log" | head -1)
checked=0
node "$validator/monitoring_check.mjs" "$work/monitoring.yaml" \
  "$work/daemonset.yaml" "$url" || checked=$?
kill -TERM $metrics_pid 2>/dev/null; wait $metrics_pid || true
[ "$checked" = 0 ] || fail "monitoring breaks a promise"

# The image override the docs give, in an overlay of each overlay: every
# rexecd image (the sidecar example's app container too) comes from it.
for overlay in sidecar daemonset; do
  mine="$work/$overlay-images"
  rm -rf "$mine" && mkdir -p "$mine"
  cat > "$mine/kustomization.yaml" <<YAML
resources:
  - $(realpath --relative-to="$mine" "$src/deploy/kubernetes/overlays/$overlay")
images:
  - name: rexecd
    newName: registry.example.com/tools/rexecd
    newTag: "0.11.0"
YAML
  kubectl kustomize "$mine" > "$work/$overlay-images.yaml" \
    || fail "kustomize $overlay with an images override"
  images=$(grep -E '^ +image: ' "$work/$overlay-images.yaml" | sort -u | sed 's/^ *image: //')
  [ "$images" = "registry.example.com/tools/rexecd:0.11.0" ] \
    || fail "$overlay: images: [{name: rexecd}] did not reach every image: $images"
done

# The policy the DaemonSet ships must be one rexecd loads.
tokens="$work/tokens"
echo "ci 0000000000000000000000000000000000000000000000000000000000000000" \
  > "$tokens"
policy_out=$("$rexecd" --listen 127.0.0.1:0 --token-file "$tokens" \
  --policy "$src/deploy/kubernetes/overlays/daemonset/policy.yaml" \
  --shutdown-grace 0s 2>&1 & pid=$!; sleep 2; kill -TERM $pid 2>/dev/null; wait $pid; echo "rc=$?")
echo "$policy_out" | grep -q "listening on" \
  || fail "rexecd does not load the DaemonSet's policy: $policy_out"

# A wrong field and a wrong type, patched in by an overlay of the overlay:
# kustomize renders them; the validator must not pass them.
broken="$work/broken"
rm -rf "$broken" && mkdir -p "$broken"
# kustomize takes a base by a relative path only.
base=$(realpath --relative-to="$broken" "$src/deploy/kubernetes/overlays/sidecar")
cat > "$broken/kustomization.yaml" <<YAML
resources:
  - $base
patches:
  - target:
      kind: Deployment
    patch: |-
      - op: add
        path: /spec/replicaz
        value: 2
YAML
kubectl kustomize "$broken" > "$work/broken.yaml" || fail "kustomize broken"
if node "$validator/validate.mjs" "$work/broken.yaml" 2> "$work/broken.err"; then
  fail "a misspelt field passed"
fi
grep -q 'replicaz: unknown field' "$work/broken.err" \
  || fail "the misspelt field was not named: $(cat "$work/broken.err")"
sed 's/port: 50052/port: fifty/' "$work/sidecar.yaml" > "$work/badtype.yaml"
if node "$validator/validate.mjs" "$work/badtype.yaml" 2> "$work/badtype.err"; then
  fail "a port that is not a number passed"
fi
grep -q 'grpc/port must be integer' "$work/badtype.err" \
  || fail "the bad port was not named: $(cat "$work/badtype.err")"
echo "manifests: ok"
