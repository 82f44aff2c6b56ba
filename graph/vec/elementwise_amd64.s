#include "textflag.h"

// The elementwise loops: each writes n values (a multiple of 8), 32 at a time while it can,
// then 8 at a time. Every lane does the one IEEE operation (or the same few, in the same
// order) that the Go loop does for a value, so both give the same bits.

DATA elemconsts<>+0(SB)/4, $1.0
DATA elemconsts<>+4(SB)/4, $0x80000000 // the sign bit
GLOBL elemconsts<>(SB), RODATA|NOPTR, $8

// CONSTS loads 1 into every lane of Y15 and the sign bit into every lane of Y13.
#define CONSTS \
	LEAQ elemconsts<>(SB), AX; \
	VBROADCASTSS 0(AX), Y15; \
	VBROADCASTSS 4(AX), Y13

// The binary operations, d = a ∘ b (a is the instruction's first source, as in the Go
// loop's a ∘ b); a comparison gives 1 where it holds and +0 where not.
#define ADD(b, a, d) VADDPS b, a, d
#define SUB(b, a, d) VSUBPS b, a, d
#define MUL(b, a, d) VMULPS b, a, d
#define DIV(b, a, d) VDIVPS b, a, d
#define CMP(p, b, a, d) VCMPPS p, b, a, d; VANDPS Y15, d, d
#define LT(b, a, d) CMP($0x11, b, a, d) // less, ordered (false for NaN, as in Go)
#define LE(b, a, d) CMP($0x12, b, a, d)
#define GT(b, a, d) CMP($0x1e, b, a, d)
#define GE(b, a, d) CMP($0x1d, b, a, d)
#define EQ(b, a, d) CMP($0x00, b, a, d)
#define NE(b, a, d) CMP($0x04, b, a, d) // not equal, unordered (true for NaN, as in Go)

// LOOP is the body of a binary loop: LOADA(off, reg) and LOADB(off, reg) load the operands
// at byte offset off (or nothing, for a scalar operand already broadcast in reg), OP
// combines B* and A* into Y0..Y3, and the results go to DI; SI (a), DX (b) and DI advance
// together, CX counts the values left.
#define LOOP(LOADA, LOADB, OP, A0, A1, A2, A3, B0, B1, B2, B3) \
	CMPQ CX, $32; \
	JB one; \
four: \
	LOADA(0, A0); \
	LOADA(32, A1); \
	LOADA(64, A2); \
	LOADA(96, A3); \
	LOADB(0, B0); \
	LOADB(32, B1); \
	LOADB(64, B2); \
	LOADB(96, B3); \
	OP(B0, A0, Y0); \
	OP(B1, A1, Y1); \
	OP(B2, A2, Y2); \
	OP(B3, A3, Y3); \
	VMOVUPS Y0, (DI); \
	VMOVUPS Y1, 32(DI); \
	VMOVUPS Y2, 64(DI); \
	VMOVUPS Y3, 96(DI); \
	ADDQ $128, SI; \
	ADDQ $128, DX; \
	ADDQ $128, DI; \
	SUBQ $32, CX; \
	CMPQ CX, $32; \
	JAE four; \
one: \
	TESTQ CX, CX; \
	JZ done; \
	LOADA(0, A0); \
	LOADB(0, B0); \
	OP(B0, A0, Y0); \
	VMOVUPS Y0, (DI); \
	ADDQ $32, SI; \
	ADDQ $32, DX; \
	ADDQ $32, DI; \
	SUBQ $8, CX; \
	JMP one; \
done: \
	VZEROUPPER; \
	RET

#define LOADSI(off, r) VMOVUPS off(SI), r
#define LOADDX(off, r) VMOVUPS off(DX), r
#define NOLOAD(off, r)

// func xxxVV(o, a, b *float32, n int): o = a ∘ b.
#define VV(name, OP) \
TEXT name(SB), NOSPLIT, $0-32; \
	MOVQ o+0(FP), DI; \
	MOVQ a+8(FP), SI; \
	MOVQ b+16(FP), DX; \
	MOVQ n+24(FP), CX; \
	CONSTS; \
	LOOP(LOADSI, LOADDX, OP, Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7)

// func xxxVS(o, a *float32, b float32, n int): o = a ∘ b for the one value b.
#define VS(name, OP) \
TEXT name(SB), NOSPLIT, $0-32; \
	MOVQ o+0(FP), DI; \
	MOVQ a+8(FP), SI; \
	VBROADCASTSS b+16(FP), Y14; \
	MOVQ n+24(FP), CX; \
	CONSTS; \
	LOOP(LOADSI, NOLOAD, OP, Y0, Y1, Y2, Y3, Y14, Y14, Y14, Y14)

// func xxxSV(o *float32, a float32, b *float32, n int): o = a ∘ b for the one value a.
#define SV(name, OP) \
TEXT name(SB), NOSPLIT, $0-32; \
	MOVQ o+0(FP), DI; \
	VBROADCASTSS a+8(FP), Y14; \
	MOVQ b+16(FP), DX; \
	MOVQ n+24(FP), CX; \
	CONSTS; \
	LOOP(NOLOAD, LOADDX, OP, Y14, Y14, Y14, Y14, Y4, Y5, Y6, Y7)

VV(·addVV, ADD)
VS(·addVS, ADD)
SV(·addSV, ADD)
VV(·subVV, SUB)
VS(·subVS, SUB)
SV(·subSV, SUB)
VV(·mulVV, MUL)
VS(·mulVS, MUL)
SV(·mulSV, MUL)
VV(·divVV, DIV)
VS(·divVS, DIV)
SV(·divSV, DIV)
VV(·ltVV, LT)
VS(·ltVS, LT)
SV(·ltSV, LT)
VV(·leVV, LE)
VS(·leVS, LE)
SV(·leSV, LE)
VV(·gtVV, GT)
VS(·gtVS, GT)
SV(·gtSV, GT)
VV(·geVV, GE)
VS(·geVS, GE)
SV(·geSV, GE)
VV(·eqVV, EQ)
VS(·eqVS, EQ)
SV(·eqSV, EQ)
VV(·neVV, NE)
VS(·neVS, NE)
SV(·neSV, NE)

// The unary operations, d = f(a), with t free for a temporary.
#define NEG(a, t, d) VXORPS Y13, a, d
#define ABS(a, t, d) VANDNPS a, Y13, d // a without its sign bit
#define SQUARE(a, t, d) VMULPS a, a, d
#define CUBE(a, t, d) VMULPS a, a, t; VMULPS a, t, d // (a·a)·a
#define INV(a, t, d) VDIVPS a, Y15, d
#define SQRT(a, t, d) VSQRTPS a, d
#define SIGMOIDGRAD(a, t, d) VSUBPS a, Y15, t; VMULPS t, a, d // a·(1 − a)

// func xxxV(o, a *float32, n int): o = f(a).
#define UNARY(name, OP) \
TEXT name(SB), NOSPLIT, $0-24; \
	MOVQ o+0(FP), DI; \
	MOVQ a+8(FP), SI; \
	MOVQ n+16(FP), CX; \
	CONSTS; \
	CMPQ CX, $32; \
	JB one; \
four: \
	VMOVUPS (SI), Y0; \
	VMOVUPS 32(SI), Y1; \
	VMOVUPS 64(SI), Y2; \
	VMOVUPS 96(SI), Y3; \
	OP(Y0, Y4, Y0); \
	OP(Y1, Y5, Y1); \
	OP(Y2, Y6, Y2); \
	OP(Y3, Y7, Y3); \
	VMOVUPS Y0, (DI); \
	VMOVUPS Y1, 32(DI); \
	VMOVUPS Y2, 64(DI); \
	VMOVUPS Y3, 96(DI); \
	ADDQ $128, SI; \
	ADDQ $128, DI; \
	SUBQ $32, CX; \
	CMPQ CX, $32; \
	JAE four; \
one: \
	TESTQ CX, CX; \
	JZ done; \
	VMOVUPS (SI), Y0; \
	OP(Y0, Y4, Y0); \
	VMOVUPS Y0, (DI); \
	ADDQ $32, SI; \
	ADDQ $32, DI; \
	SUBQ $8, CX; \
	JMP one; \
done: \
	VZEROUPPER; \
	RET

UNARY(·negV, NEG)
UNARY(·absV, ABS)
UNARY(·squareV, SQUARE)
UNARY(·cubeV, CUBE)
UNARY(·invV, INV)
UNARY(·sqrtV, SQRT)
UNARY(·sigmoidGradV, SIGMOIDGRAD)
