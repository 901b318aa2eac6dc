"""The local engine: the map stage in this process, or on a pool of local processes."""

from __future__ import annotations

import ctypes
import itertools
import mmap
import multiprocessing
import os
import pickle
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

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
        in_flight = 2 * self.workers  # bounded read-ahead keeps memory flat
        slots = ResultSlots(in_flight) if fork else None
        ctx = multiprocessing.get_context("fork" if fork else "spawn")
        pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx, initializer=_start_worker)
        try:
            pending: deque[tuple[Future, int | None]] = deque()
            for batch in batches:
                checkpoint()
                if slots is None:
                    pending.append((pool.submit(fn, batch), None))
                else:
                    slot = slots.take()
                    pending.append((pool.submit(_call_into_slot, slots.key, slot, fn, batch), slot))
                if len(pending) >= in_flight:
                    yield _result(slots, *pending.popleft())
            while pending:
                yield _result(slots, *pending.popleft())
        finally:
            # on Ctrl-C or an error, drop the work not started instead of waiting for it
            pool.shutdown(wait=True, cancel_futures=True)
            if slots is not None:
                slots.close()


class ResultSlots:
    """Shared memory through which forked workers return their results' arrays.

    A pool sends each result back through a pipe, pickled: every byte of its arrays is copied
    four times (pickled, written to the pipe, read from it, unpickled), 64 KB at a time with a
    switch between the processes each time; a million documents' shingle sets and signatures are
    2.5 GB of it. Here each batch in flight owns a slot of a shared mapping made before the
    workers fork: the worker pickles its result with protocol 5, writes the arrays' bytes
    (pickle's out-of-band buffers) into its slot and sends only the rest through the pipe; this
    process copies them out and frees the slot. A result too large for its slot travels whole.
    The slots are reused, so their memory is touched once."""

    _count = itertools.count()
    _open: dict[int, ResultSlots] = {}  # key -> slots: forked workers look theirs up here

    def __init__(self, count: int, size: int = 64 << 20) -> None:
        self.size = size
        self.memory = mmap.mmap(-1, count * size)  # anonymous and shared (MAP_SHARED) on Unix
        self.free = list(range(count))
        self.key = next(self._count)
        self._open[self.key] = self

    def take(self) -> int:
        return self.free.pop()

    def put(
        self, slot: int, data: bytes, buffers: list[memoryview]
    ) -> tuple[bytes, list[tuple[int, int]]] | None:
        """(In a worker.) Write ``buffers`` into ``slot``: their places in it, or None if they do not fit."""
        spans, at = [], 0
        for b in buffers:
            if at + b.nbytes > self.size:
                return None
            spans.append((at, b.nbytes))
            at += -(-b.nbytes // 64) * 64  # each buffer 64-byte aligned
        base = slot * self.size
        for (start, n), b in zip(spans, buffers):
            self.memory[base + start : base + start + n] = b
        return data, spans

    def get(self, slot: int, spans: list[tuple[int, int]]) -> list[bytearray]:
        """Copies of the buffers a worker wrote into ``slot`` (the slot is then free for another batch)."""
        base = slot * self.size
        view = memoryview(self.memory)
        try:
            return [bytearray(view[base + start : base + start + n]) for start, n in spans]
        finally:
            view.release()

    def close(self) -> None:
        self._open.pop(self.key, None)
        self.memory.close()


def _call_into_slot(key: int, slot: int, fn: Callable[[Any], Any], batch: Any) -> tuple[Any, Any]:
    """(In a worker.) ``fn(batch)``, returned through ``slot`` as (pickle, buffer spans), or as
    (None, the result) when its arrays do not fit."""
    result = fn(batch)
    buffers: list[pickle.PickleBuffer] = []
    data = pickle.dumps(result, protocol=5, buffer_callback=buffers.append)
    placed = ResultSlots._open[key].put(slot, data, [b.raw() for b in buffers])
    return (None, result) if placed is None else placed


def _result(slots: ResultSlots | None, future: Future, slot: int | None) -> Any:
    """The result of ``future``, read out of its slot and the slot given back."""
    try:
        out = future.result()
    finally:
        if slots is not None and slot is not None:
            slots.free.append(slot)
    if slots is None:
        return out
    data, payload = out
    if data is None:
        return payload
    return pickle.loads(data, buffers=slots.get(slot, payload))


def _start_worker() -> None:
    """Workers leave Ctrl-C to the parent, which reports it once and stops them; they are ours,
    so their allocator keeps what they free (:func:`keep_freed_memory`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    keep_freed_memory()


def keep_freed_memory() -> bool:
    """Have glibc's malloc keep memory this process frees, for its next allocations, instead of
    giving it back to the system at once. True if it was set.

    Each batch allocates arrays of a few megabytes and frees them; by default glibc maps such a
    block fresh and unmaps it when freed, so every batch pays page faults on new zeroed pages (on a
    virtual machine, the host may have to back them anew too). Kept, the same pages serve the
    next batch: at 1M documents the two workers' system time fell from 6.1 s to 1.0 s. Blocks up to
    32 MB come from the heap, which is trimmed only once 1 GB of its top is free. Set for the CLI's
    process and for the pool's workers, never by the library in a caller's process; skipped when
    the allocator is not glibc's or when a ``MALLOC_*`` variable already tunes it."""
    if any(k.startswith("MALLOC_") for k in os.environ):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3
    return all(
        mallopt(option, value)
        for option, value in (
            (m_mmap_threshold, 32 << 20),
            (m_trim_threshold, 1 << 30),
            (m_top_pad, 64 << 20),
        )
    )
