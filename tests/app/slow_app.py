"""A WSGI app whose requests take a while (for the graceful-shutdown test).

With ``SLOW_APP_STARTED`` set, each request appends its query string to that file as it
starts: the test waits for that signal instead of guessing when requests are in flight.
"""
import os
import time


def application(environ, start_response):
    started = os.environ.get("SLOW_APP_STARTED")
    if started:
        with open(started, "a", encoding="utf-8") as out:  # one short append per request
            out.write((environ.get("QUERY_STRING") or "") + "\n")
    time.sleep(float(environ.get("QUERY_STRING") or "1"))
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "4")])
    return [b"done"]
