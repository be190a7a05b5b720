# Sourced by the launcher and test scripts: picks a JDK >= 21 and exports JAVA_HOME.
virtman_find_jdk() {
  local c
  for c in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/temurin-21-jdk-amd64 \
           /usr/lib/jvm/java-25-openjdk-amd64 /usr/lib/jvm/java-21-openjdk-amd64 /usr/lib/jvm/default-java; do
    [ -n "$c" ] && [ -x "$c/bin/java" ] || continue
    local v
    v=$("$c/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/ *java.specification.version = //p')
    if [ -n "$v" ] && [ "${v%%.*}" -ge 21 ] 2>/dev/null; then
      export JAVA_HOME="$c"
      return 0
    fi
  done
  echo "virtman: needs a JDK 21 or newer; set JAVA_HOME (e.g. apt-get install -y openjdk-21-jdk-headless)" >&2
  return 1
}
