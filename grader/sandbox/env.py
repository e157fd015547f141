"""The environment student code sees: built from nothing, so no secret or service URL can leak in."""

import os

PASSED_THROUGH = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def sandbox_environment(harness_path: str, package: str, font_cache: str, *, pid_namespace: bool) -> dict[str, str]:
    """A clean environment; only CPU-quirk settings for OpenBLAS are carried over from the host. `package` is the
    staged package's folder as the sandbox sees it (the zygote reads its runtime description there), `font_cache`
    the staged font list's folder (the zygote seeds MPLCONFIGDIR from it)."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": "/tmp",
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": "/tmp/.matplotlib",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "HARNESS_PATH": harness_path,
        "HARNESS_PACKAGE": package,
        "HARNESS_FONT_CACHE": font_cache,
        "HARNESS_PID_NAMESPACE": "1" if pid_namespace else "0",
    }
    for name in PASSED_THROUGH:
        if name in os.environ:
            env[name] = os.environ[name]
    return env
