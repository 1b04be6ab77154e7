package main

import (
	"context"
	"time"
)

// steadyResult is the lateness of level-1 contact escalations of N
// complaints whose contact deadlines are spread evenly over a window (the
// ordinary day, as against the burst's midnight).
type steadyResult struct {
	N         int       `json:"n"`
	From      time.Time `json:"from"` // the first deadline
	WindowSec float64   `json:"window_seconds"`
	Create    opStats   `json:"create"`
	Rows      int       `json:"rows"`
	Escalated int       `json:"escalated"`
	TimedOut  bool      `json:"timed_out"`
	Lateness  lateness  `json:"lateness"`
}

// measureSteady creates n complaints over HTTP whose contact deadlines
// fall one every window/n from an instant after the creation ends, waits
// until each has its level-1 escalation (or timeout after the window), and
// measures each escalation against its own deadline.
func (b *bench) measureSteady(ctx context.Context, n int, window time.Duration, rate float64, timeout time.Duration) (steadyResult, error) {
	r := steadyResult{N: n, From: plannedInstant(n, rate, 30*time.Second), WindowSec: window.Seconds()}
	step := window / time.Duration(max(n, 1))
	due := make(map[string]time.Time, n)
	for i := range n {
		due[b.no("S", i)] = r.From.Add(time.Duration(i) * step)
	}
	logf("steady: creating %d complaints due one every %s from %s for %s", n, step, r.From.Format(time.RFC3339), window)
	r.Create = runTimed(ctx, n, b.conc, func(ctx context.Context, i int) error {
		received := due[b.no("S", i)].Add(-24 * time.Hour)
		return b.createHTTP(ctx, b.no("S", i), &received)
	})
	if time.Now().After(r.From) {
		logf("steady: WARNING creation ended after the first deadline; those are late by creation time")
	}

	prefix := "S-" + b.tag + "-%"
	end := r.From.Add(window)
	lastLog := time.Now()
	for {
		var err error
		if r.Rows, r.Escalated, err = b.escalated(ctx, prefix); err != nil {
			return r, err
		}
		if time.Now().After(end) && r.Escalated >= r.Rows {
			break
		}
		if time.Now().After(end.Add(timeout)) {
			r.TimedOut = true
			logf("steady: TIMEOUT %s after the last deadline with %d of %d escalated", timeout, r.Escalated, r.Rows)
			break
		}
		if time.Since(lastLog) > time.Minute {
			logf("steady: %d of %d escalated, %s of the window left", r.Escalated, r.Rows, time.Until(end).Round(time.Second))
			lastLog = time.Now()
		}
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}

	rows, err := b.pool.Query(ctx, `SELECT complaint_no, escalated_at FROM escalations
		WHERE complaint_no LIKE $1 AND clock = 'contact' AND level = 1`, prefix)
	if err != nil {
		return r, err
	}
	defer rows.Close()
	var late []time.Duration
	for rows.Next() {
		var no string
		var at time.Time
		if err := rows.Scan(&no, &at); err != nil {
			return r, err
		}
		late = append(late, at.Sub(due[no]))
	}
	r.Lateness = latenessOf(late)
	return r, rows.Err()
}
