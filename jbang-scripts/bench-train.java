///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//DEPS org.arenakit:arena-kit-lib:0.1.0-SNAPSHOT
//DEPS ai.djl.pytorch:pytorch-native-${arena.torch:cpu}:2.5.1:linux-x86_64
//DEPS org.slf4j:slf4j-simple:2.0.16
//JAVA_OPTIONS -Xmx4g -Darena.progress=off

// Training and inference throughput (single / pipelined / data parallel) of a random Gemma-2: docs/benchmarks.md.
// --help lists the options. On a CUDA machine: jbang -Darena.torch=cu124 jbang-scripts/bench-train.java --devices gpu(0),gpu(1)
class bench_train {
    public static void main(String... args) {
        arenakit.cli.TrainBenchCommand.main(args);
    }
}
