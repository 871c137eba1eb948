"""moto's DynamoDB-compatible server with requests handled one at a time.

moto_server runs every request on its own thread, but moto's
TransactWriteItems deep-copies the backend's tables while other threads may
be changing them, which intermittently fails with "dictionary changed size
during iteration" (a 500) when tests run in parallel. Real DynamoDB has no
such race, so serializing requests here removes a fault of the emulator, not
of our code; clients still send concurrently (the concurrency tests'
requests interleave at the server), and threads still serve keep-alive
connections. Two more differences from DynamoDB are removed the same way
(see the functions below): a transaction backs up only the items it names, and a
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


def back_up_only_the_items_a_transaction_names() -> None:
    """moto's TransactWriteItems backs up each table it names by deep-copying
    the whole table (once per transaction item), all before any write, so
    that a refused transaction can be rolled back: its cost grows with the
    table, and a long test run (events and revisions add items to every
    write) slows every transaction until the serialized server times its
    clients out. DynamoDB's cost depends on the transaction alone. Here the
    backup is of the items the transaction names (a transaction names each
    item at most once): copied before, put back (or deleted, if they did not
    exist) when the transaction fails, whatever the failure."""
    dynamodb_models.copy = types.SimpleNamespace(
        # moto's whole-table backup: the table itself, so its own rollback
        # (assigning the backup back) changes nothing.
        deepcopy=lambda obj, *args: obj
        if isinstance(obj, dynamodb_models.Table)
        else copy.deepcopy(obj, *args),
        copy=copy.copy,
    )
    backend = dynamodb_models.DynamoDBBackend
    original = backend.transact_write_items

    def named_key(self, op_type, op):
        table = self.get_table(op["TableName"])
        if op_type != "Put":
            return op["Key"]
        attrs = op["Item"]
        key = {table.hash_key_attr: attrs[table.hash_key_attr]}
        if table.range_key_attr is not None:
            key[table.range_key_attr] = attrs[table.range_key_attr]
        return key

    def transact_write_items(self, transact_items):
        saved = []
        for item in transact_items:
            try:
                op_type, op = next(iter(item.items()))
                key = named_key(self, op_type, op)
                current = self.get_item(op["TableName"], key)
            except Exception:  # noqa: BLE001 - moto itself refuses it below
                continue
            before = None if current is None else current.to_json()["Attributes"]
            saved.append((op["TableName"], key, copy.deepcopy(before)))
        try:
            return original(self, transact_items)
        except Exception:
            for table_name, key, before in reversed(saved):
                if before is None:
                    self.delete_item(table_name, key)
                else:
                    self.put_item(table_name, before)
            raise

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

    back_up_only_the_items_a_transaction_names()
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
