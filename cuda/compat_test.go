package cuda

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// mockCUDA13 declares what compat/cuda.h relies on the way CUDA 13's cuda.h does: the five
// changed functions only under their new names (cuCtxCreate_v2 is not declared at all).
const mockCUDA13 = `#ifndef MOCK_CUDA_H
#define MOCK_CUDA_H
#include <stddef.h>
#define CUDA_VERSION 13000
#define CUDAAPI
typedef enum { CUDA_SUCCESS = 0, CUDA_ERROR_NO_DEVICE = 100 } CUresult;
typedef struct CUctx_st *CUcontext;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef struct CUstream_st *CUstream;
typedef struct CUgraph_st *CUgraph;
typedef struct CUgraphNode_st *CUgraphNode;
typedef enum { CU_MEM_ADVISE_SET_READ_MOSTLY = 1 } CUmem_advise;
typedef struct { int type; int id; } CUmemLocation;
typedef struct CUctxCreateParams_st CUctxCreateParams;
typedef struct { unsigned char from_port, to_port, type; } CUgraphEdgeData;
CUresult CUDAAPI cuInit(unsigned int Flags);
CUresult CUDAAPI cuCtxCreate_v4(CUcontext *pctx, CUctxCreateParams *p, unsigned int flags, CUdevice dev);
#define cuCtxCreate cuCtxCreate_v4
CUresult CUDAAPI cuMemAdvise_v2(CUdeviceptr devPtr, size_t count, CUmem_advise advice, CUmemLocation location);
#define cuMemAdvise cuMemAdvise_v2
CUresult CUDAAPI cuMemPrefetchAsync_v2(CUdeviceptr devPtr, size_t count, CUmemLocation location, unsigned int flags, CUstream hStream);
#define cuMemPrefetchAsync cuMemPrefetchAsync_v2
CUresult CUDAAPI cuGraphAddDependencies_v2(CUgraph g, const CUgraphNode *from, const CUgraphNode *to, const CUgraphEdgeData *e, size_t n);
#define cuGraphAddDependencies cuGraphAddDependencies_v2
CUresult CUDAAPI cuGraphGetEdges_v2(CUgraph g, CUgraphNode *from, CUgraphNode *to, CUgraphEdgeData *e, size_t *n);
#define cuGraphGetEdges cuGraphGetEdges_v2
#endif
`

// driverStubs stands in for libcuda: each entry point answers with its own number, so the
// program shows which one a call reached (the new names answer 99: they must not be reached).
const driverStubs = `int cuInit(unsigned int f) { return 100; }
int cuCtxCreate_v2(void **ctx, unsigned int flags, int dev) { return 2; }
int cuMemAdvise(unsigned long long p, unsigned long n, int a, int dev) { return 3; }
int cuMemPrefetchAsync(unsigned long long p, unsigned long n, int dev, void *s) { return 4; }
int cuGraphAddDependencies(void *g, void *from, void *to, unsigned long n) { return 5; }
int cuGraphGetEdges(void *g, void *from, void *to, unsigned long *n) { return 6; }
int cuCtxCreate_v4(void) { return 99; }
int cuMemAdvise_v2(void) { return 99; }
int cuMemPrefetchAsync_v2(void) { return 99; }
int cuGraphAddDependencies_v2(void) { return 99; }
int cuGraphGetEdges_v2(void) { return 99; }
`

// callsThroughCompat calls every function compat/cuda.h redirects, as gorgonia.org/cu does
// through cgo, and aelab's own cuInit.
const callsThroughCompat = `package main

// #include <cuda.h>
import "C"

import "fmt"

func main() {
	var ctx C.CUcontext
	fmt.Println(C.cuInit(0), C.aelab_cuInit(0), C.cuCtxCreate(&ctx, 0, 0), C.cuMemAdvise(0, 0, 0, 0),
		C.cuMemPrefetchAsync(0, 0, 0, nil), C.cuGraphAddDependencies(nil, nil, nil, 0), C.cuGraphGetEdges(nil, nil, nil, nil))
}
`

// TestCompatHeaderAgainstCUDA13 builds a cgo program against compat/cuda.h and a cuda.h laid
// out as CUDA 13's, links it to stand-in entry points and runs it: cu's cuInit must succeed
// without reaching the driver, aelab_cuInit must reach it, and the five changed functions
// must reach the driver's older entry points.
func TestCompatHeaderAgainstCUDA13(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a cgo program")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on the PATH")
	}
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("no C compiler")
	}
	compat, err := filepath.Abs("compat")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	mock := filepath.Join(dir, "mock")
	prog := filepath.Join(dir, "prog")
	for path, text := range map[string]string{
		filepath.Join(mock, "cuda.h"):   mockCUDA13,
		filepath.Join(prog, "go.mod"):   "module compatcheck\n\ngo 1.22\n",
		filepath.Join(prog, "main.go"):  callsThroughCompat,
		filepath.Join(prog, "driver.c"): driverStubs,
	} {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(goTool, "run", ".")
	cmd.Dir = prog
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1", "GOFLAGS=", "GOWORK=off", "GOTOOLCHAIN=local",
		"CGO_CFLAGS=-I"+compat+" -I"+mock, "CGO_LDFLAGS=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("building against a CUDA 13 cuda.h: %v\n%s", err, out)
	}
	if got, want := strings.TrimSpace(string(out)), "0 100 2 3 4 5 6"; got != want {
		t.Errorf("results %q, want %q (cu's cuInit deferred, aelab_cuInit real, the five older entry points)", got, want)
	}
}
