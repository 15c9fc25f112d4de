package tfjs

import (
	"fmt"
	"math"
)

// cfg reads a layer's Keras config with defaults, recording the first error, which names the
// layer, its class and the field.
type cfg struct {
	l   *Layer
	err error
}

func (c *cfg) fail(key, format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf("tfjs: layer %q (%s): config %q: %s", c.l.Name, c.l.Class, key, fmt.Sprintf(format, args...))
	}
}

// present reports whether key is set to something other than null.
func (c *cfg) present(key string) bool {
	v, ok := c.l.Config[key]
	return ok && v != nil
}

func (c *cfg) str(key, def string) string {
	v, ok := c.l.Config[key]
	if !ok || v == nil {
		return def
	}
	s, ok := v.(string)
	if !ok {
		c.fail(key, "want a string, got %v", v)
		return def
	}
	return s
}

func (c *cfg) boolean(key string, def bool) bool {
	v, ok := c.l.Config[key]
	if !ok || v == nil {
		return def
	}
	b, ok := v.(bool)
	if !ok {
		c.fail(key, "want true or false, got %v", v)
		return def
	}
	return b
}

func (c *cfg) float(key string, def float64) float64 {
	v, ok := c.l.Config[key]
	if !ok || v == nil {
		return def
	}
	f, ok := v.(float64)
	if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
		c.fail(key, "want a finite number, got %v", v)
		return def
	}
	return f
}

// toInt converts a JSON number that must be an integer in [lo, hi].
func toInt(v any, lo, hi int) (int, bool) {
	f, ok := v.(float64)
	if !ok || f != math.Trunc(f) || f < float64(lo) || f > float64(hi) {
		return 0, false
	}
	return int(f), true
}

// maxDim bounds sizes read from configs (kernel sizes, strides, paddings, units).
const maxDim = 1 << 24

func (c *cfg) integer(key string, def, lo int) int {
	v, ok := c.l.Config[key]
	if !ok || v == nil {
		return def
	}
	n, ok := toInt(v, lo, maxDim)
	if !ok {
		c.fail(key, "want an integer in [%d, %d], got %v", lo, maxDim, v)
		return def
	}
	return n
}

// ints reads a list of n integers >= lo, or a single integer used n times (as Keras allows
// for kernel_size, strides, ...).
func (c *cfg) ints(key string, n int, def []int, lo int) []int {
	v, ok := c.l.Config[key]
	if !ok || v == nil {
		return def
	}
	if k, ok := toInt(v, lo, maxDim); ok {
		out := make([]int, n)
		for i := range out {
			out[i] = k
		}
		return out
	}
	list, ok := v.([]any)
	if !ok || len(list) != n {
		c.fail(key, "want %d integers, got %v", n, v)
		return def
	}
	out := make([]int, n)
	for i, x := range list {
		k, ok := toInt(x, lo, maxDim)
		if !ok {
			c.fail(key, "want %d integers >= %d, got %v", n, lo, v)
			return def
		}
		out[i] = k
	}
	return out
}

// shape reads a shape list whose entries are integers or null (-1).
func (c *cfg) shape(key string) []int {
	v, ok := c.l.Config[key]
	if !ok || v == nil {
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		c.fail(key, "want a list, got %v", v)
		return nil
	}
	out := make([]int, len(list))
	for i, x := range list {
		if x == nil {
			out[i] = -1
			continue
		}
		k, ok := toInt(x, 1, maxDim)
		if !ok {
			c.fail(key, "entry %d: want a positive integer or null, got %v", i, x)
			return nil
		}
		out[i] = k
	}
	return out
}

// axis reads a Keras axis that may be given as an integer or a one-element list.
func (c *cfg) axis(key string, def int) int {
	v, ok := c.l.Config[key]
	if !ok || v == nil {
		return def
	}
	if list, ok := v.([]any); ok {
		if len(list) != 1 {
			c.fail(key, "want one axis, got %v", v)
			return def
		}
		v = list[0]
	}
	k, ok := toInt(v, -8, 8)
	if !ok {
		c.fail(key, "want an axis, got %v", v)
		return def
	}
	return k
}
