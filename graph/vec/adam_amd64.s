#include "textflag.h"

// func adamAVX2(wp, gp, mp, vp *float32, n int, k *adamConsts)
//
// For 8 values at a time: m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g²,
// w ← w − stepSize·m / (√v·invSqrtC2 + ε).
//
// The four arrays stream from beyond the caches between training steps (the step's other
// buffers evict them), so each is prefetched 1 KiB ahead: their loads overlap the
// arithmetic instead of waiting on the hardware prefetcher. A prefetch past an array's end
// is harmless: it never faults and changes nothing.
TEXT ·adamAVX2(SB), NOSPLIT, $0-48
	MOVQ wp+0(FP), DI
	MOVQ gp+8(FP), SI
	MOVQ mp+16(FP), DX
	MOVQ vp+24(FP), R8
	MOVQ n+32(FP), CX
	MOVQ k+40(FP), R9
	VBROADCASTSS 0(R9), Y8   // stepSize
	VBROADCASTSS 4(R9), Y9   // β1
	VBROADCASTSS 8(R9), Y10  // β2
	VBROADCASTSS 12(R9), Y11 // ε
	VBROADCASTSS 16(R9), Y12 // invSqrtC2
	VBROADCASTSS 20(R9), Y13 // 1−β1
	VBROADCASTSS 24(R9), Y14 // 1−β2
	TESTQ CX, CX
	JZ done
loop:
	PREFETCHT0 1024(SI)
	PREFETCHT0 1024(DX)
	PREFETCHT0 1024(R8)
	PREFETCHT0 1024(DI)
	VMOVUPS (SI), Y0
	VMULPS (DX), Y9, Y1
	VFMADD231PS Y0, Y13, Y1
	VMOVUPS Y1, (DX)
	VMULPS Y0, Y0, Y2
	VMULPS (R8), Y10, Y3
	VFMADD231PS Y2, Y14, Y3
	VMOVUPS Y3, (R8)
	VSQRTPS Y3, Y4
	VMULPS Y4, Y12, Y4
	VADDPS Y4, Y11, Y4
	VMULPS Y1, Y8, Y5
	VDIVPS Y4, Y5, Y5
	VMOVUPS (DI), Y6
	VSUBPS Y5, Y6, Y6
	VMOVUPS Y6, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, R8
	SUBQ $8, CX
	JNZ loop
done:
	VZEROUPPER
	RET

// func adamAVX512(wp, gp, mp, vp *float32, n int, k *adamConsts)
//
// adamAVX2 on 16 values at a time: the same operations lane by lane, so the same bits.
TEXT ·adamAVX512(SB), NOSPLIT, $0-48
	MOVQ wp+0(FP), DI
	MOVQ gp+8(FP), SI
	MOVQ mp+16(FP), DX
	MOVQ vp+24(FP), R8
	MOVQ n+32(FP), CX
	MOVQ k+40(FP), R9
	VBROADCASTSS 0(R9), Z8   // stepSize
	VBROADCASTSS 4(R9), Z9   // β1
	VBROADCASTSS 8(R9), Z10  // β2
	VBROADCASTSS 12(R9), Z11 // ε
	VBROADCASTSS 16(R9), Z12 // invSqrtC2
	VBROADCASTSS 20(R9), Z13 // 1−β1
	VBROADCASTSS 24(R9), Z14 // 1−β2
	TESTQ CX, CX
	JZ done16
loop16:
	PREFETCHT0 1024(SI)
	PREFETCHT0 1024(DX)
	PREFETCHT0 1024(R8)
	PREFETCHT0 1024(DI)
	VMOVUPS (SI), Z0
	VMULPS (DX), Z9, Z1
	VFMADD231PS Z0, Z13, Z1
	VMOVUPS Z1, (DX)
	VMULPS Z0, Z0, Z2
	VMULPS (R8), Z10, Z3
	VFMADD231PS Z2, Z14, Z3
	VMOVUPS Z3, (R8)
	VSQRTPS Z3, Z4
	VMULPS Z4, Z12, Z4
	VADDPS Z4, Z11, Z4
	VMULPS Z1, Z8, Z5
	VDIVPS Z4, Z5, Z5
	VMOVUPS (DI), Z6
	VSUBPS Z5, Z6, Z6
	VMOVUPS Z6, (DI)
	ADDQ $64, DI
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, R8
	SUBQ $16, CX
	JNZ loop16
done16:
	VZEROUPPER
	RET
