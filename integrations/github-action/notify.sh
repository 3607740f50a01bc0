#!/usr/bin/env bash
# Tells shipgate that a version is built: POST /webhooks/build, signed with the webhook secret, with an
# Idempotency-Key made from the workflow run (a re-run of the same attempt deploys nothing twice).
# Needs only bash, curl and openssl. With SHIPGATE_WAIT=true it then follows each deployment it
# started (GET /api/v1/deployments/{id} with SHIPGATE_TOKEN) and exits 0 only if all succeeded.
#
# Reads: SHIPGATE_URL, SHIPGATE_WEBHOOK_SECRET, SHIPGATE_PROJECT; optional SHIPGATE_ENVIRONMENT,
# SHIPGATE_VERSION, SHIPGATE_SHA (default GITHUB_SHA), SHIPGATE_IMAGES (lines of COMPONENT=REFERENCE),
# SHIPGATE_WAIT, SHIPGATE_TOKEN, SHIPGATE_TIMEOUT (seconds, default 1800); from GitHub: GITHUB_RUN_ID,
# GITHUB_RUN_ATTEMPT, GITHUB_SHA, GITHUB_REF, GITHUB_ACTOR, GITHUB_OUTPUT.
set -euo pipefail

fail() { echo "shipgate: $*" >&2; exit 1; }

# Every value goes into JSON and a header as it is, so each must match a plain pattern (nothing to escape).
check() {  # NAME VALUE PATTERN
  [[ "$2" =~ $3 ]] || fail "$1 has characters shipgate does not take: '$2'"
}

: "${SHIPGATE_URL:?set SHIPGATE_URL to shipgate\'s address}"
: "${SHIPGATE_WEBHOOK_SECRET:?set SHIPGATE_WEBHOOK_SECRET (the webhook secret)}"
: "${SHIPGATE_PROJECT:?set SHIPGATE_PROJECT}"
url="${SHIPGATE_URL%/}"
name='^[A-Za-z0-9._-]{1,100}$'
check project "$SHIPGATE_PROJECT" "$name"
body="{\"project\":\"$SHIPGATE_PROJECT\""
key="github-run-${GITHUB_RUN_ID:-local$$}-${GITHUB_RUN_ATTEMPT:-1}"
if [[ -n "${SHIPGATE_ENVIRONMENT:-}" ]]; then
  check environment "$SHIPGATE_ENVIRONMENT" "$name"
  body+=",\"environment\":\"$SHIPGATE_ENVIRONMENT\""
  key+="-$SHIPGATE_ENVIRONMENT"
fi
if [[ -n "${SHIPGATE_VERSION:-}" ]]; then
  check version "$SHIPGATE_VERSION" '^[A-Za-z0-9._+-]{1,128}$'
  body+=",\"version\":\"$SHIPGATE_VERSION\""
fi
sha="${SHIPGATE_SHA:-${GITHUB_SHA:-}}"
if [[ -n "$sha" ]]; then
  check sha "$sha" '^[0-9a-fA-F]{7,64}$'
  body+=",\"sha\":\"$sha\""
fi
if [[ -n "${GITHUB_REF:-}" ]]; then
  check ref "$GITHUB_REF" '^[A-Za-z0-9._/+-]{1,250}$'
  body+=",\"ref\":\"$GITHUB_REF\""
fi
# A bot's login (dependabot[bot]) is not a name shipgate takes as an actor: it is left out.
if [[ "${GITHUB_ACTOR:-}" =~ $name ]]; then body+=",\"actor\":\"$GITHUB_ACTOR\""; fi
images=""
while IFS= read -r line; do
  line="${line#"${line%%[![:space:]]*}"}"; line="${line%"${line##*[![:space:]]}"}"
  [[ -z "$line" ]] && continue
  [[ "$line" == *=* ]] || fail "SHIPGATE_IMAGES lines are COMPONENT=REFERENCE, not '$line'"
  check "image component" "${line%%=*}" "$name"
  check "image reference" "${line#*=}" '^[A-Za-z0-9._/:@+-]{1,500}$'
  images+="${images:+,}\"${line%%=*}\":\"${line#*=}\""
done <<< "${SHIPGATE_IMAGES:-}"
[[ -n "$images" ]] && body+=",\"images\":{$images}"
body+="}"

signature="$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$SHIPGATE_WEBHOOK_SECRET" -r | cut -d' ' -f1)"
answer="$(mktemp)"
trap 'rm -f "$answer"' EXIT
# curl retries connection errors, timeouts and 5xx with back-off (1 s, 2 s, 4 s, ...); a 4xx is final.
status="$(curl -sS -o "$answer" -w '%{http_code}' --max-time 30 --retry 5 --retry-connrefused \
  -H 'Content-Type: application/json' -H "Idempotency-Key: $key" -H "X-Hub-Signature-256: sha256=$signature" \
  --data-binary "$body" "$url/webhooks/build")" || fail "cannot reach $url"
[[ "$status" == 2* ]] || fail "the build notification was refused (HTTP $status): $(cat "$answer")"
echo "shipgate accepted: $(cat "$answer")"

ids="$(grep -o '"id":[0-9]*' "$answer" | cut -d: -f2 | paste -sd, -)" || true
[[ -n "${GITHUB_OUTPUT:-}" ]] && echo "deployments=$ids" >> "$GITHUB_OUTPUT"
[[ "${SHIPGATE_WAIT:-false}" == "true" ]] || exit 0
: "${SHIPGATE_TOKEN:?waiting needs SHIPGATE_TOKEN (a token that may read the project)}"

deadline=$(( $(date +%s) + ${SHIPGATE_TIMEOUT:-1800} ))
outcome=0
for id in ${ids//,/ }; do
  while :; do
    state="$(curl -sS --max-time 30 --retry 5 --retry-connrefused -H "Authorization: Bearer $SHIPGATE_TOKEN" \
      "$url/api/v1/deployments/$id" | grep -o '"state":"[a-z_]*"' | head -1 | cut -d'"' -f4)" || state=""
    case "$state" in
      succeeded) echo "deployment $id: succeeded"; break ;;
      failed|rolled_back|cancelled|rejected|expired|superseded) echo "deployment $id: $state" >&2; outcome=1; break ;;
    esac
    (( $(date +%s) < deadline )) || { echo "deployment $id: still ${state:-unknown} at the timeout" >&2; outcome=1; break; }
    sleep "${SHIPGATE_POLL:-5}"
  done
done
exit "$outcome"
