package server

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/acme/aftersales/input"
	"github.com/acme/aftersales/workflows"
)

// Commands on running cases (complaints, appeals, rewards) are Temporal
// updates: decoded and checked here, validated again by the workflow.

// idempotencyKeyHeader names a command: a retry with the same key is the
// same Temporal update (the key is its update ID), so it is applied at most
// once and answers with the first attempt's result.
const idempotencyKeyHeader = "Idempotency-Key"

// sendUpdate runs an Update to completion and decodes its result into out.
// A validator's rejection is 409 (the state forbids it) or 400 (bad input);
// a workflow Temporal does not know is answered by notFound.
//
// It waits in two stages, so that a command past the request's deadline
// can say what became of it: not yet accepted (no worker took it: it may
// still be applied once one does), or accepted (it will be applied). Either
// way the answer is 503 with Retry-After, and the same request with the
// same Idempotency-Key then answers with the outcome, without applying it twice.
func (s *Server) sendUpdate(r *http.Request, workflowID, update string, arg, out any, notFound func() error) error {
	ctx := r.Context()
	key := r.Header.Get(idempotencyKeyHeader)
	if p := input.ID(key); key != "" && p != "" {
		return badRequest(map[string]string{idempotencyKeyHeader: p})
	}
	h, err := s.temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		UpdateID: key, WorkflowID: workflowID, UpdateName: update, Args: []any{arg},
		WaitForStage: client.WorkflowUpdateStageAccepted,
	})
	accepted := err == nil
	if err == nil {
		err = h.Get(ctx, out)
	}
	var missing *serviceerror.NotFound
	switch {
	case err == nil:
		return nil
	case workflows.IsRejection(err, workflows.ErrConflict):
		_, msg := workflows.RejectionOf(err)
		return &apiError{Status: http.StatusConflict, Code: "invalid_state", Message: msg}
	case workflows.IsRejection(err, workflows.ErrInvalidInput):
		// The validator names the field in its details.
		rej, msg := workflows.RejectionOf(err)
		return badRequest(map[string]string{cmp.Or(rej.Field, "body"): msg})
	case errors.As(err, &missing):
		return notFound()
	case ctx.Err() != nil || isUnavailable(err):
		how := "it was not accepted in time (no worker took it) and may still be applied once one does"
		if accepted {
			how = "it was accepted and will be applied"
		}
		retry := "retry with the same " + idempotencyKeyHeader + " header to learn its outcome without applying it twice"
		if key == "" {
			retry = "send commands with an " + idempotencyKeyHeader + " header to retry them safely"
		}
		what := fmt.Sprintf("the %s command got no answer within %s", update, s.timeout)
		if ctx.Err() == nil {
			what = fmt.Sprintf("the %s command could not reach Temporal", update)
		}
		return unavailable("temporal", what+": "+how+"; "+retry)
	default:
		return fmt.Errorf("%s %s: %w", update, workflowID, err)
	}
}

// commandHandler decodes a command's body B (only what a client may say:
// a field the server sets, such as the actor, is an unknown field), builds
// the workflow's input from it and the caller (R1/R7: the actor is the
// authenticated caller), reporting field problems, then sends it.
func commandHandler[B, In any](send func(w http.ResponseWriter, r *http.Request, arg any) error, build func(r *http.Request, body B, errs fieldErrors) In) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var body B
		if r.ContentLength != 0 {
			if err := decodeJSON(w, r, &body); err != nil {
				return err
			}
		}
		errs := fieldErrors{}
		in := build(r, body, errs)
		if err := errs.err(); err != nil {
			return err
		}
		return send(w, r, in)
	}
}
