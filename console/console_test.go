package console

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/acme/aftersales/auth"
	"github.com/acme/aftersales/input"
	"github.com/acme/aftersales/internal/pgtest"
)

type noTokens struct{}

func (noTokens) Authenticate(context.Context, string) (auth.Principal, error) {
	return auth.Principal{}, auth.ErrUnauthenticated
}

type noAPI struct{}

func (noAPI) Call(context.Context, auth.Principal, string, string, http.Header, []byte) (int, http.Header, []byte) {
	return http.StatusServiceUnavailable, http.Header{}, nil
}
func (noAPI) Allowed(context.Context, auth.Principal, string, string) bool { return false }

// Every template parses, and each page renders in the layout and as its
// live part with one row of everything (the browser tests drive them with
// real data).
func TestTemplatesRender(t *testing.T) {
	c, err := New(Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Pool: pgtest.New(t), API: noAPI{},
		Tokens: noTokens{}, Sessions: auth.NewSessionStore(nil), Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	act := []action{{Name: "x", Label: "X", Path: "complaints/C-1/contact", Done: "ok", Fields: []field{
		text("note", "Note"), {Name: "clock", Kind: "hidden", Value: "contact"}, {Name: "a", Kind: "select", Options: []option{{Value: "v", Label: "V"}}},
		{Name: "r", Kind: "rating"}, {Name: "n", Kind: "number"}, {Name: "due_at", Kind: "datetime-local", Hint: "UTC"}}}}
	clocks := []clockRow{{ComplaintNo: "C-1", State: "normal"}}
	steps := []stepGroup{{Label: "HR", Rewards: []rewardRow{{No: "R-1", Actions: act}}}}
	results := []resultRow{{ID: "2026-10.a", Original: "80.0", Actions: act}}
	appeals := []appealRow{{ID: "appeal_1", Actions: act}}
	detail := detailPage{Facts: []fact{{Label: "Due", DueISO: "2026-01-01T00:00:00Z"}}, Events: []eventRow{{Label: "x"}}, Actions: act}
	data := map[string]any{
		"board": boardPage{Clocks: clocks, Escalations: []escalationRow{{ID: "C-1.contact.1", Actions: act}}},
		"complaint": complaintPage{Clocks: []complaintClock{{State: "met", MetLocal: "x"}}, Actions: act,
			Escalations: []complaintEscalation{{AckBy: "x"}}, Events: []eventRow{{Reason: "r", Detail: "d"}}},
		"team":      teamPage{Clocks: clocks, Deductions: []deductionRow{{ID: "1", ComplaintNo: "C-1", Actions: act}}, Appeals: appeals, Steps: steps, Month: monthResults{Rows: results}},
		"approvals": approvalsPage{Steps: steps},
		"hr":        hrPage{Steps: steps, Appeals: appeals, Month: monthResults{Start: act}},
		"me":        mePage{Clocks: clocks, Results: results, Rewards: []rewardRow{{No: "R-1"}}},
		"appeal":    detail,
		"reward":    detail,
		"problem":   &problem{Status: 403, Message: "no"},
		"admin": adminPage{Users: []adminUserRow{{ID: "u1", Actions: act, RoleBoxes: roleBoxes([]string{"agent"}), Teams: []option{{Value: "t", Label: "T", Selected: true}}}},
			RoleBoxes: roleBoxes(nil), Teams: []option{{Value: "t"}}, Selected: &adminUserRow{ID: "u1"}, Tokens: []adminTokenRow{{ID: "tok", Actions: act}}, Audit: []auditRow{{Field: "roles"}}},
		"reports": reportsPage{AgentsTimeliness: []timelinessRow{{ID: "a"}}, TeamTimeliness: []timelinessRow{{ID: "t"}},
			TimelinessChart: barChart{Bars: []bar{{Label: "t"}}}, CSIAgents: []csiRow{{Name: "a"}}, CSITeams: []csiRow{{Name: "t"}},
			TrendChart:   lineChart{Months: []axisLabel{{Text: "01"}}, Lines: []line{{Label: "t", Dots: []point{{X: 1}}}}},
			AppealsShown: true, ApprovalsShown: true, Approvals: []approvalRow{{No: "R-1", Overdue: true}}, ApprovalSteps: []approvalStepRow{{Step: "HR"}}},
		"ranking": rankingPage{Columns: []string{"visits"}, Teams: []rankingTeamRow{{ID: "t", Note: "n", Points: []labelled{{Label: "visits", Value: "8"}},
			Call: &callForm{Team: "t", Grade: "E"}}}, Items: []rankingItemRow{{ID: "visits", Delete: true,
			Edit: &itemForm{Editing: true, Levels: levels(2), Ranks: []rankInput{{Team: "t", Value: "1"}}}}}, New: &itemForm{Levels: levels(1)}},
		"policies": policiesPage{Kinds: []policyKindView{{Kind: "complaint", Versions: []policyRow{{Version: 1, InForce: true}},
			Fields: policyFields([]byte(`{"contact_within":"24h","annual":{"good_percent":30}}`), "complaint"), CanEdit: true}},
			CanRecalc: true, Preview: &[]changeRow{{ComplaintNo: "C-1", Changes: []string{"resolution: a → b"}}}, VersionOptions: []option{{Value: "1"}},
			Report: &reportView{Rows: []changeRow{{ComplaintNo: "C-1"}}}, Recent: []reportView{{}}},
	}
	for name, set := range c.pages {
		d, ok := data[name]
		if !ok {
			t.Errorf("no sample data for page %s", name)
			continue
		}
		f := frame{Title: name, CSRF: "t", Self: "/console/" + name, Page: d}
		if err := set.ExecuteTemplate(io.Discard, "layout", f); err != nil {
			t.Errorf("page %s: %v", name, err)
		}
		if name != "problem" {
			if err := set.ExecuteTemplate(io.Discard, "live", f); err != nil {
				t.Errorf("page %s live: %v", name, err)
			}
		}
	}
}

// Every form's idempotency key is one the API accepts (input.ID), whatever
// random bytes it holds.
func TestFormKeysAreValidIdempotencyKeys(t *testing.T) {
	for range 2000 {
		if k := newKey(); input.ID(k) != "" {
			t.Fatalf("key %q: %s", k, input.ID(k))
		}
	}
}
