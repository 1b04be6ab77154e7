package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/acme/aftersales/auth"
	"github.com/acme/aftersales/db"
)

// noRows is a database that knows nothing: every query finds no row.
type noRows struct{}

func (noRows) Exec(context.Context, string, ...any) (pgconn.CommandTag, error) {
	return pgconn.CommandTag{}, nil
}
func (noRows) Query(context.Context, string, ...any) (pgx.Rows, error) { return nil, pgx.ErrNoRows }
func (noRows) QueryRow(context.Context, string, ...any) pgx.Row        { return noRow{} }

type noRow struct{}

func (noRow) Scan(...any) error { return pgx.ErrNoRows }

// recordingTemporal records the arguments of the updates the handlers send
// (what would enter a workflow history) and answers "no such workflow".
type recordingTemporal struct {
	client.Client
	sent []any
}

func (c *recordingTemporal) UpdateWorkflow(_ context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	c.sent = append(c.sent, o.Args...)
	return nil, serviceerror.NewNotFound("no such workflow")
}

// storable reports the first string in v (through its JSON form) that the
// input rules would refuse: invalid UTF-8, NUL, or a control character
// other than tab and line ends.
func storable(v any) (string, bool) {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error(), false
	}
	var walk func(any) (string, bool)
	walk = func(x any) (string, bool) {
		switch t := x.(type) {
		case string:
			if !utf8.ValidString(t) || strings.ContainsRune(t, 0) || strings.ContainsFunc(t, func(r rune) bool {
				return unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r'
			}) {
				return t, false
			}
		case map[string]any:
			for _, y := range t {
				if s, ok := walk(y); !ok {
					return s, false
				}
			}
		case []any:
			for _, y := range t {
				if s, ok := walk(y); !ok {
					return s, false
				}
			}
		}
		return "", true
	}
	var decoded any
	// Decode strictly from what was sent: json.Marshal keeps NUL as \u0000
	// and invalid UTF-8 becomes U+FFFD, which is storable (and what the SDK
	// would write).
	if err := json.Unmarshal(b, &decoded); err != nil {
		return err.Error(), false
	}
	return walk(decoded)
}

// FuzzCommandBodies sends arbitrary bodies to every command of complaints,
// rewards and appeals, through the real handlers and checks. Properties:
// no handler panics or answers 5xx, and whatever reaches Temporal (the
// update's argument, which would enter history) is storable in PostgreSQL.
func FuzzCommandBodies(f *testing.F) {
	for _, seed := range []string{
		`{"note":"called"}`, `{"plan":"a\u0000b"}`, `{"resolution":"ok\nline two"}`, `{"reason":"\u0007"}`,
		`{"assignee_id":"agent2","reason":"r"}`, `{"assignee_id":"a\u0000","reason":"r"}`,
		`{"clock":"plan","due_at":"2026-12-01T00:00:00Z","reason":"r"}`, `{"clock":"plan","due_at":"9999-12-31T00:00:00Z","reason":"r"}`,
		`{"ratings":{"attitude":5,"speed":4,"quality":5,"parts":4,"cost":3}}`, `{"comment":"ok"}`, `{"comment":"\u001b[31m"}`,
		`{"payment_ref":"PAY-1"}`, `{"payment_ref":"P\u0000"}`, `{"issued_ref":"C\u0085"}`, `{"kind":"cash","amount_fen":100,"reason":"r"}`,
		`{"outcome":"upheld","corrected_score":70,"reason":"\ud800"}`, "{\"note\":\"\xff\"}", `{"actor":"x"}`, ``, `null`, `[]`,
	} {
		for i := range commandRoutes {
			f.Add(uint8(i), []byte(seed))
		}
	}
	temporal := &recordingTemporal{}
	s := &Server{log: slog.New(slog.NewTextHandler(io.Discard, nil)), q: db.New(noRows{}), temporal: temporal,
		loc: time.UTC, timeout: time.Second}
	handlers := map[string]map[string]handlerFunc{"complaints": s.complaintCommands(), "rewards": s.rewardCommands(), "appeals": s.appealCommands()}
	me := auth.Principal{UserID: "fuzzer", Roles: auth.AllRoles}
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		c := commandRoutes[int(route)%len(commandRoutes)]
		h := handlers[c.kind][c.name]
		req := httptest.NewRequest(http.MethodPost, "/api/v1/"+c.kind+"/x/"+c.name, bytes.NewReader(body))
		rc := chi.NewRouteContext()
		rc.URLParams.Add(c.param, c.value)
		req = req.WithContext(context.WithValue(auth.WithPrincipal(req.Context(), me), chi.RouteCtxKey, rc))
		temporal.sent = nil
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", c.kind, c.name, body, w.Code, w.Body)
		}
		for _, arg := range temporal.sent {
			if bad, ok := storable(arg); !ok {
				t.Fatalf("%s %s %q sent %q to the workflow", c.kind, c.name, body, bad)
			}
		}
		if len(temporal.sent) == 0 && w.Code != http.StatusBadRequest {
			var e struct{ Error apiError }
			if json.Unmarshal(w.Body.Bytes(), &e) != nil || e.Error.Code == "" {
				t.Fatalf("%s %s %q: %d without an error body: %s", c.kind, c.name, body, w.Code, w.Body)
			}
		}
	})
}

// commandRoutes are the commands FuzzCommandBodies drives.
var commandRoutes = []struct{ kind, name, param, value string }{
	{"complaints", "contact", "no", "C-1"}, {"complaints", "plan", "no", "C-1"}, {"complaints", "resolve", "no", "C-1"},
	{"complaints", "pause", "no", "C-1"}, {"complaints", "resume", "no", "C-1"}, {"complaints", "reassign", "no", "C-1"},
	{"complaints", "extend", "no", "C-1"}, {"complaints", "reopen", "no", "C-1"}, {"complaints", "survey", "no", "C-1"},
	{"rewards", "approve", "no", "N-1"}, {"rewards", "reject", "no", "N-1"}, {"rewards", "return", "no", "N-1"},
	{"rewards", "resubmit", "no", "N-1"}, {"rewards", "withdraw", "no", "N-1"}, {"rewards", "payout", "no", "N-1"},
	{"appeals", "accept-explanation", "id", "appeal_2026-10_agent1"}, {"appeals", "escalate", "id", "appeal_2026-10_agent1"},
	{"appeals", "decision", "id", "appeal_2026-10_agent1"},
}
