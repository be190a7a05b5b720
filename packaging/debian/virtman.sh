#!/bin/sh
# /usr/bin/virtman: the packaged launcher; the Java runtime is the package's own (jlink).
exec /usr/lib/virtman/runtime/bin/java ${VIRTMAN_JAVA_OPTS:-} --enable-native-access=ALL-UNNAMED \
  -Dvirtman.home=/usr/lib/virtman -jar /usr/lib/virtman/virtman.jar "$@"
