"""Schemathesis hooks for `make contract` (schemathesis.toml `hooks`).

Each hook bridges a fact of the local stack that openapi.yaml cannot state;
none of them changes what a check accepts.
"""

import os
import re
import uuid

import schemathesis

ROTATE = ("POST", "/api/v1/account/tokens/self/rotate")
PROJECT = re.compile(r"prj_[0-7][0-9A-HJKMNP-TV-Z]{25}")

# The PAT the next rotation authenticates with: rotation replaces the
# secret that calls it (and presenting a replaced secret again revokes the
# token), so the version operations keep their own PAT (CONTRACT_PAT) and
# rotations chain through this one, each with the secret the previous
# rotation returned.
_rotating = {"token": os.environ.get("CONTRACT_ROTATE_TOKEN", "")}


def _is_rotation(case):
    return (case.method.upper(), case.path) == ROTATE


@schemathesis.hook
def before_call(ctx, case, kwargs):
    headers = case.headers or {}
    if _is_rotation(case) and headers.get("Authorization") == f"Bearer {os.environ['CONTRACT_PAT']}":
        # Only the configured credential is swapped: the checks that send
        # no token or a broken one (ignored_auth) keep what they send.
        headers["Authorization"] = f"Bearer {_rotating['token']}"
    _unique_idempotency_key(headers)
    # `project` in a version body must equal the path's projectId, a rule
    # across two fields that a schema cannot state. Only a well-formed id
    # is replaced, so a body made invalid on purpose stays invalid.
    body = case.body
    project = (case.path_parameters or {}).get("projectId")
    if isinstance(body, dict) and isinstance(body.get("project"), str) and project:
        if PROJECT.fullmatch(body["project"]):
            body["project"] = project


# The Idempotency-Key pattern of openapi.yaml.
IDEMPOTENCY_KEY = re.compile(r"[!-~]([ -~]*[!-~])?")
_calls = {"n": 0}
_RUN = uuid.uuid4().hex


def _unique_idempotency_key(headers):
    # Schemathesis reuses a generated key (the example, a minimal "0")
    # across requests it means to be independent; the API answers a key
    # reused with another request 422 and replays one reused with the same
    # request, as it should (tests/idempotency.rs). Each call gets a key of
    # its own, still matching the pattern; an invalid key stays invalid.
    # The suffix is unique across runs too: contract.sh runs Schemathesis
    # more than once against one stack, and receipts last 24 hours.
    key = headers.get("Idempotency-Key")
    if isinstance(key, str) and IDEMPOTENCY_KEY.fullmatch(key):
        _calls["n"] += 1
        suffix = f"-{_RUN}-{_calls['n']}"
        headers["Idempotency-Key"] = key[: 255 - len(suffix)] + suffix


@schemathesis.hook
def filter_case(ctx, case):
    # `cargo lambda watch`, the local stand-in for API Gateway, answers a
    # header value that is not ASCII with a 500 of its own before any
    # function runs; the functions answer such a key 400 (the domain's
    # IdempotencyKey::parse tests).
    key = (case.headers or {}).get("Idempotency-Key")
    return not isinstance(key, str) or key.isascii()


@schemathesis.hook
def after_call(ctx, case, response):
    if _is_rotation(case) and response.status_code == 201:
        _rotating["token"] = response.json()["token"]


# What the versions API trims from names (Rust's `str::trim`: Unicode
# White_Space), as openapi.yaml's patterns spell it.
_SPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"


def _keys_collide(mapping, fold):
    """Two keys of `mapping` that are one key once trimmed (and folded)."""
    return len({fold(key.strip(_SPACE)) for key in mapping}) < len(mapping)


@schemathesis.hook
def filter_body(ctx, body):
    # Keys that differ only by surrounding white space (or, for language
    # tags, by ASCII case) name the same attribute or locale, and the API
    # refuses the second with a 400: a rule across keys that a schema
    # cannot state. Such bodies are left out, positive or negative.
    if isinstance(body, dict):
        for field, fold in (("customAttributes", str), ("messageLocale", lambda k: k.encode().lower())):
            value = body.get(field)
            if isinstance(value, dict) and _keys_collide(value, fold):
                return False
    # `cargo lambda watch`, the local stand-in for API Gateway, answers a
    # JSON body that is not UTF-8 with a 500 of its own before any function
    # runs; the functions answer such bodies 400 (tests/hostile.rs).
    if isinstance(body, (bytes, bytearray)):
        try:
            bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            return False
    return True
