///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//DEPS org.arenakit:arena-kit-lib:0.1.0-SNAPSHOT
//DEPS ai.djl.pytorch:pytorch-native-${arena.torch:cpu}:2.5.1:linux-x86_64
//DEPS org.slf4j:slf4j-simple:2.0.16

// Thin wrapper: the command lives in lib (arenakit.cli.AverageAdaptersCommand); run with --help for its options.
class average_adapters {
    public static void main(String... args) {
        arenakit.cli.AverageAdaptersCommand.main(args);
    }
}
