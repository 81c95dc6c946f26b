"""``python -m autobuy.engine.worker``: the worker process, under the command line the app
role and the image's users already run (``python -m autobuy.engine`` and the
``autobuy-worker`` script are the same). Only starts ``runner.main``; the worker loop
itself is ``consumer.Worker``, so nothing imports this module back.
"""

from __future__ import annotations

from autobuy.engine.runner import main

__all__ = ["main"]

if __name__ == "__main__":
    main()
