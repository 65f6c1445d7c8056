"""The deployment files are valid and agree with the code: every variable they set is a setting,
every command they run exists, probes point at the real endpoints, selectors match their pods.
(No Docker engine or cluster runs here; this is what can be checked without one.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from cli.commands import app as cli
from config import Settings

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


def kubernetes() -> list[dict[str, Any]]:
    documents = []
    for path in sorted((DEPLOY / "kubernetes").glob("*.yaml")):
        documents += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return documents


def by_kind(kind: str) -> list[dict[str, Any]]:
    return [d for d in kubernetes() if d["kind"] == kind]


def assert_runs(command: list[str]) -> None:
    assert command[0] == "bookgraph"
    result = CliRunner().invoke(cli, [*command[1:], "--help"])
    assert result.exit_code == 0, result.output
    for option in (arg for arg in command if arg.startswith("--")):
        assert option in result.output, f"{option} is not an option of {' '.join(command[:2])}"


def test_every_variable_set_is_a_setting() -> None:
    fields = {name.upper() for name in Settings.model_fields}
    config = [*by_kind("ConfigMap"), *by_kind("Secret")]
    variables = {key for d in config for key in {**d.get("data", {}), **d.get("stringData", {})}}
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    variables |= set(compose["x-bookgraph"]["environment"])
    assert variables and variables <= fields, variables - fields


def test_kubernetes_deployments_run_real_commands_with_probes_on_real_endpoints() -> None:
    deployments = {d["metadata"]["name"]: d for d in by_kind("Deployment")}
    assert set(deployments) == {"bookgraph-api", "bookgraph-worker"}
    for deployment in deployments.values():
        spec = deployment["spec"]
        assert spec["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items()
        for container in (
            spec["template"]["spec"].get("initContainers", []) + spec["template"]["spec"]["containers"]
        ):
            assert_runs(container["command"])
            sources = {next(iter(s.values()))["name"] for s in container["envFrom"]}
            assert sources == {"bookgraph"}
    api = deployments["bookgraph-api"]["spec"]["template"]["spec"]["containers"][0]
    assert api["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert api["livenessProbe"]["httpGet"]["path"] == "/healthz"


def test_the_service_and_autoscaler_point_at_the_api() -> None:
    [service], [autoscaler] = by_kind("Service"), by_kind("HorizontalPodAutoscaler")
    api = next(d for d in by_kind("Deployment") if d["metadata"]["name"] == "bookgraph-api")
    assert service["spec"]["selector"].items() <= api["spec"]["template"]["metadata"]["labels"].items()
    assert autoscaler["spec"]["scaleTargetRef"]["name"] == "bookgraph-api"
    assert autoscaler["spec"]["minReplicas"] >= 2


def test_compose_runs_the_api_the_worker_and_every_store() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"api", "worker", "migrate", "postgres", "redis", "qdrant"} <= set(services)
    for name in ("api", "worker", "migrate"):
        assert_runs(services[name]["command"])
    assert "/readyz" in " ".join(services["api"]["healthcheck"]["test"])


def test_the_image_is_multi_stage_non_root_and_checks_its_health() -> None:
    dockerfile = (DEPLOY.parent / "Dockerfile").read_text()
    [command] = [
        json.loads(line.removeprefix("CMD ")) for line in dockerfile.splitlines() if line.startswith("CMD [")
    ]
    assert_runs(command)
    stages = [line for line in dockerfile.splitlines() if line.startswith("FROM ")]
    # GraphiQL's files (Node), the Python environment, then the image, which copies from both.
    assert [stage.split()[-1] for stage in stages[:2]] == ["graphiql", "build"] and len(stages) == 3
    assert "COPY --from=graphiql /src/gateway/static/graphiql /app/gateway/static/graphiql" in dockerfile
    assert "torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu" in dockerfile
    assert "USER bookgraph" in dockerfile and "useradd" in dockerfile
    assert "HEALTHCHECK" in dockerfile and "/healthz" in dockerfile
    # Every file the code reads at run time is in the build context.
    ignored = (DEPLOY.parent / ".dockerignore").read_text().split()
    for needed in ("migrations", "alembic.ini", "gql"):
        assert needed not in ignored
