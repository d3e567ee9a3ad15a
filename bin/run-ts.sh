# Sourced by the bin/ shims: runs the compiled script from dist/ when dist/ was built from the current
# sources (bin/build.js --check compares a hash of every input), else the TypeScript source through tsx
# (a development checkout, or sources edited since the last build). Either way the same config rule
# (config/paths.cjs) decides where the data directory is. Usage: run_ts NAME "$@"
run_ts() {
  local root name
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  name="$1"; shift
  if [ -f "$root/dist/bin/$name.js" ] && node "$root/bin/build.js" --check; then
    exec node "$root/dist/bin/$name.js" "$@"
  fi
  exec "$root/node_modules/.bin/tsx" "$root/bin/$name.ts" "$@"
}
