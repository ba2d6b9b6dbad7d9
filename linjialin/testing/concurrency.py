"""Calls made at the same moment, for the tests of "two people act at once: exactly one wins".

    results = at_once(lambda: cases.accept_case(lead, copy_1), lambda: cases.accept_case(manager, copy_2))
    assert outcomes(results) == ["Conflict", "ok"]

The tests need `django_db(transaction=True)`: each call runs in its own thread on its own database
connection, so it sees only what is committed. Load the objects the calls act on before (both then hold
the same stale copy, as two people's open pages do).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connection


def at_once(*calls: Callable, timeout: float = 60) -> list:
    """Run each call in its own thread, all released together; what each returned, or the exception it
    raised, in the order of `calls`. Each thread closes its database connection when done."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i: int, call: Callable) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = call()
        except Exception as exc:  # noqa: BLE001  (the result: the test asserts on it)
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    stuck = [i for i, t in enumerate(threads) if t.is_alive()]
    assert not stuck, f"calls {stuck} did not finish within {timeout}s"
    return results


def outcomes(results: list) -> list[str]:
    """Sorted: "ok" for each call that returned, the exception's class name for each that raised."""
    return sorted(type(r).__name__ if isinstance(r, Exception) else "ok" for r in results)


def winner(results: list, of: list):
    """The item of `of` whose call returned (the one that won), given results in the same order."""
    (won,) = [item for item, r in zip(of, results, strict=True) if not isinstance(r, Exception)]
    return won
