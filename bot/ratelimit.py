"""Per-user token buckets: a burst of questions is fine, a flood is not."""
from __future__ import annotations

import threading
import time


class RateLimiter:
    def __init__(self, per_minute: float = 10.0, burst: int = 10, clock=time.monotonic, max_users: int = 100_000) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self.max_users = max_users
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, platform: str, user: str) -> bool:
        if self.rate <= 0:
            return True
        now = self.clock()
        key = (platform, user)
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            if len(self._buckets) >= self.max_users and key not in self._buckets:
                self._buckets.clear()  # a full bucket table only forgets who was throttled
            self._buckets[key] = (tokens, now)
            return allowed

    def retry_after(self, platform: str, user: str) -> float:
        tokens, _ = self._buckets.get((platform, user), (self.burst, 0.0))
        return max(0.0, (1.0 - tokens) / self.rate) if self.rate > 0 else 0.0
