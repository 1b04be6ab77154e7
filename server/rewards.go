package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/acme/aftersales/auth"
	"github.com/acme/aftersales/db"
	"github.com/acme/aftersales/input"
	"github.com/acme/aftersales/policies"
	"github.com/acme/aftersales/workflows"
)

// Rewards (R5): nominations, the approval chain of the RewardApproval
// workflow, the approvers' inbox and the payout. Who may call what is
// declared in routes() with the loaders below (R1, R7); the workflow's
// validators check the four-eyes rules again (R5.3).

// maxAmountFen bounds a cash bonus: 100,000,000 CNY.
const maxAmountFen = 100_000_000_00

// rewardKinds are R5.1's.
var rewardKinds = []workflows.RewardKind{workflows.KindCash, workflows.KindHonour, workflows.KindTraining, workflows.KindPromotion}

const rewardKindList = "cash, honour, training or promotion"

type createRewardRequest struct {
	NominationNo string               `json:"nomination_no"`
	NomineeID    string               `json:"nominee_id"`
	Kind         workflows.RewardKind `json:"kind"`
	AmountFen    int64                `json:"amount_fen"`
	Reason       string               `json:"reason"`
	AssessmentID string               `json:"assessment_id"`
}

// rewardHash fingerprints a nomination for idempotency: the same number
// with the same body from the same nominator is a retry, anything else a
// conflict.
func rewardHash(req createRewardRequest, nominator string) []byte {
	b, _ := json.Marshal(struct {
		No, Nominee, Nominator, Kind, Reason, Assessment string
		Amount                                           int64
	}{req.NominationNo, req.NomineeID, nominator, string(req.Kind), req.Reason, req.AssessmentID, req.AmountFen})
	h := sha256.Sum256(b)
	return h[:]
}

// amountField checks an amount against a kind (R5.1): a cash bonus has one
// above 0, other kinds none.
func amountField(errs fieldErrors, kind workflows.RewardKind, amount int64) {
	switch {
	case kind == workflows.KindCash && amount <= 0:
		errs.add("amount_fen", "required for a cash reward: a whole number of fen above 0")
	case kind == workflows.KindCash && amount > maxAmountFen:
		errs.add("amount_fen", fmt.Sprintf("at most %d fen", int64(maxAmountFen)))
	case kind != workflows.KindCash && amount != 0:
		errs.add("amount_fen", "only a cash reward has an amount (R5.1); omit it or send 0")
	}
}

// POST /api/v1/rewards (manager, hr): nominates a reward (R5.2),
// idempotent on nomination_no (api.md).
//
// The intake row is written first, then the workflow is started with an ID
// derived from the number and "use existing" on conflict, so a retry of a
// create that failed between the two completes it instead of duplicating
// anything. A manager may nominate only people of the teams they manage
// (the route's Access rule); nobody nominates themselves (400, R5.3).
func (s *Server) createReward(w http.ResponseWriter, r *http.Request) error {
	var req createRewardRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	ctx, me := r.Context(), principal(r)
	errs := fieldErrors{}
	validNo := keyField(errs, "nomination_no", req.NominationNo)
	if validNo && strings.HasPrefix(req.NominationNo, workflows.ServiceStarPrefix) {
		// Reserved for the assessment's own CSI service star nominations (R5.2).
		errs.add("nomination_no", "the csi-star- prefix is reserved for the monthly assessment's nominations")
	}
	req.NomineeID = strings.TrimSpace(req.NomineeID)
	nominee, _ := s.lookupUser(ctx, errs, "nominee_id", req.NomineeID)
	if req.NomineeID != "" && req.NomineeID == me.UserID {
		errs.add("nominee_id", "must not be yourself (R5.3: nobody approves or nominates a reward to themselves)")
	}
	if !slices.Contains(rewardKinds, req.Kind) {
		errs.add("kind", "required: "+rewardKindList)
	} else {
		amountField(errs, req.Kind, req.AmountFen)
	}
	req.Reason = textField(errs, "reason", req.Reason, input.Long)
	req.AssessmentID = strings.TrimSpace(req.AssessmentID)
	if p := input.ID(req.AssessmentID); req.AssessmentID != "" && p != "" {
		errs.add("assessment_id", p)
	} else if req.AssessmentID != "" {
		a, err := s.q.GetAssessment(ctx, req.AssessmentID)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			errs.add("assessment_id", "no such assessment")
		case err != nil:
			return err
		case a.EmployeeID != req.NomineeID:
			errs.add("assessment_id", "must be a result of the nominee")
		}
	}
	hash := rewardHash(req, me.UserID)

	// A retry of an accepted create is answered from what exists, even if
	// the body would no longer pass (say, the nominee left).
	var existing *db.GetRewardRow
	if validNo {
		e, err := s.q.GetReward(ctx, req.NominationNo)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if err == nil {
			existing = &e
		}
	}
	if existing == nil || !bytes.Equal(existing.RequestHash, hash) {
		if err := errs.err(); err != nil {
			return err
		}
	}
	created := false
	if existing == nil {
		var assessment *string
		if req.AssessmentID != "" {
			assessment = &req.AssessmentID
		}
		_, err := s.q.InsertRewardIntake(ctx, db.InsertRewardIntakeParams{
			NominationNo: req.NominationNo, RequestHash: hash, NomineeID: nominee.ID, NominatorID: me.UserID,
			Kind: string(req.Kind), AmountFen: req.AmountFen, Reason: req.Reason, AssessmentID: assessment,
			// Whole seconds (issue 13 item 7): the nomination's instant starts
			// step 1's clock (R5.3) and every answer shows it.
			CreatedAt: time.Now().Truncate(time.Second),
		})
		if err != nil && !errors.Is(err, pgx.ErrNoRows) { // no row: a concurrent create won the race
			return err
		}
		created = err == nil
		e, err := s.q.GetReward(ctx, req.NominationNo)
		if err != nil {
			return err
		}
		existing = &e
	}
	if !created && !bytes.Equal(existing.RequestHash, hash) {
		return &apiError{Status: http.StatusConflict, Code: "reward_exists",
			Message: "nomination " + req.NominationNo + " already exists with a different body"}
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	if existing.LastSeq.Valid && rewardEnded(workflows.RewardStatus(existing.Status)) {
		// Ended: never start it again; answer with what it was.
		st, err := s.rewardState(ctx, req.NominationNo)
		if err != nil {
			return err
		}
		writeJSON(w, status, st)
		return nil
	}
	// The same nominee as stored: the body's hash covers nominee_id.
	if err := s.startReward(ctx, *existing, nominee); err != nil {
		return err
	}
	st, err := s.rewardState(ctx, req.NominationNo)
	if err != nil {
		return err
	}
	writeJSON(w, status, st)
	return nil
}

// startReward starts the workflow of a stored nomination, or finds it
// running: the second half of a create, shared by createReward and the
// reconciler (reconcile.go). What was stored is what starts: the
// nominator and the instant of the nomination; step 1 goes to the
// nominee's department head as of now (nominee is their placement).
func (s *Server) startReward(ctx context.Context, existing db.GetRewardRow, nominee db.GetUserPlacementRow) error {
	overrides, err := s.q.CalendarOverrides(ctx)
	if err != nil {
		return err
	}
	// The version the nomination was given: in force at its instant.
	policy, err := policies.Version[workflows.RewardPolicy](ctx, s.policies, workflows.PolicyReward, int(existing.PolicyVersion))
	if err != nil {
		return err
	}
	in := workflows.RewardInput{
		NominationNo: existing.NominationNo, NomineeID: existing.NomineeID, NominatorID: existing.NominatorID,
		Kind: workflows.RewardKind(existing.Kind), AmountFen: existing.AmountFen, Reason: existing.Reason,
		AssessmentID: existing.AssessmentID, HeadID: nominee.HeadID, NominatedAt: existing.CreatedAt,
		Policy: policy, Calendar: overrides, Location: s.loc.String(),
	}
	_, err = s.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       workflows.RewardWorkflowID(existing.NominationNo),
		TaskQueue:                s.queue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		// An ended reward is never started again under the same number.
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		// What the Temporal Web UI shows for the workflow (issue 13 item 5):
		// who is nominated for what, and the approval chain (R5.3).
		StaticSummary: in.StaticSummary(),
		StaticDetails: in.StaticDetails(),
	}, workflows.RewardWorkflowType, in)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if err != nil && !errors.As(err, &started) {
		return fmt.Errorf("start reward workflow: %w", err)
	}
	return nil
}

func rewardEnded(st workflows.RewardStatus) bool {
	return st == workflows.RewardRejected || st == workflows.RewardWithdrawn || st == workflows.RewardPaid
}

// rewardState is the live state (query "reward"), or the read model when
// Temporal no longer has the workflow (ended, past the namespace's
// retention), with awaiting completed and times in the calendar's zone.
func (s *Server) rewardState(ctx context.Context, no string) (workflows.RewardState, error) {
	var st workflows.RewardState
	v, err := s.temporal.QueryWorkflow(ctx, workflows.RewardWorkflowID(no), "", workflows.QueryReward)
	var notFound *serviceerror.NotFound
	switch {
	case errors.As(err, &notFound):
		if st, err = s.archivedReward(ctx, no); err != nil {
			return st, err
		}
	case err != nil:
		return st, fmt.Errorf("query reward %s: %w", no, err)
	default:
		if err := v.Get(&st); err != nil {
			return st, err
		}
	}
	return st, s.finishReward(ctx, &st, nil)
}

// roleHolders caches the active holders of a role for one request.
type roleHolders map[string][]string

// finishReward completes awaiting (api.md: the user ids who may act now):
// where the step is given to a role (state.StepRole), its active holders
// minus state.Excluded (R5.3 four eyes); else the named people of
// state.Awaiting. Times are shown in the calendar's zone, to the whole
// second (issue 13 item 7: rewards started since record whole seconds;
// this rounds down what older runs and the read model hold, for display).
func (s *Server) finishReward(ctx context.Context, st *workflows.RewardState, cache roleHolders) error {
	if st.StepRole != "" {
		ids, err := s.holders(ctx, st.StepRole, cache)
		if err != nil {
			return err
		}
		st.Awaiting = slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return slices.Contains(st.Excluded, id) })
	}
	if st.Awaiting == nil {
		st.Awaiting = []string{}
	}
	if st.Excluded == nil {
		st.Excluded = []string{}
	}
	if st.Approvals == nil {
		st.Approvals = []workflows.Approval{}
	}
	if st.Events == nil {
		st.Events = []workflows.Event{}
	}
	st.DueAt = localTime(st.DueAt, s.loc)
	for i := range st.Approvals {
		st.Approvals[i].At = shownTime(st.Approvals[i].At, s.loc)
	}
	for i := range st.Events {
		st.Events[i].At = shownTime(st.Events[i].At, s.loc)
	}
	return nil
}

func (s *Server) holders(ctx context.Context, role string, cache roleHolders) ([]string, error) {
	if ids, ok := cache[role]; ok {
		return ids, nil
	}
	ids, err := s.q.ActiveUserIDsByRole(ctx, role)
	if err != nil {
		return nil, err
	}
	if cache != nil {
		cache[role] = ids
	}
	return ids, nil
}

// archivedReward answers from the read model, which keeps the same facts:
// status, step, who may act, approvals, the payout and the whole audit
// trail (R7).
func (s *Server) archivedReward(ctx context.Context, no string) (workflows.RewardState, error) {
	var st workflows.RewardState
	row, err := s.q.GetReward(ctx, no)
	// Not yet written by its workflow: a create interrupted before the
	// workflow started is not visible until the reconciler starts it.
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && !row.LastSeq.Valid) {
		return st, &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "no such reward"}
	}
	if err != nil {
		return st, err
	}
	st = workflows.RewardState{
		NominationNo: row.NominationNo, NomineeID: row.NomineeID, NominatorID: row.NominatorID,
		Kind: workflows.RewardKind(row.Kind), AmountFen: row.AmountFen, Reason: row.Reason, AssessmentID: row.AssessmentID,
		Status: workflows.RewardStatus(row.Status), StepRole: row.StepRole, Awaiting: row.Awaiting, Excluded: row.Excluded,
		DueAt: row.DueAt, Round: int(row.Round), NeedsCommittee: row.NeedsCommittee, Events: []workflows.Event{},
		PolicyVersion: int(row.PolicyVersion),
	}
	if row.Step != nil {
		step := workflows.Step(*row.Step)
		st.Step = &step
	}
	if err := json.Unmarshal(row.Approvals, &st.Approvals); err != nil {
		return st, fmt.Errorf("reward %s approvals: %w", no, err)
	}
	p, err := s.q.GetPayout(ctx, no)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return st, err
	case p.Kind == string(workflows.KindCash):
		st.PaymentRef = p.Reference
	default:
		st.IssuedRef = p.Reference
	}
	events, err := s.q.ListRewardEvents(ctx, no)
	if err != nil {
		return st, err
	}
	for _, e := range events {
		ev := workflows.Event{Seq: int(e.Seq), Type: e.Type, ActorID: e.ActorID, At: e.At, Reason: e.Reason}
		if len(e.Data) > 0 {
			_ = json.Unmarshal(e.Data, &ev.Data)
		}
		st.Events = append(st.Events, ev)
	}
	return st, nil
}

// rewardParties are the people a reward concerns: its nominee and nominator,
// who may act on it now, and who approved a step (api.md: "nominee,
// nominator, approvers").
func rewardParties(st workflows.RewardState) []string {
	ids := slices.Concat([]string{st.NomineeID, st.NominatorID}, st.Awaiting)
	for _, a := range st.Approvals {
		ids = append(ids, a.By)
	}
	return ids
}

// rewardReaders is the Resource of GET /rewards/{no}: owned by its parties.
func (s *Server) rewardReaders(r *http.Request) (Resource, error) {
	st, err := s.rewardState(r.Context(), chi.URLParam(r, "no"))
	if err != nil {
		return Resource{}, err
	}
	return Resource{OwnerIDs: rewardParties(st)}, nil
}

// rewardActors is the Resource of approve, reject and return: owned by who
// may act on the current step now (the computed awaiting, R5.3); the
// workflow's validator checks again. Once the reward has ended there is no
// current step: its parties pass here and get 409 from the workflow, anyone
// else 403.
func (s *Server) rewardActors(r *http.Request) (Resource, error) {
	st, err := s.rewardState(r.Context(), chi.URLParam(r, "no"))
	if err != nil {
		return Resource{}, err
	}
	if rewardEnded(st.Status) {
		return Resource{OwnerIDs: rewardParties(st)}, nil
	}
	return Resource{OwnerIDs: st.Awaiting}, nil
}

// rewardNominator is the Resource of resubmit and withdraw: the nominator's.
func (s *Server) rewardNominator(r *http.Request) (Resource, error) {
	row, err := s.q.GetReward(r.Context(), chi.URLParam(r, "no"))
	if errors.Is(err, pgx.ErrNoRows) {
		return Resource{}, &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "no such reward"}
	}
	if err != nil {
		return Resource{}, err
	}
	return Resource{OwnerIDs: []string{row.NominatorID}}, nil
}

// GET /api/v1/rewards/{no}: the live state.
func (s *Server) getReward(w http.ResponseWriter, r *http.Request) error {
	st, err := s.rewardState(r.Context(), chi.URLParam(r, "no"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

// missingReward explains a workflow Temporal does not know or that has
// ended: 404 for an unknown number; for a known one, its workflow has ended
// (paid, rejected or withdrawn), so it takes no more commands (409).
func (s *Server) missingReward(ctx context.Context, no string) error {
	row, err := s.q.GetReward(ctx, no)
	if errors.Is(err, pgx.ErrNoRows) {
		return &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "no such reward"}
	} else if err != nil {
		return err
	}
	return &apiError{Status: http.StatusConflict, Code: "invalid_state", Message: "the reward has ended (" + row.Status + ")"}
}

// rewardCommand sends an Update to the reward's workflow and answers with
// the new state.
func (s *Server) rewardCommand(update string) func(w http.ResponseWriter, r *http.Request, arg any) error {
	return func(w http.ResponseWriter, r *http.Request, arg any) error {
		no := chi.URLParam(r, "no")
		var st workflows.RewardState
		err := s.sendUpdate(r, workflows.RewardWorkflowID(no), update, arg, &st,
			func() error { return s.missingReward(r.Context(), no) })
		if err != nil {
			return err
		}
		if err := s.finishReward(r.Context(), &st, nil); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, st)
		return nil
	}
}

func roleNames(p auth.Principal) []string {
	out := make([]string, len(p.Roles))
	for i, r := range p.Roles {
		out[i] = string(r)
	}
	return out
}

func (s *Server) rewardCommands() map[string]handlerFunc {
	decision := func(update string, commentRequired bool) handlerFunc {
		return commandHandler(s.rewardCommand(update), func(r *http.Request, b commentBody, errs fieldErrors) workflows.RewardDecisionInput {
			me := principal(r)
			in := workflows.RewardDecisionInput{Actor: me.UserID, ActorRoles: roleNames(me)}
			if commentRequired {
				in.Comment = textField(errs, "comment", b.Comment, input.Long)
			} else {
				in.Comment = optionalText(errs, "comment", b.Comment, input.Long)
			}
			return in
		})
	}
	return map[string]handlerFunc{
		"approve": decision(workflows.UpdateApprove, false),
		"reject":  decision(workflows.UpdateReject, true),
		"return":  decision(workflows.UpdateReturn, true),
		"resubmit": commandHandler(s.rewardCommand(workflows.UpdateResubmit), func(r *http.Request, b resubmitBody, errs fieldErrors) workflows.ResubmitInput {
			if b.Kind != nil && !slices.Contains(rewardKinds, *b.Kind) {
				errs.add("kind", "must be "+rewardKindList)
			}
			if b.AmountFen != nil && (*b.AmountFen < 0 || *b.AmountFen > maxAmountFen) {
				errs.add("amount_fen", fmt.Sprintf("a whole number of fen from 0 to %d", int64(maxAmountFen)))
			}
			in := workflows.ResubmitInput{Actor: principal(r).UserID, Kind: b.Kind, AmountFen: b.AmountFen,
				Comment: optionalText(errs, "comment", b.Comment, input.Long)}
			if b.Reason != nil {
				v := textField(errs, "reason", *b.Reason, input.Long)
				in.Reason = &v
			}
			return in
		}),
		"withdraw": commandHandler(s.rewardCommand(workflows.UpdateWithdraw), func(r *http.Request, b reasonBody, errs fieldErrors) workflows.WithdrawInput {
			return workflows.WithdrawInput{Actor: principal(r).UserID, Reason: textField(errs, "reason", b.Reason, input.Note)}
		}),
		"payout": commandHandler(s.rewardCommand(workflows.UpdatePayout), func(r *http.Request, b payoutBody, errs fieldErrors) workflows.PayoutInput {
			me := principal(r)
			in := workflows.PayoutInput{Actor: me.UserID, ActorRoles: roleNames(me),
				PaymentRef: lineField(errs, "payment_ref", b.PaymentRef, input.Name, false),
				IssuedRef:  lineField(errs, "issued_ref", b.IssuedRef, input.Name, false)}
			switch {
			case in.PaymentRef == "" && in.IssuedRef == "":
				errs.add("payment_ref", "required for a cash reward (issued_ref for the other kinds)")
			case in.PaymentRef != "" && in.IssuedRef != "":
				errs.add("issued_ref", "send payment_ref (cash) or issued_ref (honour, training, promotion), not both")
			}
			return in
		}),
	}
}

// rewardItem is a reward of GET /rewards, from the read model.
type rewardItem struct {
	NominationNo   string               `json:"nomination_no"`
	NomineeID      string               `json:"nominee_id"`
	NominatorID    string               `json:"nominator_id"`
	Kind           workflows.RewardKind `json:"kind"`
	AmountFen      int64                `json:"amount_fen"`
	Reason         string               `json:"reason"`
	AssessmentID   string               `json:"assessment_id,omitempty"`
	Status         string               `json:"status"`
	Step           *string              `json:"step"`
	StepRole       string               `json:"step_role,omitempty"`
	Awaiting       []string             `json:"awaiting"`
	DueAt          *time.Time           `json:"due_at"`
	Round          int32                `json:"round"`
	NeedsCommittee bool                 `json:"needs_committee"`
	NominatedAt    time.Time            `json:"nominated_at"`
	UpdatedAt      time.Time            `json:"updated_at"`
}

type rewardCursor struct {
	CreatedAt time.Time `json:"c"`
	No        string    `json:"n"`
}

var rewardStatuses = []workflows.RewardStatus{workflows.RewardPending, workflows.RewardReturned, workflows.RewardRejected,
	workflows.RewardWithdrawn, workflows.RewardApproved, workflows.RewardPaid}

var rewardSteps = []workflows.Step{workflows.StepManager, workflows.StepHR, workflows.StepCommittee, workflows.StepPayout}

// GET /api/v1/rewards: the approvers' inbox from the read model (R5.3, R7).
// Each caller sees exactly what they may act on now: open rewards whose
// step is given to one of their roles (unless four eyes excludes them) or
// names them; plus, for those who nominate (manager, hr), their own
// nominations. HR sees every reward with ?all=true. Anyone lists the
// rewards they are nominated for with ?mine=true (R7: their own).
func (s *Server) listRewards(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	me := principal(r)
	errs := fieldErrors{}
	pg := parsePage(q, errs)
	p := db.ListRewardsParams{RowLimit: int32(pg.limit + 1), Caller: me.UserID, ScopeRoles: roleNames(me)}
	if v := q.Get("status"); v != "" {
		if !slices.Contains(rewardStatuses, workflows.RewardStatus(v)) {
			errs.add("status", "must be pending, returned, rejected, withdrawn, approved or paid")
		}
		p.Status = &v
	}
	if v := q.Get("awaiting"); v != "" {
		if !slices.Contains(rewardSteps, workflows.Step(v)) {
			errs.add("awaiting", "must be a step: manager, hr, committee or payout")
		}
		p.Step = &v
	}
	switch q.Get("all") {
	case "", "false":
	case "true":
		p.ScopeAll = true
	default:
		errs.add("all", "must be true or false")
	}
	switch q.Get("mine") {
	case "", "false":
	case "true":
		p.MineOnly = true
	default:
		errs.add("mine", "must be true or false")
	}
	var cur rewardCursor
	if pg.decodeCursor(&cur, errs) {
		p.AfterCreatedAt, p.AfterNo = &cur.CreatedAt, &cur.No
	}
	if err := errs.err(); err != nil {
		return err
	}
	if !p.MineOnly && !me.Has(auth.HR, auth.Manager, auth.Committee) {
		return &apiError{Status: http.StatusForbidden, Code: "forbidden", Message: "only hr, managers and the committee list rewards they do not receive (use mine=true)"}
	}
	if p.ScopeAll && !me.Has(auth.HR) {
		return &apiError{Status: http.StatusForbidden, Code: "forbidden", Message: "only hr lists every reward (all=true)"}
	}
	if me.Has(auth.Manager, auth.HR) { // those who nominate (R5.2) follow their nominations
		p.ScopeNominator = &me.UserID
	}
	rows, err := s.q.ListRewards(r.Context(), p)
	if err != nil {
		return err
	}
	// awaiting completed per reward, the role holders looked up once
	cache, awaiting := roleHolders{}, make(map[string][]string, len(rows))
	for _, row := range rows {
		st := workflows.RewardState{StepRole: row.StepRole, Awaiting: row.Awaiting, Excluded: row.Excluded}
		if err := s.finishReward(r.Context(), &st, cache); err != nil {
			return err
		}
		awaiting[row.NominationNo] = st.Awaiting
	}
	writeJSON(w, http.StatusOK, paginate(rows, pg.limit,
		func(row db.ListRewardsRow) any { return rewardCursor{CreatedAt: row.CreatedAt, No: row.NominationNo} },
		func(row db.ListRewardsRow) rewardItem {
			return rewardItem{
				NominationNo: row.NominationNo, NomineeID: row.NomineeID, NominatorID: row.NominatorID,
				Kind: workflows.RewardKind(row.Kind), AmountFen: row.AmountFen, Reason: row.Reason, AssessmentID: row.AssessmentID,
				Status: row.Status, Step: row.Step, StepRole: row.StepRole, Awaiting: awaiting[row.NominationNo],
				DueAt: localTime(row.DueAt, s.loc), Round: row.Round, NeedsCommittee: row.NeedsCommittee,
				NominatedAt: shownTime(row.CreatedAt, s.loc), UpdatedAt: shownTime(row.UpdatedAt, s.loc),
			}
		}))
	return nil
}
