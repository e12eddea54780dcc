#!/usr/bin/env bash
# Installs the arena-kit Java kernel (IJava dialect) as a Jupyter kernelspec, or checks an installed one.
#
#   bash environment/kernel/install.sh                 # build if needed, install for this user
#   bash environment/kernel/install.sh --system        # install for all users (/usr/local/share/jupyter)
#   bash environment/kernel/install.sh --prefix DIR    # install under DIR/share/jupyter (a venv, a test)
#   bash environment/kernel/install.sh --check [...]   # exit 1 with a message if missing or out of date
#
# Options: --name NAME (default arena-java), --java PATH (default: $JAVA_HOME/bin/java, else java on PATH).
# Extra JVM options for the kernel (e.g. -Xmx24g) come from ARENA_KERNEL_JAVA_OPTS at install time.
#
# The kernelspec folder is self-contained: kernel.json (argv with the explicit java path), the kernel jar,
# plotly.min.js and plotly-cartesian.min.js (sent with a notebook's first chart, so charts draw offline); the checkout
# can move or be cleaned.
# "Out of date" means: the kernel's sources, this script or the java path changed since the install.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MODULE="$ROOT/environment/kernel"
JAR="$MODULE/target/arena-kit-kernel.jar"
PLOTLY="$ROOT/.cache/plotly/plotly.min.js"
PLOTLY_CARTESIAN="$ROOT/.cache/plotly/plotly-cartesian.min.js"
NAME=arena-java
DISPLAY_NAME="Java (arena-kit, IJava dialect)"
MODE=user
PREFIX=""
CHECK=false
JAVA_BIN=""

die() { printf '[kernel] %s\n' "$*" >&2; exit 1; }
say() { printf '[kernel] %s\n' "$*"; }

while [ $# -gt 0 ]; do
    case "$1" in
        --check) CHECK=true ;;
        --user) MODE=user ;;
        --system) MODE=system ;;
        --prefix) MODE=prefix; PREFIX=${2:?--prefix needs a folder}; shift ;;
        --name) NAME=${2:?--name needs a value}; shift ;;
        --java) JAVA_BIN=${2:?--java needs a path}; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
    shift
done

# ---------------------------------------------------------------- java
if [ -z "$JAVA_BIN" ]; then
    if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then JAVA_BIN="$JAVA_HOME/bin/java"
    else JAVA_BIN=$(command -v java || true); fi
fi
[ -n "$JAVA_BIN" ] && [ -x "$JAVA_BIN" ] || die "no java found: install a JDK 17+ or pass --java /path/to/bin/java"
JAVA_BIN=$(readlink -f "$JAVA_BIN")
java_version=$("$JAVA_BIN" -XshowSettings:properties -version 2>&1 | sed -n 's/.*java.specification.version = //p')
[ "${java_version%%.*}" -ge 17 ] 2>/dev/null || die "$JAVA_BIN is Java $java_version; the kernel needs Java 17+"

# ---------------------------------------------------------------- where
case "$MODE" in
    user)
        if command -v jupyter >/dev/null 2>&1; then DATA=$(jupyter --data-dir)
        else DATA=${JUPYTER_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/jupyter}; fi ;;
    system) DATA=/usr/local/share/jupyter ;;
    prefix) DATA="$PREFIX/share/jupyter" ;;
esac
DEST="$DATA/kernels/$NAME"

# What the installed kernel was built from: sources, this script, the java it runs on, its JVM options.
stamp() {
    { cd "$ROOT" && find pom.xml environment/kernel/pom.xml environment/kernel/install.sh environment/kernel/src \
        -type f -print0 | LC_ALL=C sort -z | xargs -0 sha1sum
      echo "$JAVA_BIN ${ARENA_KERNEL_JAVA_OPTS:-}"; } | sha1sum | cut -d' ' -f1
}

if $CHECK; then
    [ -f "$DEST/kernel.json" ] || die "kernelspec '$NAME' is not installed ($DEST): run bash environment/kernel/install.sh"
    [ -f "$DEST/arena-kit-kernel.jar" ] || die "kernelspec '$NAME' has no kernel jar ($DEST): re-run environment/kernel/install.sh"
    [ "$(cat "$DEST/install.stamp" 2>/dev/null)" = "$(stamp)" ] \
        || die "kernelspec '$NAME' is out of date (kernel sources or java changed): re-run environment/kernel/install.sh"
    if [ -s "$PLOTLY" ] && [ ! -s "$DEST/plotly.min.js" ]; then
        die "kernelspec '$NAME' has no plotly.min.js (charts would not draw offline): re-run environment/kernel/install.sh"
    fi
    if [ -s "$PLOTLY_CARTESIAN" ] && [ ! -s "$DEST/plotly-cartesian.min.js" ]; then
        die "kernelspec '$NAME' has no plotly-cartesian.min.js (notebooks would carry the 4.6 MB bundle): re-run environment/kernel/install.sh"
    fi
    say "kernelspec '$NAME' is installed and up to date ($DEST, java $java_version)"
    exit 0
fi

# ---------------------------------------------------------------- build (only when sources are newer than the jar)
if [ ! -f "$JAR" ] || [ -n "$(cd "$ROOT" && find pom.xml environment/kernel/pom.xml environment/kernel/src \
        -type f -newer "$JAR" -print -quit)" ]; then
    say "building the kernel jar (mvn package -pl environment/kernel)"
    (cd "$ROOT" && mvn -B -q package -pl environment/kernel -am -DskipTests) || die "kernel build failed"
fi

# ---------------------------------------------------------------- install
mkdir -p "$DEST" 2>/dev/null || die "cannot create $DEST (for --system run as root, or install with --user)"
[ -w "$DEST" ] || die "cannot write $DEST (for --system run as root, or install with --user)"
cp "$JAR" "$DEST/arena-kit-kernel.jar.tmp" && mv "$DEST/arena-kit-kernel.jar.tmp" "$DEST/arena-kit-kernel.jar"
if [ -s "$PLOTLY" ]; then
    cp "$PLOTLY" "$DEST/plotly.min.js"
else
    say "warning: $PLOTLY missing (bash environment/setup.sh fetches it): charts will not draw until it is installed"
fi
# the small bundle most charts need (bar, scatter, histogram, ...); without it notebooks carry the full one
if [ -s "$PLOTLY_CARTESIAN" ]; then cp "$PLOTLY_CARTESIAN" "$DEST/plotly-cartesian.min.js"; fi

json_string() { printf '"%s"' "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')"; }
argv=("$JAVA_BIN" -Dfile.encoding=UTF-8)
# shellcheck disable=SC2206 # word splitting of the options is intended
[ -n "${ARENA_KERNEL_JAVA_OPTS:-}" ] && argv+=(${ARENA_KERNEL_JAVA_OPTS})
argv+=(-jar "$DEST/arena-kit-kernel.jar" "{connection_file}")
{
    printf '{\n  "argv": ['
    sep=""
    for a in "${argv[@]}"; do printf '%s%s' "$sep" "$(json_string "$a")"; sep=", "; done
    printf '],\n  "display_name": %s,\n' "$(json_string "$DISPLAY_NAME")"
    printf '  "language": "java",\n  "interrupt_mode": "message",\n  "metadata": {"debugger": false}\n}\n'
} > "$DEST/kernel.json"
stamp > "$DEST/install.stamp"
say "installed kernelspec '$NAME' -> $DEST (java $java_version: $JAVA_BIN)"
