"""Every container runs an `aiflux` subcommand of the runtime contract, from the one image."""

from __future__ import annotations

import json
import re

import pytest
from rendered_manifests import REPO, SERVICES, Doc, of_kind, pod_spec, workloads

SWEEP_RULES = {
    "identity": {"security-log-retention", "account-purge", "expired-credentials", "mail-spool-retention"},
    "billing": {"hold-expiry", "stripe-reconciliation", "payment-retention"},
    "generation": {"stuck-jobs"},
    "storage": {"orphan-objects", "expired-archives"},
    "privacy": {"request-deadlines", "erasure-redrive", "anonymous-consent-expiry"},
}
"""The sweep rules of the runtime contract, per service."""


def _args(doc: Doc) -> list[str]:
    (container,) = pod_spec(doc)["containers"]
    assert "command" not in container, "the image's entrypoint (aiflux) must not be overridden"
    return [str(a) for a in container["args"]]


def _check_contract(args: list[str]) -> None:
    """Fail unless ``aiflux *args`` is a valid command of the runtime contract."""
    if args[:1] == ["web"]:  # the web server: no service, no database
        assert args == ["web", "--host", "0.0.0.0", "--port", "8080"], args
        return
    command, service, *options = args
    assert service in SERVICES, args
    if command == "worker":
        # Sweeps run as CronJobs in Kubernetes, so workers must not schedule them too.
        assert options[-1:] == ["--no-sweeps"], args
        options = options[:-1]
    pairs = dict(zip(options[::2], options[1::2], strict=True))
    if command == "api":
        assert pairs == {"--host": "0.0.0.0", "--port": "8000"}, args
    elif command in ("worker", "relay"):
        assert pairs == {"--health-port": "8081"}, args
    elif command == "migrate" or command == "check-parking":
        assert not options, args
    elif command == "sweep":
        assert set(pairs) <= {"--rule"}, args
        if "--rule" in pairs:
            assert pairs["--rule"] in SWEEP_RULES[service], args
    elif command == "check-outbox":
        assert set(pairs) == {"--max-age"} and float(pairs["--max-age"]) > 0, args
    else:
        pytest.fail(f"not an aiflux subcommand: {args}")


def test_every_container_runs_a_contract_subcommand(docs: list[Doc]) -> None:
    for doc in workloads(docs):
        _check_contract(_args(doc))


def test_the_real_cli_accepts_every_container_command(docs: list[Doc]) -> None:
    cli = pytest.importorskip("aiflux_runner.cli", reason="needs the project venv (aiflux-runner)")
    parser = cli._parser()
    for doc in workloads(docs):
        parser.parse_args(_args(doc))  # exits (SystemExit) on anything it does not know


def test_every_sweep_rule_and_alert_has_a_cronjob(docs: list[Doc]) -> None:
    scheduled = {tuple(_args(c)) for c in of_kind(docs, "CronJob")}
    for service, rules in SWEEP_RULES.items():
        for rule in rules:
            assert ("sweep", service, "--rule", rule) in scheduled
        assert ("check-outbox", service, "--max-age", "300") in scheduled
        assert ("check-parking", service) in scheduled


def test_workloads_run_the_one_aiflux_image(docs: list[Doc], overlay: str) -> None:
    images = {c["image"] for d in workloads(docs) for c in pod_spec(d)["containers"]}
    assert len(images) == 1, images
    (image,) = images
    tag = image.rpartition(":")[2]
    assert tag and tag != "latest" and "/" not in tag
    for job in of_kind(docs, "Job"):  # one migration Job per service per release
        assert job["metadata"]["name"].endswith(f"-migrate-{tag}")


def _dockerfile() -> str:
    return (REPO / "Dockerfile").read_text()


def test_dockerfile_entrypoint_is_aiflux() -> None:
    (entrypoint,) = re.findall(r"^ENTRYPOINT (.+)$", _dockerfile(), re.M)
    argv = json.loads(entrypoint)
    # tini (PID 1, forwards SIGTERM) may wrap it; the program itself is the console script.
    if argv[0].endswith("tini"):
        assert argv[1] == "--"
        argv = argv[2:]
    assert argv == ["aiflux"]
    runner = (REPO / "libs/runner/pyproject.toml").read_text()
    assert re.search(r'^aiflux = "aiflux_runner\.cli:main"$', runner, re.M)


def test_dockerfile_installs_from_the_lock_and_runs_as_non_root() -> None:
    text = _dockerfile()
    assert "uv sync --frozen --no-dev --all-packages" in text
    stages = re.findall(r"^FROM .+ AS (\w+)$", text, re.M)
    assert len(stages) >= 2, "multi-stage build"
    final = text.split(f"AS {stages[-1]}", 1)[1]
    (user,) = re.findall(r"^USER (\S+)$", final, re.M)
    assert user.split(":")[0] not in ("root", "0")
    assert int(user.split(":")[0]) == 10001  # the runAsUser of the manifests


def test_dockerignore_keeps_the_context_small() -> None:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    ignore = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert ignore[0] == "*", "allow-list: only what the image needs"
    assert {"!pyproject.toml", "!uv.lock", "!libs/", "!services/"} <= set(ignore)


def test_every_cli_subcommand_in_the_contract_exists_in_the_cli_source() -> None:
    source = (REPO / "libs/runner/src/aiflux_runner/cli.py").read_text()
    for command in ("api", "worker", "relay", "web", "migrate", "sweep", "check-outbox", "check-parking"):
        assert re.search(rf'["\']{re.escape(command)}["\']', source), command


def test_every_sweep_of_every_service_has_a_cronjob(docs: list[Doc]) -> None:
    """Workers run with --no-sweeps, so a sweep without a CronJob would never run."""
    services = pytest.importorskip("aiflux_runner.services", reason="needs the project venv")
    scheduled = {(args[1], args[3]) for args in map(_args, of_kind(docs, "CronJob")) if args[0] == "sweep"}
    for service in SERVICES:
        unit = services.builder(service)(_platform(), services.settings_class(service)(env="test"))
        declared = {sweep.name for sweep in unit.sweeps}
        assert declared == SWEEP_RULES[service], service
        for rule in declared:
            assert (service, rule) in scheduled, f"no CronJob runs {service} {rule}"


def _platform():  # type: ignore[no-untyped-def]
    import tempfile
    from pathlib import Path

    from aiflux_kit.bus.local import LocalBroker
    from aiflux_kit.ratelimit import RateLimiter
    from aiflux_kit.service import Platform

    return Platform(
        mode="distributed",
        broker=LocalBroker("postgresql+psycopg:///unused"),
        limiter=RateLimiter.from_url(None),
        data_dir=Path(tempfile.gettempdir()),
    )
