"""The whole system starts and reports every service ready."""

from aiflux_runner.services import SERVICES


async def test_every_service_reports_ready(stack_factory):
    async with stack_factory() as stack:
        response = await stack.client.get("/healthz")
        assert response.status_code == 200
        services = response.json()["services"]
        assert set(services) == set(SERVICES)
        assert all(s["status"] == "ready" for s in services.values()), services
        ready = await stack.client.get("/readyz")
        assert ready.status_code == 200


async def test_unknown_route_is_a_problem_document(stack_factory):
    async with stack_factory(services=["privacy"]) as stack:
        response = await stack.client.get("/v1/no-such-thing")
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"] == "urn:aiflux:problem:not-found"
