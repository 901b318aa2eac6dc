"""Ctrl-C for the ``dedupe`` command: an interrupt that is neither lost nor harmful.

The command's SIGINT handler (:func:`handler`, installed by :mod:`dedupe.__main__`) raises
KeyboardInterrupt where the main thread happens to be, with two exceptions:

- While numba compiles or loads a kernel (a frame of ``numba`` or ``llvmlite`` is on the stack)
  it only records the request. Raised there, the interrupt can land in llvmlite's object-cache
  callback, which ctypes cannot pass it through: the kernel is left half loaded, and calling it
  crashed the process (SIGSEGV, 4 runs in 150 with Ctrl-C in the first second and a half).
- Some places lose the interrupt anyway: a ``__del__`` or other callback (Python reports it as
  "unraisable" and carries on), or the import of a C extension that clears errors it meets
  (Cython's set-up of ``collections.abc`` while ``numpy.random`` loads).

Either way the run would go on to the end and write its output. So the request is recorded, and
the pipeline calls :func:`checkpoint` as it moves on (each progress tick, each batch of the map
stage, and before a report replaces its target): a request still standing there is raised. A
KeyboardInterrupt that does propagate ends the run, so no checkpoint is reached after it.

Code that calls the Python API without the handler (a notebook) is untouched: nothing is recorded,
and :func:`checkpoint` does nothing.
"""

from __future__ import annotations

import signal
import sys

_requested = False
_signum = signal.SIGINT  # the signal that asked the run to stop

STOPPING = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)  # each ends a run the same way


def handler(signum, frame) -> None:  # noqa: ARG001 (a signal handler's signature)
    """The handler of SIGINT, SIGTERM and SIGHUP: record the request (and which signal made it),
    then raise KeyboardInterrupt here unless numba is busy. The run stops as after Ctrl-C: workers
    ended, temporary files removed, exit code 128 + the signal's number."""
    global _requested, _signum
    _requested = True
    _signum = signum
    # Half-built objects complain from __del__ as the stack unwinds, and a lost KeyboardInterrupt
    # is reported the same way: nothing said after an interrupt is news to the user (and a lost
    # interrupt is raised at the next checkpoint), so those reports are dropped.
    sys.unraisablehook = lambda unraisable: None
    if _in_compiler(frame):
        return  # raised at the next checkpoint, once the kernel is whole
    raise KeyboardInterrupt


_COMPILER = frozenset({"numba", "llvmlite"})


def _in_compiler(frame) -> bool:
    """Is a frame of numba or llvmlite on the stack? (Compiled kernels, once loaded, run without
    Python frames: this is true only while numba compiles, loads or imports.)"""
    while frame is not None:
        if frame.f_globals.get("__name__", "").partition(".")[0] in _COMPILER:
            return True
        frame = frame.f_back
    return False


def checkpoint() -> None:
    """Raise KeyboardInterrupt if Ctrl-C was pressed and the run still goes on (its interrupt was lost)."""
    if _requested:
        raise KeyboardInterrupt


def exit_code() -> int:
    """The exit code of a run stopped by a signal: 128 + its number (130 for Ctrl-C)."""
    return 128 + int(_signum)


def stopped_message() -> str:
    """The one line a stopped run says."""
    if _signum == signal.SIGINT:
        return "dedupe: interrupted"
    return f"dedupe: stopped by {signal.Signals(_signum).name}"
