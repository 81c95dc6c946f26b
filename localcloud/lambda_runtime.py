"""Python Lambda functions run by the local cloud itself (a stand-in for Lambda's runtime).

moto's Lambda runs a function in a container of AWS's runtime image pulled from a
registry, which the local cloud cannot reach. Functions that AWS services invoke on
their own (Secrets Manager's rotation functions: :mod:`localcloud.ext.fidelity.secretsmanager_rotation`)
are run here instead, as Lambda would run them: the function's zip unpacked into a
private directory, the handler (``Handler``: ``module.function``) called with the event
in a subprocess of this Python, with the function's environment variables, the
function's ``Timeout`` (killed after it, "Task timed out") and AWS's runtime variables.
Only Python runtimes; no layers, no concurrency limits.

What Lambda's VPC and runtime give a function, the stand-in gives too:

* AWS calls reach this local cloud (``AWS_ENDPOINT_URL``, local credentials, the
  function's region), as a function in the VPC reaches Secrets Manager through the
  interface endpoint;
* the twin's database endpoints resolve to their servers (``<endpoint>:3306`` to the
  loopback port the twin publishes), as the VPC's DNS resolves them;
* the trust store (``SSL_CERT_FILE``) holds the twin CA, which signs the twin's
  database certificates, as Lambda's system bundle holds the RDS CAs.

Each invocation's output (the function's log) is appended to
``<state dir>/lambda/<function name>.log``, as Lambda sends it to CloudWatch Logs.
"""
from __future__ import annotations

import io
import json
import os
import ssl
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localcloud import settings, twin

BOOTSTRAP = Path(__file__).resolve().parent / "lambda_bootstrap.py"
_endpoint: str | None = None


class InvocationError(RuntimeError):
    """The function failed (its error type and message, as Lambda reports them)."""


@dataclass(frozen=True)
class Invocation:
    function: str
    seconds: float
    result: Any


def serve_on(port: int) -> None:
    """The port this local cloud serves on: functions call AWS there."""
    global _endpoint
    _endpoint = f"http://127.0.0.1:{port}"


def endpoint() -> str:
    if _endpoint is None:
        raise InvocationError("localcloud: the local cloud's port is not known (serve_on was not called)")
    return _endpoint


def _hosts() -> dict[str, str]:
    """``endpoint:port`` -> ``127.0.0.1:host port`` of each twin database that answers."""
    running = twin.current()
    if running is None:
        return {}
    from localcloud.twin.database import PORT

    return {f"{database['endpoint']}:{PORT}": database["host_address"]
            for database in running.databases.report().values() if database.get("host_address")}


def _trust_store() -> str:
    running = twin.current()
    if running is not None:
        return str(running.ca.cert_path)
    return ssl.get_default_verify_paths().cafile or ""


def _environment(function: Any, region: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "SSL_CERT_FILE": _trust_store(),  # the runtime's trust store (a function may set its own)
        **{str(key): str(value) for key, value in (function.environment_vars or {}).items()},
        # Lambda's reserved variables win over the function's own, as on AWS.
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_LAMBDA_FUNCTION_NAME": function.function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_size),
        "AWS_LAMBDA_FUNCTION_TIMEOUT": str(function.timeout),
        "AWS_ACCESS_KEY_ID": "localcloud",
        "AWS_SECRET_ACCESS_KEY": "localcloud",
        "AWS_ENDPOINT_URL": endpoint(),
        "LOCALCLOUD_LAMBDA_HOSTS": json.dumps(_hosts()),
        "LOCALCLOUD_LAMBDA_HANDLER": function.handler or "",
    }


def _log_file(name: str) -> Path:
    directory = Path(settings.state_dir()) / "lambda"
    directory.mkdir(parents=True, exist_ok=True)
    return directory / f"{name}.log"


def invoke(function: Any, event: dict[str, Any], region: str) -> Invocation:
    """Run ``function`` (moto's ``LambdaFunction``) on ``event``; its result, or
    :class:`InvocationError` with the function's error."""
    runtime = str(function.run_time or "")
    if not runtime.startswith("python3"):
        raise InvocationError(f"{function.function_name}: runtime {runtime or '(none)'} is not run "
                              "by the local cloud (Python 3 runtimes only)")
    if not function.code_bytes:
        raise InvocationError(f"{function.function_name}: the function has no zip code")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="localcloud-lambda-") as work:
        task = Path(work) / "task"
        with zipfile.ZipFile(io.BytesIO(function.code_bytes)) as archive:
            archive.extractall(task)
        result_file = Path(work) / "result.json"
        env = {**_environment(function, region), "LOCALCLOUD_LAMBDA_RESULT": str(result_file)}
        with open(_log_file(function.function_name), "ab") as log:
            log.write(f"START {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} "
                      f"{event.get('Step', '')}\n".encode())
            log.flush()
            try:
                proc = subprocess.run([sys.executable, str(BOOTSTRAP)], input=json.dumps(event).encode(),
                                      cwd=task, env=env, stdout=log, stderr=subprocess.STDOUT,
                                      timeout=float(function.timeout), check=False)
            except subprocess.TimeoutExpired:
                raise InvocationError(f"{function.function_name}: Task timed out after "
                                      f"{float(function.timeout):.2f} seconds") from None
        try:
            outcome = json.loads(result_file.read_text())
        except (OSError, ValueError):
            outcome = {"errorType": "Runtime.ExitError",
                       "errorMessage": f"the runtime exited with status {proc.returncode}"}
    if "errorType" in outcome:
        raise InvocationError(f"{function.function_name}: {outcome['errorType']}: {outcome['errorMessage']}")
    return Invocation(function.function_name, time.monotonic() - started, outcome.get("result"))
