# Operators' targets (CONTRACT §13): the same names whether the fleet runs in Docker or natively.
# scripts/ops.sh picks the mode: the compose stack when `docker info` reaches an engine, else the
# native processes of `make up` (TICKETFLOW_MODE=docker|native to choose); each says which.
# Images: IMAGE_REGISTRY (ticketflow) and IMAGE_TAG (git short hash; :latest too).
# Kubernetes: kubectl against the current context, namespace ticketflow (k8s/README.md).
OPS := scripts/ops.sh
KUBECTL ?= kubectl
K8S_NS := ticketflow

.PHONY: dev dev-infra dev-stop dev-clean restart rebuild logs \
	logs-gateway logs-user logs-event logs-booking logs-inventory logs-payment logs-notification \
	health health-individual psql-users psql-bookings psql-inventory mongo-shell redis-cli \
	kafka-topics kafka-topic-describe kafka-consume kafka-groups kafka-lag \
	build build-push prod-up prod-down bench \
	k8s-namespace k8s-secret k8s-infra k8s-monitoring k8s-services k8s-keda k8s-ingress k8s-apply \
	k8s-delete k8s-pods k8s-logs k8s-scale k8s-status

dev: ## Run the fleet: the compose dev stack with a Docker engine, else the native stack (make up); says which
	@bash $(OPS) dev

dev-infra: ## Only the infrastructure: compose stores/Kafka/Mailpit/UIs, or natively make local-infra
	@bash $(OPS) dev-infra

dev-stop: ## Stop the fleet of make dev (data kept)
	@bash $(OPS) dev-stop

dev-clean: ## Stop the fleet of make dev and delete its data (compose volumes, or .local/)
	@bash $(OPS) dev-clean

restart: ## Restart one service: make restart s=booking
	@bash $(OPS) restart "$(s)"

rebuild: ## Rebuild one service and restart it: make rebuild s=booking (docker: its image)
	@bash $(OPS) rebuild "$(s)"

logs: ## Follow every service's log (docker compose logs, or .local/logs/*.log)
	@bash $(OPS) logs

logs-gateway: ## Follow the gateway's log
	@bash $(OPS) logs gateway
logs-user: ## Follow user-service's log
	@bash $(OPS) logs user
logs-event: ## Follow event-service's log
	@bash $(OPS) logs event
logs-booking: ## Follow booking-service's log
	@bash $(OPS) logs booking
logs-inventory: ## Follow inventory-service's log
	@bash $(OPS) logs inventory
logs-payment: ## Follow payment-service's log
	@bash $(OPS) logs payment
logs-notification: ## Follow notification-service's log
	@bash $(OPS) logs notification

health: ## The gateway's /health/all (every service up or down); exit 1 unless all are up
	@bash $(OPS) health

health-individual: ## Each service's own /health and /health/ready on its port
	@bash $(OPS) health-individual

psql-users: ## psql on ticketflow_users
	@bash $(OPS) psql users
psql-bookings: ## psql on ticketflow_bookings
	@bash $(OPS) psql bookings
psql-inventory: ## psql on ticketflow_inventory
	@bash $(OPS) psql inventory

mongo-shell: ## mongosh on ticketflow_events (natively: FerretDB; mongosh fetched with npm once)
	@bash $(OPS) mongo-shell

redis-cli: ## redis-cli on the seat-lock Redis
	@bash $(OPS) redis-cli

kafka-topics: ## List the Kafka topics
	@bash $(OPS) kafka-topics

kafka-topic-describe: ## Partitions and config of a topic: make kafka-topic-describe t=ticketflow.booking.initiated
	@bash $(OPS) kafka-topic-describe "$(t)"

kafka-consume: ## Print a topic from the beginning with keys and headers: make kafka-consume t=... [n=10]
	@bash $(OPS) kafka-consume "$(t)" $(n)

kafka-groups: ## List the consumer groups
	@bash $(OPS) kafka-groups

kafka-lag: ## Offsets and lag of a consumer group: make kafka-lag g=booking-service (no g: every group)
	@bash $(OPS) kafka-lag $(g)

build: ## Build the images ticketflow/<service> (Dockerfile) and ticketflow/web (frontend/Dockerfile)
	@bash $(OPS) build

build-push: ## make build, then push every image to IMAGE_REGISTRY
	@bash $(OPS) build-push

prod-up: ## Start the production compose stack (docker-compose.yml; secrets from .env)
	@bash $(OPS) prod-up

prod-down: ## Stop the production compose stack (volumes kept)
	@bash $(OPS) prod-down

# `bench` is mk/bench.mk's (scripts/bench.sh: the fleet and the saga, docs/benchmarks.md).

# --- Kubernetes (k8s/, applied in dependency order) -----------------------------------------
k8s-namespace: ## kubectl apply the ticketflow namespace
	$(KUBECTL) apply -f k8s/namespace.yaml

k8s-secret: ## Create/replace Secret ticketflow-secrets from .env (JWT_SECRET, INTERNAL_SECRET, store passwords)
	@bash scripts/deploy/k8s-secret.sh | $(KUBECTL) apply -f -

k8s-infra: k8s-namespace ## PostgreSQL, MongoDB, Redis, Kafka (StatefulSets), Mailpit and the topic Job
	$(KUBECTL) apply -f k8s/config.yaml -f k8s/infra/

k8s-monitoring: k8s-namespace ## Prometheus (scrape config) and Grafana with the TicketFlow dashboard
	$(KUBECTL) apply -f k8s/monitoring/

k8s-services: k8s-namespace ## The seven Deployments, their Services, PodDisruptionBudgets, NetworkPolicies, gateway HPA
	$(KUBECTL) apply -f k8s/config.yaml -f k8s/apps/

k8s-keda: k8s-namespace ## KEDA ScaledObjects (Kafka lag) for booking, inventory, payment, notification (needs KEDA installed)
	$(KUBECTL) apply -f k8s/keda/

k8s-ingress: k8s-namespace ## The Ingress (paths forwarded unchanged to the gateway)
	$(KUBECTL) apply -f k8s/ingress.yaml

k8s-apply: k8s-namespace k8s-infra k8s-services k8s-monitoring k8s-ingress ## Everything but KEDA, in order (create the Secret first: make k8s-secret)

k8s-delete: ## Delete everything TicketFlow put in the cluster (the namespace, with its volumes)
	$(KUBECTL) delete namespace $(K8S_NS) --ignore-not-found

k8s-pods: ## Pods in the ticketflow namespace
	$(KUBECTL) -n $(K8S_NS) get pods -o wide

k8s-logs: ## Follow a pod's or deployment's log: make k8s-logs pod=deploy/booking-service
	@test -n "$(pod)" || { echo "usage: make k8s-logs pod=<pod name or deploy/<name>>" >&2; exit 2; }
	$(KUBECTL) -n $(K8S_NS) logs -f --tail=200 $(pod)

k8s-scale: ## Scale a deployment: make k8s-scale deploy=gateway replicas=3
	@test -n "$(deploy)" -a -n "$(replicas)" || { echo "usage: make k8s-scale deploy=<name> replicas=<n>" >&2; exit 2; }
	$(KUBECTL) -n $(K8S_NS) scale deployment/$(deploy) --replicas=$(replicas)

k8s-status: ## Deployments, StatefulSets, Jobs, autoscalers and pods at a glance
	$(KUBECTL) -n $(K8S_NS) get deploy,statefulset,job,hpa,pdb,pods
	-$(KUBECTL) -n $(K8S_NS) get scaledobjects 2>/dev/null

# --- deployment files -------------------------------------------------------------------------
.PHONY: lint-deploy k8s-generate

lint-deploy: ## Validate Dockerfiles (hadolint), compose (Compose schema), k8s (Kubernetes schemas) and their consistency with the code, offline
	@bash scripts/deploy/lint.sh

k8s-generate: ## Regenerate the derived k8s manifests (Deployments, policies, KEDA, topic Job, dashboard) from scripts/deploy/gen_k8s.py
	@"$$(bash scripts/deploy/tools.sh)/python" scripts/deploy/gen_k8s.py
