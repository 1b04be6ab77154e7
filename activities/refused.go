package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"

	"github.com/jackc/pgx/v5/pgconn"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/acme/aftersales/workflows"
)

// A read-model write can fail in two ways, and they need opposite answers:
//   - an outage (PostgreSQL down, a lost connection): retry until it is back;
//     the workflows retry every few seconds, so the read model catches up
//     within seconds of PostgreSQL's return;
//   - a data error (PostgreSQL refuses the data itself: a NUL byte, invalid
//     UTF-8, a violated constraint): no retry can ever succeed, and retrying
//     would wedge the case (every later write of it carries the same data).
//
// The validators keep such data out of new histories (package input); this
// is the net under them, for histories recorded before they did. A refused
// write is tried once more with NUL characters and invalid UTF-8 replaced by
// U+FFFD (the history keeps the original); if PostgreSQL still refuses it, the write is
// dropped with a non-retryable ErrReadModelRefused, which the workflows log
// and carry on from. Either way it is counted in read_model_refused_total
// (alert on any increase) and logged with the workflow ID.

// dataError reports an error PostgreSQL raised about the data itself:
// SQLSTATE class 22 (data exception) or 23 (integrity constraint violation).
func dataError(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || len(pgErr.Code) < 2 {
		return false
	}
	class := pgErr.Code[:2]
	return class == "22" || class == "23"
}

// writeOrRefuse runs write(v) with the policy above; record names the
// read model ("complaint", "reward", "appeal", "cycle") in the metric.
func writeOrRefuse[T any](ctx context.Context, a *Activities, record string, v T, write func(context.Context, T) error) error {
	err := write(ctx, v)
	if !dataError(err) {
		return err
	}
	outcome := "dropped"
	if clean, ok := scrubbed(v); ok {
		if retryErr := write(ctx, clean); retryErr == nil {
			outcome = "written_scrubbed"
		} else {
			err = retryErr
		}
	}
	a.Metrics.refused(record, outcome)
	wfID := ""
	if activity.IsActivity(ctx) {
		wfID = activity.GetInfo(ctx).WorkflowExecution.ID
	}
	// The error names the SQLSTATE and constraint, never the data (which
	// may be personal, R7).
	var pgErr *pgconn.PgError
	errors.As(err, &pgErr)
	a.logger().ErrorContext(ctx, "read model refused a write", slog.String("workflow_id", wfID),
		slog.String("record", record), slog.String("outcome", outcome),
		slog.String("sqlstate", pgErr.Code), slog.String("constraint", pgErr.ConstraintName))
	if outcome == "written_scrubbed" {
		return nil
	}
	return temporal.NewNonRetryableApplicationError("read model refused the write (SQLSTATE "+pgErr.Code+")",
		workflows.ErrReadModelRefused, nil)
}

// scrubbed returns v through its JSON form with every NUL character
// replaced by U+FFFD (encoding/json itself turns invalid UTF-8 into U+FFFD).
func scrubbed[T any](v T) (T, bool) {
	b, err := json.Marshal(v)
	if err != nil {
		return v, false
	}
	var out T
	if json.Unmarshal(bytes.ReplaceAll(b, []byte(`\u0000`), []byte(`\ufffd`)), &out) != nil {
		return v, false
	}
	return out, true
}
