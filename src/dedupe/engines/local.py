"""The local engine: the map stage in this process, or on a pool of local processes."""

from __future__ import annotations

import multiprocessing
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

from ..interrupts import checkpoint

T = TypeVar("T")
R = TypeVar("R")


class LocalEngine:
    """Maps a function over batches, preserving order. ``workers > 1`` uses a process pool."""

    def __init__(self, workers: int = 1) -> None:
        self.workers = workers

    def map(self, fn: Callable[[T], R], batches: Iterable[T]) -> Iterator[R]:
        if self.workers <= 1:
            for batch in batches:
                checkpoint()
                yield fn(batch)
            return
        fork = "fork" in multiprocessing.get_all_start_methods()
        prepare = getattr(fn, "prepare", None)
        if fork and prepare is not None:
            prepare()  # load (or compile) what fn needs once, here: forked workers inherit it
        checkpoint()
        ctx = multiprocessing.get_context("fork" if fork else "spawn")
        pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx, initializer=_ignore_sigint)
        try:
            # bounded read-ahead keeps memory flat: at most 2 batches per worker in flight
            pending: deque = deque()
            for batch in batches:
                checkpoint()
                pending.append(pool.submit(fn, batch))
                if len(pending) >= 2 * self.workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            # on Ctrl-C or an error, drop the work not started instead of waiting for it
            pool.shutdown(wait=True, cancel_futures=True)


def _ignore_sigint() -> None:
    """Workers leave Ctrl-C to the parent, which reports it once and stops them."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
