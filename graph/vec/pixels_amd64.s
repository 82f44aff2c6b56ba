#include "textflag.h"

DATA pixelconsts<>+0(SB)/4, $255.0
GLOBL pixelconsts<>(SB), RODATA|NOPTR, $4

// func pixelsAVX2(o *float32, b *byte, n int)
//
// o = float32(b) / 255 for n values (a multiple of 8): widen 8 bytes to 32-bit integers,
// convert (exact below 2²⁴), divide.
TEXT ·pixelsAVX2(SB), NOSPLIT, $0-24
	MOVQ op+0(FP), DI
	MOVQ bp+8(FP), SI
	MOVQ n+16(FP), CX
	LEAQ pixelconsts<>(SB), AX
	VBROADCASTSS 0(AX), Y15
	TESTQ CX, CX
	JZ done
loop:
	VPMOVZXBD (SI), Y0
	VCVTDQ2PS Y0, Y0
	VDIVPS Y15, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $8, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ loop
done:
	VZEROUPPER
	RET

// func pixelsAVX512(o *float32, b *byte, n int)
//
// pixelsAVX2 for n values (a multiple of 16), 16 at a time.
TEXT ·pixelsAVX512(SB), NOSPLIT, $0-24
	MOVQ op+0(FP), DI
	MOVQ bp+8(FP), SI
	MOVQ n+16(FP), CX
	LEAQ pixelconsts<>(SB), AX
	VBROADCASTSS 0(AX), Z15
	TESTQ CX, CX
	JZ done512
loop512:
	VPMOVZXBD (SI), Z0
	VCVTDQ2PS Z0, Z0
	VDIVPS Z15, Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ $16, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JNZ loop512
done512:
	VZEROUPPER
	RET
