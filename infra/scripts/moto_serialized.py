"""moto's DynamoDB-compatible server with requests handled one at a time.

moto_server runs every request on its own thread, but moto's
TransactWriteItems deep-copies the backend's tables while other threads may
be changing them, which intermittently fails with "dictionary changed size
during iteration" (a 500) when tests run in parallel. Real DynamoDB has no
such race, so serializing requests here removes a fault of the emulator, not
of our code; clients still send concurrently (the concurrency tests'
requests interleave at the server), and threads still serve keep-alive
connections.

    python moto_serialized.py -H 127.0.0.1 -p 8000
"""

import argparse
import os
import signal
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args()

    # Exit at once: the data lives in memory only, so there is nothing to
    # flush, and sys.exit() could wait on keep-alive handler threads (after
    # `make bench` it outlasted emulator.sh's 10 s grace period).
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))

    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serialized(environ, start_response):
        with lock:
            # Drain the body inside the lock: moto builds it from shared state.
            return [b"".join(app(environ, start_response))]

    run_simple(
        args.host,
        args.port,
        serialized,
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
