#include "textflag.h"

// func prefetch(p *byte, n int)
//
// PREFETCHT0 of every 64-byte line that holds one of the n bytes from p (n > 0).
TEXT ·prefetch(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), SI
	MOVQ n+8(FP), CX
	LEAQ -1(SI)(CX*1), CX // the last byte
	ANDQ $-64, SI         // its first line's start
loop:
	PREFETCHT0 (SI)
	ADDQ $64, SI
	CMPQ SI, CX
	JLS loop
	RET
