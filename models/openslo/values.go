package openslo

import (
	"encoding/json"
	"fmt"
	"strings"
)

// number reads a YAML number (not a quoted one).
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// shiftDecimal moves the decimal point of a plain decimal by n places, exactly:
// shiftDecimal("0.999", 2) = "99.9", shiftDecimal("99.5", -2) = "0.995".
func shiftDecimal(s string, n int) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, _ := strings.Cut(s, ".")
	digits := intPart + frac
	point := len(intPart) + n
	for point > len(digits) {
		digits += "0"
	}
	for point <= 0 {
		digits = "0" + digits
		point++
	}
	out := strings.TrimLeft(digits[:point], "0")
	if out == "" {
		out = "0"
	}
	if rest := strings.TrimRight(digits[point:], "0"); rest != "" {
		out += "." + rest
	}
	if neg {
		out = "-" + out
	}
	return out
}

func isString(v any) bool { _, ok := v.(string); return ok }

// str is v if it is a string, else "".
func str(v any) string {
	s, _ := v.(string)
	return s
}

func nested(m map[string]any, keys ...string) string {
	for _, k := range keys[:len(keys)-1] {
		m, _ = m[k].(map[string]any)
	}
	return str(m[keys[len(keys)-1]])
}

func firstValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		if len(x) > 0 {
			return str(x[0])
		}
	}
	return ""
}

func kindOf(v any) string {
	switch v.(type) {
	case string:
		return "text"
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	case map[any]any:
		return "a mapping with keys that are not text"
	}
	return fmt.Sprintf("a %T", v)
}

// canonical is v as JSON with sorted keys ("" for nothing), so equal content compares equal.
func canonical(v any) string {
	b, err := json.Marshal(v)
	if err != nil || string(b) == "{}" || string(b) == "null" {
		return ""
	}
	return string(b)
}

func canonicalMap(m map[string]any) string {
	if len(m) == 0 {
		return ""
	}
	return canonical(m)
}

func canonicalStrings(m map[string]string) string {
	if len(m) == 0 {
		return ""
	}
	return canonical(m)
}
