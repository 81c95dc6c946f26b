"""A WSGI app whose requests take a while (for the graceful-shutdown test)."""
import time


def application(environ, start_response):
    time.sleep(float(environ.get("QUERY_STRING") or "1"))
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "4")])
    return [b"done"]
