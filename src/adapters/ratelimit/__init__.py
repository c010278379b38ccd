"""Rate limits: an edge concern of the HTTP and WebSocket adapters, not of the domain.

``RateLimits`` holds the rules (what is counted, per what, how many); a
``RateLimiter`` keeps the counts: in the process (one instance), or in Redis so
every instance shares them.
"""

from adapters.ratelimit.gcra import Decision, Limit, gcra
from adapters.ratelimit.memory import MemoryRateLimiter
from adapters.ratelimit.policy import Limits, LoginAttempt, RateLimited, RateLimiter, RateLimits
from adapters.ratelimit.redis_limiter import RedisRateLimiter

__all__ = [
    "Decision",
    "Limit",
    "Limits",
    "LoginAttempt",
    "MemoryRateLimiter",
    "RateLimited",
    "RateLimiter",
    "RateLimits",
    "RedisRateLimiter",
    "gcra",
]
