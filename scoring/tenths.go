package scoring

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// Tenths is a decimal with exactly one place, stored as the value x 10
// (845 is 84.5). Scores and indicators are Tenths so that they add, compare
// and JSON-encode exactly.
type Tenths int64

// String prints the value with one decimal: "84.5", "0.0", "100.0", "-0.5".
func (t Tenths) String() string {
	// Work on the magnitude as uint64 so that even math.MinInt64 prints right.
	sign := ""
	mag := uint64(t)
	if t < 0 {
		sign = "-"
		mag = -mag
	}
	return sign + strconv.FormatUint(mag/10, 10) + "." + strconv.FormatUint(mag%10, 10)
}

// MarshalJSON writes the value as a JSON number with one decimal (84.5, 0.0).
func (t Tenths) MarshalJSON() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalJSON reads a JSON number with at most one significant decimal
// (84.5, 84, 84.50). Anything that Tenths cannot hold exactly (84.45, 1e2,
// a string) is an error rather than a silent rounding. JSON null leaves the
// value unchanged, as encoding/json does for its own types.
func (t *Tenths) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		return nil
	}
	v, err := ParseTenths(s)
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// ParseTenths parses a plain decimal such as "84.5", "-0.5", "100" or
// "84.50". Digits after the first decimal must be zeros: "84.45" is an error
// because it is not a Tenths (round it deliberately with RoundHalfUp).
func ParseTenths(s string) (Tenths, error) {
	bad := func(why string) (Tenths, error) {
		return 0, fmt.Errorf("scoring: %q is not a one-decimal number: %s", s, why)
	}
	neg := strings.HasPrefix(s, "-")
	body := strings.TrimPrefix(s, "-")
	intPart, frac, hasDot := strings.Cut(body, ".")
	if intPart == "" || !allDigits(intPart) || (hasDot && (frac == "" || !allDigits(frac))) {
		return bad("want digits with an optional decimal point")
	}
	if len(intPart) > 1 && intPart[0] == '0' {
		return bad("leading zero")
	}
	if len(frac) > 1 && strings.Trim(frac[1:], "0") != "" {
		return bad("more than one decimal place")
	}
	whole, err := strconv.ParseInt(intPart, 10, 64)
	if err != nil || whole > (1<<63-1)/10-1 {
		return bad("out of range")
	}
	v := whole * 10
	if frac != "" {
		v += int64(frac[0] - '0')
	}
	if neg {
		v = -v
	}
	return Tenths(v), nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Rat returns the exact value as a big.Rat.
func (t Tenths) Rat() *big.Rat { return big.NewRat(int64(t), 10) }

var errRoundRange = errors.New("scoring: rounded value does not fit in Tenths")

// RoundHalfUp rounds r to one decimal, halves away from zero (四舍五入:
// 84.45 -> 84.5, 84.44999... -> 84.4, -0.05 -> -0.1). Scores are never
// negative, so "half up" and "half away from zero" agree wherever it matters.
// It panics only when the result does not fit in an int64 of tenths, which
// no score or indicator can reach.
func RoundHalfUp(r *big.Rat) Tenths {
	x := new(big.Rat).Mul(r, big.NewRat(10, 1))
	// For x = n/d with d > 0: round(|x|) = floor((2|n| + d) / (2d)).
	n := new(big.Int).Abs(x.Num())
	d := x.Denom()
	q := new(big.Int).Lsh(n, 1)
	q.Add(q, d)
	q.Quo(q, new(big.Int).Lsh(d, 1))
	if x.Sign() < 0 {
		q.Neg(q)
	}
	if !q.IsInt64() {
		panic(errRoundRange)
	}
	return Tenths(q.Int64())
}
