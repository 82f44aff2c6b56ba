package cuda

import _ "embed"

// deviceCommon is the device code kernels.cu and the generated fused kernels share.
//
//go:embed common.cuh
var deviceCommon string

// kernelBody is the CUDA C of aelab's kernels, without deviceCommon.
//
//go:embed kernels.cu
var kernelBody string

// kernelSource is what NVRTC compiles when a backend opens.
func kernelSource() string { return deviceCommon + kernelBody }

// unaryOps and binaryOps give the op codes of the unary and binary kernels (the #defines
// OP_* of kernels.cu; a test keeps the two in step).
func unaryOps() map[string]int {
	return map[string]int{"neg": 0, "square": 1, "sqrt": 2, "exp": 3, "log": 4, "sigmoid": 5, "tanh": 6, "softplus": 7,
		"abs": 8, "sign": 9, "inv": 10, "cube": 11, "log1p": 12, "expm1": 13, "invsqrt": 14, "sigmoidgrad": 15}
}

func binaryOps() map[string]int {
	return map[string]int{"add": 0, "sub": 1, "mul": 2, "div": 3, "pow": 4, "lt": 5, "gt": 6, "le": 7, "ge": 8, "eq": 9, "ne": 10}
}
