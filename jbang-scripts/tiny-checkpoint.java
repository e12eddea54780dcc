///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//DEPS org.arenakit:arena-kit-lib:0.1.0-SNAPSHOT
//DEPS org.slf4j:slf4j-simple:2.0.16

// Thin wrapper: the command lives in lib (arenakit.cli.TinyCheckpointCommand); run with --help for its options.
class tiny_checkpoint {
    public static void main(String... args) {
        arenakit.cli.TinyCheckpointCommand.main(args);
    }
}
