"""A consumer in its own process, for tests that kill it mid-message.

    python consumer_process.py <amqp_url> <exchange> <queue> <db_url> <hang|die-after-commit|hang-in-batch>

``hang``: the handler writes its effect, announces HANDLING and never finishes (the test kills
the process before the transaction commits). ``die-after-commit``: the process exits right after
the handler's transaction committed, before the broker got the ack. ``hang-in-batch``: batches as
services consume (the Dispatcher takes whole batches); the handler hangs at the fifth event of a
batch, after writing the effects of the four before it in the same transaction.
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
    calls = 0

    async def handler(ctx: HandlerContext, event: UserDeleted) -> None:
        nonlocal calls
        calls += 1
        await ctx.session.execute(text("INSERT INTO effects (note) VALUES ('effect')"))
        if mode == "hang" or (mode == "hang-in-batch" and calls == 5):
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

    if mode == "hang-in-batch":  # one batch, gathered long enough to hold every message
        broker = RabbitBroker(amqp_url, exchange=exchange, linger=0.5, batches_in_flight=1)
        await broker.connect()
        await broker.consume(
            QueueSpec(queue, (UserDeleted.routing_key(),), retry_delays_ms=(100, 200)), dispatcher
        )
    else:
        broker = RabbitBroker(amqp_url, exchange=exchange)
        await broker.connect()
        await broker.consume(
            QueueSpec(queue, (UserDeleted.routing_key(),), prefetch=1, retry_delays_ms=(100, 200)), on_message
        )
    print("READY", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:6]))
