"""What one assignment stages into the sandbox: its course package, the modules to pre-import, its tensor class.

The sandbox knows bundles only through this description. Two bundles with the same package share a runtime
(and so a warm zygote); any change to a file, the pre-imports or the tensor class is a different runtime.
"""

import hashlib
import json
from dataclasses import dataclass

RUNTIME_FILE = ".runtime.json"


@dataclass(frozen=True)
class PackageSpec:
    """The read-only package a submission imports (relative POSIX path -> bytes), staged as a folder on its path.

    `tensor_class` is `module:Name`, the class array values travel as; `preimports` are imported by the zygote
    before any job, so no workspace pays for them.
    """

    files: tuple[tuple[str, bytes], ...]
    preimports: tuple[str, ...]
    tensor_class: str

    @property
    def digest(self) -> str:
        """Content hash of everything staged: the runtime's key."""
        digest = hashlib.sha256(self.runtime_description())
        for path, body in sorted(self.files):
            digest.update(path.encode() + b"\0" + hashlib.sha256(body).digest())
        return digest.hexdigest()[:16]

    def runtime_description(self) -> bytes:
        """The JSON the zygote reads from the staged package's RUNTIME_FILE."""
        return json.dumps({"preimports": list(self.preimports), "tensor_class": self.tensor_class},
                          sort_keys=True).encode()
