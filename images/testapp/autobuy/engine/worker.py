"""Stand-in for the price-engine worker: ``python -m autobuy.engine.worker``.

Behaves like the real worker towards its container: refuses to start without
AUTOBUY_CHECKS_QUEUE_URL (exit 3, the variable named on stderr), then runs until
SIGTERM/SIGINT and exits 0. It receives nothing: this image has no SQS client.
"""
from __future__ import annotations

import os
import signal
import sys
import threading


def main() -> int:
    if not os.environ.get("AUTOBUY_CHECKS_QUEUE_URL"):
        print("autobuy-worker: invalid settings: AUTOBUY_CHECKS_QUEUE_URL", file=sys.stderr)
        return 3
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    print('{"level":"INFO","logger":"testapp.worker","msg":"stand-in worker running"}',
          file=sys.stderr, flush=True)
    stop.wait()
    print('{"level":"INFO","logger":"testapp.worker","msg":"stand-in worker stopped"}',
          file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
