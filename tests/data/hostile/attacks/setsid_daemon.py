"""A double-forked setsid daemon that ignores signals and outlives the notebook; the run must still end it."""
import os
import signal
import time

if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        for _signal in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(_signal, signal.SIG_IGN)
        os.closerange(0, 64)
        while True:
            for _path in ("/tmp/tinytorch-hostile-heartbeat", "/var/tmp/tinytorch-hostile-heartbeat"):
                try:
                    with open(_path, "a") as _beat:
                        _beat.write(f"{time.time()}\n")
                except OSError:
                    pass
            time.sleep(0.05)
    os._exit(0)
time.sleep(0.2)
