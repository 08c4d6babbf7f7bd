// What rexec's own docs promise of a rendered overlay, beyond the schema:
// the probes (startup, liveness, readiness) ask the port --health-listen
// serves, the image is named rexecd (for an overlay's images:), the pod's
// grace outlasts
// --shutdown-grace, and per overlay what its README section says (the
// sidecar's socket is shared by both containers and there is no API port;
// the DaemonSet is mTLS-only on every node, taints and all, with a headless
// Service, a NetworkPolicy and a PodDisruptionBudget). Exits 1 naming each broken promise.
//
//   node contract.mjs sidecar|daemonset RENDERED.yaml
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

const [overlay, file] = process.argv.slice(2);
const objects = parseAllDocuments(readFileSync(file, "utf8")).map((d) => d.toJS());
const problems = [];
const expect = (ok, what) => { if (!ok) problems.push(what); };
const find = (kind) => objects.find((o) => o.kind === kind);

const workload = find(overlay === "sidecar" ? "Deployment" : "DaemonSet");
expect(workload, `no ${overlay === "sidecar" ? "Deployment" : "DaemonSet"}`);
const pod = workload?.spec?.template?.spec ?? {};
const all = [...(pod.initContainers ?? []), ...(pod.containers ?? [])];
const rexecd = all.find((c) => c.name === "rexecd");
expect(rexecd, "no rexecd container");
const args = rexecd?.args ?? [];
const flag = (name) => args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];

expect(flag("front") === "haproxy",
       "rexecd has no HAProxy before it (--front=haproxy): a header-block flood reaches gRPC");
const health = flag("health-listen");
expect(health, "rexecd has no --health-listen for the kubelet's probes");
const healthPort = Number(health?.split(":").pop());
for (const probe of ["livenessProbe", "readinessProbe"]) {
  expect(rexecd?.[probe]?.grpc?.port === healthPort,
         `${probe} is not a grpc probe of --health-listen's port ${healthPort}`);
}
expect(rexecd?.startupProbe?.grpc?.port === healthPort &&
       rexecd.startupProbe.periodSeconds * rexecd.startupProbe.failureThreshold >= 30,
       "no startup probe of --health-listen's port that waits 30 s or more");
expect(rexecd?.image === "rexecd",
       `the image is ${rexecd?.image}, not "rexecd": an overlay's images: [{name: rexecd}] would miss it`);
expect(rexecd?.readinessProbe?.grpc?.service === "rexec.v1.ChildProcess",
       "readiness does not ask for rexec.v1.ChildProcess");
const grace = parseInt(flag("shutdown-grace") ?? "10", 10);
expect((pod.terminationGracePeriodSeconds ?? 30) >= grace + 3,
       `terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds} ` +
       `leaves no room after --shutdown-grace ${grace}s`);
const sc = rexecd?.securityContext ?? {};
expect(sc.readOnlyRootFilesystem === true, "rexecd's root filesystem is writable");
expect(sc.allowPrivilegeEscalation === false, "rexecd may escalate privileges");
expect(sc.capabilities?.drop?.includes("ALL"), "rexecd keeps capabilities");
expect(rexecd?.resources?.limits?.memory, "rexecd has no memory limit");

if (overlay === "sidecar") {
  const listen = flag("listen");
  expect(listen?.startsWith("unix:"), "the sidecar serves the API on a network port");
  expect(flag("socket-mode") === "0660", "the socket is not 0660");
  expect(rexecd?.restartPolicy === "Always" && pod.initContainers?.includes(rexecd),
         "rexecd is not a native sidecar (an init container that keeps running)");
  const dir = listen?.slice("unix:".length).replace(/\/[^/]*$/, "");
  const volume = pod.volumes?.find((v) => v.emptyDir && all.every(
      (c) => c.volumeMounts?.some((m) => m.name === v.name && m.mountPath === dir)));
  expect(volume, `no emptyDir at ${dir} shared by every container`);
  expect(pod.securityContext?.fsGroup === Number(flag("socket-group")),
         "the socket's group is not the pod's fsGroup");
  expect(!(rexecd?.ports ?? []).some((p) => p.containerPort !== healthPort),
         "the sidecar exposes a port besides health");
} else {
  for (const f of ["tls-cert", "tls-key", "tls-client-ca", "policy"]) {
    expect(flag(f), `rexecd has no --${f}`);
  }
  expect(!args.includes("--insecure"), "rexecd serves plaintext");
  const secret = pod.volumes?.find((v) => v.secret)?.secret?.secretName;
  expect(secret, "no TLS Secret mounted");
  expect(flag("tls-cert")?.endsWith("/tls.crt") && flag("tls-key")?.endsWith("/tls.key") &&
         flag("tls-client-ca")?.endsWith("/ca.crt"),
         "the TLS files are not cert-manager's tls.crt, tls.key and ca.crt");
  const service = find("Service");
  expect(service?.spec?.clusterIP === "None", "the Service is not headless");
  expect(find("NetworkPolicy")?.spec?.ingress?.length > 0, "no NetworkPolicy ingress rules");
  expect(find("PodDisruptionBudget"), "no PodDisruptionBudget");
  expect((pod.tolerations ?? []).some((t) => t.operator === "Exists" && !t.key && !t.effect),
         "the DaemonSet does not tolerate every taint: tainted nodes get no rexecd");
  const adds = sc.capabilities?.add ?? [];
  expect(adds.every((c) => ["SETUID", "SETGID", "KILL"].includes(c)),
         `capabilities beyond run-as's: ${adds}`);
}

for (const p of problems) console.error(`${overlay}: ${p}`);
process.exit(problems.length > 0 ? 1 : 0);
