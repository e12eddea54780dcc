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
#   .cache/tokenizers/        the tokenizers setup.sh installs (gemma, llama3, qwen2.5): what a setup's "tokenizer":
#                             "llama3" names (llama3-8b, gemma2-9b's Llama base), and Gemma's for EDA
#   .cache/plotly/            plotly.min.js for offline EDA reports
#   configs/                  the stage configs (also inside the lib jar: --config gemma2-9b works without them)
#   kernel/                   the Java Jupyter kernel jar + install.sh, for machines that run Jupyter with Java
#   kaggle/submission.ipynb   the Python-kernel Kaggle notebook that runs `arena-kit submit` from the bundle
#   jdk/                      (with --jdk) a Java runtime made with jlink
#   README.md                 how to use it on Kaggle: what to attach, which config field holds each /kaggle/input
#                             path and the option that overrides it
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

# The tokenizers environment/setup.sh installs (arenakit.text.Tokenizer.installedNames()): every one a shipped setup
# can name, so a setup's "tokenizer": "llama3" resolves offline inside the bundle.
TOKENIZERS="gemma llama3 qwen2.5"
for f in $(for t in $TOKENIZERS; do echo "$HOME_DIR/.cache/tokenizers/$t/tokenizer.json"; done) \
        "$HOME_DIR/.cache/plotly/plotly.min.js"; do
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

mkdir -p "$OUT.tmp/.cache/plotly" "$OUT.tmp/kernel"
for t in $TOKENIZERS; do
    mkdir -p "$OUT.tmp/.cache/tokenizers/$t"
    cp "$HOME_DIR/.cache/tokenizers/$t/tokenizer.json" "$OUT.tmp/.cache/tokenizers/$t/"
done
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
# It runs from a read-only folder whose files lost their x bit (a Kaggle dataset under /kaggle/input): call it as
# `bash /kaggle/input/arena-kit/arena-kit ...`. Nothing is written into the bundle, and nothing of it is copied
# except jdk/ when its java is not executable there (into $TMPDIR, once).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tmp=${TMPDIR:-/tmp}
java=${ARENA_JAVA:-}
if [ -z "$java" ] && [ -d "$here/jdk" ]; then
    if [ -x "$here/jdk/bin/java" ]; then
        java="$here/jdk/bin/java"
    else # mounted without the x bit: an executable copy of the runtime
        copy="$tmp/arena-kit-jdk-$(cksum < "$here/jdk/release" | cut -d' ' -f1)"
        if [ ! -x "$copy/bin/java" ]; then
            rm -rf "$copy.tmp" && cp -r "$here/jdk" "$copy.tmp" && chmod -R u+w "$copy.tmp"
            chmod +x "$copy.tmp"/bin/* "$copy.tmp"/lib/jspawnhelper 2>/dev/null || true
            rm -rf "$copy" && mv "$copy.tmp" "$copy"
        fi
        java="$copy/bin/java"
    fi
fi
java=${java:-java}
if ! command -v "$java" >/dev/null 2>&1; then
    echo "arena-kit: no java: put Java 17+ on PATH, set ARENA_JAVA, or build the bundle with --jdk" >&2
    exit 1
fi
# DJL unpacks the PyTorch natives (and the tokenizer library) into a writable cache, never into the bundle.
export DJL_CACHE_DIR=${DJL_CACHE_DIR:-$tmp/arena-kit-djl}
# shellcheck disable=SC2086 # ARENA_JAVA_OPTS holds several options
exec "$java" ${ARENA_JAVA_OPTS:--Xmx12g} -Darena.home="$here" -cp "$here/jars/*" arenakit.cli.ArenaKit "$@"
LAUNCHER
chmod +x "$OUT.tmp/arena-kit"

# Which config field of a bundled real setup ($1: gemma2-9b, llama3-8b) holds each /kaggle/input path, and the option
# replacing it. A base_models entry sits on one line ("llama3-8b": {"checkpoint": "/kaggle/input/...", ...}).
paths_table() {
    local setup=$1 file field value base
    for file in "$HOME_DIR/configs/$setup"/*.json; do
        grep -oE '("[A-Za-z0-9_.-]+": *\{ *)?"[a-z_]+": *\[?"/kaggle/input[^"]*"' "$file" | while IFS= read -r hit; do
            base=
            case "$hit" in
                *'{'*) base=$(printf '%s' "$hit" | sed 's/^"\([^"]*\)".*/\1/'); hit=${hit#*\{}; hit=${hit# } ;;
            esac
            field=$(printf '%s' "$hit" | sed 's/^"\([a-z_]*\)".*/\1/')
            value=$(printf '%s' "$hit" | sed 's/.*"\(\/kaggle\/input[^"]*\)"$/\1/')
            if [ -n "$base" ]; then
                printf '| `%s` | %s `base_models.%s.%s` | none: copy configs/%s, edit it, pass `--config DIR` (checked and read only when a model trained on it runs) |\n' \
                    "$value" "$(basename "$file")" "$base" "$field" "$setup"
                continue
            fi
            case "$field" in
                checkpoint) printf '| `%s` | %s `base_model.checkpoint` | `--checkpoint DIR` (submit, pseudo-labels) |\n' \
                    "$value" "$(basename "$file")" ;;
                test) printf '| `%s` | %s `data.test` | `--test CSV` (submit; sample_submission.csv next to it) |\n' \
                    "$value" "$(basename "$file")" ;;
                sample_submission) printf '| `%s` | %s `data.sample_submission` | `--sample-submission CSV` (submit) |\n' \
                    "$value" "$(basename "$file")" ;;
                train) printf '| `%s` | %s `data.train` | none (submit reads it only for the class prior of rows a time budget left unpredicted; unreadable: LMSYS shares) |\n' \
                    "$value" "$(basename "$file")" ;;
                model) printf '| `%s` | %s `models` | `--model DIR` replaces the list (repeat it; weight 1 each: for other weights copy configs/%s and edit it); run this file with `--submission %s` |\n' \
                    "$value" "$(basename "$file")" "$setup" "$(basename "$file" .json)" ;;
                *) printf '| `%s` | %s `data.%s` | none: copy configs/%s, edit it, pass `--config DIR` |\n' \
                    "$value" "$(basename "$file")" "$field" "$setup" ;;
            esac
        done
    done
    printf '| `/kaggle/input/<your stage>` | submission.json `models` | `--model DIR` (repeat for an ensemble) |\n'
}

cat > "$OUT.tmp/README.md" <<EOF
# arena-kit offline bundle (PyTorch natives: $FLAVOR)

Upload this folder as a Kaggle dataset (e.g. \`arena-kit\`; for Kaggle build it with \`--jdk\` unless the image has
Java 17+) and attach it to a submission notebook with internet off, together with:

- the base model (\`gemma-2-9b-it\` in Hugging Face layout: config.json, safetensors shards + index, tokenizer.json;
  for the \`llama3-8b\` setup ArmoRM-Llama3-8B or Llama-3-8B-Instruct as \`armorm-llama3-8b\`),
- your trained stage folder(s) (\`stage.json\` + \`adapter/\` + \`encoding.json\` + \`tokenizer.json\`, as \`train\`
  writes them; or a bare PEFT adapter),
- the competition data (Kaggle attaches it: /kaggle/input/lmsys-chatbot-arena).

Nothing needs copying: the bundle runs from its read-only mount (\`bash /kaggle/input/arena-kit/arena-kit ...\`,
since dataset files lose their x bit), PyTorch's natives are unpacked into \$TMPDIR (\`DJL_CACHE_DIR\`), and only a
jdk/ without its x bit is copied there. Never copy jars/ (the CUDA natives jar is 2.4 GB) into /kaggle/working:
that folder is the notebook's output.

\`kaggle/submission.ipynb\` in this bundle is a Python-kernel notebook that does it all: import it on Kaggle
(File > Import Notebook), set the paths in its first code cell, run all. By hand, in a notebook cell:

    !bash /kaggle/input/arena-kit/arena-kit submit --config gemma2-9b --out /kaggle/working/arena-kit-run \\
        --checkpoint /kaggle/input/gemma-2-9b-it --model /kaggle/input/my-stage3 \\
        --test /kaggle/input/lmsys-chatbot-arena/test.csv --output /kaggle/working/submission.csv

It prints the memory plan and a time estimate before loading, keeps to the setup's 8h30m time budget
(\`--time-budget\`), checkpoints its predictions under \`--out\` (a re-run resumes), and always writes a valid
file. \`--dry-run\` prints the plan and the estimate only. \`--quantize int8 --mode data_parallel\` stores the
projections as int8 (about half of fp16's weight memory) and runs one model copy per T4.

2nd place's Gemma + Llama ensemble (weights 2:1): attach \`gemma-2-9b-it\`, \`armorm-llama3-8b\`, the Gemma stage-3
folder as \`gemma2-9b-stage3\` and the llama3-8b setup's stage-3 folder as \`llama3-8b-stage3\`, then

    !bash /kaggle/input/arena-kit/arena-kit submit --config gemma2-9b --submission submission_ensemble \\
        --out /kaggle/working/arena-kit-run --test /kaggle/input/lmsys-chatbot-arena/test.csv \\
        --output /kaggle/working/submission.csv

Each model encodes the rows with its own tokenizer and chat template (its folder's \`tokenizer.json\` and
\`encoding.json\`) and runs alone on both GPUs, one after the other (configs/gemma2-9b/submission_ensemble.json).

## Where the gemma2-9b setup reads each /kaggle/input path

| path | config field | command-line override |
|---|---|---|
$(paths_table gemma2-9b)

## Where the llama3-8b setup reads each /kaggle/input path

| path | config field | command-line override |
|---|---|---|
$(paths_table llama3-8b)

\`arena-kit --help\` lists every command, \`arena-kit <command> --help\` its options. Extra JVM options:
\`ARENA_JAVA_OPTS\` (default -Xmx12g); another Java: \`ARENA_JAVA\`.
EOF

mkdir -p "$OUT.tmp/kaggle"
cp "$HOME_DIR/notebooks/kaggle/submission.ipynb" "$OUT.tmp/kaggle/"

rm -rf "$OUT" && mv "$OUT.tmp" "$OUT"
say "wrote $OUT ($(du -sh "$OUT" | cut -f1)); try: $OUT/arena-kit --help"
