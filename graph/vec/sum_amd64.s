#include "textflag.h"

// func sumColumnsAVX2(o, a *float32, rows, cols, stride int)
//
// o[c] = (((0 + a[0][c]) + a[1][c]) + …) for cols columns (a multiple of 8) and rows ≥ 1
// rows, stride values apart: each lane sums one column, in row order, so a column's sum is
// the Go loop's. Blocks of 64 columns keep eight independent additions in flight.
TEXT ·sumColumnsAVX2(SB), NOSPLIT, $0-40
	MOVQ o+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ rows+16(FP), R8
	MOVQ cols+24(FP), CX
	MOVQ stride+32(FP), BX
	SHLQ $2, BX              // bytes between rows
block64:
	CMPQ CX, $64
	JB block8
	MOVQ SI, DX
	MOVQ R8, R9
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
rows64:
	VADDPS (DX), Y0, Y0
	VADDPS 32(DX), Y1, Y1
	VADDPS 64(DX), Y2, Y2
	VADDPS 96(DX), Y3, Y3
	VADDPS 128(DX), Y4, Y4
	VADDPS 160(DX), Y5, Y5
	VADDPS 192(DX), Y6, Y6
	VADDPS 224(DX), Y7, Y7
	ADDQ BX, DX
	DECQ R9
	JNZ rows64
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	VMOVUPS Y4, 128(DI)
	VMOVUPS Y5, 160(DI)
	VMOVUPS Y6, 192(DI)
	VMOVUPS Y7, 224(DI)
	ADDQ $256, SI
	ADDQ $256, DI
	SUBQ $64, CX
	JMP block64
block8:
	TESTQ CX, CX
	JZ done
	MOVQ SI, DX
	MOVQ R8, R9
	VXORPS Y0, Y0, Y0
rows8:
	VADDPS (DX), Y0, Y0
	ADDQ BX, DX
	DECQ R9
	JNZ rows8
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP block8
done:
	VZEROUPPER
	RET

// func sumRowsAVX2(o, a *float32, rows, cols, stride int)
//
// o[r] = (((0 + a[r][0]) + a[r][1]) + …) over cols columns (a multiple of 8) for rows rows
// (a multiple of 8), stride values apart. Eight rows at a time: each 8×8 block is transposed
// so that one vector holds one column of the eight rows, and the columns are added in
// order, each lane summing its row as the Go loop does.
TEXT ·sumRowsAVX2(SB), NOSPLIT, $0-40
	MOVQ o+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ rows+16(FP), R8
	MOVQ cols+24(FP), CX
	MOVQ stride+32(FP), BX
	SHLQ $2, BX              // bytes between rows
	LEAQ (BX)(BX*2), R13     // 3 rows
group:
	TESTQ R8, R8
	JZ done
	VXORPS Y15, Y15, Y15     // the eight sums
	MOVQ SI, R10             // row 0 of the group
	LEAQ (SI)(BX*4), R11     // row 4
	MOVQ CX, R9
block:
	VMOVUPS (R10), Y0
	VMOVUPS (R10)(BX*1), Y1
	VMOVUPS (R10)(BX*2), Y2
	VMOVUPS (R10)(R13*1), Y3
	VMOVUPS (R11), Y4
	VMOVUPS (R11)(BX*1), Y5
	VMOVUPS (R11)(BX*2), Y6
	VMOVUPS (R11)(R13*1), Y7
	// Transpose: Y6, Y9, Y10, Y11, Y12, Y13, Y14 and Y7 end up holding columns 0 to 7 of
	// the eight rows.
	VUNPCKLPS Y1, Y0, Y8     // r0[0] r1[0] r0[1] r1[1] | r0[4] r1[4] r0[5] r1[5]
	VUNPCKHPS Y1, Y0, Y0     // r0[2] r1[2] r0[3] r1[3] | r0[6] r1[6] r0[7] r1[7]
	VUNPCKLPS Y3, Y2, Y1
	VUNPCKHPS Y3, Y2, Y2
	VUNPCKLPS Y5, Y4, Y3
	VUNPCKHPS Y5, Y4, Y4
	VUNPCKLPS Y7, Y6, Y5
	VUNPCKHPS Y7, Y6, Y6
	VSHUFPS $0x44, Y1, Y8, Y7 // r0–3 columns 0 | 4
	VSHUFPS $0xee, Y1, Y8, Y8 // r0–3 columns 1 | 5
	VSHUFPS $0x44, Y2, Y0, Y1 // r0–3 columns 2 | 6
	VSHUFPS $0xee, Y2, Y0, Y0 // r0–3 columns 3 | 7
	VSHUFPS $0x44, Y5, Y3, Y2 // r4–7 columns 0 | 4
	VSHUFPS $0xee, Y5, Y3, Y3 // r4–7 columns 1 | 5
	VSHUFPS $0x44, Y6, Y4, Y5 // r4–7 columns 2 | 6
	VSHUFPS $0xee, Y6, Y4, Y4 // r4–7 columns 3 | 7
	VPERM2F128 $0x20, Y2, Y7, Y6
	VPERM2F128 $0x20, Y3, Y8, Y9
	VPERM2F128 $0x20, Y5, Y1, Y10
	VPERM2F128 $0x20, Y4, Y0, Y11
	VPERM2F128 $0x31, Y2, Y7, Y12
	VPERM2F128 $0x31, Y3, Y8, Y13
	VPERM2F128 $0x31, Y5, Y1, Y14
	VPERM2F128 $0x31, Y4, Y0, Y7
	VADDPS Y6, Y15, Y15
	VADDPS Y9, Y15, Y15
	VADDPS Y10, Y15, Y15
	VADDPS Y11, Y15, Y15
	VADDPS Y12, Y15, Y15
	VADDPS Y13, Y15, Y15
	VADDPS Y14, Y15, Y15
	VADDPS Y7, Y15, Y15
	ADDQ $32, R10
	ADDQ $32, R11
	SUBQ $8, R9
	JNZ block
	VMOVUPS Y15, (DI)
	ADDQ $32, DI
	LEAQ (SI)(BX*8), SI
	SUBQ $8, R8
	JMP group
done:
	VZEROUPPER
	RET
