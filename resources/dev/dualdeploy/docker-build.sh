#!/bin/sh
# Builds and pushes the release image once, for the dualDeploy step's build: option, and writes the pushed reference
# pinned to the digest that this push reported (DD_TAG@sha256:…) to .dualdeploy/built-image.
#
# The digest comes from the push itself, never from asking the registry for the tag afterwards: another build may
# push the same tag in between, and the release would then be someone else's image. Values arrive as DD_* environment
# variables and are only ever quoted arguments, never shell text.
set -eu

: "${DD_TAG:?DD_TAG is required}"
: "${DD_CONTEXT:?DD_CONTEXT is required}"
: "${DD_DOCKERFILE:?DD_DOCKERFILE is required}"
built=.dualdeploy/built-image
log=.dualdeploy/docker-push.log
mkdir -p .dualdeploy
rm -f "$built"

docker build -t "$DD_TAG" -f "$DD_DOCKERFILE" "$DD_CONTEXT"
status=0
docker push "$DD_TAG" > "$log" 2>&1 || status=$?
cat "$log"
# docker push ends with "<tag>: digest: sha256:<64 hex> size: <n>".
digest=$(sed -n 's/.*digest: \(sha256:[0-9a-f]\{64\}\).*/\1/p' "$log" | tail -n 1)
rm -f "$log"
[ "$status" -eq 0 ] || exit "$status"
if [ -z "$digest" ]; then
  echo "dualdeploy: docker push of $DD_TAG reported no digest (no 'digest: sha256:…' line); refusing to resolve the tag afterwards, which another build may have moved" >&2
  exit 2
fi
printf '%s@%s\n' "$DD_TAG" "$digest" > "$built"
echo "dualdeploy: pushed $DD_TAG as $digest" >&2
