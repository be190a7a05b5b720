# Sourced by the launcher and bench scripts: the two jars the reactor builds, rebuilt when stale.
#   virtman_jar cli    -> target/virtman.jar        (the product: every module but bench)
#   virtman_jar bench  -> target/virtman-bench.jar  (benchmarks, with the product inside)
# Prints the jar's path; builds it first (only that module and what it needs) when it is missing
# or any pom or module main source is newer. Needs JAVA_HOME (virtman_find_jdk).
virtman_jar() {
  local module="$1" root jar
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  case "$module" in
    cli) jar="$root/target/virtman.jar" ;;
    bench) jar="$root/target/virtman-bench.jar" ;;
    *) echo "virtman_jar: cli or bench, not $module" >&2; return 2 ;;
  esac
  local inputs=("$root/pom.xml") pom dir
  for pom in "$root"/*/pom.xml; do
    dir="${pom%/pom.xml}"
    case "${dir##*/}" in test-support|system-tests) continue ;; bench) [ "$module" = bench ] || continue ;; esac
    inputs+=("$pom")
    [ -d "$dir/src/main" ] && inputs+=("$dir/src/main")
  done
  if [ ! -f "$jar" ] || [ -n "$(find "${inputs[@]}" -newer "$jar" -print -quit)" ]; then
    echo "virtman: building $jar (first run or sources changed)..." >&2
    (cd "$root" && ./mvnw -B -q -ntp -DskipTests -pl "$module" -am package >&2) || return 1
  fi
  echo "$jar"
}
