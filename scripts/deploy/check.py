#!/usr/bin/env python3
"""Cross-checks the deployment files against the code, offline (part of `make lint`).

- images: every `ticketflow/<x>` image in docker-compose*.yml and k8s/ is a service under
  services/<x> (or `web`), and every service has a compose service and a k8s Deployment;
- env: every variable set for our containers in compose or k8s is one the code reads or
  .env.example lists, every `${VAR}` compose interpolates is in .env.example, and every
  variable of .env.example is set in compose and in k8s (EXEMPT says why not);
- ports: each service's PORT, container port, k8s Service port and the *_SERVICE_URLs pointing
  at it equal the DEFAULT_PORT in services/<x>/src/config.rs;
- topics: the compose topic job runs infra/kafka/create-topics.sh on infra/kafka/topics.txt
  (mounted, not copied); every topic name in compose/k8s is in topics.txt; KEDA scales exactly
  the consuming services, on their consumer groups, and no HPA targets them;
- secrets: every secretKeyRef key is in k8s/secret.example.yaml;
- KEDA ScaledObjects against k8s/schemas/keda-scaledobject.schema.json;
- the Grafana dashboard uses only metric names the code exports (or kafka-exporter's).
Prints every problem found, exit 1 if any.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[2]
PROBLEMS: list[str] = []
# CONTRACT §1: the fleet and its ports. A service whose code has not landed yet is still
# deployed (its port from here); once services/<x> exists, its DEFAULT_PORT must agree.
CONTRACT_PORTS = {"gateway": 3000, "user": 3001, "event": 3002, "booking": 3003, "inventory": 3004,
                  "payment": 3005, "notification": 3006}

# .env.example variables that compose / k8s deliberately do not set.
EXEMPT = {
    # Each Mongo service's own database name (ticketflow_events, _payments, _notifications) is
    # its default; one shared value would put them all in one database.
    "MONGODB_DB": "every Mongo service uses its own default database",
}
# Variables that configure third-party images or compose itself, not our code.
COMPOSE_ONLY = {"IMAGE_REGISTRY", "IMAGE_TAG"}
CONSUMERS = {"booking", "inventory", "payment", "notification"}  # CONTRACT §1 Kafka groups
EXTERNAL_METRICS = {"kafka_consumergroup_lag"}  # kafka-exporter (k8s/monitoring)


def problem(text: str) -> None:
    if text not in PROBLEMS:
        PROBLEMS.append(text)


def binary(svc: str) -> str:
    return "gateway" if svc == "gateway" else f"{svc}-service"


# --- what the code says ---------------------------------------------------------------------
def services() -> dict[str, int]:
    out = dict(CONTRACT_PORTS)
    for cargo in sorted(ROOT.glob("services/*/Cargo.toml")):
        svc = cargo.parent.name
        config = cargo.parent / "src/config.rs"
        m = re.search(r"pub const DEFAULT_PORT: u16 = (\d+);", config.read_text()) if config.exists() else None
        if not m:
            problem(f"services/{svc}/src/config.rs: no `pub const DEFAULT_PORT: u16`")
            continue
        out[svc] = int(m.group(1))
        if svc in CONTRACT_PORTS and out[svc] != CONTRACT_PORTS[svc]:
            problem(f"services/{svc}: DEFAULT_PORT {out[svc]}, CONTRACT §1 says {CONTRACT_PORTS[svc]}")
    return out


def landed() -> set[str]:
    """Services whose code is in the tree (others are deployed per the contract, unchecked)."""
    return {p.parent.parent.name for p in ROOT.glob("services/*/src/main.rs")}


def code_vars() -> set[str]:
    names: set[str] = set()
    for path in list(ROOT.glob("services/*/src/**/*.rs")) + list(ROOT.glob("crates/common/src/**/*.rs")):
        names |= set(re.findall(r'"([A-Z][A-Z0-9_]{2,})"', path.read_text()))
    return names


def env_example() -> set[str]:
    keys = set()
    for line in (ROOT / ".env.example").read_text().splitlines():
        m = re.match(r"^([A-Z][A-Z0-9_]*)=", line)
        if m:
            keys.add(m.group(1))
    return keys


def topics() -> set[str]:
    out = subprocess.run(["bash", str(ROOT / "infra/kafka/create-topics.sh"), "--list"],
                         check=True, capture_output=True, text=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def exported_metrics() -> set[str]:
    names = set()
    for path in list(ROOT.glob("services/*/src/**/*.rs")) + list(ROOT.glob("crates/common/src/**/*.rs")):
        names |= set(re.findall(r'metrics::(?:counter|gauge|histogram)!\(\s*"([a-z_]+)"', path.read_text()))
    return names


def topic_names_in(text: str) -> set[str]:
    return set(re.findall(r"\bticketflow\.(?:user|event|booking|seats|payment)\.[a-zA-Z.-]*[a-zA-Z]\b", text))


# --- compose --------------------------------------------------------------------------------
def check_compose(svcs: dict[str, int], code: set[str], example: set[str], known_topics: set[str]) -> None:
    base_text = (ROOT / "docker-compose.yml").read_text()
    dev_text = (ROOT / "docker-compose.dev.yml").read_text()
    base = yaml.safe_load(base_text)
    # Variables only a service whose code has not landed yet uses cannot be checked yet.
    pending = set()
    for spec in base["services"].values():
        m = re.match(r"^\$\{IMAGE_REGISTRY:-ticketflow\}/([a-z-]+):", str(spec.get("image", "")))
        if m and m.group(1) in CONTRACT_PORTS and m.group(1) not in landed():
            pending |= set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", yaml.safe_dump(spec.get("environment"))))
            pending |= set(spec.get("environment") or {})
    others = set()
    for spec in base["services"].values():
        m = re.match(r"^\$\{IMAGE_REGISTRY:-ticketflow\}/([a-z-]+):", str(spec.get("image", "")))
        if not (m and m.group(1) in CONTRACT_PORTS and m.group(1) not in landed()):
            others |= set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", yaml.safe_dump(spec)))
            others |= set(spec.get("environment") or {})
    pending -= others
    interpolated = set()
    for text, name in ((base_text, "docker-compose.yml"), (dev_text, "docker-compose.dev.yml")):
        for var in re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", text):
            interpolated.add(var)
            if var not in example and var not in pending:
                problem(f"{name}: ${{{var}}} is not in .env.example")
        for topic in topic_names_in(text) - known_topics:
            problem(f"{name}: topic {topic} is not in infra/kafka/topics.txt")
    set_vars: set[str] = set(interpolated)
    ours = {}
    for name, spec in base["services"].items():
        image = str(spec.get("image", ""))
        m = re.match(r"^\$\{IMAGE_REGISTRY:-ticketflow\}/([a-z-]+):\$\{IMAGE_TAG:-latest\}$", image)
        if "ticketflow" in image and not m:
            problem(f"docker-compose.yml: {name}: image {image} is not ${{IMAGE_REGISTRY:-ticketflow}}/<x>:${{IMAGE_TAG:-latest}}")
        if not m:
            continue
        short = m.group(1)
        ours[short] = name
        env = {k: str(v) for k, v in (spec.get("environment") or {}).items()}
        set_vars |= set(env)
        for var in env:
            if var not in code and var not in example and var not in pending:
                problem(f"docker-compose.yml: {name} sets {var}, which neither the code nor .env.example knows")
        if short == "web":
            continue
        if short not in svcs:
            problem(f"docker-compose.yml: {name} runs image {short}, but there is no services/{short}")
            continue
        if name != binary(short):
            problem(f"docker-compose.yml: service of {short} should be named {binary(short)}, not {name}")
        if env.get("PORT") != str(svcs[short]):
            problem(f"docker-compose.yml: {name} PORT={env.get('PORT')}, the code's default is {svcs[short]}")
        build_args = (spec.get("build") or {}).get("args") or {}
        if build_args.get("SERVICE") != short or str(build_args.get("PORT")) != str(svcs[short]):
            problem(f"docker-compose.yml: {name} build args must be SERVICE={short} PORT={svcs[short]}")
        if "healthcheck" not in spec:
            problem(f"docker-compose.yml: {name} has no healthcheck")
    for svc in svcs:
        if svc not in ours:
            problem(f"docker-compose.yml: no service runs image ticketflow/{svc}")
    dev = yaml.safe_load(dev_text)
    for name, spec in (dev.get("services") or {}).items():
        if name in ours.values():
            for var in spec.get("environment") or {}:
                set_vars.add(var)
                if var not in code and var not in example:
                    problem(f"docker-compose.dev.yml: {name} sets {var}, which neither the code nor .env.example knows")
        elif name not in base["services"] and "image" not in spec:
            problem(f"docker-compose.dev.yml: {name} is not in docker-compose.yml and has no image")
    for spec in base["services"].values():
        for var, value in (spec.get("environment") or {}).items():
            check_service_url("docker-compose.yml", var, str(value), svcs)
    for var in sorted(example - set_vars - set(EXEMPT)):
        problem(f"docker-compose.yml: .env.example's {var} is set nowhere in compose (or add it to EXEMPT in {Path(__file__).name})")
    init = base["services"].get("kafka-init") or {}
    mounts = [str(v) for v in init.get("volumes", [])]
    if not any(v.startswith("./infra/kafka:") for v in mounts) or "create-topics.sh" not in " ".join(
            map(str, init.get("entrypoint", []) or [])) or not str(
            (init.get("environment") or {}).get("TOPICS_FILE", "")).endswith("/topics.txt"):
        problem("docker-compose.yml: kafka-init must run infra/kafka/create-topics.sh on the mounted infra/kafka/topics.txt")


def check_service_url(where: str, var: str, value: str, svcs: dict[str, int]) -> None:
    m = re.match(r"^([A-Z]+)_SERVICE_URL$", var)
    if not m:
        return
    short = m.group(1).lower()
    want = f"http://{binary(short)}:{svcs.get(short)}"
    if short not in svcs or value.rstrip("/") != want:
        problem(f"{where}: {var}={value}, expected {want}")


# --- k8s ------------------------------------------------------------------------------------
def k8s_docs() -> list[tuple[str, dict]]:
    out = []
    for path in sorted(ROOT.glob("k8s/**/*.yaml")):
        rel = str(path.relative_to(ROOT))
        if rel == "k8s/kustomization.yaml":
            continue
        text = path.read_text()
        for doc in yaml.safe_load_all(text):
            if doc:
                out.append((rel, doc))
    return out


def check_k8s(svcs: dict[str, int], code: set[str], example: set[str], known_topics: set[str]) -> None:
    docs = k8s_docs()
    for path in sorted(ROOT.glob("k8s/**/*.yaml")):
        for topic in topic_names_in(path.read_text()) - known_topics:
            problem(f"{path.relative_to(ROOT)}: topic {topic} is not in infra/kafka/topics.txt")
    set_vars: set[str] = set()
    config: dict[str, str] = {}
    secret_keys: set[str] = set()
    used_secret_keys: set[tuple[str, str]] = set()
    deployments: dict[str, tuple[str, dict]] = {}
    services_k8s: dict[str, dict] = {}
    hpa_targets, keda = set(), {}
    schema = json.loads((ROOT / "k8s/schemas/keda-scaledobject.schema.json").read_text())
    for rel, doc in docs:
        kind, name = doc.get("kind"), doc.get("metadata", {}).get("name")
        if kind == "ConfigMap" and name == "ticketflow-config":
            config = {k: str(v) for k, v in doc.get("data", {}).items()}
        elif kind == "Secret" and name == "ticketflow-secrets":
            secret_keys = set(doc.get("stringData", {})) | set(doc.get("data", {}))
        elif kind == "Deployment":
            deployments[name] = (rel, doc)
        elif kind == "Service":
            services_k8s[name] = doc
        elif kind == "HorizontalPodAutoscaler":
            hpa_targets.add(doc["spec"]["scaleTargetRef"]["name"])
        elif kind == "ScaledObject":
            keda[name] = doc
            for err in jsonschema.Draft202012Validator(schema).iter_errors(doc):
                problem(f"{rel}: ScaledObject {name}: {err.message} at /{'/'.join(map(str, err.path))}")
        for spec in pod_specs(doc):
            for c in spec.get("containers", []) + spec.get("initContainers", []):
                for e in c.get("env", []):
                    ref = (e.get("valueFrom") or {}).get("secretKeyRef")
                    if ref and ref.get("name") == "ticketflow-secrets":
                        used_secret_keys.add((rel, ref["key"]))
    for rel, key in sorted(used_secret_keys):
        if key not in secret_keys:
            problem(f"{rel}: reads Secret key {key}, which k8s/secret.example.yaml does not show")
    set_vars |= set(config)
    not_landed = set(CONTRACT_PORTS) - landed()
    pending = set()
    for name, (rel, doc) in deployments.items():
        m = re.match(r"^ticketflow/([a-z-]+):", doc["spec"]["template"]["spec"]["containers"][0]["image"])
        if m and m.group(1) in not_landed:
            pending |= {e["name"] for e in doc["spec"]["template"]["spec"]["containers"][0].get("env", [])}
    # ConfigMap keys documented as notification-service's (SMTP_*, MAIL_*, PUBLIC_URL) wait for its code.
    if "notification" in not_landed:
        pending |= {k for k in config if k.startswith(("SMTP_", "MAIL_")) or k == "PUBLIC_URL"}
    for var in config:
        if var not in code and var not in example and var not in pending:
            problem(f"k8s/config.yaml: {var} is neither read by the code nor in .env.example")
        check_service_url("k8s/config.yaml", var, config[var], svcs)
    found = set()
    for name, (rel, doc) in deployments.items():
        containers = doc["spec"]["template"]["spec"]["containers"]
        image = containers[0]["image"]
        m = re.match(r"^ticketflow/([a-z-]+):", image)
        if not m:
            continue
        short = m.group(1)
        short = "gateway" if short == "web" else short  # the gateway runs the web image (+ SPA)
        found.add(short)
        if short not in svcs:
            problem(f"{rel}: image {image} has no services/{short}")
            continue
        if name != binary(short):
            problem(f"{rel}: Deployment of {short} should be named {binary(short)}")
        c = containers[0]
        env = {e["name"]: e.get("value") for e in c.get("env", [])}
        set_vars |= set(env)
        for var in env:
            if var not in code and var not in example and var not in pending:
                problem(f"{rel}: {name} sets {var}, which neither the code nor .env.example knows")
        if env.get("PORT") != str(svcs[short]):
            problem(f"{rel}: {name} PORT={env.get('PORT')}, the code's default is {svcs[short]}")
        http = [p["containerPort"] for p in c.get("ports", []) if p.get("name") == "http"]
        if http != [svcs[short]]:
            problem(f"{rel}: {name} containerPort http {http} != {svcs[short]}")
        sc = c.get("securityContext", {})
        if not (sc.get("runAsNonRoot") and sc.get("readOnlyRootFilesystem") and sc.get("allowPrivilegeEscalation") is False):
            problem(f"{rel}: {name} must run non-root, read-only root filesystem, no privilege escalation")
        probes = (c.get("readinessProbe", {}).get("httpGet", {}).get("path"),
                  c.get("livenessProbe", {}).get("httpGet", {}).get("path"))
        if probes != ("/health/ready", "/health"):
            problem(f"{rel}: {name} probes {probes}, expected readiness /health/ready and liveness /health")
        if "resources" not in c:
            problem(f"{rel}: {name} has no resources")
        svc_doc = services_k8s.get(name)
        ports = [p["port"] for p in (svc_doc or {}).get("spec", {}).get("ports", []) if p.get("name") == "http"]
        if ports != [svcs[short]]:
            problem(f"{rel}: Service {name} http port {ports} != {svcs[short]}")
        consumer = short in CONSUMERS
        if consumer and name in hpa_targets:
            problem(f"{rel}: {name} is scaled by KEDA; an HPA on it would fight KEDA's")
        if consumer:
            so = keda.get(name)
            groups = [t["metadata"].get("consumerGroup") for t in (so or {}).get("spec", {}).get("triggers", [])]
            if groups != [name]:
                problem(f"k8s/keda: {name} needs a ScaledObject on consumer group {name}, found {groups}")
        elif name in keda:
            problem(f"k8s/keda: {name} consumes nothing; it must not have a ScaledObject")
    for svc in svcs:
        if svc not in found:
            problem(f"k8s/apps: no Deployment runs ticketflow/{svc}")
    for var in sorted(example - set_vars - set(EXEMPT) - COMPOSE_ONLY - {"POSTGRES_PASSWORD", "MONGO_PASSWORD", "REDIS_PASSWORD"} - secret_keys):
        problem(f"k8s: .env.example's {var} is set in neither k8s/config.yaml nor a Deployment (or add it to EXEMPT in {Path(__file__).name})")


def pod_specs(doc: dict) -> list[dict]:
    spec = doc.get("spec") or {}
    if doc.get("kind") in ("Deployment", "StatefulSet", "Job"):
        return [spec.get("template", {}).get("spec", {})]
    return []


# --- dashboard ------------------------------------------------------------------------------
def check_dashboard(exported: set[str]) -> None:
    dash = json.loads((ROOT / "k8s/monitoring/dashboards/ticketflow.json").read_text())
    for p in dash["panels"]:
        for t in p.get("targets", []):
            for name in re.findall(r"\b([a-z][a-z0-9_]*)\s*[{(\[]", t["expr"]):
                if name in {"sum", "rate", "histogram_quantile", "by", "irate", "increase", "max", "avg"}:
                    continue
                base = re.sub(r"_(bucket|sum|count)$", "", name)
                if base not in exported and name not in EXTERNAL_METRICS:
                    problem(f"k8s/monitoring/dashboards/ticketflow.json: panel '{p['title']}' uses {name}, which no code exports")


def check_kustomization() -> None:
    kust = yaml.safe_load((ROOT / "k8s/kustomization.yaml").read_text())
    listed = set(kust.get("resources", []))
    for path in sorted(ROOT.glob("k8s/**/*.yaml")):
        rel = str(path.relative_to(ROOT / "k8s"))
        if rel in ("kustomization.yaml", "secret.example.yaml") or rel.startswith("keda/"):
            continue
        if rel not in listed:
            problem(f"k8s/kustomization.yaml: {rel} is not in resources")
    for rel in listed:
        if not (ROOT / "k8s" / rel).exists():
            problem(f"k8s/kustomization.yaml: {rel} does not exist")
    images = {i["name"] for i in kust.get("images", [])}
    for _, doc in k8s_docs():
        for spec in pod_specs(doc):
            for c in spec.get("containers", []):
                base = c["image"].split(":")[0]
                if base.startswith("ticketflow/") and base not in images:
                    problem(f"k8s/kustomization.yaml: image {base} has no images: entry")


# CONTRACT §13: operators' targets; `make help` must list every one.
CONTRACT_TARGETS = """help setup dev dev-infra dev-stop dev-clean restart rebuild logs logs-gateway logs-user
logs-event logs-booking logs-inventory logs-payment logs-notification health health-individual seed
psql-users psql-bookings psql-inventory mongo-shell redis-cli kafka-topics kafka-topic-describe
kafka-consume kafka-groups kafka-lag build build-push prod-up prod-down k8s-namespace k8s-infra
k8s-monitoring k8s-services k8s-keda k8s-ingress k8s-apply k8s-delete k8s-pods k8s-logs k8s-scale
k8s-status clean lint test demo up down ps audit bench""".split()


def check_make_targets() -> None:
    out = subprocess.run(["make", "--no-print-directory", "-s", "help"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    listed = {re.sub(r"\x1b\[[0-9;]*m", "", line).split()[0] for line in out.splitlines() if line.strip()}
    for target in CONTRACT_TARGETS:
        if target not in listed:
            problem(f"make help does not list `{target}` (CONTRACT §13)")


def check_healthcheck() -> None:
    # The images' HEALTHCHECK and compose's run `<binary> healthcheck` (crates/common healthcheck.rs).
    for main in sorted(ROOT.glob("services/*/src/main.rs")):
        if "healthcheck::run(" not in main.read_text():
            problem(f"{main.relative_to(ROOT)}: no `healthcheck` subcommand (ticketflow_common::healthcheck::run); the image's HEALTHCHECK needs it")


def main() -> int:
    check_healthcheck()
    check_kustomization()
    check_make_targets()
    svcs = services()
    code, example, known = code_vars(), env_example(), topics()
    check_compose(svcs, code, example, known)
    check_k8s(svcs, code, example, known)
    check_dashboard(exported_metrics())
    for p in PROBLEMS:
        print(f"deploy-check: {p}", file=sys.stderr)
    if PROBLEMS:
        return 1
    print(f"deploy-check: {len(svcs)} services, {len(known)} topics, compose + k8s + dashboard consistent with the code")
    return 0


if __name__ == "__main__":
    sys.exit(main())
