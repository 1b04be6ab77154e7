package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/acme/aftersales/input"
	"github.com/acme/aftersales/workflows"
)

// Commands on running cases (complaints, appeals, rewards) are Temporal
// updates: decoded and checked here, validated again by the workflow.

// fieldName is how a validator's message starts: the field it is about.
var fieldName = regexp.MustCompile(`^[a-z_]+(\.[a-z_]+)?$`)

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
		return &apiError{Status: http.StatusConflict, Code: "invalid_state", Message: rejectionMessage(err)}
	case workflows.IsRejection(err, workflows.ErrInvalidInput):
		// Validator messages start with the field they are about.
		msg := rejectionMessage(err)
		field, rest, _ := strings.Cut(msg, " ")
		if !fieldName.MatchString(field) {
			field, rest = "body", msg
		}
		return badRequest(map[string]string{field: rest})
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

// rejectionMessage is the validator's own message, without the SDK's wrapping.
func rejectionMessage(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, " (type: "); i > 0 {
		msg = msg[:i]
	}
	return msg
}

// commandHandler decodes and checks a command body, then sends it.
// check fills the actor and reports field problems.
//
// serverFields are input fields the server fills itself (the actor is the
// authenticated caller, R1/R7; a new assignee's team comes from the
// database): a client sending them gets 400, not a silent overwrite.
func commandHandler[T any](send func(w http.ResponseWriter, r *http.Request, arg any) error, check func(r *http.Request, in *T, errs fieldErrors), serverFields ...string) handlerFunc {
	serverFields = append(serverFields, "actor")
	return func(w http.ResponseWriter, r *http.Request) error {
		var in T
		if r.ContentLength != 0 {
			body, err := readBody(w, r)
			if err != nil {
				return err
			}
			var top map[string]json.RawMessage
			if json.Unmarshal(body, &top) == nil {
				for _, f := range serverFields {
					if _, ok := top[f]; ok {
						return badRequest(map[string]string{f: "unknown field: the server sets it"})
					}
				}
			}
			if err := decodeBody(body, &in); err != nil {
				return err
			}
		}
		errs := fieldErrors{}
		check(r, &in, errs)
		if err := errs.err(); err != nil {
			return err
		}
		return send(w, r, in)
	}
}
