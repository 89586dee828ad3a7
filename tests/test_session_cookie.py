"""Over HTTPS only the __Host- session cookie counts, in every service: an unprefixed cookie
could have been planted by a sibling subdomain or over plain HTTP."""

from aiflux_identity.testing import register_and_login


async def test_an_unprefixed_cookie_is_ignored_on_an_https_deployment(stack_factory):
    public = {"public_url": "https://aiflux.example.com"}
    async with stack_factory(
        services=["identity", "billing"], overrides={"identity": public, "billing": public}
    ) as stack:
        signed = await register_and_login(stack.client, stack.data_dir)
        token = signed.cookies["__Host-aiflux_session"]
        stack.client.cookies.clear()
        for path in ("/v1/account", "/v1/billing/balance"):
            good = await stack.client.get(path, headers={"Cookie": f"__Host-aiflux_session={token}"})
            assert good.status_code == 200, (path, good.text)
            planted = await stack.client.get(path, headers={"Cookie": f"aiflux_session={token}"})
            assert planted.status_code == 401, path
