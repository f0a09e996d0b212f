#!/usr/bin/env bash
# The main job: `pulumi up` (or `down`) of a stack (default dev) on a local file backend.
#   bash scripts/stack.sh up [STACK]     (make up)
#   bash scripts/stack.sh down [STACK]   (make down)
# Backend: $PULUMI_BACKEND_URL, or a file backend in .pulumi-state/ (no Pulumi Cloud account).
# Secrets: the passphrase provider, from $PULUMI_CONFIG_PASSPHRASE (or _FILE).
set -euo pipefail
cd "$(dirname "$0")/.."

action="${1:-}"
stack="${2:-dev}"
fail() { echo "stack.sh: $*" >&2; exit 1; }

case "$action" in
  up|down) ;;
  *) fail "usage: stack.sh up|down [STACK]  (got '${action}')" ;;
esac

command -v pulumi >/dev/null 2>&1 \
  || fail "the Pulumi CLI is not installed or not on PATH: install it (https://www.pulumi.com/docs/iac/download-install/) and run again"
command -v docker >/dev/null 2>&1 \
  || fail "the Docker CLI is not installed or not on PATH: install Docker Engine or Docker Desktop and run again"
docker info >/dev/null 2>&1 \
  || fail "cannot reach the Docker daemon (docker info failed): start Docker, or set DOCKER_HOST, and run again"
if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  fail "PULUMI_CONFIG_PASSPHRASE is not set: it encrypts this stack's secrets. Choose one and keep it:
  export PULUMI_CONFIG_PASSPHRASE='a long passphrase'   (or PULUMI_CONFIG_PASSPHRASE_FILE=path)"
fi

if [ -z "${PULUMI_BACKEND_URL:-}" ]; then
  mkdir -p .pulumi-state
  export PULUMI_BACKEND_URL="file://$PWD/.pulumi-state"
fi

# The program's Python dependencies, installed again only when their pins change.
stamp=".venv/.requirements.sha256"
wanted="$(cat requirements.txt constraints.txt | sha256sum | cut -d' ' -f1)"
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
  echo "$wanted" > "$stamp"
fi

pulumi stack select "$stack" --create --secrets-provider passphrase --non-interactive

if [ "$action" = up ]; then
  pulumi up --stack "$stack" --yes --non-interactive
  echo
  echo "Grafana:    $(pulumi stack output grafanaUrl --stack "$stack")"
  echo "Prometheus: $(pulumi stack output prometheusUrl --stack "$stack")"
  echo "Admin user: $(pulumi stack output grafanaAdminUser --stack "$stack")"
  echo "Password:   pulumi stack output grafanaAdminPassword --show-secrets --stack $stack"
else
  # The data volumes and the generated Grafana password are protected: everything else goes.
  pulumi destroy --stack "$stack" --yes --non-interactive --exclude-protected
  echo
  echo "Kept: the protected volumes monitoring-$stack-prometheus-data and monitoring-$stack-grafana-data,"
  echo "and the generated Grafana admin password: metrics and Grafana's database survive, and the next"
  echo "'make up' reuses them and still logs in. Alertmanager's volume (if it was on) is left on the"
  echo "Docker host, outside the stack, and re-attached when it is enabled again. To delete them too:"
  echo "  pulumi state unprotect --all --stack $stack --yes && pulumi destroy --stack $stack --yes"
  echo "  docker volume rm monitoring-$stack-prometheus-data monitoring-$stack-grafana-data"
fi
