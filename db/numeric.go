package db

import (
	"math/big"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/acme/aftersales/scoring"
)

// Scores are numeric(4,1) in PostgreSQL and scoring.Tenths in Go: converted
// exactly, never through float64 (R4.4: right to the decimal).

// Numeric is an exact numeric(4,1) parameter from tenths.
func Numeric(t scoring.Tenths) pgtype.Numeric {
	return pgtype.Numeric{Int: big.NewInt(int64(t)), Exp: -1, Valid: true}
}

// OptNumeric is Numeric, or SQL NULL for nil ("no data", R4.4).
func OptNumeric(t *scoring.Tenths) pgtype.Numeric {
	if t == nil {
		return pgtype.Numeric{}
	}
	return Numeric(*t)
}

// TenthsOf reads a numeric(4,1) column exactly; ok is false for NULL.
func TenthsOf(n pgtype.Numeric) (t scoring.Tenths, ok bool) {
	if !n.Valid || n.NaN || n.InfinityModifier != pgtype.Finite || n.Int == nil {
		return 0, false
	}
	v := new(big.Rat).SetInt(n.Int)
	p := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(n.Exp))), nil))
	if n.Exp >= 0 {
		v.Mul(v, p)
	} else {
		v.Quo(v, p)
	}
	return scoring.RoundHalfUp(v), true
}

func abs(n int32) int32 {
	if n < 0 {
		return -n
	}
	return n
}
