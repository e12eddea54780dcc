///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//DEPS org.arenakit:arena-kit-lib:0.1.0-SNAPSHOT
//DEPS ai.djl.pytorch:pytorch-native-${arena.torch:cpu}:2.5.1:linux-x86_64
//DEPS org.slf4j:slf4j-simple:2.0.16
//JAVA_OPTIONS -Xmx2g -Darena.progress=off

// The LoRA training step, Java vs the PyTorch eager peer, with and without activation checkpointing (tokens/s, peak
// memory, planned activations), and data parallel over two CPU devices: docs/benchmarks.md. --help lists the options.
// environment/bin/jbang jbang-scripts/bench-train-step.java --peer /tmp/torchvenv/bin/python
class bench_train_step {
    public static void main(String... args) {
        arenakit.cli.TrainStepBenchCommand.main(args);
    }
}
