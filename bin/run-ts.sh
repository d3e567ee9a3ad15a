# Sourced by the bin/ shims: runs the compiled script from dist/ when it exists (production), else
# the TypeScript source through tsx (a development checkout). Usage: run_ts NAME "$@"
run_ts() {
  local root name
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  name="$1"; shift
  if [ -f "$root/dist/bin/$name.js" ] && [ "$root/dist/bin/$name.js" -nt "$root/bin/$name.ts" ]; then
    exec node "$root/dist/bin/$name.js" "$@"
  fi
  exec "$root/node_modules/.bin/tsx" "$root/bin/$name.ts" "$@"
}
