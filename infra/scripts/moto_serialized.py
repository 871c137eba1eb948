"""moto's DynamoDB-compatible server with requests handled one at a time.

moto_server runs every request on its own thread, but moto's
TransactWriteItems deep-copies the backend's tables while other threads may
be changing them, which intermittently fails with "dictionary changed size
during iteration" (a 500) when tests run in parallel. Real DynamoDB has no
such race, so serializing requests here removes a fault of the emulator, not
of our code; clients still send concurrently (the concurrency tests'
requests interleave at the server), and threads still serve keep-alive
connections. Two more differences from DynamoDB are removed the same way
(see the functions below): a transaction's tables are copied once, and a
transaction's ClientRequestToken makes its retry harmless.

    python moto_serialized.py -H 127.0.0.1 -p 8000
"""

import argparse
import copy
import os
import signal
import threading
import time
import types

from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.responses import DynamoHandler
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


def copy_each_table_once_per_transaction() -> None:
    """moto's TransactWriteItems backs up a table by deep-copying it once per
    transaction item that names it, all before any write: the same backup
    again and again, so a transaction of n items costs n copies of the
    table. Here each table is copied once per transaction (the backup is
    unchanged). Requests are serialized, so one memo at a time suffices."""
    memo: dict[int, tuple[object, object]] | None = None

    def deepcopy(obj, *args):
        if memo is None or args or not isinstance(obj, dynamodb_models.Table):
            return copy.deepcopy(obj, *args)
        if id(obj) not in memo:
            # The table itself is kept too, so its id cannot be reused.
            memo[id(obj)] = (obj, copy.deepcopy(obj))
        return memo[id(obj)][1]

    dynamodb_models.copy = types.SimpleNamespace(deepcopy=deepcopy, copy=copy.copy)
    backend = dynamodb_models.DynamoDBBackend
    original = backend.transact_write_items

    def transact_write_items(self, transact_items):
        nonlocal memo
        memo = {}
        try:
            return original(self, transact_items)
        finally:
            memo = None

    backend.transact_write_items = transact_write_items


def honour_client_request_tokens() -> None:
    """DynamoDB applies a TransactWriteItems at most once per
    ClientRequestToken (for 10 minutes): the SDK's retry of a transaction
    whose answer timed out reuses its token and is answered success without
    a second write. moto applies it again (a uniqueness condition then fails
    on the retry of a write that happened). Here a repeated token gets the
    first answer."""
    answered: dict[str, tuple[float, object]] = {}
    original = DynamoHandler.transact_write_items

    def transact_write_items(self):
        now = time.monotonic()
        for token in [t for t, (at, _) in answered.items() if now - at > 600]:
            del answered[token]
        token = self.body.get("ClientRequestToken")
        if token in answered:
            return answered[token][1]
        result = original(self)
        if token:
            answered[token] = (now, result)
        return result

    DynamoHandler.transact_write_items = transact_write_items


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

    copy_each_table_once_per_transaction()
    honour_client_request_tokens()
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
