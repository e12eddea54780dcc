///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//DEPS org.arenakit:arena-kit-lib:0.1.0-SNAPSHOT
//DEPS ai.djl.pytorch:pytorch-native-${arena.torch:cpu}:2.5.1:linux-x86_64
//DEPS org.slf4j:slf4j-simple:2.0.16
//JAVA_OPTIONS -Xmx6g

// Soft pseudo-labels for the unlabeled pairs from the trained stage(s) of a config folder.
// --help lists the options. On a CUDA machine: jbang -Darena.torch=cu124 jbang-scripts/pseudo-labels.java ...
class pseudo_labels {
    public static void main(String... args) {
        arenakit.cli.PseudoLabelsCommand.main(args);
    }
}
