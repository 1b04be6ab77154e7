package console

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/acme/aftersales/workflows"
)

// The policies page (issue 12; R1, R2): the versions of the complaint,
// reward and assessment policies, a form for a new version (the admin),
// and the recorded recalculation (the admin and the escalation officers):
// preview which running complaints the calendar now in force (and,
// optionally, another complaint policy version) would change, choose
// them, apply with a reason, follow the batch's report. Like every page it
// reads and acts through the API; the arithmetic is the workflows'.

// policyField is one field of a policy form: its API name (dotted when
// nested), its label, and whether it is a duration ("24h") or a number.
type policyField struct {
	Name, Label string
	Duration    bool
}

// policyForms are the fields of each kind, in the order shown.
var policyForms = map[string][]policyField{
	"complaint": {
		{"contact_within", "Contact within (hours, e.g. 24h)", true},
		{"plan_within", "Plan within (e.g. 48h)", true},
		{"resolution_working_days", "Resolution (working days)", false},
		{"warning_fraction", "Warning at (fraction of the clock)", false},
		{"level2_working_days", "Level 2 after a miss (working days)", false},
		{"reopen_within", "Reopen within (e.g. 720h)", true},
		{"deduction_points", "Deduction for a miss (points)", false},
	},
	"reward": {
		{"committee_above_fen", "Committee above (fen)", false},
		{"step_working_days", "Each step (working days)", false},
		{"reminder_working_days", "Reminder after (working days)", false},
	},
	"assessment": {
		{"publication_working_days", "Publication (working days)", false},
		{"stage1_working_days", "Appeal stage 1 (working days)", false},
		{"stage2_working_days", "Appeal stage 2 (working days)", false},
		{"reminder_working_days", "Stage-2 reminder after (working days)", false},
		{"star_min_score", "Service star from (score)", false},
		{"annual.excellent_percent", "Annual excellent (top %)", false},
		{"annual.good_percent", "Annual good (next %)", false},
		{"annual.failing_percent", "Annual failing (bottom %)", false},
	},
}

var policyTitles = map[string]string{"complaint": "Complaint SLAs (R3)", "reward": "Reward approval (R5.3)", "assessment": "Assessment and appeals (R4.5, R4.6, R6)"}

type policyVersion struct {
	Kind          string          `json:"kind"`
	Version       int             `json:"version"`
	EffectiveFrom time.Time       `json:"effective_from"`
	InForce       bool            `json:"in_force"`
	Reason        string          `json:"reason"`
	CreatedBy     string          `json:"created_by"`
	Policy        json.RawMessage `json:"policy"`
}

type policyRow struct {
	Version                 int
	From, By, Reason, Rules string
	InForce                 bool
}

type policyKindView struct {
	Kind, Title string
	Versions    []policyRow
	Fields      []field // the new-version form, filled with the version in force
	CanEdit     bool
}

type changeRow struct {
	ComplaintNo string
	Changes     []string
}

type reportView struct {
	workflows.RecalculationReport
	When, By string
	Rows     []changeRow // each case not unchanged: outcome and moves
}

type policiesPage struct {
	Kinds     []policyKindView
	CanRecalc bool
	// Preview is set when asked for (?preview=1): the running complaints
	// that would change; PreviewVersion the policy version it was asked with.
	Preview        *[]changeRow
	Running        int
	PreviewVersion string
	VersionOptions []option
	Report         *reportView // ?recalculation=<id>
	Recent         []reportView
	Key            string // the apply form's idempotency key
}

func (c *Console) policiesData(r *http.Request, d directory) (any, error) {
	ctx := r.Context()
	var versions list[policyVersion]
	if err := c.get(ctx, apiPath("policies"), &versions); err != nil {
		return nil, err
	}
	page := policiesPage{CanRecalc: c.allowed(ctx, http.MethodPost, apiPath("recalculations")), Key: newKey()}
	page.VersionOptions = []option{{Value: "", Label: "each case keeps its own"}}
	for _, kind := range []string{"complaint", "reward", "assessment"} {
		view := policyKindView{Kind: kind, Title: policyTitles[kind], CanEdit: c.allowed(ctx, http.MethodPost, apiPath("policies", kind))}
		for _, v := range versions.Items {
			if v.Kind != kind {
				continue
			}
			view.Versions = append(view.Versions, policyRow{Version: v.Version, From: c.when(v.EffectiveFrom), By: d.name(v.CreatedBy),
				Reason: v.Reason, Rules: rulesText(v.Policy, kind), InForce: v.InForce})
			if v.InForce {
				view.Fields = policyFields(v.Policy, kind)
			}
			if kind == "complaint" {
				label := "version " + strconv.Itoa(v.Version)
				page.VersionOptions = append(page.VersionOptions, option{Value: strconv.Itoa(v.Version), Label: label,
					Selected: r.URL.Query().Get("policy_version") == strconv.Itoa(v.Version)})
			}
		}
		page.Kinds = append(page.Kinds, view)
	}
	if page.CanRecalc && r.URL.Query().Get("preview") != "" {
		if err := c.preview(r, &page); err != nil {
			return nil, err
		}
	}
	if id := r.URL.Query().Get("recalculation"); id != "" && page.CanRecalc {
		var rep workflows.RecalculationReport
		if err := c.get(ctx, apiPath("recalculations", id), &rep); err != nil {
			return nil, err
		}
		v := c.reportView(rep, d)
		page.Report = &v
	}
	if page.CanRecalc {
		var recent list[workflows.RecalculationReport]
		if err := c.get(ctx, apiPath("recalculations"), &recent); err != nil {
			return nil, err
		}
		for _, rep := range recent.Items {
			page.Recent = append(page.Recent, c.reportView(rep, d))
		}
	}
	return page, nil
}

// preview asks the API which running complaints would change.
func (c *Console) preview(r *http.Request, page *policiesPage) error {
	body := map[string]any{}
	if v := r.URL.Query().Get("policy_version"); v != "" {
		body["policy_version"] = jsonNumber(v)
		page.PreviewVersion = v
	}
	j, _ := json.Marshal(body)
	status, h, resp := c.api.Call(r.Context(), me(r), http.MethodPost, apiPath("recalculations", "preview"), nil, j)
	if status != http.StatusOK {
		return problemOf(status, h, resp)
	}
	var out struct {
		Running int `json:"running"`
		Items   []struct {
			ComplaintNo string                  `json:"complaint_no"`
			Changes     []workflows.ClockChange `json:"changes"`
		} `json:"items"`
	}
	if err := json.Unmarshal(resp, &out); err != nil {
		return err
	}
	rows := []changeRow{}
	for _, it := range out.Items {
		rows = append(rows, changeRow{ComplaintNo: it.ComplaintNo, Changes: c.movesText(it.Changes)})
	}
	page.Preview, page.Running = &rows, out.Running
	return nil
}

func (c *Console) movesText(changes []workflows.ClockChange) []string {
	out := make([]string, 0, len(changes))
	for _, ch := range changes {
		out = append(out, string(ch.Clock)+": "+c.when(ch.OldDueAt)+" → "+c.when(ch.NewDueAt))
	}
	return out
}

func (c *Console) reportView(rep workflows.RecalculationReport, d directory) reportView {
	v := reportView{RecalculationReport: rep, When: c.when(rep.RequestedAt), By: d.name(rep.RequestedBy)}
	for _, it := range rep.Items {
		moves := c.movesText(it.Changes)
		if it.Error != "" {
			moves = append(moves, it.Error)
		}
		v.Rows = append(v.Rows, changeRow{ComplaintNo: it.ComplaintNo + " (" + it.Outcome + ")", Changes: moves})
	}
	return v
}

// lookup is the value at a dotted path of a policy's JSON.
func lookup(m map[string]any, path string) any {
	parent, child, nested := strings.Cut(path, ".")
	if !nested {
		return m[path]
	}
	inner, _ := m[parent].(map[string]any)
	return inner[child]
}

func valueText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	default:
		b, _ := json.Marshal(x)
		return strings.Trim(string(b), `"`)
	}
}

// policyFields is the new-version form, filled with policy's values.
func policyFields(policy json.RawMessage, kind string) []field {
	var m map[string]any
	_ = json.Unmarshal(policy, &m)
	out := []field{}
	for _, f := range policyForms[kind] {
		kind := "number"
		if f.Duration {
			kind = "text"
		}
		out = append(out, field{Name: f.Name, Label: f.Label, Kind: kind, Value: valueText(lookup(m, f.Name)), Required: true})
	}
	return out
}

// rulesText is a version's rules on one line.
func rulesText(policy json.RawMessage, kind string) string {
	var m map[string]any
	_ = json.Unmarshal(policy, &m)
	parts := make([]string, 0, len(policyForms[kind]))
	for _, f := range policyForms[kind] {
		parts = append(parts, f.Name+" "+valueText(lookup(m, f.Name)))
	}
	return strings.Join(parts, ", ")
}

// policiesDo is POST /console/policies/{op}: "recalculate", or a kind's new version.
func (c *Console) policiesDo(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		c.answer(w, r, &problem{Status: http.StatusBadRequest, Message: "the form could not be read"})
		return
	}
	f := r.PostForm
	op := chi.URLParam(r, "op")
	body := map[string]any{"reason": f.Get("reason")}
	header := http.Header{}
	target := apiPath("recalculations")
	if op == "recalculate" {
		if v := f.Get("policy_version"); v != "" {
			body["policy_version"] = jsonNumber(v)
		}
		nos := f["complaint_no"]
		if len(nos) == 0 {
			c.answer(w, r, &problem{Status: http.StatusBadRequest, Message: "choose at least one complaint"})
			return
		}
		body["complaint_nos"] = nos
		if k := f.Get(keyField); k != "" {
			header.Set("Idempotency-Key", k)
		}
	} else {
		fields, ok := policyForms[op]
		if !ok {
			c.answer(w, r, &problem{Status: http.StatusNotFound, Message: "there is no such form"})
			return
		}
		target = apiPath("policies", op)
		policy := map[string]any{}
		for _, pf := range fields {
			var v any = f.Get(pf.Name)
			if !pf.Duration {
				v = jsonNumber(f.Get(pf.Name))
			}
			if parent, child, nested := strings.Cut(pf.Name, "."); nested {
				inner, _ := policy[parent].(map[string]any)
				if inner == nil {
					inner = map[string]any{}
					policy[parent] = inner
				}
				inner[child] = v
				continue
			}
			policy[pf.Name] = v
		}
		body["policy"] = policy
		if v := f.Get("effective_from"); v != "" {
			body["effective_from"] = c.instant(v)
		}
	}
	j, err := json.Marshal(body)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	status, h, resp := c.api.Call(r.Context(), me(r), http.MethodPost, target, header, j)
	if status >= 300 {
		c.answer(w, r, problemOf(status, h, resp))
		return
	}
	back := "/console/policies"
	if op == "recalculate" {
		var rep struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(resp, &rep)
		back += "?recalculation=" + url.QueryEscape(rep.ID)
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}
