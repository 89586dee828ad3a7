"""A consumer in its own process, for tests that kill it mid-message.

    python consumer_process.py <amqp_url> <exchange> <queue> <db_url> <hang|die-after-commit>

``hang``: the handler writes its effect, announces HANDLING and never finishes (the test kills
the process before the transaction commits). ``die-after-commit``: the process exits right after
the handler's transaction committed, before the broker got the ack.
"""

from __future__ import annotations

import asyncio
import os
import sys

from aiflux_contracts import UserDeleted
from aiflux_kit.bus import Delivery, QueueSpec
from aiflux_kit.bus.rabbitmq import RabbitBroker
from aiflux_kit.consumers import Dispatcher, HandlerContext, Subscription
from aiflux_kit.db import Database
from sqlalchemy import text


async def main(amqp_url: str, exchange: str, queue: str, db_url: str, mode: str) -> None:
    async def handler(ctx: HandlerContext, event: UserDeleted) -> None:
        await ctx.session.execute(text("INSERT INTO effects (note) VALUES ('effect')"))
        if mode == "hang":
            print("HANDLING", flush=True)
            await asyncio.sleep(3600)

    # The same consumer name as the test's survivor, so both share one inbox key.
    name = f"{queue.split('.')[0]}-erase"
    dispatcher = Dispatcher("kit", Database(db_url), Subscription(name, (UserDeleted,), handler))

    async def on_message(delivery: Delivery) -> None:
        await dispatcher(delivery)
        if mode == "die-after-commit":
            print("COMMITTED", flush=True)
            os._exit(17)

    broker = RabbitBroker(amqp_url, exchange=exchange)
    await broker.connect()
    await broker.consume(
        QueueSpec(queue, (UserDeleted.routing_key(),), prefetch=1, retry_delays_ms=(100, 200)), on_message
    )
    print("READY", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:6]))
