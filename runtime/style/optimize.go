package style

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"gonum.org/v1/gonum/optimize"
)

// Optimizers (Options.Optimizer).
const (
	LBFGS = "lbfgs"
	Adam  = "adam"
)

// Options configure Run.
type Options struct {
	// Optimizer is LBFGS (default) or Adam.
	Optimizer string
	// Rounds and Iterations: L-BFGS runs Rounds times, each a fresh L-BFGS of at most
	// Iterations loss evaluations from where the last one stopped (the book's 20 rounds of
	// scipy's fmin_l_bfgs_b with maxfun=20); Adam takes Rounds·Iterations steps, reported
	// per round.
	Rounds, Iterations int
	// LR is Adam's step size, in pixel units (RGB in [0, 255]).
	LR float64
	// Corrections is L-BFGS's number of correction pairs (0: 10, as scipy's L-BFGS-B).
	Corrections int
	// Round, when set, is called after each round with the image reached (borrowed for the
	// call); its error stops Run.
	Round func(r Round) error
	// Eval, when set, is called after each loss evaluation.
	Eval func(evals int, l Loss)
}

// Round reports the end of one round of Run.
type Round struct {
	Index, Rounds int // from 1
	// Loss is the loss at X; Evals counts the evaluations of this round.
	Loss  Loss
	Evals int
	// Elapsed is the round's wall time.
	Elapsed time.Duration
	// X is the image reached, [3, H, W] RGB in [0, 255]: borrowed for the callback.
	X []float32
	// Status says how the round ended (L-BFGS: gonum's status, such as
	// FunctionEvaluationLimit).
	Status string
}

// Run minimises the loss from the image x (float32 [3, H, W] RGB in [0, 255]), updating x in
// place, and returns the loss of the final image. Pixels are not clipped while optimising
// (as in the book); clip them when saving.
func (t *Transfer) Run(x []float32, opt Options) (Loss, error) {
	if len(x) != t.Len() {
		return Loss{}, fmt.Errorf("style: Run: image of %d values, want %d", len(x), t.Len())
	}
	if opt.Rounds < 1 || opt.Iterations < 1 {
		return Loss{}, fmt.Errorf("style: %d rounds of %d iterations: want at least one of each", opt.Rounds, opt.Iterations)
	}
	switch opt.Optimizer {
	case "", LBFGS:
		if opt.Iterations < 2 {
			return Loss{}, errors.New("style: L-BFGS needs at least 2 evaluations per round")
		}
		return t.runLBFGS(x, opt)
	case Adam:
		if !(opt.LR > 0) || math.IsInf(opt.LR, 0) {
			return Loss{}, fmt.Errorf("style: Adam learning rate %v: want a positive number", opt.LR)
		}
		return t.runAdam(x, opt)
	}
	return Loss{}, fmt.Errorf("style: optimizer %q: want %s or %s", opt.Optimizer, LBFGS, Adam)
}

// runLBFGS runs gonum's L-BFGS (More-Thuente line search, the strong Wolfe conditions) in
// float64 over the pixels; each evaluation is one forward and backward pass.
func (t *Transfer) runLBFGS(x []float32, opt Options) (Loss, error) {
	n := len(x)
	var (
		x32, g32 = make([]float32, n), make([]float32, n)
		cacheX   = make([]float64, n) // the point of the cached evaluation
		cacheG   = make([]float64, n)
		cached   bool
		cacheL   Loss
		evalErr  error
		evals    int
		seen     []Loss // the losses evaluated this round
	)
	eval := func(xs []float64) (Loss, error) {
		if cached && slices.Equal(xs, cacheX) {
			return cacheL, nil
		}
		for i, v := range xs {
			x32[i] = float32(v)
		}
		l, err := t.Evaluate(x32, g32)
		if err != nil {
			return l, err
		}
		for i, v := range g32 {
			cacheG[i] = float64(v)
		}
		copy(cacheX, xs)
		cached, cacheL = true, l
		evals++
		seen = append(seen, l)
		if opt.Eval != nil {
			opt.Eval(evals, l)
		}
		return l, nil
	}
	prob := optimize.Problem{
		Func: func(xs []float64) float64 {
			l, err := eval(xs)
			if err != nil {
				evalErr = err
				return math.NaN()
			}
			return l.Total
		},
		Grad: func(g, xs []float64) {
			if _, err := eval(xs); err != nil {
				evalErr = err
				for i := range g {
					g[i] = math.NaN()
				}
				return
			}
			copy(g, cacheG)
		},
		Status: func() (optimize.Status, error) {
			if evalErr != nil {
				return optimize.Failure, evalErr
			}
			return optimize.NotTerminated, nil
		},
	}
	x64 := make([]float64, n)
	for i, v := range x {
		x64[i] = float64(v)
	}
	var last Loss
	for r := 1; r <= opt.Rounds; r++ {
		start, before := time.Now(), evals
		seen = seen[:0]
		if cached {
			seen = append(seen, cacheL) // the round may start at the last point evaluated
		}
		settings := &optimize.Settings{
			FuncEvaluations: opt.Iterations,
			Converger:       optimize.NeverTerminate{},
		}
		method := &optimize.LBFGS{Store: opt.Corrections, Linesearcher: &optimize.MoreThuente{}}
		if method.Store == 0 {
			method.Store = 10
		}
		res, err := optimize.Minimize(prob, x64, settings, method)
		if evalErr != nil {
			return last, evalErr
		}
		status := ""
		if res != nil {
			status = res.Status.String()
		}
		if err != nil {
			// A line search that cannot progress ends the round; keep the best point.
			status = err.Error()
		}
		if res != nil && len(res.X) == n && !math.IsInf(res.F, 0) && !math.IsNaN(res.F) {
			copy(x64, res.X)
		}
		// The loss at the best point: one of this round's evaluations, or the cached one.
		l, found := cacheL, false
		if res != nil {
			for _, s := range seen {
				if s.Total == res.F {
					l, found = s, true
				}
			}
		}
		if !found {
			if l, err = eval(x64); err != nil {
				return last, err
			}
		}
		last = l
		for i, v := range x64 {
			x[i] = float32(v)
		}
		if opt.Round != nil {
			if err := opt.Round(Round{Index: r, Rounds: opt.Rounds, Loss: l, Evals: evals - before, Elapsed: time.Since(start), X: x, Status: status}); err != nil {
				return l, err
			}
		}
	}
	return last, nil
}

// runAdam takes Rounds·Iterations Adam steps (Kingma & Ba 2015: beta1 0.9, beta2 0.999,
// epsilon 1e-8). The reported loss of a round is the one at its last step's starting image.
func (t *Transfer) runAdam(x []float32, opt Options) (Loss, error) {
	const b1, b2, eps = 0.9, 0.999, 1e-8
	n := len(x)
	g := make([]float32, n)
	m, v := make([]float64, n), make([]float64, n)
	lr := opt.LR
	var last Loss
	step := 0
	for r := 1; r <= opt.Rounds; r++ {
		start := time.Now()
		for range opt.Iterations {
			l, err := t.Evaluate(x, g)
			if err != nil {
				return last, err
			}
			last = l
			step++
			if opt.Eval != nil {
				opt.Eval(step, l)
			}
			c1 := 1 - math.Pow(b1, float64(step))
			c2 := 1 - math.Pow(b2, float64(step))
			for i, gi := range g {
				gd := float64(gi)
				m[i] = b1*m[i] + (1-b1)*gd
				v[i] = b2*v[i] + (1-b2)*gd*gd
				x[i] -= float32(lr * (m[i] / c1) / (math.Sqrt(v[i]/c2) + eps))
			}
		}
		if opt.Round != nil {
			if err := opt.Round(Round{Index: r, Rounds: opt.Rounds, Loss: last, Evals: opt.Iterations, Elapsed: time.Since(start), X: x, Status: "steps done"}); err != nil {
				return last, err
			}
		}
	}
	return last, nil
}
