"""Ctrl-C for the ``dedupe`` command: an interrupt that cannot be lost.

The command's SIGINT handler (:func:`handler`, installed by :mod:`dedupe.__main__`) raises
KeyboardInterrupt wherever the main thread happens to be. Some places cannot pass it on:

- a callback from C (llvmlite's object-cache hook, run while numba loads compiled kernels) or a
  ``__del__``: Python reports the exception as "unraisable" and carries on;
- the import of a C extension that clears errors it meets (Cython's set-up of ``collections.abc``
  while ``numpy.random`` loads).

The run would then go on to the end and write its output as if Ctrl-C had not been pressed. So the
handler also records the request, and the pipeline calls :func:`checkpoint` as it moves on (each
progress tick, each batch of the map stage, and before a report replaces its target): a request
still standing there was lost, and is raised again. A KeyboardInterrupt that does propagate ends
the run, so no checkpoint is reached after it.

Code that calls the Python API without the handler (a notebook) is untouched: nothing is recorded,
and :func:`checkpoint` does nothing.
"""

from __future__ import annotations

import sys

_requested = False


def handler(signum, frame) -> None:  # noqa: ARG001 (a signal handler's signature)
    """The SIGINT handler: record the request, then raise KeyboardInterrupt here."""
    global _requested
    _requested = True
    # An interrupt can land inside a C extension's half-built object (llvmlite while numba loads
    # its kernels); such objects complain from __del__ as the stack unwinds, and a lost
    # KeyboardInterrupt is reported the same way. Nothing said after an interrupt is news to the
    # user (and a lost interrupt is raised again at the next checkpoint), so those are dropped.
    sys.unraisablehook = lambda unraisable: None
    raise KeyboardInterrupt


def checkpoint() -> None:
    """Raise KeyboardInterrupt if Ctrl-C was pressed and the run still goes on (its interrupt was lost)."""
    if _requested:
        raise KeyboardInterrupt
