"""Committed events across instances through Redis Pub/Sub (CHATCORE_REDIS_URL).

``RedisEventBus`` publishes (the EventPublisher port, on worker threads) each
event's payload, encoded once by the function it is given;
``RedisListener`` receives, on the event loop, the channels this instance needs;
``channels_for`` says which channels an event goes to. redis-py because it is the
well-kept client and has both the synchronous API the publisher needs and the
asyncio one the listener needs, in one package.
"""

from adapters.redis_bus.bus import RedisEventBus
from adapters.redis_bus.channels import channels_for
from adapters.redis_bus.listener import RedisListener

__all__ = ["RedisEventBus", "RedisListener", "channels_for"]
