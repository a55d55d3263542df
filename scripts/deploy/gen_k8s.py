#!/usr/bin/env python3
"""Generates the repetitive and the derived Kubernetes manifests of k8s/ from one table.

    gen_k8s.py            write the files
    gen_k8s.py --check    exit 1 if a checked-in file differs from what would be generated
                          (make lint runs this: the topic Job can never drift from
                          infra/kafka/topics.txt, nor the dashboard from its source)

Generated (each says so in its first line): k8s/apps/<service>.yaml (Deployment, Service,
PodDisruptionBudget), k8s/apps/network-policies.yaml, k8s/apps/gateway-hpa.yaml,
k8s/keda/scaledobjects.yaml, k8s/infra/kafka-topics.yaml (ConfigMap with topics.txt and
create-topics.sh + the Job), k8s/infra/postgres-init.yaml (ConfigMap with
infra/postgres/init-databases.sh), k8s/monitoring/grafana-dashboard.yaml (ConfigMap with
k8s/monitoring/dashboards/ticketflow.json, which this script also writes).
Hand-written: namespace, config, secret example, the stores' StatefulSets, ingress, Prometheus,
Grafana, kafka-exporter.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
NS = "ticketflow"
PART_OF = {"app.kubernetes.io/part-of": "ticketflow"}
REGISTRY = "ticketflow"  # `make build` tags ticketflow/<service>; kustomize or sed to retarget
UID = 10001


class Literal(str):
    """A string dumped as a YAML literal block (file contents in ConfigMaps)."""


def _literal(dumper: yaml.Dumper, value: Literal) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")


yaml.add_representer(Literal, _literal, Dumper=yaml.SafeDumper)


# --- the fleet (CONTRACT §1) ----------------------------------------------------------------
def secret(key: str, optional: bool = False) -> dict:
    ref = {"name": "ticketflow-secrets", "key": key}
    if optional:
        ref["optional"] = True
    return {"valueFrom": {"secretKeyRef": ref}}


PG_URL = "postgres://postgres:$(POSTGRES_PASSWORD)@postgres:5432/"
MONGO_URL = "mongodb://ticketflow:$(MONGO_PASSWORD)@mongodb:27017/?authSource=admin"

SERVICES = [
    {
        "short": "gateway", "name": "gateway", "port": 3000, "group": None,
        # The gateway serves the built web app too (image ticketflow/web = gateway + WEB_DIR).
        "image": "web", "stores": [],
        "env": [("JWT_SECRET", secret("JWT_SECRET")), ("WEB_DIR", "/srv/web"),
                ("TRUST_PROXY", "true")],
        "cpu": "200m", "memory": "128Mi", "limit_memory": "256Mi",
    },
    {
        "short": "user", "name": "user-service", "port": 3001, "group": None,
        "stores": ["postgres", "kafka"],
        "env": [("JWT_SECRET", secret("JWT_SECRET")), ("POSTGRES_PASSWORD", secret("POSTGRES_PASSWORD")),
                ("USER_DB_URL", PG_URL + "ticketflow_users")],
        # argon2id: one 19 MiB buffer per core.
        "cpu": "250m", "memory": "128Mi", "limit_memory": "384Mi",
    },
    {
        "short": "event", "name": "event-service", "port": 3002, "group": None,
        "stores": ["mongodb", "kafka"],
        "env": [("MONGO_PASSWORD", secret("MONGO_PASSWORD")), ("MONGODB_URL", MONGO_URL)],
    },
    {
        "short": "booking", "name": "booking-service", "port": 3003, "group": "booking-service",
        "stores": ["postgres", "kafka"], "calls": ["event-service"],
        "env": [("POSTGRES_PASSWORD", secret("POSTGRES_PASSWORD")),
                ("BOOKING_DB_URL", PG_URL + "ticketflow_bookings")],
    },
    {
        "short": "inventory", "name": "inventory-service", "port": 3004, "group": "inventory-service",
        "stores": ["postgres", "redis", "kafka"],
        "env": [("POSTGRES_PASSWORD", secret("POSTGRES_PASSWORD")),
                ("INVENTORY_DB_URL", PG_URL + "ticketflow_inventory"),
                ("REDIS_PASSWORD", secret("REDIS_PASSWORD")),
                ("REDIS_URL", "redis://:$(REDIS_PASSWORD)@redis:6379")],
    },
    {
        "short": "payment", "name": "payment-service", "port": 3005, "group": "payment-service",
        "stores": ["mongodb", "kafka"],
        "env": [("MONGO_PASSWORD", secret("MONGO_PASSWORD")), ("MONGODB_URL", MONGO_URL)],
    },
    {
        "short": "notification", "name": "notification-service", "port": 3006,
        "group": "notification-service", "stores": ["mongodb", "kafka", "mailpit"],
        "env": [("MONGO_PASSWORD", secret("MONGO_PASSWORD")), ("MONGODB_URL", MONGO_URL),
                ("SMTP_USERNAME", secret("SMTP_USERNAME", optional=True)),
                ("SMTP_PASSWORD", secret("SMTP_PASSWORD", optional=True))],
    },
]
# Stores: the pods (label app.kubernetes.io/name) and ports only their services reach.
STORES = {"postgres": 5432, "mongodb": 27017, "redis": 6379, "kafka": 9092, "mailpit": 1025}
METRICS_PORT = 9100  # the gateway's internal /metrics + /health/ready (METRICS_PORT)
# Consumer groups KEDA scales on (CONTRACT §1); never an HPA for these.
KEDA_MAX_REPLICAS = 3  # = partitions per topic: more consumers than partitions sit idle


def labels(name: str, component: str = "service") -> dict:
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/component": component, **PART_OF}


def meta(name: str, component: str = "service", **extra) -> dict:
    return {"name": name, "namespace": NS, "labels": labels(name, component), **extra}


def env_list(svc: dict) -> list:
    out = [{"name": "PORT", "value": str(svc["port"])},
           {"name": "INTERNAL_SECRET", **secret("INTERNAL_SECRET")}]
    for name, value in svc["env"]:
        out.append({"name": name, "value": value} if isinstance(value, str) else {"name": name, **value})
    return out


def deployment(svc: dict) -> dict:
    name, port = svc["name"], svc["port"]
    gateway = svc["short"] == "gateway"
    ports = [{"name": "http", "containerPort": port}]
    if gateway:
        ports.append({"name": "metrics", "containerPort": METRICS_PORT})
    ready_port = "metrics" if gateway else "http"
    annotations = {"prometheus.io/scrape": "true",
                   "prometheus.io/port": str(METRICS_PORT if gateway else port),
                   "prometheus.io/path": "/metrics"}
    spec: dict = {
        "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
        "template": {
            "metadata": {"labels": labels(name), "annotations": annotations},
            "spec": {
                "automountServiceAccountToken": False,
                "terminationGracePeriodSeconds": 30,
                "securityContext": {"runAsNonRoot": True, "runAsUser": UID, "runAsGroup": UID,
                                    "fsGroup": UID, "seccompProfile": {"type": "RuntimeDefault"}},
                "containers": [{
                    "name": name,
                    "image": f"{REGISTRY}/{svc.get('image', svc['short'])}:latest",
                    "imagePullPolicy": "IfNotPresent",
                    "ports": ports,
                    "envFrom": [{"configMapRef": {"name": "ticketflow-config"}}],
                    "env": env_list(svc),
                    # /health: the process answers; /health/ready: every dependency answers (the
                    # gateway's readiness is on its internal metrics port).
                    "livenessProbe": {"httpGet": {"path": "/health", "port": "http"},
                                      "initialDelaySeconds": 5, "periodSeconds": 10,
                                      "timeoutSeconds": 3, "failureThreshold": 3},
                    "readinessProbe": {"httpGet": {"path": "/health/ready", "port": ready_port},
                                       "periodSeconds": 5, "timeoutSeconds": 3,
                                       "failureThreshold": 3},
                    "startupProbe": {"httpGet": {"path": "/health", "port": "http"},
                                     "periodSeconds": 2, "failureThreshold": 30},
                    "resources": {
                        "requests": {"cpu": svc.get("cpu", "100m"), "memory": svc.get("memory", "96Mi")},
                        "limits": {"memory": svc.get("limit_memory", "256Mi")},
                    },
                    "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                        "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}},
                    "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                }],
                "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "16Mi"}}],
            },
        },
    }
    if gateway:
        spec = {"replicas": 2, **spec}  # the HPA takes over from here
    elif not svc["group"]:
        spec = {"replicas": 1, **spec}
    # KEDA-scaled Deployments leave replicas to KEDA (no field, so re-applying never resets it).
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta(name), "spec": spec}


def service(svc: dict) -> dict:
    ports = [{"name": "http", "port": svc["port"], "targetPort": "http"}]
    if svc["short"] == "gateway":
        ports.append({"name": "metrics", "port": METRICS_PORT, "targetPort": "metrics"})
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta(svc["name"]),
            "spec": {"selector": {"app.kubernetes.io/name": svc["name"]}, "ports": ports}}


def pdb(svc: dict) -> dict:
    budget = {"minAvailable": 1} if svc["short"] == "gateway" else {"maxUnavailable": 1}
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": meta(svc["name"]),
            "spec": {**budget, "selector": {"matchLabels": {"app.kubernetes.io/name": svc["name"]}}}}


def from_pods(*names: str) -> dict:
    return {"podSelector": {"matchExpressions": [
        {"key": "app.kubernetes.io/name", "operator": "In", "values": sorted(names)}]}}


def netpol(name: str, target: str, rules: list) -> dict:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": meta(name, "network-policy"),
            "spec": {"podSelector": {"matchLabels": {"app.kubernetes.io/name": target}},
                     "policyTypes": ["Ingress"], "ingress": rules}}


def network_policies() -> list:
    docs = [{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
             "metadata": meta("default-deny-ingress", "network-policy"),
             "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}]
    prometheus = from_pods("prometheus")
    # The gateway: the public port from the ingress controller's namespace, metrics from Prometheus.
    docs.append(netpol("gateway", "gateway", [
        {"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}],
         "ports": [{"port": 3000}]},
        {"from": [prometheus], "ports": [{"port": METRICS_PORT}]},
    ]))
    for svc in SERVICES[1:]:
        callers = ["gateway"] + [s["name"] for s in SERVICES if svc["name"] in s.get("calls", [])]
        docs.append(netpol(svc["name"], svc["name"], [
            {"from": [from_pods(*callers), prometheus], "ports": [{"port": svc["port"]}]}]))
    for store, port in STORES.items():
        clients = [s["name"] for s in SERVICES if store in s["stores"]]
        if store == "kafka":
            clients += ["kafka-topics", "kafka-exporter", "kafka"]
        docs.append(netpol(store, store, [{"from": [from_pods(*clients)], "ports": [{"port": port}]}]))
    # Monitoring: Prometheus scrapes kafka-exporter; Grafana reads Prometheus; Grafana's UI and
    # Mailpit's are reached with `kubectl port-forward`, which these rules do not restrict.
    docs.append(netpol("kafka-exporter", "kafka-exporter", [{"from": [prometheus], "ports": [{"port": 9308}]}]))
    docs.append(netpol("prometheus", "prometheus", [{"from": [from_pods("grafana")], "ports": [{"port": 9090}]}]))
    return docs


def hpa() -> dict:
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": meta("gateway"),
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "gateway"},
                     "minReplicas": 2, "maxReplicas": 6,
                     "metrics": [{"type": "Resource", "resource": {
                         "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}]}}


def scaled_object(svc: dict) -> dict:
    return {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": meta(svc["name"]),
            "spec": {"scaleTargetRef": {"name": svc["name"]}, "minReplicaCount": 1,
                     "maxReplicaCount": KEDA_MAX_REPLICAS, "pollingInterval": 15, "cooldownPeriod": 120,
                     "triggers": [{"type": "kafka", "metadata": {
                         "bootstrapServers": "kafka.ticketflow.svc:9092",
                         "consumerGroup": svc["group"],
                         "lagThreshold": "50", "activationLagThreshold": "5",
                         "offsetResetPolicy": "earliest"}}]}}


# --- derived from files ---------------------------------------------------------------------
def file_text(rel: str) -> str:
    return (ROOT / rel).read_text()


def kafka_topics() -> list:
    topics, script = file_text("infra/kafka/topics.txt"), file_text("infra/kafka/create-topics.sh")
    digest = hashlib.sha256((topics + script).encode()).hexdigest()[:8]
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("kafka-topics", "kafka-topics"),
              "data": {"topics.txt": Literal(topics), "create-topics.sh": Literal(script)}}
    job = {"apiVersion": "batch/v1", "kind": "Job",
           # Named by the content's hash: a changed topic list is a new Job (Jobs are immutable).
           "metadata": meta(f"kafka-topics-{digest}", "kafka-topics"),
           "spec": {"backoffLimit": 10, "ttlSecondsAfterFinished": 86400, "template": {
               "metadata": {"labels": labels("kafka-topics", "kafka-topics")},
               "spec": {
                   "restartPolicy": "OnFailure",
                   "automountServiceAccountToken": False,
                   "securityContext": {"runAsNonRoot": True, "runAsUser": 1000,
                                       "seccompProfile": {"type": "RuntimeDefault"}},
                   "containers": [{
                       "name": "create-topics", "image": "apache/kafka:4.1.1",
                       "command": ["bash", "/ticketflow-kafka/create-topics.sh"],
                       "env": [{"name": "KAFKA_TOPICS_CMD", "value": "/opt/kafka/bin/kafka-topics.sh"},
                               {"name": "BOOTSTRAP", "value": "kafka:9092"},
                               {"name": "TOPICS_FILE", "value": "/ticketflow-kafka/topics.txt"},
                               {"name": "CREATE_TOPICS_WAIT_SECONDS", "value": "300"}],
                       "resources": {"requests": {"cpu": "100m", "memory": "256Mi"},
                                     "limits": {"memory": "512Mi"}},
                       "securityContext": {"allowPrivilegeEscalation": False,
                                           "capabilities": {"drop": ["ALL"]}},
                       "volumeMounts": [{"name": "scripts", "mountPath": "/ticketflow-kafka"}],
                   }],
                   "volumes": [{"name": "scripts", "configMap": {"name": "kafka-topics"}}],
               }}}}
    return [config, job]


def postgres_init() -> list:
    return [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("postgres-init", "postgres"),
             "data": {"init-databases.sh": Literal(file_text("infra/postgres/init-databases.sh"))}}]


# --- the Grafana dashboard (our metric names: crates/common telemetry, kafka runner, services) -
def panel(pid: int, title: str, exprs: list[tuple[str, str]], x: int, y: int, unit: str = "short",
          w: int = 12) -> dict:
    return {"id": pid, "type": "timeseries", "title": title,
            "datasource": {"type": "prometheus", "uid": "prometheus"},
            "gridPos": {"h": 8, "w": w, "x": x, "y": y},
            "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
            "options": {"legend": {"displayMode": "table", "placement": "bottom"}},
            "targets": [{"refId": chr(65 + i), "expr": e, "legendFormat": legend}
                        for i, (e, legend) in enumerate(exprs)]}


def dashboard() -> dict:
    rate = "[$__rate_interval]"
    panels = [
        panel(1, "Requests per second by service and route",
              [(f'sum by (service, path) (rate(http_requests_total{{service=~"$service"}}{rate}))',
                "{{service}} {{path}}")], 0, 0, "reqps"),
        panel(2, "Error ratio (5xx) by service",
              [(f'sum by (service) (rate(http_requests_total{{service=~"$service",status=~"5.."}}{rate}))'
                f' / sum by (service) (rate(http_requests_total{{service=~"$service"}}{rate}))',
                "{{service}}")], 12, 0, "percentunit"),
        panel(3, "Latency p95 by route",
              [(f'histogram_quantile(0.95, sum by (le, service, path) '
                f'(rate(http_request_duration_seconds_bucket{{service=~"$service"}}{rate})))',
                "{{service}} {{path}}")], 0, 8, "s"),
        panel(4, "Gateway upstream calls by outcome",
              [(f"sum by (service, outcome) (rate(gateway_upstream_requests_total{rate}))",
                "{{service}} {{outcome}}"),
               (f"sum(rate(gateway_rate_limited_total{rate}))", "rate limited")], 12, 8, "reqps"),
        panel(5, "Kafka consumer lag by group",
              [("sum by (consumergroup) (kafka_consumergroup_lag)", "{{consumergroup}}")], 0, 16),
        panel(6, "Messages consumed / dead-lettered by topic",
              [(f"sum by (topic, outcome) (rate(kafka_messages_consumed_total{rate}))",
                "{{topic}} {{outcome}}"),
               (f"sum by (topic) (rate(kafka_messages_dead_lettered_total{rate}))", "DLT {{topic}}")],
              12, 16, "ops"),
        panel(7, "Saga outcomes (booking transitions)",
              [(f"sum by (to) (rate(booking_saga_transitions_total{rate}))", "{{to}}"),
               (f"sum(rate(bookings_created_total{rate}))", "created"),
               (f"sum(rate(bookings_timed_out_total{rate}))", "timed out")], 0, 24, "ops"),
        panel(8, "Payments by status, refunds",
              [(f"sum by (status) (rate(payments_processed_total{rate}))", "{{status}}"),
               (f"sum(rate(payments_refunded_total{rate}))", "refunded")], 12, 24, "ops"),
        panel(9, "Seat lock requests and conflicts",
              [(f"sum by (outcome, decided_by) (rate(inventory_lock_requests_total{rate}))",
                "{{outcome}} {{decided_by}}"),
               (f"sum(rate(inventory_locks_lapsed_total{rate}))", "lapsed"),
               (f"sum(rate(inventory_gate_bypassed_total{rate}))", "Redis gate bypassed")],
              0, 32, "ops"),
        panel(10, "Messages produced by topic",
              [(f"sum by (topic) (rate(kafka_messages_produced_total{rate}))", "{{topic}}")],
              12, 32, "ops"),
    ]
    return {
        "uid": "ticketflow", "title": "TicketFlow", "tags": ["ticketflow"], "timezone": "utc",
        "schemaVersion": 39, "version": 1, "refresh": "30s", "editable": True,
        "time": {"from": "now-1h", "to": "now"},
        "templating": {"list": [{
            "name": "service", "label": "service", "type": "query", "includeAll": True, "multi": True,
            "current": {"text": "All", "value": "$__all"}, "allValue": ".*",
            "datasource": {"type": "prometheus", "uid": "prometheus"},
            "query": {"query": "label_values(http_requests_total, service)", "refId": "service"},
            "definition": "label_values(http_requests_total, service)", "refresh": 2}]},
        "panels": panels,
    }


def dashboard_configmap(text: str) -> list:
    return [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("grafana-dashboards", "grafana"),
             "data": {"ticketflow.json": Literal(text)}}]


# --- output ---------------------------------------------------------------------------------
HEADER = "# Generated by scripts/deploy/gen_k8s.py{source}; do not edit: change the script and run `make k8s-generate`.\n"


def render(docs: list, source: str = "") -> str:
    body = "---\n".join(yaml.safe_dump(d, sort_keys=False, width=110) for d in docs)
    return HEADER.format(source=f" from {source}" if source else "") + body


def outputs() -> dict[str, str]:
    dash = json.dumps(dashboard(), indent=2) + "\n"
    files = {
        "k8s/apps/network-policies.yaml": render(network_policies()),
        "k8s/apps/gateway-hpa.yaml": render([hpa()]),
        "k8s/keda/scaledobjects.yaml": render([scaled_object(s) for s in SERVICES if s["group"]]),
        "k8s/infra/kafka-topics.yaml": render(kafka_topics(), "infra/kafka/topics.txt and create-topics.sh"),
        "k8s/infra/postgres-init.yaml": render(postgres_init(), "infra/postgres/init-databases.sh"),
        "k8s/monitoring/dashboards/ticketflow.json": dash,
        "k8s/monitoring/grafana-dashboard.yaml": render(dashboard_configmap(dash),
                                                        "k8s/monitoring/dashboards/ticketflow.json"),
    }
    for svc in SERVICES:
        files[f"k8s/apps/{svc['short']}.yaml"] = render([deployment(svc), service(svc), pdb(svc)])
    return files


def main() -> int:
    check = "--check" in sys.argv[1:]
    stale = []
    for rel, text in outputs().items():
        path = ROOT / rel
        current = path.read_text() if path.exists() else None
        if current == text:
            continue
        if check:
            stale.append(rel)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote {rel}")
    if stale:
        print("k8s: generated files are stale (run `make k8s-generate`): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
