"""The ``dedupe`` command's entry point: the console script, ``python -m dedupe``, and the driver
script ``spark-submit`` is given (see README, "On Apache Spark").

It imports nothing heavy before it is ready for Ctrl-C, so an interrupt at any moment (while numpy,
numba and the engines load, while kernels compile, while a scan runs) ends the same way: the one
line ``dedupe: interrupted`` on stderr and exit code 130, with no traceback.
"""

import signal
import sys

from dedupe import interrupts

INTERRUPTED = 130


def main(argv: list[str] | None = None) -> int:
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, interrupts.handler)
    for signum in (signal.SIGTERM, signal.SIGHUP):  # stop as Ctrl-C does, not die with workers left
        if signal.getsignal(signum) is signal.SIG_DFL:
            signal.signal(signum, interrupts.handler)
    try:
        from dedupe.cli import main as cli_main
    except KeyboardInterrupt:
        print(interrupts.stopped_message(), file=sys.stderr)
        code = interrupts.exit_code()
    else:
        code = cli_main(argv)
    if code > 128:
        # CPython remembers a KeyboardInterrupt that escaped code run by exec(<string>) (dataclasses,
        # numba) even when it was caught later, and at exit kills the process with SIGINT (status -2)
        # instead of returning 130. Running any string through exec resets that flag.
        exec("None")
    return code


if __name__ == "__main__":
    sys.exit(main())
