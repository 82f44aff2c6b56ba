package plan

import (
	"errors"
	"fmt"
	"time"
)

// OpTime is how long one operation of a prepared sequence takes.
type OpTime struct {
	Op   string        // what it computes (Describe)
	Time time.Duration // one run of it, the mean of many
}

// Profiler is implemented by sequences that can time their operations one at a time.
type Profiler interface {
	// Profile runs each operation alone, times times in a row, and returns the mean time of
	// one run of each, in order. It changes what the operations write (the parameters, the
	// counters): profile a sequence whose results no longer matter.
	Profile(times int) ([]OpTime, error)
}

// Describe names an operation briefly, for profiles and messages: the kernel and its
// sizes, a GEMM's m×n×k and transposes, a fused step's kernels.
func Describe(op Op) string {
	switch op := op.(type) {
	case KernelOp:
		switch op.Kernel {
		case "gemm":
			a, b := "A", "B"
			if op.Dims[3] == 1 {
				a = "Aᵀ"
			}
			if op.Dims[4] == 1 {
				b = "Bᵀ"
			}
			return fmt.Sprintf("gemm %s·%s %d×%d×%d", a, b, op.Dims[0], op.Dims[1], op.Dims[2])
		case "fused":
			if op.Fusion != nil {
				return fmt.Sprintf("fused %s, %d×%d", op.Fusion.kernels(), op.Fusion.Rows, op.Fusion.Cols)
			}
		}
		return fmt.Sprintf("%s %v", op.Kernel, op.Dims)
	case GatherOp:
		return fmt.Sprintf("gather %d×%d", op.B, op.D)
	case AdamOp:
		if op.SGD {
			return fmt.Sprintf("sgd (%d parameters)", len(op.Params))
		}
		return fmt.Sprintf("adam (%d parameters)", len(op.Params))
	case AdvanceOp:
		return "advance"
	}
	return fmt.Sprintf("%T", op)
}

// Profile times each operation of the training step alone (Profiler), times times over. It
// changes the parameters and Adam's moments: it is for an executor whose results no longer
// matter, such as a benchmark's once it has timed its epochs. The counters are put back, so
// later steps still find their batches.
func (ex *executor) Profile(times int) ([]OpTime, error) {
	if ex.train == nil {
		return nil, errors.New("plan: Profile of a program without a loss")
	}
	p, ok := ex.train.(Profiler)
	if !ok {
		return nil, fmt.Errorf("plan: %s does not time its operations", ex.be.Name())
	}
	if times <= 0 {
		return nil, fmt.Errorf("plan: Profile %d times", times)
	}
	if ex.queued < ex.epochLen {
		return nil, fmt.Errorf("plan: Profile in an epoch of device batches with %d of %d steps taken", ex.queued, ex.epochLen)
	}
	var out []OpTime
	err := ex.onDevice(func() error {
		saved, err := ex.be.ReadCounters(ex.counters)
		if err != nil {
			return err
		}
		if out, err = p.Profile(times); err != nil {
			return err
		}
		return ex.be.SetCounters(ex.counters, saved)
	})
	return out, err
}
