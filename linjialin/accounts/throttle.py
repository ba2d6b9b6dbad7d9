"""Slowing down password guessing without a lock a stranger can trigger.

Failed sign-ins are counted in Django's cache under three keys: the mobile number typed (whether or
not it is registered, so the answer never tells), the client address, and the pair (number, address).
Each counter lets a few failures pass (SignInRules), then asks the next attempt to wait a delay that
doubles with every further failure, up to the counter's ceiling. While a wait is running, an attempt is
refused with 429 and Retry-After before the password is checked, so the wait cannot be used to guess.

Why three: the address counter stops one machine from spraying many numbers; the pair counter stops
one machine guessing one number; the number counter slows a guess spread over many addresses, and its
ceiling is short (a minute by default) because it is also all a stranger can impose on the owner, who
signs in from another address. Nothing here writes to the database: the lock fields on User stay for
an administrator's lock only.

A success from an address clears that pair's counter only: clearing the address or the number would
let someone who owns one account reset the counters that slow their guessing on others.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from django.core.cache import cache

from linjialin.core.cache import ProcessCache

from .models import SignInRules

_rules_cache = ProcessCache("accounts.throttle", SignInRules, seconds=60)
PREFIX = "signin-throttle"


def rules() -> SignInRules:
    """The SignInRules row (the model defaults when there is none). Read only."""
    return _rules_cache.read("rules", lambda: SignInRules.objects.first() or SignInRules())


def _key(kind: str, *parts: str) -> str:
    # hashed: the cache never holds mobile numbers or addresses in clear
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
    return f"{PREFIX}:{kind}:{digest}"


@dataclass(frozen=True)
class Counter:
    key: str
    free: int
    ceiling: int


def _counters(mobile: str, ip: str | None, r: SignInRules) -> list[Counter]:
    mobile = (mobile or "").strip()
    out = [Counter(_key("account", mobile), r.free_failures_per_account, r.max_delay_account_seconds)]
    if ip:
        out.append(Counter(_key("address", ip), r.free_failures_per_address, r.max_delay_address_seconds))
        out.append(Counter(_key("pair", mobile, ip), r.free_failures_per_account, r.max_delay_pair_seconds))
    return out


def delay_after(failures: int, free: int, first: int, ceiling: int) -> int:
    """Seconds to wait after `failures` failures: none for the first `free`, then first, 2×first, …"""
    if failures <= free:
        return 0
    return min(ceiling, first * 2 ** min(failures - free - 1, 30))


def wait_seconds(mobile: str, ip: str | None) -> int:
    """How long an attempt for `mobile` from `ip` must still wait (0: it may try now)."""
    r = rules()
    now = time.time()
    wait = 0.0
    for counter in _counters(mobile, ip, r):
        state = cache.get(counter.key)
        if not state:
            continue
        delay = delay_after(state["n"], counter.free, r.first_delay_seconds, counter.ceiling)
        wait = max(wait, state["last"] + delay - now)
    return max(0, math.ceil(wait))


def register_failure(mobile: str, ip: str | None) -> int:
    """Count one failed attempt; returns the wait it imposes on the next one (seconds)."""
    r = rules()
    now = time.time()
    timeout = r.forget_after_minutes * 60
    for counter in _counters(mobile, ip, r):
        state = cache.get(counter.key) or {"n": 0, "last": now}
        cache.set(counter.key, {"n": state["n"] + 1, "last": now}, timeout)
    return wait_seconds(mobile, ip)


def register_success(mobile: str, ip: str | None) -> None:
    if ip:
        cache.delete(_key("pair", (mobile or "").strip(), ip))


def clear_rules_cache() -> None:
    _rules_cache.clear()
