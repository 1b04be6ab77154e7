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
	var at map[string]time.Time
	var err error
	r.Rows, r.Escalated, r.TimedOut, at, err = b.waitEscalated(ctx, "steady", prefix, r.From.Add(window), timeout, time.Minute)
	if err != nil {
		return r, err
	}
	var late []time.Duration
	for no, t := range at {
		late = append(late, t.Sub(due[no]))
	}
	r.Lateness = latenessOf(late)
	return r, nil
}
