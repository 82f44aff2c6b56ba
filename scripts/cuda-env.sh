# Sourced by scripts/build-cuda.sh and scripts/gpu-check.sh: finds CUDA and sets the cgo
# flags of aelab's CUDA build, with cuda/compat first on the include path (it defers
# gorgonia.org/cu's driver initialisation and lets cu build against CUDA 13).
# CUDA_HOME overrides where CUDA is (default: /usr/local/cuda, else the folder above nvcc,
# else /usr for a distribution's packages such as Debian's nvidia-cuda-dev).
cuda=${CUDA_HOME:-}
if [[ -z "$cuda" ]]; then
  if [[ -f /usr/local/cuda/include/cuda.h ]]; then
    cuda=/usr/local/cuda
  elif command -v nvcc >/dev/null 2>&1; then
    cuda=$(dirname "$(dirname "$(readlink -f "$(command -v nvcc)")")")
  elif [[ -f /usr/include/cuda.h ]]; then
    cuda=/usr
  fi
fi
if [[ -z "$cuda" || ! -f "$cuda/include/cuda.h" ]]; then
  echo "aelab: no CUDA toolkit found (set CUDA_HOME to the folder with include/cuda.h)" >&2
  return 1 2>/dev/null || exit 1
fi
lib=$cuda/lib64
[[ -d $lib ]] || lib=$cuda/lib
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CUDA_HOME=$cuda CGO_ENABLED=1
# Go's build cache does not see headers outside a package: the header's checksum in the flags
# makes a changed compat/cuda.h recompile gorgonia.org/cu.
compat_id=$(cksum < "$root/cuda/compat/cuda.h" | cut -d' ' -f1)
export CGO_CFLAGS="-I$root/cuda/compat -I$cuda/include -DAELAB_COMPAT_ID=$compat_id"
# Link against the driver's own libcuda where one is installed (it exports every entry point
# compat/cuda.h names), else against the toolkit's stub.
driver=$(ldconfig -p 2>/dev/null | awk '/libcuda\.so\.1 .*x86-64/ && !found {found = $NF} END {print found}')
linkdir=
if [[ -n "$driver" ]]; then
  linkdir=${TMPDIR:-/tmp}/aelab-libcuda
  mkdir -p "$linkdir" && ln -sf "$driver" "$linkdir/libcuda.so"
fi
export CGO_LDFLAGS="${linkdir:+-L$linkdir }-L$lib -L$lib/stubs -Wl,-rpath,$lib"
