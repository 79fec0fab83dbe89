#!/usr/bin/env bash
# The tarball test: what a new user gets from `npm install @probunet/...`, without the registry.
# Packs every publishable package (from the built dist/: run after `npm ci`, which builds), checks
# the tarballs' contents, installs them into apps in a temporary folder outside the workspace (no
# workspace links; third-party dependencies come from the npm registry), and runs:
#   (a) library-app/plugin-app.mjs: a custom encoder plugin, training, samples, GED, checkpoint
#       save and reload; and the README's library example, extracted from README.md, compiled and run
#   (b) typescript-app: every entry point type-checked under NodeNext, Bundler and Node10
#   (c) metrics-app: @probunet/metrics alone, no @tensorflow in node_modules
#   (d) the CLI tarball's `probunet demo --quick`
# Exits non-zero on the first failure. PROBUNET_TARBALL_KEEP=1 keeps the temporary folder.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
here="$root/scripts/tarball-test"
work="$(mktemp -d "${TMPDIR:-/tmp}/probunet-tarball-test-XXXXXX")"
case "$work" in "$root"/*) echo "tarball test: $work is inside the workspace" >&2; exit 1 ;; esac
if [ "${PROBUNET_TARBALL_KEEP:-0}" = 1 ]; then echo "tarball test: keeping $work"; else trap 'rm -rf "$work"' EXIT; fi
started=$SECONDS
step() { echo "-- [$((SECONDS - started)) s] $*"; }
npm_install() { (cd "$1" && npm install --no-audit --no-fund --loglevel=error); }

step "npm pack every publishable package"
mkdir -p "$work/tarballs"
# Every workspace that is not private: the packages a release publishes.
mapfile -t packages < <(cd "$root" && node -e '
  const fs = require("fs");
  for (const d of JSON.parse(fs.readFileSync("package.json", "utf8")).workspaces)
    if (!JSON.parse(fs.readFileSync(`${d}/package.json`, "utf8")).private) console.log(d);')
for p in "${packages[@]}"; do
  [ -d "$root/$p/dist" ] || { echo "tarball test: $p/dist is missing; build first (npm run build)" >&2; exit 1; }
  (cd "$root/$p" && npm pack --pack-destination "$work/tarballs" --loglevel=error >/dev/null)
done
node "$here/check-tarballs.mjs" "$work/tarballs"

step "(a) library app: install core, backends, native, metrics, datasets, baselines, evaluation"
app="$work/library-app"
mkdir -p "$app"
node "$here/make-app.mjs" "$app" "$work/tarballs" core backends native metrics datasets baselines evaluation -- \
  @tensorflow/tfjs-core@4.22.0 typescript@5.9.3 @types/node@20
npm_install "$app"
cp "$here/library-app/plugin-app.mjs" "$here/typescript-app/"*.ts "$here/typescript-app/"tsconfig.*.json "$app/"
node "$here/extract-readme-example.mjs" "$root/README.md" "$app/readme-example.ts"
step "(a) plugin app"
(cd "$app" && node plugin-app.mjs)
step "(b) TypeScript: NodeNext (emits the README example), Bundler, Node10"
(cd "$app" && npx tsc -p tsconfig.nodenext.json && npx tsc -p tsconfig.bundler.json && npx tsc -p tsconfig.node10.json)
step "(a) the README's library example, as written there"
(cd "$app/out" && echo '{"type":"module"}' > package.json && node readme-example.js)

step "(c) metrics alone"
mkdir -p "$work/metrics-app"
node "$here/make-app.mjs" "$work/metrics-app" "$work/tarballs" metrics
npm_install "$work/metrics-app"
cp "$here/metrics-app/app.mjs" "$work/metrics-app/"
(cd "$work/metrics-app" && node app.mjs)

step "(d) the CLI: probunet demo --quick"
mkdir -p "$work/cli-app"
node "$here/make-app.mjs" "$work/cli-app" "$work/tarballs" cli
npm_install "$work/cli-app"
(cd "$work/cli-app" && npx probunet --version && npx probunet backends && npx probunet demo --quick --out demo-out && test -s demo-out/report.json)

step "tarball test: ok"
