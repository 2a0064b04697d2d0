#!/usr/bin/env bash
# The end-to-end test plan as curl commands, against a running Gen3D:
#   scripts/smoke.sh [--photo-url URL] BASE_URL
# BASE_URL is the web app's origin: `gen3d serve`'s address, or the stack's
# https://<domain> after `pulumi up`.
#
# Reads BASE_URL/config.json like the app. Two fictitious users sign in, made here:
# local accounts; with Cognito, AdminCreateUser + AdminSetUserPassword when
# $SMOKE_USER_POOL_ID is set (signed with the AWS credentials in the environment, curl
# --aws-sigv4: no confirmation code), else SignUp + ConfirmSignUp with
# $SMOKE_CONFIRM_CODE, or ID tokens given as $SMOKE_TOKEN_A / $SMOKE_TOKEN_B. Each
# uploads the photo ($SMOKE_PHOTO, or --photo-url / $SMOKE_PHOTO_URL, downloaded first),
# waits for the embeddings and checks their format, asks the server for the mask of a
# click, submits it, waits for `done`, and checks the GLB and the splat PLY it downloads.
# Then the mail: the owner's and the admin's copy ($SMOKE_OUTBOX: `gen3d serve`'s outbox
# folder; $SMOKE_MOTO: moto's SES; neither: not checked, and said so), and the owner's
# 24-hour download link, opened without a token. Then what must
# fail: the other user's object and files (404), a tampered token and none (401), a mask
# of the wrong size (4xx naming it), a file that is not a photo (415) and a truncated
# photo (422, or the session fails with the reason). docs/testing.md walks through it.
# Needs curl and jq. Exit 0 only if all of it held.
set -euo pipefail

if [ "${1:-}" = --photo-url ]; then
	SMOKE_PHOTO_URL=${2:?--photo-url needs a URL}
	shift 2
fi
base=${1:?usage: scripts/smoke.sh [--photo-url URL] BASE_URL}
base=${base%/}
here=$(cd "$(dirname "$0")" && pwd)
photo=${SMOKE_PHOTO:-$here/../../shared/fixtures/images/truck.jpg}
point=${SMOKE_POINT:-500,375}
timeout_s=${SMOKE_TIMEOUT:-300}
for tool in curl jq; do
	command -v "$tool" >/dev/null || { echo "smoke: $tool is not installed" >&2; exit 2; }
done

fail() { echo "smoke: FAILED: $*" >&2; exit 1; }
say() { echo "smoke: $*"; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -n "${SMOKE_PHOTO_URL:-}" ]; then
	photo=$work/photo
	curl -fsSL -o "$photo" "$SMOKE_PHOTO_URL" || { echo "smoke: cannot download $SMOKE_PHOTO_URL" >&2; exit 2; }
	say "photo from $SMOKE_PHOTO_URL ($(wc -c <"$photo") bytes)"
fi
[ -f "$photo" ] || { echo "smoke: no photo at $photo (set SMOKE_PHOTO or SMOKE_PHOTO_URL)" >&2; exit 2; }

config=$(curl -fsS "$base/config.json") || fail "GET $base/config.json"
auth=$(jq -r '.auth // "local"' <<<"$config")
api=$(jq -r '.apiBase // ""' <<<"$config")
api=${api%/}
[ -n "$api" ] || api=$base
say "app $base, API $api, sign-in: $auth"

# status METHOD PATH TOKEN [curl args...]: the HTTP status on stdout, the body in $work/body.
status() {
	local method=$1 path=$2 token=$3; shift 3
	curl -sS -o "$work/body" -w '%{http_code}' -X "$method" -H "Authorization: Bearer $token" "$@" "$api$path" || fail "$method $path: no answer"
}

# refused WANT WHAT METHOD PATH TOKEN [curl args...]: fails unless the answer's status
# matches WANT (a pattern: 404, 4??); says WHAT with the API's message.
refused() {
	local want=$1 what=$2 got; shift 2
	got=$(status "$@")
	# shellcheck disable=SC2053
	[[ $got == $want ]] || fail "$what: $1 $2 answered $got, not $want: $(head -c 300 "$work/body")"
	say "refused as it should be: $what ($got: $(jq -r '.error.message // .message // empty' "$work/body" 2>/dev/null | head -c 160))"
}

# fetch REF TOKEN OUT: a file the API names, by presigned URL or API path.
fetch() {
	if [[ $1 == http* ]]; then curl -fsS -o "$3" "$1"; else call GET "$1" "$2" >"$3"; fi
}

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

# admin ACTION BODY: a Cognito administrator call, signed with the environment's AWS
# credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN if any).
admin() {
	local action=$1 body=$2 region
	region=$(jq -r '.cognito.region' <<<"$config")
	[ -n "${AWS_ACCESS_KEY_ID:-}" ] && [ -n "${AWS_SECRET_ACCESS_KEY:-}" ] || fail "\$SMOKE_USER_POOL_ID needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
	curl -fsS -X POST "$(jq -r '.cognito.endpoint' <<<"$config")/" --aws-sigv4 "aws:amz:$region:cognito-idp" \
		--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" ${AWS_SESSION_TOKEN:+-H "X-Amz-Security-Token: $AWS_SESSION_TOKEN"} \
		-H 'Content-Type: application/x-amz-json-1.1' -H "X-Amz-Target: AWSCognitoIdentityProviderService.$action" -d "$body" ||
		fail "Cognito $action"
}

# token NAME: an ID token for a new fictitious user.
token() {
	local email="smoke-$1-$(date +%s)-$RANDOM@example.com" password='Smoke-test-2026'
	if [ "$auth" = local ]; then
		echo "$email" >"$work/$1.email"
		call POST /v1/auth/register "" -H 'Content-Type: application/json' \
			-d "$(jq -n --arg e "$email" --arg p "$password" '{email:$e,password:$p}')" | jq -r .token
		return
	fi
	local given="SMOKE_TOKEN_$1"
	if [ -n "${!given:-}" ]; then echo "${!given}"; return; fi
	local client
	client=$(jq -r '.cognito.clientId' <<<"$config")
	if [ -n "${SMOKE_USER_POOL_ID:-}" ]; then
		# An administrator makes the user, with a permanent password: no mail, no code.
		admin AdminCreateUser "$(jq -n --arg u "$SMOKE_USER_POOL_ID" --arg e "$email" \
			'{UserPoolId:$u,Username:$e,MessageAction:"SUPPRESS",UserAttributes:[{Name:"email",Value:$e},{Name:"email_verified",Value:"true"}]}')" >/dev/null
		admin AdminSetUserPassword "$(jq -n --arg u "$SMOKE_USER_POOL_ID" --arg e "$email" --arg p "$password" \
			'{UserPoolId:$u,Username:$e,Password:$p,Permanent:true}')" >/dev/null
	else
		[ -n "${SMOKE_CONFIRM_CODE:-}" ] || fail "Cognito sign-in needs \$SMOKE_USER_POOL_ID (with AWS credentials), \$SMOKE_TOKEN_$1 or \$SMOKE_CONFIRM_CODE"
		cognito SignUp "$(jq -n --arg c "$client" --arg e "$email" --arg p "$password" '{ClientId:$c,Username:$e,Password:$p,UserAttributes:[{Name:"email",Value:$e}]}')" >/dev/null
		cognito ConfirmSignUp "$(jq -n --arg c "$client" --arg e "$email" --arg k "$SMOKE_CONFIRM_CODE" '{ClientId:$c,Username:$e,ConfirmationCode:$k}')" >/dev/null
	fi
	echo "$email" >"$work/$1.email"
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
	local name=$1 token=$2 session id url view object finished x=${point%,*} y=${point#*,}
	session=$(call POST /v1/sessions "$token") || fail "$name: POST /v1/sessions"
	id=$(jq -r .id <<<"$session")
	url=$(jq -r .upload.url <<<"$session")
	if [[ $url == http* ]]; then # presigned S3 PUT: no token
		curl -fsS -X PUT -H 'Content-Type: image/jpeg' --data-binary "@$photo" "$url" >/dev/null || fail "$name: photo PUT to storage"
	else
		call PUT "$url" "$token" -H 'Content-Type: image/jpeg' --data-binary "@$photo" >/dev/null || fail "$name: photo PUT"
	fi
	view=$(wait_state "/v1/sessions/$id" "$token" ready)
	say "$name: session $id ready"
	fetch "$(jq -r '.direct.embeddings // .embeddings_url' <<<"$view")" "$token" "$work/$name.g3e" || fail "$name: embeddings download"
	[ "$(head -c 4 "$work/$name.g3e")" = G3DE ] || fail "$name: the embeddings are not a G3DE file"
	say "$name: embeddings $(wc -c <"$work/$name.g3e") bytes (G3DE)"
	call POST "/v1/sessions/$id/masks" "$token" -H 'Content-Type: application/json' \
		-d "{\"points\":[{\"x\":$x,\"y\":$y,\"label\":\"include\"}]}" >"$work/$name-mask.png" || fail "$name: mask"
	[ "$(head -c 4 "$work/$name-mask.png" | tail -c 3)" = PNG ] || fail "$name: the mask is not a PNG"
	object=$(call POST "/v1/sessions/$id/objects" "$token" -H 'Content-Type: image/png' --data-binary "@$work/$name-mask.png") || fail "$name: submit"
	object=$(jq -r .id <<<"$object")
	finished=$(wait_state "/v1/sessions/$id/objects/$object" "$token" done)
	link_of() { jq -r --arg f "$1" '.files[] | select(.name == $f) | (.direct_url // .url)' <<<"$finished"; }
	fetch "$(link_of mesh.glb)" "$token" "$work/$name.glb" || fail "$name: GLB download"
	[ "$(head -c 4 "$work/$name.glb")" = glTF ] || fail "$name: the download is not a GLB"
	fetch "$(link_of splat.ply)" "$token" "$work/$name.ply" || fail "$name: splat download"
	head -c 4096 "$work/$name.ply" | grep -aq '^format binary_little_endian 1.0' || fail "$name: splat.ply is not a binary little-endian PLY"
	local splats
	splats=$(head -c 4096 "$work/$name.ply" | grep -a -m1 '^element vertex ' | cut -d' ' -f3)
	[ "${splats:-0}" -gt 0 ] || fail "$name: splat.ply has no vertices"
	say "$name: object $object done, GLB $(wc -c <"$work/$name.glb") bytes, splat.ply $splats Gaussians"
	echo "$id" >"$work/$name.session"
	echo "$object" >"$work/$name.object"
}

# mails_about OBJECT: one line per mail that names OBJECT, its recipient.
mails_about() {
	if [ -n "${SMOKE_OUTBOX:-}" ]; then
		grep -l -r -- "$1" "$SMOKE_OUTBOX" 2>/dev/null | while read -r f; do grep -m1 -i '^To: ' "$f" | cut -d' ' -f2 | tr -d '\r'; done
	else
		curl -fsS "$SMOKE_MOTO/moto-api/data.json" | jq -r --arg o "$1" \
			'.ses.Message // [] | .[] | select(tostring | contains($o)) | .destinations | if type == "object" then (.ToAddresses // [] | join(",")) else tostring end'
	fi
}

# mail NAME: the owner's mail and the admin's copy about NAME's object.
mail() {
	local name=$1 object owner deadline=$((SECONDS + 60)) to
	object=$(cat "$work/$name.object")
	owner=$(cat "$work/$name.email")
	while :; do
		to=$(mails_about "$object" | sort)
		[ "$(wc -l <<<"$to")" -ge 2 ] && grep -qix -- "$owner" <<<"$to" && break
		[ $SECONDS -lt $deadline ] || fail "$name: mails naming object $object: ${to:-none} (want the owner $owner and the admin's copy)"
		sleep 1
	done
	[ "$(grep -cix -- "$owner" <<<"$to")" = 1 ] || fail "$name: the owner got $(grep -cix -- "$owner" <<<"$to") mails about $object"
	say "$name: mailed $owner and the admin ($(grep -vix -- "$owner" <<<"$to" | paste -sd, -))"
	# The owner's mail links straight to the GLB for 24 hours, no sign-in: open it with no
	# token (its path on this API: a stand-in's API has another address than the stack's).
	local link path
	link=$(mail_text "$object" "$owner" | grep -o 'https\?://[^ "<]*/v1/links/dl_[A-Za-z0-9_-]*' | sed -n 1p || true)
	[ -n "$link" ] || fail "$name: the owner's mail has no download link"
	path=/v1/links/${link##*/v1/links/}
	curl -fsSL -o "$work/$name-link.glb" "$api$path" || fail "$name: the mail's download link $path"
	cmp -s "$work/$name-link.glb" "$work/$name.glb" || fail "$name: the mail's link gives another file than the GLB"
	say "$name: the mail's 24-hour link downloads the GLB without signing in"
}

# mail_text OBJECT OWNER: the owner's mail about OBJECT, as text.
mail_text() {
	if [ -n "${SMOKE_OUTBOX:-}" ]; then
		grep -l -r -- "$1" "$SMOKE_OUTBOX" | while read -r f; do
			if grep -qix -- "To: $2" <(tr -d '\r' <"$f"); then cat "$f"; fi
		done
	else
		curl -fsS "$SMOKE_MOTO/moto-api/data.json" | jq -r --arg o "$1" --arg to "$2" \
			'.ses.Message // [] | .[] | select(tostring | contains($o)) | select(.destinations | tostring | ascii_downcase | contains($to | ascii_downcase)) | tostring'
	fi
}

# must_fail: what a user must not be able to do, and bad input.
must_fail() {
	local a_session a_object fresh answer
	a_session=$(cat "$work/A.session")
	a_object=$(cat "$work/A.object")
	refused 404 "user B reads user A's object" GET "/v1/sessions/$a_session/objects/$a_object" "$token_b"
	refused 404 "user B downloads user A's mesh" GET "/v1/sessions/$a_session/objects/$a_object/files/mesh.glb" "$token_b"
	refused 404 "user B deletes user A's object" DELETE "/v1/sessions/$a_session/objects/$a_object" "$token_b"
	refused 401 "a tampered token" GET /v1/sessions "${token_a%????}AAAA"
	refused 401 "no token" GET /v1/sessions ""
	# A 1×1 grey PNG: a mask must have the photo's size.
	printf '%s' iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg== | base64 -d >"$work/tiny.png"
	refused '4??' "a mask of the wrong size" POST "/v1/sessions/$a_session/objects" "$token_a" -H 'Content-Type: image/png' --data-binary "@$work/tiny.png"
	grep -qi mask "$work/body" || fail "the wrong-size mask's refusal does not name the mask: $(head -c 300 "$work/body")"
	fresh=$(call POST /v1/sessions "$token_a" | jq -r .id) || fail "POST /v1/sessions"
	printf 'this is not a photo\n' >"$work/not-a-photo.jpg"
	refused 415 "a file that is not a photo" PUT "/v1/sessions/$fresh/image" "$token_a" -H 'Content-Type: image/jpeg' --data-binary "@$work/not-a-photo.jpg"
	head -c "$(($(wc -c <"$photo") / 3))" "$photo" >"$work/truncated.jpg"
	answer=$(status PUT "/v1/sessions/$fresh/image" "$token_a" -H 'Content-Type: image/jpeg' --data-binary "@$work/truncated.jpg")
	case $answer in
	422) say "refused as it should be: a truncated photo (422: $(jq -r '.error.message' "$work/body" | head -c 160))" ;;
	202)
		local deadline=$((SECONDS + timeout_s)) view
		while :; do
			view=$(call GET "/v1/sessions/$fresh" "$token_a") || fail "GET /v1/sessions/$fresh"
			[ "$(jq -r .state <<<"$view")" = failed ] && break
			[ "$(jq -r .state <<<"$view")" = ready ] && fail "a truncated photo became ready"
			[ $SECONDS -lt $deadline ] || fail "the truncated photo's session is still $(jq -r .state <<<"$view")"
			sleep 1
		done
		[ -n "$(jq -r '.failure // empty' <<<"$view")" ] || fail "the truncated photo's session failed without a reason"
		say "refused as it should be: a truncated photo (accepted, then the session failed: $(jq -r .failure <<<"$view" | head -c 160))"
		;;
	*) fail "a truncated photo: PUT answered $answer: $(head -c 300 "$work/body")" ;;
	esac
}

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
if [ -n "${SMOKE_OUTBOX:-}" ] || [ -n "${SMOKE_MOTO:-}" ]; then
	mail A
	mail B
else
	say "mail: not checked (no mailbox: set SMOKE_OUTBOX or SMOKE_MOTO)"
fi
must_fail
echo "smoke: passed"
