"""Schemathesis hooks for `make contract` (schemathesis.toml `hooks`).

Each hook bridges a fact of the local stack that openapi.yaml cannot state;
none of them changes what a check accepts.
"""

import itertools
import os
import re
import time
import uuid

import requests
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
    _steer_to_real_ids(case)
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
    _clean_up_after(case, response)


# The teams function's ids. schemathesis.toml pins each id parameter to the
# seeded team and project, or to a placeholder below; a placeholder (and the
# seeded project, for a delete) is replaced just before the call by a
# resource made for that call alone, through the API with the demo
# account's session. So the destructive operations get real ids to work on
# (a 204, not only 404s) without ever deleting the seeded project, removing
# or demoting the demo account or the PATs' owner, or revoking the seeded
# API key that the check's operations use. Ids from links, or any value
# generated to be invalid, are sent as they are.
KEY_PLACEHOLDER = "key_00000000000000000000000000"
INVITATION_PLACEHOLDER = "inv_00000000000000000000000000"
MEMBER_PLACEHOLDER = "contract-member"

_http = requests.Session()
_http.trust_env = False  # never through an HTTP(S)_PROXY of the environment
_serial = itertools.count(1)
_made = {}  # what the last call's set-up made, for after_call
_keys_project = {}  # a project of the seeded team for revocable keys


def _api(method, path, token, body=None):
    # The set-up is not under test: a 503 (the local emulator slower than
    # the functions' DynamoDB timeouts on a busy machine) is retried.
    for attempt in range(5):
        response = _http.request(
            method,
            os.environ["CONTRACT_URL"] + path,
            headers={"Authorization": f"Bearer {token}"},
            json=body,
            timeout=60,
        )
        if response.status_code != 503:
            break
        time.sleep(1 + attempt)
    return response.status_code, (response.json() if response.content else None)


def _demo(method, path, body=None):
    return _api(method, path, os.environ["CONTRACT_ACCOUNT_JWT"], body)


def _inviter(method, path, body=None):
    return _api(method, path, os.environ["CONTRACT_INVITER_JWT"], body)


def _created(call, what):
    """The body of `call()`'s 201. A 409 can be the emulator's (see
    _invitation): the next attempt makes a new resource with a new id."""
    for _ in range(3):
        status, body = call()
        if status == 201:
            return body
    raise RuntimeError(f"contract set-up: {what} answered {status}: {body}")


def _new_project(name):
    team = os.environ["APP_UPGRADE_TEAM_ID"]
    return _created(lambda: _demo("POST", f"/api/v1/projects?teamId={team}", {"name": name}), "a project")["id"]


def _member_id(team, email):
    _, members = _demo("GET", f"/api/v1/teams/{team}/members")
    for member in (members or {}).get("results", []):
        if member["email"] == email:
            return member["userId"]
    return None


def _inviter_in_seeded_team():
    """The second account's user id, made a member of the seeded team if it is not one."""
    team = os.environ["APP_UPGRADE_TEAM_ID"]
    email = os.environ["CONTRACT_INVITER_EMAIL"]
    user = _member_id(team, email)
    if user:
        return user
    # Invited now or earlier (409: a pending invitation), then accepted.
    _demo("POST", f"/api/v1/teams/{team}/invitations", {"email": email})
    _, mine = _inviter("GET", "/api/v1/account/invitations")
    for invitation in (mine or {}).get("results", []):
        if invitation["teamId"] == team:
            _inviter("POST", f"/api/v1/account/invitations/{invitation['id']}/accept")
    # Read back rather than trust the accept's answer: see _invitation.
    user = _member_id(team, email)
    if user:
        return user
    raise RuntimeError("contract set-up: could not make the second account a member")


def _invitation(invite, team, email):
    """A pending invitation of `email` to `team`, made by `invite` (_demo or _inviter).

    The emulator ignores the idempotency token the SDK gives a transaction:
    when a busy machine makes an attempt time out after it committed, the
    SDK's retry finds its own write and the API answers 409 (pending
    invitation). The invitation is there all the same: read it back.
    """
    status, invitation = invite("POST", f"/api/v1/teams/{team}/invitations", {"email": email})
    if status == 201:
        return invitation["id"]
    _, members = invite("GET", f"/api/v1/teams/{team}/members")
    for pending in (members or {}).get("invitations", []):
        if pending["email"] == email.lower():
            return pending["id"]
    raise RuntimeError(f"contract set-up: an invitation answered {status}: {invitation}")


def _steer_to_real_ids(case):
    _made.clear()
    path = case.path_parameters
    if not path:
        return
    team, project = os.environ["APP_UPGRADE_TEAM_ID"], os.environ["APP_UPGRADE_PROJECT_ID"]
    n = next(_serial)
    operation = (case.method.upper(), case.path)
    if operation == ("DELETE", "/api/v1/projects/{projectId}") and path.get("projectId") == project:
        path["projectId"] = _new_project(f"contract delete {n}")
    elif operation == ("DELETE", "/api/v1/projects/{projectId}/api-keys/{keyId}"):
        if path.get("keyId") == KEY_PLACEHOLDER and path.get("projectId") == project:
            # Keys come from a project of their own: the seeded one may be at
            # its key limit from the createApiKey operation.
            if "id" not in _keys_project:
                _keys_project["id"] = _new_project("contract revocable keys")
            path["projectId"] = _keys_project["id"]
            keys = f"/api/v1/projects/{path['projectId']}/api-keys?teamId={team}"
            path["keyId"] = _created(lambda: _demo("POST", keys, {"name": f"revocable {n}"}), "an API key")["id"]
            _made["key"] = (path["projectId"], path["keyId"])
    elif operation == ("DELETE", "/api/v1/teams/{teamId}/invitations/{invitationId}"):
        if path.get("invitationId") == INVITATION_PLACEHOLDER and path.get("teamId") == team:
            email = f"contract-withdrawn-{_RUN[:8]}-{n}@example.com"
            path["invitationId"] = _invitation(_demo, team, email)
    elif operation == ("POST", "/api/v1/account/invitations/{invitationId}/accept"):
        if path.get("invitationId") == INVITATION_PLACEHOLDER:
            # The demo account is the invitee: the second account invites it
            # to a team of its own.
            other = _created(
                lambda: _inviter("POST", "/api/v1/teams", {"name": f"contract invitation {n}"}), "a team"
            )["id"]
            path["invitationId"] = _invitation(_inviter, other, os.environ["APP_UPGRADE_USERNAME"])
    elif operation[1] == "/api/v1/teams/{teamId}/members/{userId}":
        if path.get("userId") == MEMBER_PLACEHOLDER and path.get("teamId") == team:
            if operation[0] == "PATCH":
                # The PATs' owner: member or owner, its PATs work the same.
                # (Not the member a removal just removed: re-adding it would
                # read as a deleted resource still there.)
                path["userId"] = os.environ["CONTRACT_PAT_OWNER"]
            else:
                path["userId"] = _inviter_in_seeded_team()


def _clean_up_after(case, response):
    # A key made for a call that did not revoke it (a request sent without
    # credentials, say) is revoked here, so the project stays under its
    # key limit.
    made = _made.pop("key", None)
    if made and response.status_code != 204:
        project, key = made
        _demo("DELETE", f"/api/v1/projects/{project}/api-keys/{key}?teamId={os.environ['APP_UPGRADE_TEAM_ID']}")


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
