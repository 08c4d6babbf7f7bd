// Validates a stream of rendered Kubernetes manifests (what `kubectl
// kustomize` prints), offline, as a strict validator (kubeconform -strict)
// would:
//   1. each object against the Kubernetes OpenAPI schema of its kind
//      (kubernetes-models: types, required fields, enums, formats), and a
//      cert-manager or Prometheus Operator object against its CRD's;
//   2. no field the API does not know at any depth (the official client's
//      models list every field of every type): a misspelt field is an
//      error, not silently dropped by the API server.
// Prints one line per object and exits 1 naming each problem.
//
//   node validate.mjs rendered.yaml
import { readFileSync } from "node:fs";
import * as k8s from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";

// The kinds of custom resources rexec's manifests use, by API group: the
// kubernetes-models package of their CRDs' schemas. (The client's models
// have no such kinds, so their fields are checked by the schema alone.)
const crdPackages = {
  "cert-manager.io": "@kubernetes-models/cert-manager",
  "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",
};

// "apps/v1" + "Deployment" -> the kubernetes-models module and the client's
// model class name.
function modelPath(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/")
    ? apiVersion.split("/")
    : [null, apiVersion];
  if (group !== null && crdPackages[group]) {
    return `${crdPackages[group]}/${group}/${version}/${kind}`;
  }
  return group === null
    ? `kubernetes-models/${version}/${kind}`
    : `kubernetes-models/${group}/${version}/${kind}`;
}

function clientType(apiVersion, kind) {
  const version = apiVersion.split("/").pop();
  return version.charAt(0).toUpperCase() + version.slice(1) + kind;
}

// Every field of `value` must be one `type` has; recurses through nested
// model types, arrays and maps of them.
function unknownFields(value, type, path, problems) {
  if (value === null || value === undefined) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (Array.isArray(value)) {
      value.forEach((v, i) => unknownFields(v, array[1], `${path}[${i}]`, problems));
    }
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (typeof value === "object") {
      for (const [k, v] of Object.entries(value)) {
        unknownFields(v, map[1], `${path}.${k}`, problems);
      }
    }
    return;
  }
  const model = k8s[type];
  if (typeof model?.getAttributeTypeMap !== "function") return;  // a scalar
  if (typeof value !== "object" || Array.isArray(value)) return;  // schema's job
  const fields = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [k, v] of Object.entries(value)) {
    if (!fields.has(k)) {
      problems.push(`${path}.${k}: unknown field (${type} has no "${k}")`);
    } else {
      unknownFields(v, fields.get(k), `${path}.${k}`, problems);
    }
  }
}

const file = process.argv[2];
if (!file) {
  console.error("usage: node validate.mjs RENDERED.yaml");
  process.exit(2);
}
const documents = parseAllDocuments(readFileSync(file, "utf8"));
let failed = 0;
let count = 0;
for (const document of documents) {
  if (document.errors.length > 0) {
    console.error(`${file}: not YAML: ${document.errors[0].message}`);
    failed++;
    continue;
  }
  const object = document.toJS();
  if (object === null) continue;
  count++;
  const name = `${object.kind ?? "?"}/${object.metadata?.name ?? "?"}`;
  const problems = [];
  if (!object.apiVersion || !object.kind) {
    problems.push("no apiVersion or kind");
  } else {
    let Model = null;
    try {
      Model = (await import(modelPath(object.apiVersion, object.kind)))[object.kind];
    } catch {
      problems.push(`${object.apiVersion} ${object.kind} is not a Kubernetes kind this validator knows`);
    }
    if (Model) {
      try {
        new Model(object).validate();
      } catch (e) {
        problems.push(e.message);
      }
    }
    unknownFields(object, clientType(object.apiVersion, object.kind), "", problems);
  }
  if (problems.length > 0) {
    failed++;
    console.error(`INVALID ${name}`);
    for (const p of problems) console.error(`  ${p}`);
  } else {
    console.log(`valid ${object.apiVersion} ${name}`);
  }
}
if (count === 0) {
  console.error(`${file}: no objects`);
  process.exit(1);
}
process.exit(failed > 0 ? 1 : 0);
