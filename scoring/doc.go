// Package scoring computes the monthly CSI score (R4.1-R4.4), the probation
// rule (R4.4) and the annual grade (R4.6) of the rule book, ../shared/domain-rules.md.
//
// Everything here is a pure, deterministic function of its arguments: no I/O,
// no clock, no randomness, no map-order dependence. Workflow code may call it
// directly; activities may too.
//
// # Exactness (R4.4)
//
// The arithmetic is exact: every indicator is a math/big.Rat, the weighted
// score is a math/big.Rat, and the only rounding is one half-up rounding to one
// decimal of the final score. A float64 pipeline gets ties wrong: with the
// surveys (4,4,5,4,4) and (4,3,5,4,4), 10 work orders with 8 first-time fixes
// and 2 timely complaints out of 2, the exact score is 84.45 (-> 84.5), but
// 0.7*83.5 + 0.2*80 + 0.1*100 in float64 is 84.449999999999989 (-> 84.4).
// The indicators (CSAT, FTFR, timeliness) are reported rounded half-up to one
// decimal as well; that rounding is for display only and never feeds the score.
//
// Results are Tenths (a fixed-point decimal with one place) so a caller that
// JSON-encodes them gets 84.5, never 84.49999999999999.
//
// # Decisions (where the rules leave room)
//
//   - Score returns (*Result, error). A nil *Result with a nil error means "no
//     result this month" (no data in any indicator, R4.4); Probation takes the
//     same *Result, so "no result" and "score 0" can never be confused.
//   - Invalid input (a rating outside 1..5, a negative count, first-time fixes
//     above work orders, timely complaints above complaints, a deduction
//     outside 1..100 points) is an error wrapping ErrInvalidMonth, never a
//     panic: a panic in workflow code would fail the workflow task over and
//     over. Every problem is reported, in a fixed order.
//   - Confirmed deductions are subtracted from the exact weighted score, then
//     the result is floored at 0, then rounded once. (Deduction points are
//     whole numbers, so this equals rounding first and subtracting after; the
//     order is fixed anyway so the single rounding stays the last step.)
//   - Two or more confirmed deductions: score 0.0 and SeriousWarning, whatever
//     the indicators say; DeductionPoints still reports their sum.
//   - A month with confirmed deductions but no indicator data has no result
//     (R4.4 "no data in any indicator gets no result"): a deduction does not
//     invent a score. The deductions stay on record elsewhere (R7); the caller
//     can still issue the serious warning with Month.SeriousWarning.
//   - The band is taken from the rounded score, the number people see: an
//     exact 89.95 rounds to 90.0 and is excellent.
//   - Probation compares the rounded scores of two consecutive months; a month
//     without a result breaks the chain.
//   - Annual: see Annual for ranks, ties, percent cut-offs, missing months and
//     precedence.
package scoring
