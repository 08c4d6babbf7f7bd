// What deploy/monitoring promises beyond the schemas: every PromQL
// expression (the alerts' and the dashboard's) parses with Prometheus' own
// grammar and names only metrics a running rexecd exports (or `up`); each
// alert has a severity, a summary and a description; the dashboard is JSON
// with a uid, unique panel ids and a query in each panel; the
// ServiceMonitor selects the DaemonSet's Service and scrapes a port it has.
// Exits 1 naming each broken promise.
//
//   node monitoring_check.mjs MONITORING.yaml DAEMONSET.yaml METRICS_URL
import { readFileSync } from "node:fs";
import { parser } from "@prometheus-io/lezer-promql";
import { parseAllDocuments } from "yaml";

const [monitoringFile, daemonsetFile, metricsUrl] = process.argv.slice(2);
const load = (file) =>
  parseAllDocuments(readFileSync(file, "utf8")).map((d) => d.toJS());
const monitoring = load(monitoringFile);
const daemonset = load(daemonsetFile);
const problems = [];
const expect = (ok, what) => { if (!ok) problems.push(what); };

const page = await (await fetch(metricsUrl)).text();
const exported = new Set(
  page.split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.split(/[{ ]/)[0]));
expect(exported.has("rexec_calls_started_total"), `no rexec metrics at ${metricsUrl}`);
exported.add("up");  // Prometheus' own, per target

// Grafana's variables, as Prometheus would get them.
const grafana = (expr) => expr.replaceAll("$__rate_interval", "5m");
function checkExpr(where, expr) {
  const text = grafana(expr);
  const tree = parser.parse(text);
  let errors = 0;
  tree.iterate({
    enter: (node) => {
      if (node.type.isError) errors++;
      if (node.name === "Identifier") {
        const metric = text.slice(node.from, node.to);
        expect(exported.has(metric), `${where}: ${metric} is not a metric rexecd exports`);
      }
    },
  });
  expect(errors === 0, `${where}: "${expr}" does not parse as PromQL`);
}

const rule = monitoring.find((o) => o.kind === "PrometheusRule");
expect(rule, "no PrometheusRule");
const alerts = (rule?.spec?.groups ?? []).flatMap((g) => g.rules ?? []);
for (const a of alerts) {
  checkExpr(`alert ${a.alert}`, String(a.expr));
  expect(["critical", "warning"].includes(a.labels?.severity), `alert ${a.alert}: no severity`);
  expect(a.annotations?.summary && a.annotations?.description,
         `alert ${a.alert}: no summary or description`);
}
const wanted = ["RexecdDown", "RexecdRefusalsRising", "RexecdSpawnLatencyHigh",
                "RexecdMemoryBudgetNearlyFull", "RexecdAuditRecordsDropped"];
for (const name of wanted) {
  expect(alerts.some((a) => a.alert === name), `no alert ${name}`);
}

const configMap = monitoring.find((o) => o.kind === "ConfigMap");
expect(configMap?.metadata?.labels?.grafana_dashboard === "1",
       "the dashboard's ConfigMap has no grafana_dashboard label");
let dashboard = {};
try {
  dashboard = JSON.parse(Object.values(configMap?.data ?? {})[0] ?? "");
} catch (e) {
  problems.push(`the dashboard is not JSON: ${e.message}`);
}
expect(dashboard.uid && dashboard.title, "the dashboard has no uid or title");
const ids = new Set();
for (const panel of dashboard.panels ?? []) {
  expect(!ids.has(panel.id), `panel id ${panel.id} twice`);
  ids.add(panel.id);
  expect((panel.targets ?? []).length > 0, `panel "${panel.title}" has no query`);
  for (const t of panel.targets ?? []) checkExpr(`panel "${panel.title}"`, t.expr);
}
expect(ids.size >= 10, `only ${ids.size} panels`);

const monitor = monitoring.find((o) => o.kind === "ServiceMonitor");
const service = daemonset.find((o) => o.kind === "Service");
const selector = monitor?.spec?.selector?.matchLabels ?? {};
expect(Object.keys(selector).length > 0 &&
       Object.entries(selector).every(([k, v]) => service?.metadata?.labels?.[k] === v),
       "the ServiceMonitor does not select the DaemonSet's Service");
for (const e of monitor?.spec?.endpoints ?? []) {
  expect((service?.spec?.ports ?? []).some((p) => p.name === e.port),
         `the Service has no port named ${e.port} to scrape`);
}
expect(monitor?.metadata?.namespace === service?.metadata?.namespace,
       "the ServiceMonitor is not in the DaemonSet's namespace");

for (const p of problems) console.error(`monitoring: ${p}`);
process.exit(problems.length > 0 ? 1 : 0);
