package sgemm

import (
	"fmt"
	"runtime"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/aelab/aelab/graph/team"
)

// Blocking of the packed algorithm: the k dimension is cut into blocks of kc so a panel of
// B stays in the L1/L2 cache, and the rows into blocks of mc. Every kernel adds up the same
// kc-blocks in the same order (see doc.go), so kc is shared; mc is a multiple of every
// kernel's mr.
const (
	kc = 256
	mc = 72
)

// maxTile is the largest micro-tile, mr×nr, of any kernel.
const maxTile = 8 * 32

// parallelMin is the number of multiply-adds below which one goroutine does all the work.
const parallelMin = 1 << 18

// Kernel selects the code that computes the products. The zero value, Auto, is the fastest
// one this processor runs.
type Kernel uint8

const (
	Auto   Kernel = iota // the fastest kernel this processor runs: Best()
	AVX512               // AVX-512F assembly, 8×32 micro-tiles (amd64)
	AVX2                 // AVX2/FMA assembly, 6×16 micro-tiles (amd64)
	Gonum                // gonum's pure-Go Sgemm (any processor)
	NEON                 // Advanced SIMD assembly, 8×12 micro-tiles (arm64)
)

// String names the kernel as aelab reports it.
func (k Kernel) String() string {
	switch k {
	case Auto:
		return "auto"
	case AVX512:
		return "AVX-512 assembly"
	case AVX2:
		return "AVX2/FMA assembly"
	case Gonum:
		return "gonum"
	case NEON:
		return "NEON assembly"
	}
	return fmt.Sprintf("sgemm.Kernel(%d)", uint8(k))
}

// Available reports whether this processor runs k. Auto and Gonum run everywhere.
func (k Kernel) Available() bool { return k == Auto || k == Gonum || hasKernel(k) }

// Best returns the kernel Auto runs on this processor: on amd64 AVX-512 where the processor
// has AVX-512F, else AVX2 where it has AVX2 and FMA; NEON on every arm64 processor; gonum
// everywhere else.
func Best() Kernel {
	for _, k := range []Kernel{AVX512, AVX2, NEON} {
		if hasKernel(k) {
			return k
		}
	}
	return Gonum
}

// tiling is an assembly micro-kernel and the shape of its tiles.
type tiling struct {
	mr, nr int
	// kernel computes the mr×nr tile c (ldc values per row) = (or += when acc) the product of
	// an A panel (kc×mr: mr rows ars values apart, the steps of k aks apart) and a B panel
	// (kc×nr, the steps bk apart); a packed panel has ars 1 and aks mr, and bk nr.
	kernel func(kc int, a *float32, ars, aks int, b *float32, bk int, c *float32, ldc int, acc bool)
	// rows tells whether kernel takes rows of A that are not adjacent (ars other than 1), so
	// that it reads op(a) untransposed where it is stored.
	rows bool
}

// aInPlace reports whether the kernel reads a panel of rows rows of op(a) where it is
// stored: a whole panel, transposed (mr values side by side for each step of k) or, with a
// rows kernel, not.
func (t tiling) aInPlace(a matrix, rows int) bool { return rows == t.mr && (a.t || t.rows) }

// Multiplier computes matrix products, keeping its packing buffers from one product to the
// next. The zero value is ready to use; a Multiplier is not safe for concurrent use.
type Multiplier struct {
	// Kernel forces a kernel; the zero value, Auto, takes Best(). One this processor lacks
	// (Available is false) is replaced by Best(). It is a field rather than a package setting
	// or an environment variable so that tests can run every kernel side by side in one
	// process, and so that nothing global changes what another caller's products compute.
	Kernel Kernel
	// Team runs a product's slices at once; nil starts a goroutine for each.
	Team *team.Team

	work   []workspace // one per slice
	turned []float32   // Cᵀ of a product computed the other way round
}

// workspace holds one goroutine's packed panels.
type workspace struct {
	a, b []float32
}

func (w *workspace) size(t tiling, nPanels int) {
	if need := nPanels * kc * t.nr; len(w.b) < need {
		w.b = make([]float32, need)
	}
	if need := (mc + t.mr - 1) / t.mr * t.mr * kc; len(w.a) < need {
		w.a = make([]float32, need)
	}
}

// Gemm computes c = op(a)·op(b) with a fresh Multiplier.
func Gemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	var mul Multiplier
	mul.Gemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
}

// Gemm computes c = op(a)·op(b), with op(a) m×k and op(b) k×n, all row-major: a has lda
// values per stored row, b ldb and c ldc. transA and transB select the transposes.
func (mul *Multiplier) Gemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	mul.GemmThen(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, nil)
}

// Then is called with each block of a product's result, rows [i0, i1) and columns [j0, j1),
// as soon as the block holds its final values, on the goroutine that computed it: part is
// that goroutine's slice of the product, below GOMAXPROCS, so that a callback can keep
// scratch space for each. The blocks cover the result once; while one block's Then runs,
// other goroutines may still be computing, and calling Then on, other blocks.
type Then func(part, i0, i1, j0, j1 int)

// GemmThen is Gemm, calling then (when not nil) on each block of c once it is final: work
// on the product's values while they are still in the cache, such as a bias and an
// activation.
func (mul *Multiplier) GemmThen(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, then Then) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		for i := range m {
			clear(c[i*ldc : i*ldc+n])
		}
		if then != nil {
			then(0, 0, m, 0, n)
		}
		return
	}
	kern := mul.Kernel
	if kern == Auto || !kern.Available() {
		kern = Best()
	}
	if kern == Gonum {
		gonum.Implementation{}.Sgemm(trans(transA), trans(transB), m, n, k, 1, a, lda, b, ldb, 0, c, ldc)
		if then != nil {
			then(0, 0, m, 0, n)
		}
		return
	}
	t := tilingOf(kern)
	if transB && !transA && t.rows && m*k+m*n < n*k {
		// C = A·Bᵀ with few rows: Cᵀ = B·Aᵀ reads B in place row by row and packs the
		// smaller A, then Cᵀ is turned around. Each element is the same sum of the same
		// products in the same order (a·b and b·a are the same float), so the same bits.
		if need := n * m; len(mul.turned) < need {
			mul.turned = make([]float32, need)
		}
		ct := mul.turned[:n*m]
		mul.gemm(t, false, true, n, m, k, b, ldb, a, lda, ct, m, nil)
		for i := range m {
			row := c[i*ldc : i*ldc+n]
			for j := range row {
				row[j] = ct[j*m+i]
			}
		}
		if then != nil {
			then(0, 0, m, 0, n)
		}
		return
	}
	mul.gemm(t, transA, transB, m, n, k, a, lda, b, ldb, c, ldc, then)
}

// gemm is GemmThen on an assembly kernel's tiling, as asked.
func (mul *Multiplier) gemm(t tiling, transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, then Then) {
	workers := runtime.GOMAXPROCS(0)
	if m*n*k < parallelMin {
		workers = 1
	}
	for len(mul.work) < workers {
		mul.work = append(mul.work, workspace{})
	}
	am, bm := matrix{a, lda, transA}, matrix{b, ldb, transB}
	if workers == 1 {
		serial(t, &mul.work[0], am, bm, m, n, k, c, ldc, 0, 0, partThen(then, 0))
		return
	}
	if splitRows(t, am, bm, m, n, k, workers) {
		chunk := (m + workers*t.mr - 1) / (workers * t.mr) * t.mr
		mul.Team.Run((m+chunk-1)/chunk, func(w int) {
			i0 := w * chunk
			serial(t, &mul.work[w], am, bm, min(chunk, m-i0), n, k, c, ldc, i0, 0, partThen(then, w))
		})
		return
	}
	chunk := (n + workers*t.nr - 1) / (workers * t.nr) * t.nr
	mul.Team.Run((n+chunk-1)/chunk, func(w int) {
		j0 := w * chunk
		serial(t, &mul.work[w], am, bm, m, min(chunk, n-j0), k, c, ldc, 0, j0, partThen(then, w))
	})
}

// partThen is then for part w, or nil.
func partThen(then Then, w int) func(i0, i1, j0, j1 int) {
	if then == nil {
		return nil
	}
	return func(i0, i1, j0, j1 int) { then(w, i0, i1, j0, j1) }
}

// packCost is what packing one value costs, in multiply-adds of the kernel: about a
// nanosecond against a hundredth of one (16-wide FMAs, two a cycle, at 3 GHz or more).
const packCost = 100

// splitRows reports whether the workers should each take a slice of op(a)'s rows (sharing
// all of op(b)) rather than of op(b)'s columns: whichever gives the busiest worker less to
// do, counting its multiply-adds in whole micro-tiles and the values it packs. Each worker
// packs the operand it shares in full, so a product whose B must be packed (transposed)
// splits its columns when A is read in place, and the tiles' edges decide the rest.
func splitRows(t tiling, a, b matrix, m, n, k, workers int) bool {
	tiles := func(x, per, parts int) int { return (x + parts*per - 1) / (parts * per) * per }
	packsA, packsB := !a.t && !t.rows, b.t
	cost := func(rows, cols int) int {
		c := rows * cols * k
		if packsA {
			c += packCost * rows * k
		}
		if packsB {
			c += packCost * cols * k
		}
		return c
	}
	byRows := cost(tiles(m, t.mr, workers), tiles(n, t.nr, 1))
	byCols := cost(tiles(m, t.mr, 1), tiles(n, t.nr, workers))
	return byRows <= byCols
}

func trans(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// matrix is a stored operand: element (i, j) of op(x) is x[i*ld+j], or x[j*ld+i] when t.
type matrix struct {
	x  []float32
	ld int
	t  bool
}

func (m matrix) at(i, j int) float32 {
	if m.t {
		return m.x[j*m.ld+i]
	}
	return m.x[i*m.ld+j]
}

// serial computes the m×n block of c at (i0, j0) of op(a)·op(b) on one goroutine.
//
// A panel is packed only when the kernel cannot read it where it is stored: op(b) not
// transposed already holds each step of k's nr values side by side (bk = ldb apart), and so
// does op(a) transposed for mr values (aks = lda apart); a kernel that takes rows reads op(a)
// not transposed row by row (ars = lda apart). Packing cost up to half the kernel's time on the plans'
// products, whose 128-wide dimension gives each packed value few uses; the kernel adds the
// same products in the same order either way.
//
// done, when not nil, is called with each block of mc rows once the last block of k has
// been added into it.
func serial(t tiling, w *workspace, a, b matrix, m, n, k int, c []float32, ldc, i0, j0 int, done func(i0, i1, j0, j1 int)) {
	mr, nr := t.mr, t.nr
	nPanels := (n + nr - 1) / nr
	w.size(t, nPanels)
	bp, ap := w.b, w.a // B block: nPanels panels of kc×nr; A block: panels of kc×mr
	var tile [maxTile]float32
	for p0 := 0; p0 < k; p0 += kc {
		kb := min(kc, k-p0)
		packB(bp, b, p0, kb, j0, n, nr)
		acc := p0 > 0
		for ib := 0; ib < m; ib += mc {
			mb := min(mc, m-ib)
			packA(ap, t, a, i0+ib, mb, p0, kb)
			for jp := range nPanels {
				cols := min(nr, n-jp*nr)
				bPanel, bk := &bp[jp*kb*nr], nr
				if inPlace(b, cols, nr) {
					bPanel, bk = &b.x[p0*b.ld+j0+jp*nr], b.ld
				}
				for ip := 0; ip*mr < mb; ip++ {
					rows := min(mr, mb-ip*mr)
					first := i0 + ib + ip*mr
					off := first*ldc + j0 + jp*nr
					aPanel, ars, aks := &ap[ip*kb*mr], 1, mr
					switch {
					case !t.aInPlace(a, rows):
					case a.t:
						aPanel, aks = &a.x[p0*a.ld+first], a.ld
					default:
						aPanel, ars, aks = &a.x[first*a.ld+p0], a.ld, 1
					}
					if rows == mr && cols == nr {
						t.kernel(kb, aPanel, ars, aks, bPanel, bk, &c[off], ldc, acc)
						continue
					}
					// An edge tile: compute it whole, keep the part inside c.
					t.kernel(kb, aPanel, ars, aks, bPanel, bk, &tile[0], nr, false)
					keepTile(c[off:], ldc, tile[:], nr, rows, cols, acc)
				}
			}
			if done != nil && p0+kb == k {
				done(i0+ib, i0+ib+mb, j0, j0+n)
			}
		}
	}
}

// keepTile copies (or adds, when acc) the rows×cols part of an edge tile (nr values a row)
// inside c (ldc values a row).
func keepTile(c []float32, ldc int, tile []float32, nr, rows, cols int, acc bool) {
	for r := range rows {
		row := c[r*ldc : r*ldc+cols]
		if acc {
			for j := range row {
				row[j] += tile[r*nr+j]
			}
		} else {
			copy(row, tile[r*nr:r*nr+cols])
		}
	}
}

// inPlace reports whether a panel of width values of op(x) (x's stored rows, one per step
// of k) can be read where it is stored: x is not transposed and the panel is whole.
func inPlace(x matrix, width, full int) bool { return !x.t && width == full }

// packB copies rows [p0, p0+kb) and columns [j0, j0+n) of op(b) into panels of nr
// columns: panel jp holds, for each k, nr consecutive values (zero past column n). Panels
// the kernel reads in place (inPlace) are skipped. Each loop walks b in memory order.
func packB(dst []float32, b matrix, p0, kb, j0, n, nr int) {
	for jp := 0; jp*nr < n; jp++ {
		panel := dst[jp*kb*nr : (jp+1)*kb*nr]
		cols := min(nr, n-jp*nr)
		if inPlace(b, cols, nr) {
			continue
		}
		if !b.t {
			for p := range kb {
				row := panel[p*nr : (p+1)*nr]
				copy(row, b.x[(p0+p)*b.ld+j0+jp*nr:][:cols])
				clear(row[cols:])
			}
			continue
		}
		// op(b)[p][j] = b[j][p]: read stored rows of b along p, eight at a time so that each
		// step of p writes eight adjacent values of the panel rather than one a cache line.
		j := 0
		for ; j+8 <= cols; j += 8 {
			first := (j0 + jp*nr + j) * b.ld
			r0 := b.x[first+p0:][:kb]
			r1 := b.x[first+b.ld+p0:][:kb]
			r2 := b.x[first+2*b.ld+p0:][:kb]
			r3 := b.x[first+3*b.ld+p0:][:kb]
			r4 := b.x[first+4*b.ld+p0:][:kb]
			r5 := b.x[first+5*b.ld+p0:][:kb]
			r6 := b.x[first+6*b.ld+p0:][:kb]
			r7 := b.x[first+7*b.ld+p0:][:kb]
			for p := range kb {
				d := panel[p*nr+j : p*nr+j+8]
				d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7] = r0[p], r1[p], r2[p], r3[p], r4[p], r5[p], r6[p], r7[p]
			}
		}
		for ; j < cols; j++ {
			src := b.x[(j0+jp*nr+j)*b.ld+p0:][:kb]
			for p, v := range src {
				panel[p*nr+j] = v
			}
		}
		for j := cols; j < nr; j++ {
			for p := range kb {
				panel[p*nr+j] = 0
			}
		}
	}
}

// packA copies rows [i0, i0+mb) and columns [p0, p0+kb) of op(a) into panels of t.mr
// rows: panel ip holds, for each k, mr consecutive values (zero past row mb). Panels the
// kernel reads in place (t.aInPlace) are skipped. Each loop walks a in memory order.
func packA(dst []float32, t tiling, a matrix, i0, mb, p0, kb int) {
	mr := t.mr
	for ip := 0; ip*mr < mb; ip++ {
		panel := dst[ip*kb*mr : (ip+1)*kb*mr]
		rows := min(mr, mb-ip*mr)
		first := i0 + ip*mr
		if t.aInPlace(a, rows) {
			continue
		}
		if a.t {
			// op(a)[i][p] = a[p][i]: the panel's rows are adjacent in each stored row.
			for p := range kb {
				dstP := panel[p*mr : (p+1)*mr]
				copy(dstP, a.x[(p0+p)*a.ld+first:][:rows])
				clear(dstP[rows:])
			}
			continue
		}
		if mr == 8 && rows == 8 {
			// The NEON kernel's full panels (the amd64 kernels read them in place), unrolled:
			// 5-10% more GFLOP/s than the loop below on products whose A is not transposed
			// (BenchmarkKernels forward and decode with AVX-512, alternated in one sitting).
			r0 := a.x[(first+0)*a.ld+p0:][:kb]
			r1 := a.x[(first+1)*a.ld+p0:][:kb]
			r2 := a.x[(first+2)*a.ld+p0:][:kb]
			r3 := a.x[(first+3)*a.ld+p0:][:kb]
			r4 := a.x[(first+4)*a.ld+p0:][:kb]
			r5 := a.x[(first+5)*a.ld+p0:][:kb]
			r6 := a.x[(first+6)*a.ld+p0:][:kb]
			r7 := a.x[(first+7)*a.ld+p0:][:kb]
			for p := range kb {
				d := panel[p*8 : p*8+8]
				d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7] = r0[p], r1[p], r2[p], r3[p], r4[p], r5[p], r6[p], r7[p]
			}
			continue
		}
		if rows < mr {
			clear(panel)
		}
		for r := range rows {
			src := a.x[(first+r)*a.ld+p0:][:kb]
			for p, v := range src {
				panel[p*mr+r] = v
			}
		}
	}
}
