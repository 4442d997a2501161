"""Module-level functions the worker-pool tests send to workers (functions travel by name)."""

import time


def slow(seconds: float) -> str:
    time.sleep(seconds)
    return "done"


def spin_forever() -> None:
    while True:
        pass


def allocate(megabytes: int) -> int:
    return len(bytearray(megabytes * 2**20))


def fail() -> None:
    raise ValueError("bad input")


def add(a: int, b: int) -> int:
    return a + b
