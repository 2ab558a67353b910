"""Backend calls in a worker process: a call that kills its process is an observation.

Bad input reaches code paths frameworks rarely test, and some die on it (MXNet's
convolution takes ``num_group=0`` to a division by zero: SIGFPE). The bad-input tests, and
any case a registry entry claims crashes (``claim = { crashes = true }``: ONNX Runtime before
1.32 never returns from a strided or padded convolution over 0 input channels), call
the backend through :class:`IsolatedBackend`: one worker process per run (spawned on first
use, with the run's ``--backend`` spec and environment) takes the calls one at a time and
sends back what happened; when it dies, or gives no answer within :data:`CALL_TIMEOUT`
seconds (it is then killed: ONNX Runtime before 1.27 loops on a zero-sized kernel), the call
that was running is a crash, and the next call starts a new worker.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any, BinaryIO

ROOT = Path(__file__).resolve().parents[2]
#: Seconds a call may take before it counts as hung, and a new worker to import its
#: framework and say it is ready.
CALL_TIMEOUT = 60
START_TIMEOUT = 240


def send(stream: BinaryIO, obj: Any) -> None:
    """Write ``obj`` as one length-prefixed pickle."""
    data = pickle.dumps(obj)
    stream.write(struct.pack("<Q", len(data)) + data)
    stream.flush()


def receive(stream: BinaryIO) -> Any:
    """Read one length-prefixed pickle; EOFError at the end of the stream."""
    head = stream.read(8)
    if len(head) < 8:
        raise EOFError
    (size,) = struct.unpack("<Q", head)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)


class RemoteError(Exception):
    """An exception raised in the worker: its class names (the MRO) and its message."""

    def __init__(self, names: tuple[str, ...], message: str) -> None:
        super().__init__(message)
        self.names = names

    def __reduce__(self) -> tuple[Any, ...]:
        return RemoteError, (self.names, str(self))

    def __repr__(self) -> str:
        return f"{self.names[0]}({str(self)!r})"


class IsolatedBackend:
    """Calls of backend ``spec`` in a worker process.

    :meth:`call` returns ``("values", array)``, ``("unsupported", reason)``,
    ``("error", RemoteError)`` or ``("crash", "killed by SIGFPE")`` (``"hung: ..."`` for a
    call without an answer in time).
    """

    def __init__(self, spec: str) -> None:
        self.spec = spec
        self.proc: subprocess.Popen[bytes] | None = None

    def _start(self) -> subprocess.Popen[bytes]:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        return subprocess.Popen([sys.executable, "-m", "tests.support.isolation", self.spec],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, cwd=ROOT, env=env)

    def call(self, op: str, arrays: Any, params: Any) -> tuple[str, Any]:
        """Run one call in the worker (starting one if none runs)."""
        try:
            if self.proc is None or self.proc.poll() is not None:
                self.proc = self._start()
                assert self.proc.stdout is not None
                if self._answer(START_TIMEOUT) is None:
                    self.close()
                    raise RuntimeError(f"the {self.spec} worker did not start within "
                                       f"{START_TIMEOUT} s")
            assert self.proc.stdin is not None
            send(self.proc.stdin, (op, dict(arrays), dict(params)))
            answer = self._answer(CALL_TIMEOUT)
            if answer is None:
                self.close()
                return "crash", f"hung: no answer within {CALL_TIMEOUT} s (killed)"
            return answer
        except (EOFError, BrokenPipeError):
            code = self.proc.wait()
            self.proc = None
            return "crash", _death(code)

    def _answer(self, timeout: float) -> Any:
        """The worker's next message, None when none comes within ``timeout`` seconds
        (nothing is left buffered between messages: one answer per call)."""
        assert self.proc is not None and self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        return receive(self.proc.stdout) if ready else None

    def close(self) -> None:
        """Stop the worker."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


def _death(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with status {code}"


def serve(spec: str) -> None:
    """The worker: load backend ``spec``, then answer calls from stdin until it closes."""
    import backends
    from backends import Unsupported
    from tests.support.checks import call_op

    backend = backends.load(spec)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    send(stdout, ("ready", spec))
    while True:
        try:
            op, arrays, params = receive(stdin)
        except EOFError:
            return
        try:
            answer: tuple[str, Any] = ("values", call_op(backend, op, arrays, params))
        except Unsupported as exc:
            answer = ("unsupported", exc.reason)
        except Exception as exc:  # the observation to send back
            answer = ("error", RemoteError(tuple(c.__name__ for c in type(exc).__mro__),
                                           str(exc)))
        send(stdout, answer)


if __name__ == "__main__":
    # through the module's own name, so that RemoteError pickles as
    # tests.support.isolation.RemoteError, not __main__.RemoteError
    from tests.support.isolation import serve as serve_here

    serve_here(sys.argv[1])
