package dev.virtman;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.core.importer.Location;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The allowed dependencies between VirtMan's packages, checked on the compiled main classes of
 * every module. Maven already refuses a cycle between modules; this states, per layer, which
 * layers it may use, so a wrong import fails with the rule's name instead of a puzzling compile
 * error two modules later, and it keeps the packages inside one module acyclic too.
 *
 * <p>The layers are the Maven modules (docs/architecture.md draws them):
 * <pre>
 *   trace   block   wire   manager-api    leaves (wire: iSCSI PDUs, SCSI command set; the JDK alone)
 *             |  \   / |      |
 *             |  disk  |      |          SCSI disk over a block device, LUN table
 *             |        |      |
 *             +---- iscsi     |          login, target, initiator
 *                  /   \      |
 *                vm ----\----+          VM drivers
 *                |       \   |
 *              agent     manager         one host's agent; the control plane (both use disk)
 *               \       /
 *          boot     sim                  orchestration, simulation
 *               \   /
 *                cli                     the product jar
 *                 |
 *               bench                    not shipped
 * </pre>
 */
@AnalyzeClasses(packages = "dev.virtman", importOptions = ArchitectureTest.MainClassesOnly.class)
class ArchitectureTest {

    /** Main classes only: not test-classes directories, nor test jars (block's, under verify). */
    static final class MainClassesOnly implements ImportOption {
        @Override
        public boolean includes(final Location location) {
            return !location.contains("/test-classes/") && !location.contains("-tests.jar");
        }
    }

    private static final String[] MANAGER = {"dev.virtman.manager", "dev.virtman.manager.model..",
        "dev.virtman.manager.store..", "dev.virtman.manager.tree..", "dev.virtman.manager.http..",
        "dev.virtman.manager.volume..", "dev.virtman.manager.tls..", "dev.virtman.manager.auth..", "dev.virtman.manager.backend..",
        "dev.virtman.openstack.."};

    @ArchTest
    static final ArchRule layers = layeredArchitecture().consideringOnlyDependenciesInLayers()
            .layer("trace").definedBy("dev.virtman.trace..")
            .layer("block").definedBy("dev.virtman.block..")
            .layer("wire").definedBy("dev.virtman.iscsi.pdu..", "dev.virtman.scsi..")
            .layer("disk").definedBy("dev.virtman.disk..")
            .layer("iscsi").definedBy("dev.virtman.iscsi.login..", "dev.virtman.iscsi.target..",
                    "dev.virtman.iscsi.initiator..")
            .layer("manager-api").definedBy("dev.virtman.manager.api..", "dev.virtman.manager.client..")
            .layer("vm").definedBy("dev.virtman.vm..")
            .layer("agent").definedBy("dev.virtman.agent..")
            .layer("manager").definedBy(MANAGER)
            .layer("boot").definedBy("dev.virtman.boot..")
            .layer("sim").definedBy("dev.virtman.sim..")
            .layer("cli").definedBy("dev.virtman.cli..")
            .layer("bench").definedBy("dev.virtman.bench..")
            .layer("test-support").definedBy("dev.virtman.testing..")
            .whereLayer("trace").mayNotAccessAnyLayer()
            .whereLayer("block").mayNotAccessAnyLayer()
            .whereLayer("manager-api").mayNotAccessAnyLayer()
            .whereLayer("wire").mayNotAccessAnyLayer()
            .whereLayer("disk").mayOnlyAccessLayers("wire", "block")
            .whereLayer("iscsi").mayOnlyAccessLayers("wire", "block")
            .whereLayer("vm").mayOnlyAccessLayers("trace", "iscsi", "wire", "block", "manager-api")
            .whereLayer("agent").mayOnlyAccessLayers("vm", "trace", "disk", "iscsi", "wire", "block", "manager-api")
            .whereLayer("manager").mayOnlyAccessLayers("disk", "iscsi", "wire", "block", "manager-api")
            .whereLayer("boot").mayOnlyAccessLayers("agent", "manager", "vm", "trace", "disk", "iscsi", "wire",
                    "block", "manager-api")
            .whereLayer("sim").mayOnlyAccessLayers("agent", "manager", "vm", "trace", "disk", "iscsi", "wire",
                    "block", "manager-api")
            .whereLayer("cli").mayOnlyBeAccessedByLayers("bench")
            .whereLayer("bench").mayNotBeAccessedByAnyLayer()
            .whereLayer("test-support").mayNotBeAccessedByAnyLayer()
            .because("each layer is a Maven module that sees only the modules below it (docs/architecture.md)");

    /** Wire formats are pure: bytes in, bytes out, nothing below them but the JDK (no block, no logging). */
    @ArchTest
    static final ArchRule wireNeedsOnlyTheJdk = classes().that().resideInAnyPackage("dev.virtman.iscsi.pdu..",
                    "dev.virtman.scsi..")
            .should().onlyDependOnClassesThat().resideInAnyPackage("java..", "dev.virtman.iscsi.pdu..",
                    "dev.virtman.scsi..")
            .because("the wire module holds the iSCSI and SCSI formats and depends on the JDK alone; a SCSI disk"
                    + " over a block device is the disk module's");

    @ArchTest
    static final ArchRule noPackageCycles = slices().matching("dev.virtman.(**)").should().beFreeOfCycles()
            .because("a package cycle inside a module is the next module cycle");

    @ArchTest
    static final ArchRule loginOnlyNeedsPdus = noClasses().that().resideInAPackage("dev.virtman.iscsi.login..")
            .should().dependOnClassesThat().resideInAnyPackage("dev.virtman.iscsi.target..",
                    "dev.virtman.iscsi.initiator..", "dev.virtman.scsi..", "dev.virtman.block..")
            .because("login negotiation is shared by target and initiator and knows only PDUs");

    @ArchTest
    static final ArchRule targetAndInitiatorAreIndependent = noClasses()
            .that().resideInAPackage("dev.virtman.iscsi.target..")
            .should().dependOnClassesThat().resideInAPackage("dev.virtman.iscsi.initiator..")
            .orShould().dependOnClassesThat().resideInAPackage("dev.virtman.block..")
            .orShould().dependOnClassesThat().resideInAPackage("dev.virtman.disk..")
            .because("the target serves SCSI commands through a ScsiCommandExecutor; what backs a LUN is the disk"
                    + " module's business");

    @ArchTest
    static final ArchRule treePlannerIsPure = noClasses().that().resideInAPackage("dev.virtman.manager.tree..")
            .should().dependOnClassesThat().resideInAnyPackage("dev.virtman.manager", "dev.virtman.manager.model..",
                    "dev.virtman.manager.store..", "dev.virtman.manager.http..", "dev.virtman.manager.volume..")
            .because("the tree planner is a pure function of hosts and limits, used by the manager and the simulator");
}
