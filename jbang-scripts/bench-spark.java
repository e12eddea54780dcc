///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//DEPS org.arenakit:arena-kit-spark:0.1.0-SNAPSHOT
//DEPS org.apache.spark:spark-sql_2.13:4.0.2
//DEPS ai.djl.pytorch:pytorch-native-${arena.torch:cpu}:2.5.1:linux-x86_64
//JAVA_OPTIONS -Xmx6g -XX:+IgnoreUnrecognizedVMOptions --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/sun.nio.cs=ALL-UNNAMED --add-opens=java.base/sun.security.action=ALL-UNNAMED --add-opens=java.base/sun.util.calendar=ALL-UNNAMED -Djdk.reflect.useDirectMethodHandle=false -Dio.netty.tryReflectionSetAccessible=true

// Pseudo-label throughput, side by side on the same rows: the single-process stage vs the Spark job on local[1] and
// local[2], interleaved round by round (docs/benchmarks.md). --help lists the options.
//   taskset -c 0,1 jbang-scripts/bench-spark.java --pairs 4000 --rounds 2
class bench_spark {
    public static void main(String... args) {
        arenakit.spark.SparkBench.main(args);
    }
}
