package charts

import (
	"math"
	"strconv"
	"strings"
)

// niceStep returns the smallest step of the form 1, 2 or 5 × 10ⁿ for which the
// multiples of the step covering [lo, hi] number at most maxTicks. Readers
// interpolate easily between such steps; 0.3 or 7 are much harder to read.
func niceStep(lo, hi float64, maxTicks int) float64 {
	if maxTicks < 2 {
		maxTicks = 2
	}
	span := hi - lo
	if !(span > 0) || math.IsInf(span, 0) {
		return 1
	}
	// Start one decade below the naive step so the loop finds the smallest fit.
	exp := math.Floor(math.Log10(span/float64(maxTicks))) - 1
	for {
		for _, m := range [...]float64{1, 2, 5} {
			step := m * math.Pow(10, exp)
			if tickCount(lo, hi, step) <= maxTicks {
				return roundTo(step, stepDecimals(step)+1)
			}
		}
		exp++
	}
}

// tickCount is the number of multiples of step in [floor(lo), ceil(hi)].
func tickCount(lo, hi, step float64) int {
	const eps = 1e-9
	first := math.Floor(lo/step + eps)
	last := math.Ceil(hi/step - eps)
	return int(last-first) + 1
}

// niceDomain widens [lo, hi] outwards to multiples of a nice step and returns
// the widened bounds with the step.
func niceDomain(lo, hi float64, maxTicks int) (float64, float64, float64) {
	if hi < lo {
		lo, hi = hi, lo
	}
	if hi == lo {
		// A flat series still needs a visible range around it.
		pad := math.Abs(lo) * 0.1
		if pad == 0 {
			pad = 1
		}
		lo, hi = lo-pad, hi+pad
	}
	step := niceStep(lo, hi, maxTicks)
	const eps = 1e-9
	d := stepDecimals(step)
	return roundTo(math.Floor(lo/step+eps)*step, d), roundTo(math.Ceil(hi/step-eps)*step, d), step
}

// ticksIn returns the multiples of step inside [lo, hi], computed as k×step and
// rounded to the step's decimals so that 0.1+0.2 style drift never reaches a
// label.
func ticksIn(lo, hi, step float64) []float64 {
	if !(step > 0) || hi < lo {
		return nil
	}
	const eps = 1e-9
	d := stepDecimals(step)
	var out []float64
	for k := math.Ceil(lo/step - eps); k*step <= hi+step*eps; k++ {
		out = append(out, roundTo(k*step, d))
	}
	return out
}

// stepDecimals is the number of decimals needed to print multiples of step.
func stepDecimals(step float64) int {
	if step <= 0 {
		return 0
	}
	d := int(-math.Floor(math.Log10(step) + 1e-9))
	if d < 0 {
		return 0
	}
	// A step of 2.5×10ⁿ never occurs (1/2/5 only), so one extra digit is not needed.
	return d
}

func roundTo(v float64, decimals int) float64 {
	p := math.Pow(10, float64(decimals))
	r := math.Round(v*p) / p
	if r == 0 {
		return 0 // no negative zero in labels
	}
	return r
}

// minus is the typographic minus sign: same width as a digit in tabular
// figures, so negative tick labels line up.
const minus = "\u2212"

// formatFixed prints v with exactly the given decimals and a typographic minus.
// Values of five or more integer digits get comma separators ("12,500");
// four-digit values stay compact ("1500") because axis labels are short.
func formatFixed(v float64, decimals int) string {
	v = roundTo(v, decimals)
	s := strconv.FormatFloat(math.Abs(v), 'f', decimals, 64)
	if intPart, frac, ok := strings.Cut(s, "."); len(intPart) > 4 {
		s = groupThousands(intPart)
		if ok {
			s += "." + frac
		}
	}
	if v < 0 {
		return minus + s
	}
	return s
}

func groupThousands(digits string) string {
	var b strings.Builder
	for i, r := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// formatPercent prints a fraction as a percentage with the given decimals
// ("62%", "99.95%", "−12%").
func formatPercent(frac float64, decimals int) string {
	return formatFixed(frac*100, decimals) + "%"
}

// percentDecimals is how many decimals percentage labels need for a tick step
// given as a fraction (0.2 → 0, 0.0005 → 2).
func percentDecimals(step float64) int {
	return stepDecimals(roundTo(step*100, 12))
}
