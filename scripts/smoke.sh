#!/usr/bin/env bash
# A smoke test for a running Gen3D: `scripts/smoke.sh BASE_URL` (the web app's origin:
# `gen3d serve`'s address, or the stack's https://<domain> after `pulumi up`).
#
# Reads BASE_URL/config.json like the app. Two fictitious users sign in (local accounts;
# with Cognito: SignUp + ConfirmSignUp with $SMOKE_CONFIRM_CODE, or ID tokens given as
# $SMOKE_TOKEN_A / $SMOKE_TOKEN_B). Each uploads a fixture photo, waits for the
# embeddings, submits a mask made from a click, waits for `done` and downloads the GLB.
# Neither may see the other's session. Needs curl and jq. Exit 0 only if all of it held.
set -euo pipefail

base=${1:?usage: scripts/smoke.sh BASE_URL}
base=${base%/}
here=$(cd "$(dirname "$0")" && pwd)
photo=${SMOKE_PHOTO:-$here/../../shared/fixtures/images/truck.jpg}
point=${SMOKE_POINT:-500,375}
timeout_s=${SMOKE_TIMEOUT:-300}
for tool in curl jq; do
	command -v "$tool" >/dev/null || { echo "smoke: $tool is not installed" >&2; exit 2; }
done
[ -f "$photo" ] || { echo "smoke: no photo at $photo (set SMOKE_PHOTO)" >&2; exit 2; }

fail() { echo "smoke: FAILED: $*" >&2; exit 1; }
say() { echo "smoke: $*"; }

config=$(curl -fsS "$base/config.json") || fail "GET $base/config.json"
auth=$(jq -r '.auth // "local"' <<<"$config")
api=$(jq -r '.apiBase // ""' <<<"$config")
api=${api%/}
[ -n "$api" ] || api=$base
say "app $base, API $api, sign-in: $auth"

# call METHOD PATH TOKEN [curl args...]: the body on stdout; fails unless 2xx.
call() {
	local method=$1 path=$2 token=$3; shift 3
	local out status
	out=$(mktemp)
	status=$(curl -sS -o "$out" -w '%{http_code}' -X "$method" -H "Authorization: Bearer $token" "$@" "$api$path") || { rm -f "$out"; fail "$method $path: no answer"; }
	if [ "${status:0:1}" != 2 ]; then
		echo "smoke: $method $path answered $status: $(head -c 300 "$out")" >&2
		rm -f "$out"
		return 1
	fi
	cat "$out"
	rm -f "$out"
}

cognito() {
	local action=$1 body=$2
	curl -fsS -X POST "$(jq -r '.cognito.endpoint' <<<"$config")/" \
		-H 'Content-Type: application/x-amz-json-1.1' -H "X-Amz-Target: AWSCognitoIdentityProviderService.$action" -d "$body"
}

# token NAME: an ID token for a new fictitious user.
token() {
	local email="smoke-$1-$(date +%s)-$RANDOM@example.com" password='Smoke-test-2026'
	if [ "$auth" = local ]; then
		call POST /v1/auth/register "" -H 'Content-Type: application/json' \
			-d "$(jq -n --arg e "$email" --arg p "$password" '{email:$e,password:$p}')" | jq -r .token
		return
	fi
	local given="SMOKE_TOKEN_$1"
	if [ -n "${!given:-}" ]; then echo "${!given}"; return; fi
	[ -n "${SMOKE_CONFIRM_CODE:-}" ] || fail "Cognito sign-in needs \$SMOKE_TOKEN_$1 or \$SMOKE_CONFIRM_CODE"
	local client
	client=$(jq -r '.cognito.clientId' <<<"$config")
	cognito SignUp "$(jq -n --arg c "$client" --arg e "$email" --arg p "$password" '{ClientId:$c,Username:$e,Password:$p,UserAttributes:[{Name:"email",Value:$e}]}')" >/dev/null
	cognito ConfirmSignUp "$(jq -n --arg c "$client" --arg e "$email" --arg k "$SMOKE_CONFIRM_CODE" '{ClientId:$c,Username:$e,ConfirmationCode:$k}')" >/dev/null
	cognito InitiateAuth "$(jq -n --arg c "$client" --arg e "$email" --arg p "$password" '{ClientId:$c,AuthFlow:"USER_PASSWORD_AUTH",AuthParameters:{USERNAME:$e,PASSWORD:$p}}')" |
		jq -r .AuthenticationResult.IdToken
}

# wait_state PATH TOKEN WANT: polls PATH until .state is WANT (fails on "failed").
wait_state() {
	local path=$1 token=$2 want=$3 deadline=$((SECONDS + timeout_s)) state view
	while :; do
		view=$(call GET "$path" "$token") || fail "GET $path"
		state=$(jq -r .state <<<"$view")
		[ "$state" = "$want" ] && { echo "$view"; return; }
		[ "$state" = failed ] && fail "$path failed: $(jq -c .failure <<<"$view")"
		[ $SECONDS -lt $deadline ] || fail "$path is still $state after ${timeout_s}s"
		sleep 1
	done
}

# journey NAME: photo -> embeddings -> mask -> done -> GLB; prints the session id.
journey() {
	local name=$1 token=$2 session id url glb object x=${point%,*} y=${point#*,}
	session=$(call POST /v1/sessions "$token") || fail "$name: POST /v1/sessions"
	id=$(jq -r .id <<<"$session")
	url=$(jq -r .upload.url <<<"$session")
	if [[ $url == http* ]]; then # presigned S3 PUT: no token
		curl -fsS -X PUT -H 'Content-Type: image/jpeg' --data-binary "@$photo" "$url" >/dev/null || fail "$name: photo PUT to storage"
	else
		call PUT "$url" "$token" -H 'Content-Type: image/jpeg' --data-binary "@$photo" >/dev/null || fail "$name: photo PUT"
	fi
	wait_state "/v1/sessions/$id" "$token" ready >/dev/null
	say "$name: session $id ready"
	call POST "/v1/sessions/$id/masks" "$token" -H 'Content-Type: application/json' \
		-d "{\"points\":[{\"x\":$x,\"y\":$y,\"label\":\"include\"}]}" >"$work/$name-mask.png" || fail "$name: mask"
	object=$(call POST "/v1/sessions/$id/objects" "$token" -H 'Content-Type: image/png' --data-binary "@$work/$name-mask.png") || fail "$name: submit"
	object=$(jq -r .id <<<"$object")
	glb=$(wait_state "/v1/sessions/$id/objects/$object" "$token" done | jq -r '.files[] | select(.name == "mesh.glb") | (.direct_url // .url)')
	if [[ $glb == http* ]]; then curl -fsS -o "$work/$name.glb" "$glb"; else call GET "$glb" "$token" >"$work/$name.glb"; fi
	[ "$(head -c 4 "$work/$name.glb")" = glTF ] || fail "$name: the download is not a GLB"
	say "$name: object $object done, GLB $(wc -c <"$work/$name.glb") bytes"
	echo "$id" >"$work/$name.session"
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
token_a=$(token A)
token_b=$(token B)
[ -n "$token_a" ] && [ "$token_a" != null ] && [ -n "$token_b" ] && [ "$token_b" != null ] || fail "sign-in gave no token"
journey A "$token_a"
journey B "$token_b"
if call GET "/v1/sessions/$(cat "$work/A.session")" "$token_b" >/dev/null 2>&1; then
	fail "user B can read user A's session"
fi
if call GET "/v1/sessions" "$token_b" | jq -e --arg s "$(cat "$work/A.session")" '.sessions[] | select(.id == $s)' >/dev/null; then
	fail "user B's list shows user A's session"
fi
say "users are isolated"
echo "smoke: 1 passed, 0 failed"
