#include "textflag.h"

// Go's assembler has no mnemonic for two of the instructions this file needs, so they are
// written as WORDs with the instruction in the comment (Arm syntax, destination first):
//
//   - fmla vd.4s, vn.4s, vm.s[i] (by element): 0x4f801000 | i&1<<21 | m<<16 | i>>1<<11 | n<<5 | d
//   - fadd vd.4s, vn.4s, vm.4s: 0x4e20d400 | m<<16 | n<<5 | d
//
// go tool objdump decodes them back (as VFMLA and FADD), which checks the encodings. Both
// are Armv8.0 Advanced SIMD, which every arm64 processor has. FMLA rounds once, as
// VFMADD231PS does on amd64, so this kernel gives the bits kernel6x16 and kernel8x32 give.

// func kernel8x12(kc int, a *float32, ak int, b *float32, bk int, c *float32, ldc int, acc bool)
//
// V0…V23 accumulate the tile: row r in V(3r), V(3r+1) and V(3r+2) (columns 0-3, 4-7 and
// 8-11). Each step of k loads 12 values of B into V24…V26 and the 8 values of A into V28
// and V29, moving B on by bk values and A by ak, and does 24 FMAs, each multiplying a
// vector of B by one lane of A: no broadcast is needed. Each element of c sums its products in k order from zero, then the block's sum
// is added to c when acc, as the amd64 kernels do.
TEXT ·kernel8x12(SB), NOSPLIT, $0-57
	MOVD kc+0(FP), R0
	MOVD a+8(FP), R1
	MOVD ak+16(FP), R6
	LSL $2, R6
	MOVD b+24(FP), R2
	MOVD bk+32(FP), R7
	LSL $2, R7
	MOVD c+40(FP), R3
	MOVD ldc+48(FP), R4
	LSL $2, R4
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V1.B16, V1.B16, V1.B16
	VEOR V2.B16, V2.B16, V2.B16
	VEOR V3.B16, V3.B16, V3.B16
	VEOR V4.B16, V4.B16, V4.B16
	VEOR V5.B16, V5.B16, V5.B16
	VEOR V6.B16, V6.B16, V6.B16
	VEOR V7.B16, V7.B16, V7.B16
	VEOR V8.B16, V8.B16, V8.B16
	VEOR V9.B16, V9.B16, V9.B16
	VEOR V10.B16, V10.B16, V10.B16
	VEOR V11.B16, V11.B16, V11.B16
	VEOR V12.B16, V12.B16, V12.B16
	VEOR V13.B16, V13.B16, V13.B16
	VEOR V14.B16, V14.B16, V14.B16
	VEOR V15.B16, V15.B16, V15.B16
	VEOR V16.B16, V16.B16, V16.B16
	VEOR V17.B16, V17.B16, V17.B16
	VEOR V18.B16, V18.B16, V18.B16
	VEOR V19.B16, V19.B16, V19.B16
	VEOR V20.B16, V20.B16, V20.B16
	VEOR V21.B16, V21.B16, V21.B16
	VEOR V22.B16, V22.B16, V22.B16
	VEOR V23.B16, V23.B16, V23.B16
	CBZ R0, store

loop:
	VLD1.P (R2)(R7), [V24.S4, V25.S4, V26.S4]
	VLD1.P (R1)(R6), [V28.S4, V29.S4]
	WORD $0x4f9c1300 // fmla v0.4s, v24.4s, v28.s[0]
	WORD $0x4f9c1321 // fmla v1.4s, v25.4s, v28.s[0]
	WORD $0x4f9c1342 // fmla v2.4s, v26.4s, v28.s[0]
	WORD $0x4fbc1303 // fmla v3.4s, v24.4s, v28.s[1]
	WORD $0x4fbc1324 // fmla v4.4s, v25.4s, v28.s[1]
	WORD $0x4fbc1345 // fmla v5.4s, v26.4s, v28.s[1]
	WORD $0x4f9c1b06 // fmla v6.4s, v24.4s, v28.s[2]
	WORD $0x4f9c1b27 // fmla v7.4s, v25.4s, v28.s[2]
	WORD $0x4f9c1b48 // fmla v8.4s, v26.4s, v28.s[2]
	WORD $0x4fbc1b09 // fmla v9.4s, v24.4s, v28.s[3]
	WORD $0x4fbc1b2a // fmla v10.4s, v25.4s, v28.s[3]
	WORD $0x4fbc1b4b // fmla v11.4s, v26.4s, v28.s[3]
	WORD $0x4f9d130c // fmla v12.4s, v24.4s, v29.s[0]
	WORD $0x4f9d132d // fmla v13.4s, v25.4s, v29.s[0]
	WORD $0x4f9d134e // fmla v14.4s, v26.4s, v29.s[0]
	WORD $0x4fbd130f // fmla v15.4s, v24.4s, v29.s[1]
	WORD $0x4fbd1330 // fmla v16.4s, v25.4s, v29.s[1]
	WORD $0x4fbd1351 // fmla v17.4s, v26.4s, v29.s[1]
	WORD $0x4f9d1b12 // fmla v18.4s, v24.4s, v29.s[2]
	WORD $0x4f9d1b33 // fmla v19.4s, v25.4s, v29.s[2]
	WORD $0x4f9d1b54 // fmla v20.4s, v26.4s, v29.s[2]
	WORD $0x4fbd1b15 // fmla v21.4s, v24.4s, v29.s[3]
	WORD $0x4fbd1b36 // fmla v22.4s, v25.4s, v29.s[3]
	WORD $0x4fbd1b57 // fmla v23.4s, v26.4s, v29.s[3]
	SUBS $1, R0
	BNE loop

store:
	MOVBU acc+56(FP), R5
	CBZ R5, overwrite
	VLD1 (R3), [V24.S4, V25.S4, V26.S4]
	WORD $0x4e38d400 // fadd v0.4s, v0.4s, v24.4s
	WORD $0x4e39d421 // fadd v1.4s, v1.4s, v25.4s
	WORD $0x4e3ad442 // fadd v2.4s, v2.4s, v26.4s
	VST1.P [V0.S4, V1.S4, V2.S4], (R3)(R4)
	VLD1 (R3), [V24.S4, V25.S4, V26.S4]
	WORD $0x4e38d463 // fadd v3.4s, v3.4s, v24.4s
	WORD $0x4e39d484 // fadd v4.4s, v4.4s, v25.4s
	WORD $0x4e3ad4a5 // fadd v5.4s, v5.4s, v26.4s
	VST1.P [V3.S4, V4.S4, V5.S4], (R3)(R4)
	VLD1 (R3), [V24.S4, V25.S4, V26.S4]
	WORD $0x4e38d4c6 // fadd v6.4s, v6.4s, v24.4s
	WORD $0x4e39d4e7 // fadd v7.4s, v7.4s, v25.4s
	WORD $0x4e3ad508 // fadd v8.4s, v8.4s, v26.4s
	VST1.P [V6.S4, V7.S4, V8.S4], (R3)(R4)
	VLD1 (R3), [V24.S4, V25.S4, V26.S4]
	WORD $0x4e38d529 // fadd v9.4s, v9.4s, v24.4s
	WORD $0x4e39d54a // fadd v10.4s, v10.4s, v25.4s
	WORD $0x4e3ad56b // fadd v11.4s, v11.4s, v26.4s
	VST1.P [V9.S4, V10.S4, V11.S4], (R3)(R4)
	VLD1 (R3), [V24.S4, V25.S4, V26.S4]
	WORD $0x4e38d58c // fadd v12.4s, v12.4s, v24.4s
	WORD $0x4e39d5ad // fadd v13.4s, v13.4s, v25.4s
	WORD $0x4e3ad5ce // fadd v14.4s, v14.4s, v26.4s
	VST1.P [V12.S4, V13.S4, V14.S4], (R3)(R4)
	VLD1 (R3), [V24.S4, V25.S4, V26.S4]
	WORD $0x4e38d5ef // fadd v15.4s, v15.4s, v24.4s
	WORD $0x4e39d610 // fadd v16.4s, v16.4s, v25.4s
	WORD $0x4e3ad631 // fadd v17.4s, v17.4s, v26.4s
	VST1.P [V15.S4, V16.S4, V17.S4], (R3)(R4)
	VLD1 (R3), [V24.S4, V25.S4, V26.S4]
	WORD $0x4e38d652 // fadd v18.4s, v18.4s, v24.4s
	WORD $0x4e39d673 // fadd v19.4s, v19.4s, v25.4s
	WORD $0x4e3ad694 // fadd v20.4s, v20.4s, v26.4s
	VST1.P [V18.S4, V19.S4, V20.S4], (R3)(R4)
	VLD1 (R3), [V24.S4, V25.S4, V26.S4]
	WORD $0x4e38d6b5 // fadd v21.4s, v21.4s, v24.4s
	WORD $0x4e39d6d6 // fadd v22.4s, v22.4s, v25.4s
	WORD $0x4e3ad6f7 // fadd v23.4s, v23.4s, v26.4s
	VST1.P [V21.S4, V22.S4, V23.S4], (R3)(R4)
	RET

overwrite:
	VST1.P [V0.S4, V1.S4, V2.S4], (R3)(R4)
	VST1.P [V3.S4, V4.S4, V5.S4], (R3)(R4)
	VST1.P [V6.S4, V7.S4, V8.S4], (R3)(R4)
	VST1.P [V9.S4, V10.S4, V11.S4], (R3)(R4)
	VST1.P [V12.S4, V13.S4, V14.S4], (R3)(R4)
	VST1.P [V15.S4, V16.S4, V17.S4], (R3)(R4)
	VST1.P [V18.S4, V19.S4, V20.S4], (R3)(R4)
	VST1.P [V21.S4, V22.S4, V23.S4], (R3)(R4)
	RET
