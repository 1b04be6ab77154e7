package workflows

import (
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/acme/aftersales/scoring"
)

// fourEyesRefused checks a decision is refused as a conflict (409) whose
// message names who decides instead.
func fourEyesRefused(t *testing.T, who, want string) func(any, error) {
	return func(_ any, err error) {
		if !IsRejection(err, ErrConflict) {
			t.Errorf("decision by %s: got %v, want a four-eyes conflict", who, err)
			return
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("decision by %s: message %q, want it to contain %q", who, err, want)
		}
	}
}

func decidedBy(t *testing.T, who string) func(any, error) {
	return func(_ any, err error) {
		if err != nil {
			t.Errorf("decision by %s: %v", who, err)
		}
	}
}

// runAppeal runs the appeal to its end and checks every update check ran
// and who took the decision.
func runAppeal(t *testing.T, env *testsuite.TestWorkflowEnvironment, in AppealInput, pending *int, decider string, want AppealStatus) {
	t.Helper()
	env.ExecuteWorkflow(AppealWorkflowType, in)
	st := appealResult(t, env)
	if *pending != 0 {
		t.Fatalf("%d update checks never ran", *pending)
	}
	last := st.Events[len(st.Events)-1]
	if st.Status != want || last.Type != string(want) || last.ActorID != decider {
		t.Errorf("status %s, last event %+v; want %s by %s", st.Status, last, want, decider)
	}
}

// R6 four eyes: the team supervisor handled stage 1 (it ran out on its
// own: nobody acted, the supervisor is still its handler); the supervisor
// is refused, the skip-level head or HR may decide; HR does.
func TestAppealR6FourEyesStage1ManagerCannotDecideHRCan(t *testing.T) {
	env, _ := newEnv(t, tuesday)
	pending := 0
	stage2 := time.Date(2026, 3, 6, 0, 0, 0, 0, shanghai).Sub(tuesday) // 2 working days: Fri 00:00
	updateAt(env, &pending, stage2+time.Hour, UpdateDecideAppeal,
		DecideAppealInput{Actor: "manager1", Outcome: AppealRejected, Reason: "my assessment stands"},
		fourEyesRefused(t, "manager1", "four eyes (R6): manager1 handled stage 1 of this appeal; HR or head1 decides"))
	updateAt(env, &pending, stage2+2*time.Hour, UpdateDecideAppeal,
		DecideAppealInput{Actor: "hr1", Outcome: AppealUpheld, CorrectedScore: ptr(scoring.Tenths(750)), Reason: "surveys reassigned"},
		decidedBy(t, "hr1"))
	runAppeal(t, env, appealInput(tuesday), &pending, "hr1", AppealUpheld)
}

// R6 four eyes, a team without a supervisor: the department head is the
// stage-1 manager (ManagerID == HeadID) and moved the appeal on; the head
// is refused and HR decides.
func TestAppealR6FourEyesTeamWithoutSupervisorHRDecides(t *testing.T) {
	env, _ := newEnv(t, tuesday)
	in := appealInput(tuesday)
	in.ManagerID, in.HeadID = "head1", "head1"
	pending := 0
	updateAt(env, &pending, time.Hour, UpdateEscalateAppeal, EscalateAppealInput{Actor: "head1", Reason: "talked it through"}, func(_ any, err error) {
		if err != nil {
			t.Errorf("escalate: %v", err)
		}
	})
	updateAt(env, &pending, 2*time.Hour, UpdateDecideAppeal,
		DecideAppealInput{Actor: "head1", Outcome: AppealRejected, Reason: "my assessment stands"},
		fourEyesRefused(t, "head1", "four eyes (R6): head1 handled stage 1 of this appeal; HR decides"))
	updateAt(env, &pending, 3*time.Hour, UpdateDecideAppeal,
		DecideAppealInput{Actor: "hr1", Outcome: AppealRejected, Reason: "the surveys are right"},
		decidedBy(t, "hr1"))
	runAppeal(t, env, in, &pending, "hr1", AppealRejected)
}

// R6 four eyes: the supervisor handled stage 1 and moved it on; the
// skip-level head, who did not, decides.
func TestAppealR6FourEyesSkipLevelHeadDecidesAfterSupervisor(t *testing.T) {
	env, _ := newEnv(t, tuesday)
	pending := 0
	updateAt(env, &pending, time.Hour, UpdateEscalateAppeal, EscalateAppealInput{Actor: "manager1", Reason: "no agreement"}, func(_ any, err error) {
		if err != nil {
			t.Errorf("escalate: %v", err)
		}
	})
	updateAt(env, &pending, 2*time.Hour, UpdateDecideAppeal,
		DecideAppealInput{Actor: "head1", Outcome: AppealUpheld, CorrectedScore: ptr(scoring.Tenths(800)), Reason: "skip-level review"},
		decidedBy(t, "head1"))
	runAppeal(t, env, appealInput(tuesday), &pending, "head1", AppealUpheld)
}

// R6 four eyes: whoever acted in stage 1 handled it, not only the
// stage-1 manager. Here the head moved the appeal on: the head and the
// supervisor are both refused, the message sends it to HR alone.
func TestAppealR6FourEyesWhoeverActedInStage1CannotDecide(t *testing.T) {
	env, _ := newEnv(t, tuesday)
	pending := 0
	updateAt(env, &pending, time.Hour, UpdateEscalateAppeal, EscalateAppealInput{Actor: "head1", Reason: "taking it on"}, func(_ any, err error) {
		if err != nil {
			t.Errorf("escalate: %v", err)
		}
	})
	updateAt(env, &pending, 2*time.Hour, UpdateDecideAppeal,
		DecideAppealInput{Actor: "head1", Outcome: AppealRejected, Reason: "r"},
		fourEyesRefused(t, "head1", "four eyes (R6): head1 handled stage 1 of this appeal; HR decides"))
	updateAt(env, &pending, 3*time.Hour, UpdateDecideAppeal,
		DecideAppealInput{Actor: "manager1", Outcome: AppealRejected, Reason: "r"},
		fourEyesRefused(t, "manager1", "four eyes (R6): manager1 handled stage 1 of this appeal; HR decides"))
	updateAt(env, &pending, 4*time.Hour, UpdateDecideAppeal,
		DecideAppealInput{Actor: "hr1", Outcome: AppealRejected, Reason: "the surveys are right"},
		decidedBy(t, "hr1"))
	runAppeal(t, env, appealInput(tuesday), &pending, "hr1", AppealRejected)
}
