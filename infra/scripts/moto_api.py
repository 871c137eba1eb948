"""Tiny client for the local DynamoDB emulator, so the scripts need no curl.

  moto_api.py ping  URL          exit 0 if DynamoDB answers ListTables
  moto_api.py reset URL          drop all emulator data (POST /moto-api/reset)
  moto_api.py count URL TABLE    items in TABLE, or -1 if it does not exist

moto picks the service from the SigV4 credential scope (no Authorization
header means S3) and partitions data by the scope's region; it never checks
the signature, so a fixed dummy header is enough.
"""

import json
import os
import sys
import urllib.error
import urllib.request

# Never send local traffic through an HTTP(S)_PROXY from the environment.
urlopen = urllib.request.build_opener(urllib.request.ProxyHandler({})).open


def dynamodb(url, action, body, timeout):
    region = os.environ.get("AWS_REGION", "us-east-1")
    req = urllib.request.Request(
        url.rstrip("/") + "/",
        data=json.dumps(body).encode(),
        headers={
            "Authorization": "AWS4-HMAC-SHA256 Credential=local/20200101/"
            f"{region}/dynamodb/aws4_request, SignedHeaders=host, Signature=0",
            "X-Amz-Target": f"DynamoDB_20120810.{action}",
            "Content-Type": "application/x-amz-json-1.0",
        },
    )
    try:
        with urlopen(req, timeout=timeout) as resp:
            return json.load(resp)
    except urllib.error.HTTPError as err:
        return json.load(err)


def main(cmd, url, *args):
    if cmd == "ping":
        try:
            return 0 if "TableNames" in dynamodb(url, "ListTables", {}, 1) else 1
        except (OSError, ValueError):
            return 1
    if cmd == "reset":
        reset = urllib.request.Request(url.rstrip("/") + "/moto-api/reset", method="POST")
        urlopen(reset, timeout=5).close()
        return 0
    if cmd == "count":
        out = dynamodb(url, "Scan", {"TableName": args[0], "Select": "COUNT"}, 5)
        print(out.get("Count", -1))
        return 0
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
