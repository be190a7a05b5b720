package dev.virtman.vm;

/** The QEMU accelerator a VM runs under. */
public enum Accelerator {
    /** Hardware virtualisation through /dev/kvm. */
    KVM("kvm"),
    /** QEMU's portable binary translator: slow, but works everywhere. */
    TCG("tcg");

    private final String qemuName;

    Accelerator(final String qemuName) {
        this.qemuName = qemuName;
    }

    /** The value of QEMU's {@code -accel} option. */
    public String qemuName() {
        return qemuName;
    }
}
