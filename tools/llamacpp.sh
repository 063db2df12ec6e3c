#!/usr/bin/env bash
# Build the llama.cpp command-line tools prunenet's GGUF exports are checked with, once per machine.
#
# Usage: tools/llamacpp.sh            (JOBS=N for parallel compile jobs, default: nproc)
#
# The binaries go to $CACHE/llama.cpp/bin and the version to $CACHE/llama.cpp/VERSION, where CACHE is
# $PRUNENET_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/prunenet (as prunenet.core.cache_dir). If they are already
# there (built from the pinned version below) the script prints the folder and exits at once.
#
# Source: no binary wheel of llama.cpp is on PyPI and Debian 12 has no package, so this takes the llama.cpp
# that the PyPI source package llama-cpp-python vendors (vendor/llama.cpp, MIT), pinned by version and sha256.
# Compiling takes about an hour on 2 busy cores; run it at low priority beside other work:
#     nice -n 19 tools/llamacpp.sh
# The build happens in a temporary folder inside $CACHE/llama.cpp and is moved into place only when every
# binary is built, so an interrupted run leaves the cache as it was (the next run starts the build over).
#
# CPU: portable x86-64-v3 (GGML_NATIVE=OFF, which turns on SSE4.2, AVX, AVX2, FMA, F16C and BMI2, not
# AVX512). Every machine of this kind (AMD EPYC, AVX2) runs it at full speed, and a cache that is copied or
# restored onto another machine cannot fail with "Illegal instruction"; an AVX512 machine loses only its
# AVX512 kernels. PRUNENET_LLAMA_NATIVE=1 builds for this machine's CPU instead (-march=native).
#
# Tools built (names of this llama.cpp version): llama-simple, llama-perplexity, llama-bench, llama-quantize,
# llama-completion (the classic one-shot `-p PROMPT -n N` CLI; `llama-cli` is now the chat client built
# on the HTTP server, which needs LLAMA_BUILD_SERVER=ON and is left out).
set -euo pipefail

LLAMA_CPP_PYTHON_VERSION=0.3.36        # vendors ggml-org/llama.cpp@0c1e57098 (2026-10-01)
LLAMA_CPP_PYTHON_SHA256=832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e
TOOLS=(llama-simple llama-perplexity llama-bench llama-quantize llama-completion)

if [[ -n "${PRUNENET_CACHE:-}" ]]; then CACHE=$PRUNENET_CACHE
else CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/prunenet; fi
CACHE=${CACHE/#\~/$HOME}
DEST=$CACHE/llama.cpp
JOBS=${JOBS:-$(nproc)}
NATIVE=${PRUNENET_LLAMA_NATIVE:-0}
[[ "$JOBS" =~ ^[1-9][0-9]*$ ]] || { echo "llamacpp.sh: JOBS must be a positive integer, got '$JOBS'" >&2; exit 2; }
[[ "$NATIVE" == 0 || "$NATIVE" == 1 ]] || { echo "llamacpp.sh: PRUNENET_LLAMA_NATIVE must be 0 or 1" >&2; exit 2; }

is_built() {
    local t
    for t in "${TOOLS[@]}"; do [[ -x "$DEST/bin/$t" ]] || return 1; done
    [[ -f "$DEST/VERSION" ]] && grep -qx "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION" "$DEST/VERSION"
}

if is_built; then echo "$DEST/bin"; exit 0; fi

for cmd in cmake c++ cc tar flock; do
    command -v "$cmd" >/dev/null || { echo "llamacpp.sh: '$cmd' not found (apt-get install cmake build-essential)" >&2; exit 1; }
done
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=$HERE/../.venv/bin/python
[[ -x "$PY" ]] || PY=$(command -v python3)
"$PY" -m pip --version >/dev/null 2>&1 || { echo "llamacpp.sh: $PY has no pip" >&2; exit 1; }

mkdir -p "$DEST"
# One build at a time; a second run waits, then finds the binaries and exits.
exec 9>"$DEST/.lock"
if ! flock -n 9; then echo "llamacpp.sh: another build is running in $DEST; waiting for it" >&2; flock 9; fi
if is_built; then echo "$DEST/bin"; exit 0; fi
rm -rf "$DEST"/.build-*                      # left by an interrupted run (we hold the lock)
WORK=$(mktemp -d "$DEST/.build-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM HUP                 # so the EXIT trap runs on a signal too

START=$SECONDS
echo "llamacpp.sh: building llama.cpp from llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION into $DEST (JOBS=$JOBS, native=$NATIVE)" >&2

# 1. The source package, checked against the pinned hash.
SDIST=llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION.tar.gz
echo "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION --hash=sha256:$LLAMA_CPP_PYTHON_SHA256" > "$WORK/req.txt"
"$PY" -m pip download --quiet --no-deps --no-binary :all: --require-hashes -r "$WORK/req.txt" -d "$WORK/dl" >&2
[[ -f "$WORK/dl/$SDIST" ]] || { echo "llamacpp.sh: pip did not download $SDIST" >&2; exit 1; }

# 2. vendor/llama.cpp only. Its .git is a submodule link to a shallow clone (commit known, build number
#    not), so the commit is read here and passed to CMake; git must not find a repository further up.
TOP=llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION
tar -xzf "$WORK/dl/$SDIST" -C "$WORK" --exclude="$TOP/vendor/llama.cpp/.git" "$TOP/vendor/llama.cpp"
COMMIT=$(tar -xzOf "$WORK/dl/$SDIST" "$TOP/.git/modules/vendor/llama.cpp/HEAD" 2>/dev/null || true)
[[ "$COMMIT" =~ ^[0-9a-f]{40}$ ]] || COMMIT=unknown
rm -rf "$WORK/dl"
SRC=$WORK/$TOP/vendor/llama.cpp
export GIT_CEILING_DIRECTORIES=$WORK

# 3. Configure and build. Static libraries, so the copied binaries need nothing beside them.
GEN=(); command -v ninja >/dev/null && GEN=(-G Ninja)
NATIVE_FLAG=OFF; [[ "$NATIVE" == 1 ]] && NATIVE_FLAG=ON
cmake -S "$SRC" -B "$WORK/build" "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DBUILD_SHARED_LIBS=OFF -DGGML_NATIVE=$NATIVE_FLAG -DGGML_CCACHE=OFF \
    -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF \
    -DLLAMA_BUILD_COMMIT="${COMMIT:0:9}" -DLLAMA_BUILD_NUMBER=0 >&2
cmake --build "$WORK/build" --parallel "$JOBS" --target "${TOOLS[@]}" >&2

# 4. Check, stage, then move into place.
mkdir -p "$WORK/stage/bin"
for t in "${TOOLS[@]}"; do install -m 755 "$WORK/build/bin/$t" "$WORK/stage/bin/$t"; done
"$WORK/stage/bin/llama-completion" --version >"$WORK/version.txt" 2>&1 || true
BUILD_S=$((SECONDS - START))
{
    echo "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION"
    echo "llama.cpp commit: $COMMIT (ggml-org/llama.cpp; build number not in the sdist)"
    echo "cpu: $([[ "$NATIVE" == 1 ]] && echo "native ($(uname -m))" || echo "x86-64-v3 (GGML_NATIVE=OFF: AVX2 FMA F16C BMI2)")"
    echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -n) in ${BUILD_S} s with JOBS=$JOBS"
    echo "tools: ${TOOLS[*]}"
    sed 's/^/llama-completion --version: /' "$WORK/version.txt"
} > "$WORK/stage/VERSION"
rm -f "$DEST/VERSION"                        # is_built is false from here until the new VERSION is in place
rm -rf "$DEST/bin.old"; [[ -d "$DEST/bin" ]] && mv "$DEST/bin" "$DEST/bin.old"
mv "$WORK/stage/bin" "$DEST/bin"
mv "$WORK/stage/VERSION" "$DEST/VERSION"
rm -rf "$DEST/bin.old"
printf 'llamacpp.sh: built in %dm%02ds\n' $((BUILD_S / 60)) $((BUILD_S % 60)) >&2
cat "$DEST/VERSION" >&2
echo "$DEST/bin"
