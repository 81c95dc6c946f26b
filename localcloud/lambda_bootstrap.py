"""The bootstrap of a Python function run by :mod:`localcloud.lambda_runtime` (run as a
script in the function's unpacked code directory, the event on stdin).

Like Lambda's runtime: the code directory first on ``sys.path`` (vendored packages win),
the handler ``module.function`` called with the event and a context, the result or the
error (type and message, no traceback values) written to ``LOCALCLOUD_LAMBDA_RESULT``.
The twin's database endpoints resolve to the twin's servers (``LOCALCLOUD_LAMBDA_HOSTS``:
``"name:port" -> "address:port"``), as the VPC's DNS resolves them for a function in it.
"""
from __future__ import annotations

import importlib
import json
import os
import socket
import sys
import time
import traceback
from typing import Any


def _resolve_like_the_vpc() -> None:
    hosts = json.loads(os.environ.get("LOCALCLOUD_LAMBDA_HOSTS") or "{}")
    if not hosts:
        return
    original = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        target = hosts.get(f"{host}:{port}")
        if target is None:
            return original(host, port, *args, **kwargs)
        address, _, mapped = target.rpartition(":")
        return original(address, int(mapped), *args, **kwargs)

    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]


class Context:
    """The parts of Lambda's context object a handler commonly reads."""

    def __init__(self) -> None:
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self._deadline = time.monotonic() + float(os.environ.get("AWS_LAMBDA_FUNCTION_TIMEOUT", "3"))

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def main() -> int:
    sys.path[0] = os.getcwd()  # the code directory, not this script's (localcloud/)
    _resolve_like_the_vpc()
    result_file = os.environ["LOCALCLOUD_LAMBDA_RESULT"]
    module_name, _, function_name = os.environ["LOCALCLOUD_LAMBDA_HANDLER"].rpartition(".")
    try:
        handler = getattr(importlib.import_module(module_name), function_name)
        result = handler(json.loads(sys.stdin.read()), Context())
        outcome: dict[str, Any] = {"result": result}
        status = 0
    except Exception as error:  # noqa: BLE001 - reported as Lambda reports it
        traceback.print_exc()
        outcome = {"errorType": type(error).__name__, "errorMessage": str(error)}
        status = 1
    with open(result_file, "w", encoding="utf-8") as out:
        json.dump(outcome, out, default=str)
    return status


if __name__ == "__main__":
    sys.exit(main())
