"""The package's one cache: entries expire, the size is bounded, and threads share it."""

from __future__ import annotations

import threading

import pytest

from seiswindow.cache import Cache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_entries_expire_after_their_ttl() -> None:
    clock = Clock()
    cache: Cache[str, int] = Cache(maxsize=8, ttl=10.0, timer=clock)
    cache.put("default", 1)
    cache.put("short", 2, ttl=1.0)
    cache.put("long", 3, ttl=100.0)
    clock.now += 0.5
    assert (cache.get("default"), cache.get("short"), cache.get("long")) == (1, 2, 3)
    clock.now += 1.0
    assert (cache.get("default"), cache.get("short"), cache.get("long")) == (1, None, 3)
    assert len(cache) == 2
    clock.now += 10.0
    assert (cache.get("default"), cache.get("long")) == (None, 3)
    assert len(cache) == 1


def test_a_put_again_restarts_the_entry_clock() -> None:
    clock = Clock()
    cache: Cache[str, int] = Cache(maxsize=8, ttl=10.0, timer=clock)
    cache.put("k", 1)
    clock.now += 8.0
    cache.put("k", 2)
    clock.now += 8.0
    assert cache.get("k") == 2


def test_the_least_recently_used_go_past_maxsize() -> None:
    cache: Cache[str, int] = Cache(maxsize=3, ttl=60.0)
    for i, key in enumerate("abc"):
        cache.put(key, i)
    assert cache.get("a") == 0  # now the most recently used
    cache.put("d", 3)
    assert len(cache) == 3
    assert cache.get("b") is None
    assert [cache.get(k) for k in "acd"] == [0, 2, 3]


def test_drop_and_clear() -> None:
    cache: Cache[str, int] = Cache(maxsize=4, ttl=60.0)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.drop("a")
    cache.drop("never there")
    assert (cache.get("a"), cache.get("b"), len(cache)) == (None, 2, 1)
    cache.clear()
    assert len(cache) == 0


def test_maxsize_must_hold_one_entry() -> None:
    with pytest.raises(ValueError, match="maxsize"):
        Cache(maxsize=0, ttl=1.0)


def test_threads_share_it_without_losing_the_bound() -> None:
    cache: Cache[int, int] = Cache(maxsize=50, ttl=60.0)
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def work(offset: int) -> None:
        try:
            start.wait()
            for i in range(2000):
                key = (offset * 7919 + i) % 200
                cache.put(key, key)
                value = cache.get(key)
                assert value is None or value == key
                if i % 13 == 0:
                    cache.drop((key + 1) % 200)
                assert len(cache) <= 50
        except BaseException as exc:  # reported below, from the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert 0 < len(cache) <= 50
    for key in range(200):
        assert cache.get(key) in (None, key)
