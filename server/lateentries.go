package server

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/acme/aftersales/db"
	"github.com/acme/aftersales/workflows"
)

// The gate of late entries (R4.0 with R4.5, issue 13). A survey, a work
// order or a deduction decision lands in the month of its own instant
// (R4.0), which may be a month already assessed. Whether it still counts
// there is the month's cycle's decision, not PostgreSQL's copy of the
// cycle's status (which lags the workflow):
//
//   - no cycle has computed the month: the entry is simply stored; the
//     cycle counts it when it computes;
//   - the month's cycle is computing, or published with its window open:
//     the entry is counted: the cycle accepts its late-entry update, and
//     recomputes the month before it answers and before it can finalize;
//   - the window has ended (closing, final): refused with 409 month_closed,
//     nothing stored (a result must not change once it can no longer be
//     appealed, R4.5).
//
// How the race is closed. The entry's transaction takes the month's lock
// shared (db/queries/lateentries.sql), reads the cycle's row, and if there
// is one asks the cycle (UpdateLateEntry, waiting until it is accepted)
// before it commits: refused, it rolls back, and the entry was never
// visible; accepted, it commits. ComputeResults takes the same lock
// exclusively, so the recompute the accepted update runs starts only once
// the entry's transaction has ended, and counts it; a cycle computing its
// month for the first time likewise waits for entries that found no cycle
// row. An entry is therefore counted or refused, never stored uncounted;
// and since the update is accepted before the commit, a crash after the
// commit loses nothing (the cycle has it), while a crash before rolls the
// entry back (the cycle's recompute then finds nothing new).
//
// The callers (intake.go, complaints.go) call gate before they write, and
// requestRecompute inside the entry's transaction: a 409 from either is
// the answer, the transaction rolled back. After a commit, recompute waits
// for the cycle's answer ("counted"). A survey is written by its
// complaint's workflow, not in a transaction here: its shared lock is held
// on a connection of its own from before the cycle is asked until the
// survey is stored (recompute) or the request ends, and its outbox row
// (recompute_requests) lets the reconciler ask the cycle again should the
// survey be stored after the request ended (reconcile.go).

// monthGate is one month an entry falls in.
type monthGate struct {
	month string
	at    time.Time // the entry's instant in month (R4.0)
	srv   *Server
	entry string // what arrived: the request's route
	// update is the cycle's late-entry update, once accepted.
	update client.WorkflowUpdateHandle
	// requestedAt identifies the month's outbox request (a survey's), once written.
	requestedAt time.Time
	// hold is a survey's month lock (its own connection), shared by its gates.
	hold *monthHold
}

// closedStatus: past the publication window (R4.5).
func closedStatus(status string) bool {
	return status == string(workflows.CycleClosing) || status == string(workflows.CycleFinal)
}

// monthClosed is the 409 of an entry whose month no longer takes entries.
func monthClosed(month, why string) *apiError {
	return &apiError{Status: http.StatusConflict, Code: "month_closed",
		Message: cmp.Or(why, "the assessment of "+month+" is past its publication window (R4.5): entries dated in it are closed")}
}

// gate finds the months of an entry's instants, each once, in lock order;
// a month whose stored status is already past its window is refused at once
// (409; the stored status only ever lags, so this refusal is sure). The
// cycle's own decision comes in requestRecompute.
func (s *Server) gate(ctx context.Context, instants ...time.Time) ([]monthGate, error) {
	var gates []monthGate
	for _, t := range instants {
		local := t.In(s.loc)
		month := local.Format("2006-01")
		if slices.ContainsFunc(gates, func(g monthGate) bool { return g.month == month }) {
			continue
		}
		// A month is assessed only once it has ended (startCycle, the
		// Schedule): one that ends after this request's deadline (and a
		// margin for other servers' clocks) has no cycle that could compute
		// it while the entry is being stored. The usual entry, of this month,
		// needs no gate.
		if end := time.Date(local.Year(), local.Month()+1, 1, 0, 0, 0, 0, s.loc); end.After(s.requestEnd(ctx).Add(serverClockSkew)) {
			continue
		}
		status, err := s.q.GetCycleStatus(ctx, month)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			// No cycle yet: requestRecompute looks again under the lock.
		case err != nil:
			return nil, err
		case closedStatus(status):
			return nil, monthClosed(month, "")
		}
		gates = append(gates, monthGate{month: month, at: t, srv: s, entry: routeOf(ctx)})
	}
	// One order for every entry's locks: no two entries wait on each other.
	slices.SortFunc(gates, func(a, b monthGate) int { return cmp.Compare(a.month, b.month) })
	return gates, nil
}

// serverClockSkew is the margin for servers' clocks (a month's end as
// another server sees it).
const serverClockSkew = time.Minute

// requestEnd is when the request must be done: its deadline, or one request
// timeout from now.
func (s *Server) requestEnd(ctx context.Context) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	return time.Now().Add(s.timeout)
}

// routeOf names the request's route ("POST /api/v1/work-orders"), never
// its raw path.
func routeOf(ctx context.Context) string {
	if rc := chi.RouteContext(ctx); rc != nil {
		return rc.RouteMethod + " " + rc.RoutePattern()
	}
	return ""
}

// requestRecompute lets the entry into its months, or refuses it (409). q
// is the entry's transaction, where the month locks are held until it
// ends; the server's own queries (a survey, which its complaint's workflow
// writes) hold them on a connection of their own instead, released by
// recompute or at the end of the request. For each month with a cycle row
// the cycle is asked (UpdateLateEntry) and must accept before this returns.
func requestRecompute(ctx context.Context, q *db.Queries, gates []monthGate) error {
	if len(gates) == 0 {
		return nil
	}
	s := gates[0].srv
	lock := q.LockMonthForEntry
	var hold *monthHold
	if q == s.q && s.pool != nil { // no transaction: a survey (a server without a pool is the HTTP layer's unit tests')
		var err error
		if hold, err = s.holdMonths(ctx); err != nil {
			return err
		}
		hold.mu.Lock()
		defer hold.mu.Unlock()
		if hold.released {
			return ctx.Err()
		}
		q, lock = hold.q, hold.lock
	}
	for i := range gates {
		gates[i].hold = hold
		if err := lock(ctx, gates[i].month); err != nil {
			return fmt.Errorf("lock %s: %w", gates[i].month, err)
		}
	}
	for i := range gates {
		g := &gates[i]
		status, err := q.GetCycleStatus(ctx, g.month)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			// No cycle has computed the month. One that starts now takes
			// the lock exclusively to compute, so it waits for this entry
			// and counts it.
			continue
		case err != nil:
			return err
		case closedStatus(status):
			return monthClosed(g.month, "")
		}
		if err := s.askCycle(ctx, g); err != nil {
			return err
		}
		if hold != nil {
			// A survey's outbox row: should the survey be stored after this
			// request ends, the reconciler asks the cycle again.
			at, err := s.q.RequestRecompute(ctx, g.month)
			if err != nil {
				return fmt.Errorf("request recompute of %s: %w", g.month, err)
			}
			g.requestedAt = at
		}
	}
	return nil
}

// askCycle sends the month's cycle the entry's late-entry update and waits
// until the cycle accepts or refuses it. Its ID is a fresh key per attempt:
// an update ID is answered once, so an entry retried after its transaction
// rolled back must be counted by a recompute of its own.
func (s *Server) askCycle(ctx context.Context, g *monthGate) error {
	h, err := s.sendLateEntry(ctx, g.month, "late-entry."+g.month+"."+rand.Text(), g.entry, g.at)
	if err == nil {
		// Accepted, or refused: a refusal comes as the handle's outcome.
		var done bool
		if done, err = outcomeIfDone(h); !done {
			g.update = h
			return nil
		}
	}
	var missing *serviceerror.NotFound
	switch {
	case err == nil:
		// Accepted and already answered: nothing to wait for.
		return nil
	case workflows.IsRejection(err, workflows.ErrConflict):
		_, msg := workflows.RejectionOf(err)
		return monthClosed(g.month, msg)
	case errors.As(err, &missing):
		// A cycle row without a running cycle: it has ended (final) or
		// failed. Nothing would count the entry.
		return monthClosed(g.month, "the assessment cycle of "+g.month+" is not running: entries dated in it cannot be counted")
	case strings.Contains(err.Error(), "unknown update"):
		// A cycle still on a worker of the release before the gate (a
		// rolling deploy: workers first, README): not counted, so not
		// stored; the client retries once the workers are upgraded.
		return unavailable("temporal", "the assessment cycle of "+g.month+" runs on a worker that does not take late entries yet; retry shortly")
	default:
		return fmt.Errorf("late entry for the cycle of %s: %w", g.month, err)
	}
}

// sendLateEntry sends month's cycle the late-entry update key (also its
// update ID) for entry at its instant at, and returns once the cycle has
// accepted or refused it (a refusal comes as the handle's outcome).
func (s *Server) sendLateEntry(ctx context.Context, month, key, entry string, at time.Time) (client.WorkflowUpdateHandle, error) {
	return s.temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		UpdateID: key, WorkflowID: workflows.AssessmentCycleWorkflowID(month), UpdateName: workflows.UpdateLateEntry,
		Args:         []any{workflows.LateEntryInput{Key: key, Entry: entry, At: at}},
		WaitForStage: client.WorkflowUpdateStageAccepted,
	})
}

// outcomeIfDone tells an update that has an outcome already (refused by its
// validator, or done) from one accepted and running, without waiting: the
// SDK's handle of a finished update answers Get from what it holds, while
// the handle of a running one asks the server, which a cancelled context
// stops at once. The entry's transaction must not wait for the update's
// end: the recompute that ends it waits for the transaction.
func outcomeIfDone(h client.WorkflowUpdateHandle) (done bool, err error) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = h.Get(ctx, nil)
	if err != nil && canceled(err) {
		return false, nil
	}
	return true, err
}

// canceled: an error of a cancelled call, whichever layer reported it.
func canceled(err error) bool {
	var c *serviceerror.Canceled
	return errors.Is(err, context.Canceled) || errors.As(err, &c) || status.Code(err) == codes.Canceled
}

// recompute runs after the entry is stored: it releases a survey's month
// lock, then waits for each cycle's answer that the entry is counted (the
// month recomputed after the entry's transaction ended). A cycle that does
// not answer within the request's deadline still counts the entry: it
// accepted it and does not finalize before.
func (s *Server) recompute(ctx context.Context, gates []monthGate) {
	if len(gates) > 0 && gates[0].hold != nil {
		gates[0].hold.release()
	}
	for _, g := range gates {
		if g.update == nil {
			continue
		}
		var out workflows.LateEntryOutput
		if err := g.update.Get(ctx, &out); err != nil {
			s.log.WarnContext(ctx, "late entry accepted by its cycle, its recompute not confirmed in time; the cycle counts it before it closes",
				"month", g.month, "error", err)
			continue
		}
		if !g.requestedAt.IsZero() {
			if err := s.q.DoneRecompute(ctx, db.DoneRecomputeParams{Month: g.month, RequestedAt: g.requestedAt}); err != nil {
				s.log.WarnContext(ctx, "recompute request not cleared; the reconciler asks the cycle again", "month", g.month, "error", err)
			}
		}
	}
}

// monthHold is a survey's shared month locks, held on a pool connection of
// their own (session locks) until release: by recompute once the survey is
// stored, or when the request ends, whichever is first.
type monthHold struct {
	mu       sync.Mutex // the connection is used by one goroutine at a time
	conn     *pgxpool.Conn
	q        *db.Queries
	released bool
	stop     func() bool
}

func (s *Server) holdMonths(ctx context.Context) (*monthHold, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	h := &monthHold{conn: conn, q: db.New(conn)}
	h.stop = context.AfterFunc(ctx, h.release)
	return h, nil
}

func (h *monthHold) lock(ctx context.Context, month string) error {
	return h.q.LockMonthForEntrySession(ctx, month)
}

// release ends the connection's session locks, all of them (a lock whose
// request was interrupted may have been granted), and returns it, once. A
// connection that cannot unlock is closed: its session's locks end with it.
func (h *monthHold) release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.released {
		return
	}
	h.released = true
	h.stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.q.UnlockAllForEntrySession(ctx); err != nil {
		_ = h.conn.Conn().Close(ctx)
	}
	h.conn.Release()
}

// reaskCycle asks month's cycle again for a recompute request that its
// entry's request did not clear (a survey stored after its request ended,
// or a request of the release before): the cycle counts what is stored if
// its window is still open. It reports whether the request is settled.
func (s *Server) reaskCycle(ctx context.Context, month string, requestedAt time.Time) bool {
	first, err := time.ParseInLocation("2006-01", month, s.loc)
	if err != nil {
		return false
	}
	h, err := s.sendLateEntry(ctx, month, fmt.Sprintf("late-entry.%s.reconcile-%d", month, requestedAt.UnixNano()), "reconcile", first)
	if err == nil {
		err = h.Get(ctx, nil)
	}
	var missing *serviceerror.NotFound
	switch {
	case err == nil:
	case workflows.IsRejection(err, workflows.ErrConflict):
		// Past the window: what was stored after the request ended is not
		// counted (only a survey applied by its complaint after its request's
		// deadline can get here). Said loudly, then settled.
		s.log.ErrorContext(ctx, "reconcile: a late entry may have been stored after its month closed; it is not counted",
			"month", month, "requested_at", requestedAt, "error", err)
	case errors.As(err, &missing):
		// No running cycle: none yet (it will count the entry) or it ended.
	default:
		s.log.WarnContext(ctx, "reconcile: the cycle was not asked again yet", "month", month, "error", err)
		return false
	}
	if err := s.q.DoneRecompute(ctx, db.DoneRecomputeParams{Month: month, RequestedAt: requestedAt}); err != nil {
		s.log.WarnContext(ctx, "reconcile: recompute request not cleared", "month", month, "error", err)
		return false
	}
	return true
}
