///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//DEPS org.arenakit:arena-kit-spark:0.1.0-SNAPSHOT
//DEPS org.apache.spark:spark-sql_2.13:4.0.2
//DEPS ai.djl.pytorch:pytorch-native-${arena.torch:cpu}:2.5.1:linux-x86_64
//JAVA_OPTIONS -Xmx6g -XX:+IgnoreUnrecognizedVMOptions --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/sun.nio.cs=ALL-UNNAMED --add-opens=java.base/sun.security.action=ALL-UNNAMED --add-opens=java.base/sun.util.calendar=ALL-UNNAMED -Djdk.reflect.useDirectMethodHandle=false -Dio.netty.tryReflectionSetAccessible=true

// The pseudo-label stage as a Spark job in local mode (local[2] unless --master says otherwise): soft labels for
// the setup's unlabeled pairs, or any CSV / Parquet files (--input), as Parquet or CSV. --help lists the options.
//   jbang-scripts/spark-pseudo-labels.java --config tiny --out out/pipeline --format csv
//   jbang-scripts/spark-pseudo-labels.java pipeline --config my-setup   # the pipeline, pseudo_labels.json "spark" set
// On a cluster use spark-submit with the module's jars instead (docs/spark.md). CUDA: jbang -Darena.torch=cu124 ...
class spark_pseudo_labels {
    public static void main(String... args) {
        arenakit.spark.SparkPseudoLabelsCommand.main(args);
    }
}
