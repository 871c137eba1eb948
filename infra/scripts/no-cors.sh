#!/usr/bin/env bash
# `make run` cannot be driven from a web page: a running stack's endpoint
# ($1, e.g. http://127.0.0.1:9000) must answer a foreign origin with no
# Access-Control-Allow-Origin, on the API routes and on the Lambda invoke
# endpoint (which takes a whole event, claims included). cargo lambda watch
# answers any origin with CORS unless `disable_cors` is set
# ([workspace.metadata.lambda.watch] in Cargo.toml).
#
# Sends what a page on http://evil.example could: preflights, and `text/plain`
# POSTs (no preflight needed) carrying a token-minting event. The browser
# test runs it against its stack.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

base="${1:?usage: no-cors.sh http://127.0.0.1:PORT}"
origin="http://evil.example"
invoke="$base/2015-03-31/functions/tokens/invocations"
# The attack of issue 14: create a token as a chosen account. (With the
# local JWT check the function answers 401 anyway; the point here is that
# no page may read the answer.)
event='{"version":"2.0","routeKey":"$default","rawPath":"/api/v1/account/tokens","rawQueryString":"",
"headers":{"content-type":"application/json"},"body":"{\"name\":\"evil\",\"scopes\":[\"versions:read\"]}",
"requestContext":{"accountId":"123456789012","apiId":"local","domainName":"localhost","requestId":"evil",
"routeKey":"$default","stage":"$default","timeEpoch":0,"authorizer":{"jwt":{"claims":{"sub":"someone"},"scopes":null}},
"http":{"method":"POST","path":"/api/v1/account/tokens","protocol":"HTTP/1.1","sourceIp":"127.0.0.1","userAgent":"evil"}},
"isBase64Encoded":false}'

failed=0
# check WHAT CURL-ARGS…: the response headers must hold no
# Access-Control-Allow-* header, and the body no token.
check() {
  local what="$1" out status
  shift
  out="$(curl -sS -i --max-time 120 -H "Origin: $origin" "$@")" || die "$what: no answer from $base"
  status="$(printf '%s' "$out" | head -n1 | tr -d '\r')"
  if printf '%s' "$out" | grep -qi '^access-control-allow-'; then
    say "FAIL $what: $status with CORS headers for $origin:"
    printf '%s\n' "$out" | grep -i '^access-control-allow-' >&2
    failed=1
  elif printf '%s' "$out" | grep -q 'aau_'; then
    say "FAIL $what: $status with a token in the answer"
    failed=1
  else
    say "ok   $what: $status, no CORS for $origin"
  fi
}

for url in "$base/api/v1/account/tokens" "$invoke"; do
  check "preflight ${url#"$base"}" -X OPTIONS "$url" \
    -H 'Access-Control-Request-Method: POST' \
    -H 'Access-Control-Request-Headers: authorization,content-type'
done
check "text/plain POST /api/v1/account/tokens" -X POST "$base/api/v1/account/tokens" \
  -H 'Content-Type: text/plain' --data '{"name":"evil","scopes":["versions:read"]}'
check "text/plain POST ${invoke#"$base"}" -X POST "$invoke" \
  -H 'Content-Type: text/plain' --data "$event"

((failed == 0)) || die "the local endpoint grants CORS to a foreign origin (disable_cors in Cargo.toml's [workspace.metadata.lambda.watch]?)"
