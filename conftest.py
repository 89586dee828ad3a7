"""Fixtures shared by every test: real servers (fail in CI when missing) and a stack builder."""

pytest_plugins = ["aiflux_kit.testing", "aiflux_runner.testing"]
