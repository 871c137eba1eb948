"""Schemathesis hooks for `make contract` (schemathesis.toml `hooks`).

Each hook bridges a fact of the local stack that openapi.yaml cannot state;
none of them changes what a check accepts.
"""

import os
import re

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
    # `project` in a version body must equal the path's projectId, a rule
    # across two fields that a schema cannot state. Only a well-formed id
    # is replaced, so a body made invalid on purpose stays invalid.
    body = case.body
    project = (case.path_parameters or {}).get("projectId")
    if isinstance(body, dict) and isinstance(body.get("project"), str) and project:
        if PROJECT.fullmatch(body["project"]):
            body["project"] = project


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
