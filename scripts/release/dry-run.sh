#!/usr/bin/env bash
# The release, rehearsed without publishing: on a throwaway copy of the tracked tree (with the built
# dist/ folders), `changeset version` bumps the fixed @probunet/* group and writes the changelogs,
# then `npm publish --dry-run` packs every public package. Checks that the group moved together,
# internal ranges follow the new version, each tarball holds LICENSE and no sources or tests, and
# that the working tree is exactly as it was. Run after a build (CI: after `npm ci`).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
before="$(git status --porcelain)"
copy="$(mktemp -d "${TMPDIR:-/tmp}/probunet-release-XXXXXX")"
trap 'rm -rf "$copy"' EXIT

git ls-files -z | xargs -0 tar -cf - | tar -xf - -C "$copy"
for d in packages/*/dist apps/cli/dist; do mkdir -p "$copy/$d" && cp -R "$d/." "$copy/$d/"; done
ln -s "$root/node_modules" "$copy/node_modules"

cd "$copy"
echo "-- changeset version (on $copy)"
"$root/node_modules/.bin/changeset" version > changeset.log 2>&1 || { cat changeset.log; exit 1; }
node "$root/scripts/release/check-release.mjs" "$copy"
cd "$root"
after="$(git status --porcelain)"
if [ "$before" != "$after" ]; then
  echo "release dry run: the working tree changed:" >&2
  diff <(echo "$before") <(echo "$after") >&2 || true
  exit 1
fi
echo "release dry run: ok (working tree unchanged)"
