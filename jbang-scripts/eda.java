///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//DEPS org.arenakit:arena-kit-lib:0.1.0-SNAPSHOT
//DEPS org.slf4j:slf4j-simple:2.0.16

// Thin wrapper: the command lives in lib (arenakit.cli.EdaCommand); --help lists its options.
// No PyTorch native needed: the EDA only tokenizes. Example on the real data:
//   jbang jbang-scripts/eda.java --train train.csv --test test.csv --out out/eda --max-length-coverage 0.95
class eda {
    public static void main(String... args) {
        arenakit.cli.EdaCommand.main(args);
    }
}
