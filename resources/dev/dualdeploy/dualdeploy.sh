#!/bin/sh
# Runs one dualdeploy CLI command for the Jenkins steps in vars/.
#
# Every value arrives in a DD_* environment variable and becomes exactly one argument through "set --", so no
# value is ever parsed by a shell: quotes, $(...), backticks, ;, newlines and spaces reach the CLI intact.
# The CLI's JSON result goes to $DD_RESULT; its progress (stderr) goes to the build log; the exit code is the CLI's.
#
# The CLI is found in this order:
#   1. $DD_CLI (the step's cli: parameter), else $DUALDEPLOY_CLI: a jar, or an executable launcher;
#   2. the cached copy $HOME/.cache/dualdeploy/$DD_CLI_VERSION/dualdeploy-$DD_CLI_VERSION.jar;
#   3. a download by Maven coordinates (dev.dualdeploy:dualdeploy:$DD_CLI_VERSION) from $DUALDEPLOY_REPOSITORY,
#      verified against its .sha256 (else .sha1) before it is cached.
set -eu

json_text() {
  # json_text <text>: the text as the inside of a JSON string, on one line (control characters become spaces).
  printf '%s' "$1" | tr '\n\r\t' '   ' | tr -d '\000-\037' | sed 's/\\/\\\\/g; s/"/\\"/g'
}

error_result() {
  # error_result <exit code> <message>: writes the error as the JSON result, as the CLI writes its own.
  command=$(json_text "${DD_COMMAND:-}")
  message=$(json_text "$2")
  printf '{"command":"%s","exitCode":%s,"error":"%s"}\n' "$command" "$1" "$message" > "$DD_RESULT"
}

fail() {
  # An error before the CLI ran: say it in the log and as the JSON result, exit 2.
  echo "dualdeploy: $1" >&2
  error_result 2 "$1"
  exit 2
}

: "${DD_COMMAND:?DD_COMMAND is required}"
: "${DD_RESULT:?DD_RESULT is required}"

in_results() {
  # in_results <path>: whether the path names a plain file directly in .dualdeploy/ (no /, no .., no control
  # characters or spaces). The step builds these names from stage names it has checked; this is the second line of
  # defence, so that no name can make the CLI write outside .dualdeploy/.
  case "$1" in
    .dualdeploy/*/* | .dualdeploy/.*) return 1 ;;
    .dualdeploy/?*) ;;
    *) return 1 ;;
  esac
  case "${1#.dualdeploy/}" in
    *[!A-Za-z0-9._-]*) return 1 ;;
  esac
  return 0
}
refuse() {
  # Said in the log only: the result's own path is what is refused, so no result is written.
  echo "dualdeploy: refusing $1: it must name a file directly in .dualdeploy/ (letters, digits, ., _ and -)" >&2
  exit 2
}
in_results "$DD_RESULT" || refuse DD_RESULT
[ -z "${DD_JUNIT:-}" ] || in_results "$DD_JUNIT" || refuse DD_JUNIT
mkdir -p .dualdeploy

sha() {
  # sha <algorithm> <file>: prints the hex digest, with sha256sum/sha1sum or shasum.
  if command -v "${1}sum" >/dev/null 2>&1; then "${1}sum" "$2" | cut -d' ' -f1
  else shasum -a "${1#sha}" "$2" | cut -d' ' -f1; fi
}

fetch() {
  # fetch <url> <file>
  if command -v curl >/dev/null 2>&1; then curl -fsSL --retry 2 -o "$2" "$1"
  elif command -v wget >/dev/null 2>&1; then wget -q -O "$2" "$1"
  else return 3; fi
}

cli="${DD_CLI:-${DUALDEPLOY_CLI:-}}"
if [ -n "$cli" ]; then
  [ -e "$cli" ] || fail "the CLI at '$cli' does not exist (set by the step's cli: parameter or DUALDEPLOY_CLI)"
else
  version="${DD_CLI_VERSION:?DD_CLI_VERSION is required}"
  cache="${HOME:-/tmp}/.cache/dualdeploy/$version"
  cli="$cache/dualdeploy-$version.jar"
  if [ ! -f "$cli" ]; then
    if [ -z "${DUALDEPLOY_REPOSITORY:-}" ]; then
      fail "cannot find the dualdeploy CLI $version: set the step's cli: parameter or DUALDEPLOY_CLI to its path, or DUALDEPLOY_REPOSITORY to a Maven repository URL to download it from (it is then cached in $cache)"
    fi
    url="${DUALDEPLOY_REPOSITORY%/}/dev/dualdeploy/dualdeploy/$version/dualdeploy-$version.jar"
    mkdir -p "$cache"
    part="$cli.part.$$"
    trap 'rm -f "$part" "$part.sum"' EXIT
    echo "dualdeploy: downloading the CLI $version from $url" >&2
    fetch "$url" "$part" || fail "cannot download $url (curl or wget is needed, and the repository must have the jar)"
    algorithm=""
    for a in sha256 sha1; do
      if fetch "$url.$a" "$part.sum" 2>/dev/null; then algorithm=$a; break; fi
    done
    [ -n "$algorithm" ] || fail "$url has no .sha256 or .sha1 checksum; refusing to run an unverified CLI"
    expected=$(cut -d' ' -f1 < "$part.sum" | tr -d '\r\n' | tr 'A-F' 'a-f')
    actual=$(sha "$algorithm" "$part")
    [ "$expected" = "$actual" ] || fail "the download of $url does not match its .$algorithm checksum; nothing was cached"
    mv "$part" "$cli"
    echo "dualdeploy: cached the CLI in $cli" >&2
  fi
fi

set -- "$DD_COMMAND"
[ -z "${DD_CONFIG:-}" ] || set -- "$@" --file "$DD_CONFIG"
[ -z "${DD_OVERRIDE:-}" ] || set -- "$@" --override "$DD_OVERRIDE"
[ -z "${DD_STAGE:-}" ] || set -- "$@" --stage "$DD_STAGE"
[ -z "${DD_IMAGE:-}" ] || set -- "$@" --image "$DD_IMAGE"
[ -z "${DD_VERSION:-}" ] || set -- "$@" --release-version "$DD_VERSION"
[ -z "${DD_LEGACY:-}" ] || set -- "$@" "--legacy=$DD_LEGACY"
[ -z "${DD_KUBERNETES:-}" ] || set -- "$@" "--kubernetes=$DD_KUBERNETES"
[ -z "${DD_SIDE:-}" ] || set -- "$@" --side "$DD_SIDE"
[ -z "${DD_TO:-}" ] || set -- "$@" --to "$DD_TO"
[ "${DD_NEXT:-}" != "true" ] || set -- "$@" --next
[ "${DD_REVERT:-}" != "true" ] || set -- "$@" --revert
[ -z "${DD_BRANCH:-}" ] || set -- "$@" --branch "$DD_BRANCH"
[ -z "${DD_CHANGE_ID:-}" ] || set -- "$@" --change-id "$DD_CHANGE_ID"
[ -z "${DD_ONLY:-}" ] || set -- "$@" --only "$DD_ONLY"
[ -z "${DD_STOP_AFTER:-}" ] || set -- "$@" --stop-after "$DD_STOP_AFTER"
[ "${DD_CHECK:-}" != "true" ] || set -- "$@" --check
[ "${DD_NO_ROLLBACK:-}" != "true" ] || set -- "$@" --no-rollback
[ "${DD_NO_GATE:-}" != "true" ] || set -- "$@" --no-gate
[ -z "${DD_WAIT_LOCK:-}" ] || set -- "$@" --wait-lock "$DD_WAIT_LOCK"
case "${DD_APPROVAL:-}" in
  asked|approved|rejected) set -- "$@" "--$DD_APPROVAL" ;;
  '') ;;
  *) fail "DD_APPROVAL must be asked, approved or rejected" ;;
esac
[ -z "${DD_SUBMITTERS:-}" ] || set -- "$@" --submitters "$DD_SUBMITTERS"
[ -z "${DD_APPROVAL_TIMEOUT:-}" ] || set -- "$@" --timeout "$DD_APPROVAL_TIMEOUT"
[ -z "${DD_PLAN:-}" ] || set -- "$@" --plan "$DD_PLAN"
[ -z "${DD_BY:-}" ] || set -- "$@" --by "$DD_BY"
[ -z "${DD_REASON:-}" ] || set -- "$@" --reason "$DD_REASON"
[ "${DD_ALLOW_OUTSIDE_MANIFESTS:-}" != "true" ] || set -- "$@" --allow-outside-manifests
# A report left by an earlier build must never be published as this one's.
[ -z "${DD_JUNIT:-}" ] || { rm -f "$DD_JUNIT"; set -- "$@" --junit "$DD_JUNIT"; }
set -- "$@" --output json

status=0
case "$cli" in
  *.jar) "${DD_JAVA:-java}" -jar "$cli" "$@" > "$DD_RESULT" || status=$? ;;
  *) "$cli" "$@" > "$DD_RESULT" || status=$? ;;
esac
# The CLI answers every exit with a JSON result. If it left none (it died, or an older CLI rejected a value before
# it could answer), the result says so, so the step fails with a reason and not on an empty file. A success
# without a result is a bug (70).
if [ ! -s "$DD_RESULT" ]; then
  exited=$status
  [ "$status" -ne 0 ] || status=70
  error_result "$status" "dualdeploy $DD_COMMAND exited $exited and wrote no result; see the log above"
fi
exit "$status"
