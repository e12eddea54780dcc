#!/usr/bin/env bash
# Builds the offline bundle for Kaggle (internet off): a folder to upload as a Kaggle dataset that runs every
# arena-kit command with nothing but the bundle (no Maven, no JBang, no network).
#
#   bash environment/kaggle-bundle.sh                      # CUDA natives (T4), into out/kaggle-bundle
#   bash environment/kaggle-bundle.sh --torch cpu          # CPU natives (small; for trying the bundle locally)
#   bash environment/kaggle-bundle.sh --jdk                # also a Java runtime (jlink), for images without Java
#   bash environment/kaggle-bundle.sh --out DIR
#   bash environment/kaggle-bundle.sh --no-build           # use lib/target and environment/kernel/target as built
#
# Layout of the bundle:
#   arena-kit                 launcher: arena-kit <command> ... (pipeline, train, pseudo-labels, submit, eda, ...)
#   jars/                     arena-kit-lib, its dependencies, PyTorch natives (cpu or cu124), slf4j-simple
#   .cache/tokenizers/gemma/  the Gemma tokenizer.json (setups whose checkpoint has none fall back to it)
#   .cache/plotly/            plotly.min.js for offline EDA reports
#   configs/                  the stage configs (also inside the lib jar: --config gemma2-9b works without them)
#   kernel/                   the Java Jupyter kernel jar + install.sh, for machines that run Jupyter with Java
#   jdk/                      (with --jdk) a Java runtime made with jlink
#   README.md                 how to use it on Kaggle
set -euo pipefail

HOME_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FLAVOR=cu124
WITH_JDK=false
BUILD=true
OUT="$HOME_DIR/out/kaggle-bundle"
while [ $# -gt 0 ]; do
    case "$1" in
        --torch) FLAVOR=${2:?--torch needs cpu or cu124}; shift 2 ;;
        --jdk) WITH_JDK=true; shift ;;
        --no-build) BUILD=false; shift ;;
        --out) OUT=$(realpath -m "${2:?--out needs a folder}"); shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "kaggle-bundle: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
case "$FLAVOR" in cpu|cu124) ;; *) echo "kaggle-bundle: --torch must be cpu or cu124" >&2; exit 2 ;; esac

pom_prop() { sed -n "s:.*<$1>\(.*\)</$1>.*:\1:p" "$HOME_DIR/pom.xml" | head -n1; }
TORCH=$(pom_prop pytorch.version)
CLASSIFIER=$(pom_prop pytorch.native.classifier)
SLF4J=$(pom_prop slf4j.version)
say() { printf '[kaggle-bundle] %s\n' "$*"; }

for f in "$HOME_DIR/.cache/tokenizers/gemma/tokenizer.json" "$HOME_DIR/.cache/plotly/plotly.min.js"; do
    [ -s "$f" ] || { echo "kaggle-bundle: $f is missing; run: bash environment/setup.sh" >&2; exit 1; }
done

if $BUILD; then
    say "building lib and kernel"
    (cd "$HOME_DIR" && mvn -B -q package -DskipTests -pl lib,environment/kernel -am)
fi

rm -rf "$OUT.tmp" && mkdir -p "$OUT.tmp/jars"
say "collecting jars (PyTorch natives: $FLAVOR)"
(cd "$HOME_DIR" && mvn -B -q -pl lib dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$OUT.tmp/jars")
cp "$HOME_DIR"/lib/target/arena-kit-lib-*.jar "$OUT.tmp/jars/"
for artifact in "ai.djl.pytorch:pytorch-native-$FLAVOR:$TORCH:jar:$CLASSIFIER" "org.slf4j:slf4j-simple:$SLF4J"; do
    (cd "$HOME_DIR" && mvn -B -q dependency:copy -Dartifact="$artifact" -DoutputDirectory="$OUT.tmp/jars")
done

mkdir -p "$OUT.tmp/.cache/tokenizers/gemma" "$OUT.tmp/.cache/plotly" "$OUT.tmp/kernel"
cp "$HOME_DIR/.cache/tokenizers/gemma/tokenizer.json" "$OUT.tmp/.cache/tokenizers/gemma/"
cp "$HOME_DIR/.cache/plotly/plotly.min.js" "$OUT.tmp/.cache/plotly/"
[ -s "$HOME_DIR/.cache/plotly/plotly-cartesian.min.js" ] && cp "$HOME_DIR/.cache/plotly/plotly-cartesian.min.js" "$OUT.tmp/.cache/plotly/"
cp -r "$HOME_DIR/configs" "$OUT.tmp/configs"
cp "$HOME_DIR/environment/kernel/target/arena-kit-kernel.jar" "$HOME_DIR/environment/kernel/install.sh" "$OUT.tmp/kernel/"

if $WITH_JDK; then
    # Temurin when present (built on an old glibc, so it runs on Kaggle's Ubuntu image), else the default JDK.
    jdk=$(ls -d /usr/lib/jvm/temurin-*-jdk-amd64 2>/dev/null | sort -V | tail -n1)
    [ -n "$jdk" ] || jdk=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
    say "jlink Java runtime from $jdk"
    "$jdk/bin/jlink" --add-modules ALL-MODULE-PATH --strip-debug --no-man-pages --no-header-files \
        --output "$OUT.tmp/jdk"
fi

cat > "$OUT.tmp/arena-kit" <<'LAUNCHER'
#!/usr/bin/env bash
# arena-kit launcher for the offline bundle: arena-kit <command> [options]; arena-kit --help lists the commands.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
java=java
[ -x "$here/jdk/bin/java" ] && java="$here/jdk/bin/java"
# The bundle may sit on a read-only mount (/kaggle/input): DJL unpacks its natives somewhere writable.
export DJL_CACHE_DIR=${DJL_CACHE_DIR:-${TMPDIR:-/tmp}/arena-kit-djl}
exec "$java" ${ARENA_JAVA_OPTS:--Xmx12g} -Darena.home="$here" -cp "$here/jars/*" arenakit.cli.ArenaKit "$@"
LAUNCHER
chmod +x "$OUT.tmp/arena-kit"

cat > "$OUT.tmp/README.md" <<EOF
# arena-kit offline bundle (PyTorch natives: $FLAVOR)

Upload this folder as a Kaggle dataset (e.g. \`arena-kit\`) and attach it to the submission notebook together with
the gemma-2-9b-it checkpoint (HF layout, with tokenizer.json) and your trained stage folder(s)
(\`stage.json\` + \`adapter/\`, as \`train\` writes them). With internet off, in a notebook cell:

    !cp -r /kaggle/input/arena-kit /kaggle/working/arena-kit && chmod +x /kaggle/working/arena-kit/arena-kit
    !/kaggle/working/arena-kit/arena-kit submit --config gemma2-9b \\
        --model /kaggle/input/my-stage3 \\
        --test /kaggle/input/lmsys-chatbot-arena/test.csv \\
        --output /kaggle/working/submission.csv

(Copying first makes the launcher executable; dataset files are mounted read-only without the x bit.)
\`arena-kit --help\` lists every command; \`arena-kit <command> --help\` its options. Java 17+ must be on the
image, or build the bundle with \`--jdk\`. Extra JVM options: \`ARENA_JAVA_OPTS\` (default -Xmx12g).
The config \`gemma2-9b\` reads Kaggle's paths; copy \`configs/gemma2-9b\` and edit it for other paths.
EOF

rm -rf "$OUT" && mv "$OUT.tmp" "$OUT"
say "wrote $OUT ($(du -sh "$OUT" | cut -f1)); try: $OUT/arena-kit --help"
