"""Fixtures shared by every test: real servers (fail in CI when missing) and a stack builder."""

from __future__ import annotations

import pytest

pytest_plugins = ["aiflux_kit.testing", "aiflux_runner.testing"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Test files holding a ``slow`` test run first, each file's tests in their own order.

    ``make test`` hands whole files to two pytest-xdist workers in this order
    (``--no-loadscope-reorder``); a file of a minute or more started last would leave one worker
    busy long after the other ran out of work.
    """
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)
