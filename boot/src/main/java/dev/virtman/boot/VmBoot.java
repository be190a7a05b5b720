package dev.virtman.boot;

import dev.virtman.vm.VmHandle;

/** One VM of a boot: which emulated host runs it and its handle (state and timeline). */
public record VmBoot(int host, String hostId, VmHandle vm) {
}
