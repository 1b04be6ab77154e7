package server

import (
	"encoding/json"
	"time"

	"github.com/acme/aftersales/workflows"
)

// The bodies of the commands on running cases, as clients send them
// (api.md): only what a client may say. Each handler builds the workflow's
// input from its body and the caller: the actor is always the
// authenticated caller (R1, R7), and what the server knows (a new
// assignee's team and managers, the caller's roles) comes from the
// database, never from the body. A client that sends such a field gets a
// 400 naming it as unknown.
type (
	contactBody struct {
		Note        string     `json:"note"`
		ContactedAt *time.Time `json:"contacted_at"`
	}
	planBody struct {
		Plan string `json:"plan"`
	}
	resolveBody struct {
		Resolution string `json:"resolution"`
	}
	// reasonBody: pause, reopen, a reward's withdrawal, an appeal's escalation.
	reasonBody struct {
		Reason string `json:"reason"`
	}
	noBody       struct{} // resume
	reassignBody struct {
		AssigneeID string `json:"assignee_id"`
		Reason     string `json:"reason"`
	}
	extendBody struct {
		Clock  workflows.ClockName `json:"clock"`
		DueAt  *time.Time          `json:"due_at"`
		Reason string              `json:"reason"`
	}
	surveyBody struct {
		Ratings    workflows.Ratings `json:"ratings"`
		SurveyedAt *time.Time        `json:"surveyed_at"`
	}
	// commentBody: a reward step's approve, reject, return.
	commentBody struct {
		Comment string `json:"comment"`
	}
	resubmitBody struct {
		Kind      *workflows.RewardKind `json:"kind"`
		AmountFen *int64                `json:"amount_fen"`
		Reason    *string               `json:"reason"`
		Comment   string                `json:"comment"`
	}
	payoutBody struct {
		PaymentRef string `json:"payment_ref"`
		IssuedRef  string `json:"issued_ref"`
	}
	// noteBody: an appeal's accepted explanation.
	noteBody struct {
		Note string `json:"note"`
	}
	appealDecisionBody struct {
		Outcome workflows.AppealStatus `json:"outcome"`
		// A number with one decimal, 0..100: read as text so that a score
		// with more decimals is a field problem, not a rounding.
		CorrectedScore *json.Number `json:"corrected_score"`
		Reason         string       `json:"reason"`
	}
)
