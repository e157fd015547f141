"""A sandbox started before its job exists, for a command that grades one file and exits.

The host spends most of such a command importing what grading needs (ORM, notebook reader, numpy) and the
sandbox most of its time importing numpy and matplotlib: one after the other they add up. Here a warm sandbox
(the warm backend, unchanged) starts on another thread first thing, so its zygote imports while the host does;
the job goes in only when the stored run is graded, and its wall limit counts from then.
"""

import atexit
import queue
import threading
from collections.abc import Callable

from grader.config import Settings
from grader.sandbox.job import SandboxJob, SandboxResult
from grader.sandbox.package import PackageSpec
from grader.sandbox.runner import SandboxRunner, limits_from_settings, make_runner

SPAWN_WAIT_S = 1.0  # how long the caller yields to this thread (a runtime staged for the first time: no longer)


class AheadRunner:
    """The configured sandbox started ahead: bubblewrap's warm sandbox, driven by the thread that started it.

    That thread lives as long as the process: bubblewrap's --die-with-parent follows the thread that spawned it,
    so the sandbox would die with a thread that only started it. `package` names the runtime to start: called on
    that thread, so finding it (loading the assignment) overlaps the caller's work too. A job for another package
    still runs, in a sandbox started for it.
    """

    name = "bwrap"
    pool = "warm"

    def __init__(self, settings: Settings, package: Callable[[], PackageSpec]) -> None:
        warm = settings.model_copy(update={"sandbox": settings.sandbox.model_copy(update={"pool": "warm"})})
        self._jobs: queue.Queue[SandboxJob | None] = queue.Queue()
        self._results: queue.Queue[SandboxResult | BaseException] = queue.Queue()
        self._lock = threading.Lock()
        self._settled = threading.Event()  # the start is over, whichever way it went
        self._spawning = threading.Event()  # this thread's own Python work is done: the sandbox is being spawned
        self._thread = threading.Thread(target=self._serve, args=(warm, package), name="grader-sandbox-ahead",
                                        daemon=True)
        self._thread.start()
        atexit.register(self._at_exit)
        self._spawning.wait(SPAWN_WAIT_S)

    def _serve(self, settings: Settings, package: Callable[[], PackageSpec]) -> None:
        from grader.sandbox.warm_backend import WarmRunner

        runner: SandboxRunner | None = None
        failure: Exception | None = None
        try:
            runner = make_runner(settings)  # stages the runtime if it is not yet
            if isinstance(runner, WarmRunner):
                atexit.unregister(runner.close)  # closed from this thread, or not waited for (see _at_exit)
                spec = package()
                self._spawning.set()
                runner.start_ahead(limits_from_settings(settings), spec)
        except Exception as exc:  # raised where the job is run, like the same failure of any other runner
            failure = exc
        finally:
            self._spawning.set()
            self._settled.set()
        while (job := self._jobs.get()) is not None:
            try:
                if runner is None:
                    assert failure is not None
                    raise failure
                self._results.put(runner.run(job))
            except BaseException as exc:
                self._results.put(exc)
        getattr(runner, "close", lambda: None)()

    def run(self, job: SandboxJob) -> SandboxResult:
        with self._lock:
            self._jobs.put(job)
            result = self._results.get()
        if isinstance(result, BaseException):
            raise result
        return result

    def _at_exit(self) -> None:
        """A command that ends before its sandbox is up (a rejected file) does not wait for it: bubblewrap runs with
        --die-with-parent, so the sandbox is killed as this process exits."""
        if self._settled.is_set():
            self.close()

    def close(self) -> None:
        """End the sandbox (from its own thread) and the thread; a process that just exits needs none of this:
        the warm runner closes at exit, and bubblewrap dies with the process."""
        with self._lock:
            if self._thread.is_alive():
                self._jobs.put(None)
                self._thread.join()


def one_shot_runner(settings: Settings, package: Callable[[], PackageSpec]) -> SandboxRunner:
    """The runner for one file: bubblewrap started ahead for `package`; the process backend (no sandbox to start)
    as it is."""
    return make_runner(settings) if settings.sandbox.backend == "process" else AheadRunner(settings, package)
