#include "textflag.h"

// Constants of the Cephes expf, each repeated for the 8 lanes by VBROADCASTSS.
DATA expconsts<>+0(SB)/4, $88.3762626647949      // largest argument
DATA expconsts<>+4(SB)/4, $-88.3762626647949     // smallest argument
DATA expconsts<>+8(SB)/4, $1.44269504088896341   // log2(e)
DATA expconsts<>+12(SB)/4, $0.5
DATA expconsts<>+16(SB)/4, $0.693359375          // ln 2, high part
DATA expconsts<>+20(SB)/4, $-2.12194440e-4       // ln 2, low part
DATA expconsts<>+24(SB)/4, $1.9875691500e-4      // polynomial, highest degree first
DATA expconsts<>+28(SB)/4, $1.3981999507e-3
DATA expconsts<>+32(SB)/4, $8.3334519073e-3
DATA expconsts<>+36(SB)/4, $4.1665795894e-2
DATA expconsts<>+40(SB)/4, $1.6666665459e-1
DATA expconsts<>+44(SB)/4, $5.0000001201e-1
DATA expconsts<>+48(SB)/4, $1.0
DATA expconsts<>+52(SB)/4, $127
GLOBL expconsts<>(SB), RODATA|NOPTR, $56

// func sigmoidAVX2(o, x *float32, n int)
//
// o = 1 / (1 + e^−x) for n values (a multiple of 8): e^−x by range reduction
// −x = k·ln 2 + r, a degree-5 polynomial in r, and 2^k built in the exponent bits.
TEXT ·sigmoidAVX2(SB), NOSPLIT, $0-24
	MOVQ op+0(FP), DI
	MOVQ xp+8(FP), SI
	MOVQ n+16(FP), CX
	LEAQ expconsts<>(SB), R9
	VBROADCASTSS 0(R9), Y8
	VBROADCASTSS 4(R9), Y9
	VBROADCASTSS 8(R9), Y10
	VBROADCASTSS 12(R9), Y11
	VBROADCASTSS 16(R9), Y12
	VBROADCASTSS 20(R9), Y13
	VBROADCASTSS 48(R9), Y14
	VPBROADCASTD 52(R9), Y15
	VXORPS Y7, Y7, Y7
	TESTQ CX, CX
	JZ done
loop:
	VMOVUPS (SI), Y0
	VSUBPS Y0, Y7, Y0          // −x
	VMINPS Y8, Y0, Y0
	VMAXPS Y9, Y0, Y0
	VMULPS Y10, Y0, Y1         // t = −x·log2(e) + 0.5
	VADDPS Y11, Y1, Y1
	VROUNDPS $1, Y1, Y1        // k = floor(t)
	VFNMADD231PS Y12, Y1, Y0   // r = −x − k·ln2 (in two parts)
	VFNMADD231PS Y13, Y1, Y0
	VBROADCASTSS 24(R9), Y2    // polynomial p(r)
	VBROADCASTSS 28(R9), Y3
	VFMADD213PS Y3, Y0, Y2
	VBROADCASTSS 32(R9), Y3
	VFMADD213PS Y3, Y0, Y2
	VBROADCASTSS 36(R9), Y3
	VFMADD213PS Y3, Y0, Y2
	VBROADCASTSS 40(R9), Y3
	VFMADD213PS Y3, Y0, Y2
	VBROADCASTSS 44(R9), Y3
	VFMADD213PS Y3, Y0, Y2
	VMULPS Y0, Y0, Y4          // e^r ≈ p·r² + r + 1
	VFMADD213PS Y0, Y4, Y2
	VADDPS Y14, Y2, Y2
	VCVTTPS2DQ Y1, Y5          // 2^k from the exponent bits
	VPADDD Y15, Y5, Y5
	VPSLLD $23, Y5, Y5
	VMULPS Y5, Y2, Y2          // e^−x
	VADDPS Y14, Y2, Y2         // 1 + e^−x
	VDIVPS Y2, Y14, Y2         // 1 / (1 + e^−x)
	VMOVUPS Y2, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ loop
done:
	VZEROUPPER
	RET

// func sigmoidAVX512(o, x *float32, n int)
//
// sigmoidAVX2 on 16 values at a time: the same operations lane by lane (VRNDSCALEPS $1 is
// VROUNDPS $1's floor), so the same bits.
TEXT ·sigmoidAVX512(SB), NOSPLIT, $0-24
	MOVQ op+0(FP), DI
	MOVQ xp+8(FP), SI
	MOVQ n+16(FP), CX
	LEAQ expconsts<>(SB), R9
	VBROADCASTSS 0(R9), Z8
	VBROADCASTSS 4(R9), Z9
	VBROADCASTSS 8(R9), Z10
	VBROADCASTSS 12(R9), Z11
	VBROADCASTSS 16(R9), Z12
	VBROADCASTSS 20(R9), Z13
	VBROADCASTSS 48(R9), Z14
	VPBROADCASTD 52(R9), Z15
	VPXORD Z7, Z7, Z7
	TESTQ CX, CX
	JZ done16
loop16:
	VMOVUPS (SI), Z0
	VSUBPS Z0, Z7, Z0          // −x
	VMINPS Z8, Z0, Z0
	VMAXPS Z9, Z0, Z0
	VMULPS Z10, Z0, Z1         // t = −x·log2(e) + 0.5
	VADDPS Z11, Z1, Z1
	VRNDSCALEPS $1, Z1, Z1     // k = floor(t)
	VFNMADD231PS Z12, Z1, Z0   // r = −x − k·ln2 (in two parts)
	VFNMADD231PS Z13, Z1, Z0
	VBROADCASTSS 24(R9), Z2    // polynomial p(r)
	VBROADCASTSS 28(R9), Z3
	VFMADD213PS Z3, Z0, Z2
	VBROADCASTSS 32(R9), Z3
	VFMADD213PS Z3, Z0, Z2
	VBROADCASTSS 36(R9), Z3
	VFMADD213PS Z3, Z0, Z2
	VBROADCASTSS 40(R9), Z3
	VFMADD213PS Z3, Z0, Z2
	VBROADCASTSS 44(R9), Z3
	VFMADD213PS Z3, Z0, Z2
	VMULPS Z0, Z0, Z4          // e^r ≈ p·r² + r + 1
	VFMADD213PS Z0, Z4, Z2
	VADDPS Z14, Z2, Z2
	VCVTTPS2DQ Z1, Z5          // 2^k from the exponent bits
	VPADDD Z15, Z5, Z5
	VPSLLD $23, Z5, Z5
	VMULPS Z5, Z2, Z2          // e^−x
	VADDPS Z14, Z2, Z2         // 1 + e^−x
	VDIVPS Z2, Z14, Z2         // 1 / (1 + e^−x)
	VMOVUPS Z2, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JNZ loop16
done16:
	VZEROUPPER
	RET
