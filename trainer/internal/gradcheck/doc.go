// Package gradcheck compares a graph's analytic gradients with central finite differences,
// for the trainers' gradient-check tests (float64 throughout: it is the one place where
// float64 is the point).
//
// A check perturbs each chosen element x of a parameter tensor by ±Step, recomputes the loss
// L, and requires |g - fd| <= Atol + Rtol·|fd| where g is the analytic gradient and
// fd = (L(x+Step) - L(x-Step)) / (2·Step). The error of a central difference is
// O(Step²·L”'), plus float64 rounding of about 1e-16/Step; an activation kink (ReLU,
// LeakyReLU) straddled by a step gives a wrong fd, and such elements are reported, not
// hidden.
package gradcheck
