// The cert-manager overlay's certificates fit the DaemonSet: the server
// certificate fills the Secret it mounts, for the Service's name, signed by
// the CA Issuer; the client certificate's URI is an identity the policy
// names. Exits 1 naming each misfit.
//
//   node cert_manager_check.mjs RENDERED.yaml
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
const all = parseAllDocuments(readFileSync(process.argv[2], "utf8")).map((d) => d.toJS());
const certs = all.filter((o) => o.kind === "Certificate");
const server = certs.find((c) => c.spec.usages?.includes("server auth"));
const client = certs.find((c) => c.spec.usages?.includes("client auth"));
const ds = all.find((o) => o.kind === "DaemonSet");
const mounted = ds.spec.template.spec.volumes.find((v) => v.secret).secret.secretName;
const policy = all.find((o) => o.kind === "ConfigMap" && o.metadata.name === "rexecd-policy");
const wrong = [];
if (server?.spec.secretName !== mounted) wrong.push(`the server certificate fills ${server?.spec.secretName}, the DaemonSet mounts ${mounted}`);
if (!server?.spec.dnsNames?.includes("rexecd.rexec.svc.cluster.local")) wrong.push("the server certificate is not for the Service name");
const issuer = all.find((o) => o.kind === "Issuer" && o.metadata.name === server?.spec.issuerRef.name);
const ca = certs.find((c) => c.spec.isCA && c.spec.secretName === issuer?.spec.ca?.secretName);
if (!ca) wrong.push("the server certificate is not signed by the CA Issuer");
if (!client || !Object.values(policy.data).join().includes(client.spec.uris[0])) wrong.push("the client certificate is not an identity of the policy");
for (const w of wrong) console.error(`cert-manager: ${w}`);
process.exit(wrong.length ? 1 : 0);
