// Package server is the thin HTTP layer of api.md: it authenticates and
// authorizes callers, validates input, and starts, updates and queries the
// Temporal workflows; PostgreSQL read models answer the lists.
package server

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.temporal.io/sdk/client"

	"github.com/acme/aftersales/auth"
	"github.com/acme/aftersales/console"
	"github.com/acme/aftersales/db"
	"github.com/acme/aftersales/policies"
)

// Options are the server's dependencies.
type Options struct {
	Logger   *slog.Logger
	Pool     *pgxpool.Pool
	Temporal client.Client
	// Auth resolves bearer tokens; nil means auth.Bearer: the PostgreSQL
	// token table, and the provider's JWT access tokens when OIDC is set.
	Auth auth.Authenticator
	// OIDC, when set, is single sign-on (issue 12): the console's sign-in
	// with the provider, and (unless Auth is set) the API's JWT bearer
	// tokens. OIDCRedirectURL is the console's registered callback (""
	// derives it from the request).
	OIDC            *auth.OIDC
	OIDCRedirectURL string
	// Location is the calendar's time zone (R2).
	Location *time.Location
	// TaskQueue is where the server starts workflows.
	TaskQueue string
	// PublicationWindow, when set, replaces the assessment's working-day
	// publication window (demos and tests).
	PublicationWindow time.Duration
	// Registry receives the HTTP metrics and is served at /metrics; nil
	// means a new registry with the Go and process collectors.
	Registry *prometheus.Registry
	// RequestTimeout bounds every /api request, commands included; past it
	// the answer is 503 (see sendUpdate). Zero means DefaultRequestTimeout.
	RequestTimeout time.Duration
	// SecureCookies marks the console's cookies Secure (HTTPS).
	SecureCookies bool
	// ReconcileInterval is how often interrupted creations are completed
	// (see reconcile.go). Zero means DefaultReconcileInterval.
	ReconcileInterval time.Duration
}

// Defaults of Options.
const (
	DefaultRequestTimeout    = 10 * time.Second
	DefaultReconcileInterval = 10 * time.Second
)

// Server is the HTTP API. It is an http.Handler.
type Server struct {
	log      *slog.Logger
	pool     *pgxpool.Pool
	q        *db.Queries
	temporal client.Client
	auth     auth.Authenticator
	loc      *time.Location
	queue    string
	// policies reads the stored policy versions (each once).
	policies *policies.Store
	// publicationWindow replaces the assessment policy's working-day
	// window when set (Options.PublicationWindow).
	publicationWindow time.Duration
	metrics           *httpMetrics
	openapi           []byte
	router            chi.Router
	// handler is router, traced (otelhttp: continues a caller's W3C trace).
	handler http.Handler
	timeout time.Duration
	// reconcileEvery is the period of Reconcile.
	reconcileEvery time.Duration
	// authFailures throttles clients that keep sending bad tokens.
	authFailures *failureLimiter
	// console is the browser console, served beside the API (issue 10).
	console *console.Console
}

// New builds the server and its routes.
func New(o Options) (*Server, error) {
	if o.Logger == nil || o.Pool == nil || o.Temporal == nil || o.Location == nil {
		return nil, fmt.Errorf("server: Logger, Pool, Temporal and Location are required")
	}
	reg := o.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	doc, err := openAPIJSON()
	if err != nil {
		return nil, err
	}
	s := &Server{
		log:      o.Logger,
		pool:     o.Pool,
		q:        db.New(o.Pool),
		policies: policies.NewStore(db.New(o.Pool)),
		temporal: o.Temporal,
		auth:     o.Auth,
		loc:      o.Location,
		queue:    o.TaskQueue,
		metrics:  newHTTPMetrics(reg),
		openapi:  doc,
		timeout:  cmp.Or(o.RequestTimeout, DefaultRequestTimeout),

		reconcileEvery: cmp.Or(o.ReconcileInterval, DefaultReconcileInterval),
		authFailures:   newFailureLimiter(authFailureLimit, authFailureWindow),
	}
	s.publicationWindow = o.PublicationWindow
	if s.auth == nil {
		s.auth = auth.Bearer{Tokens: auth.NewTokenStore(s.q), OIDC: o.OIDC}
	}
	s.router = s.routes(promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	s.console, err = console.New(console.Options{Log: o.Logger, Pool: o.Pool, API: s, Tokens: s.auth,
		Sessions: auth.NewSessionStore(s.q), Location: o.Location, SecureCookies: o.SecureCookies,
		OIDC: o.OIDC, OIDCRedirectURL: o.OIDCRedirectURL})
	if err != nil {
		return nil, err
	}
	s.console.Mount(s.router)
	s.handler = otelhttp.NewHandler(s.router, "http",
		// Probes and scrapes are not worth a trace each.
		otelhttp.WithFilter(func(r *http.Request) bool {
			return r.URL.Path != "/healthz" && r.URL.Path != "/readyz" && r.URL.Path != "/metrics"
		}),
		// Named by method here, by route once chi has routed (observe).
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method }))
	return s, nil
}

// Run does the server's background work until ctx ends: completing
// interrupted creations (Reconcile) and relaying change notices to the
// console's open pages.
func (s *Server) Run(ctx context.Context) error {
	go s.console.Run(ctx)
	return s.Reconcile(ctx)
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Routes exposes the route tree (the OpenAPI test walks it).
func (s *Server) Routes() chi.Routes { return s.router }

func (s *Server) routes(metrics http.Handler) chi.Router {
	r := chi.NewRouter()
	r.Use(middleware.RequestID, s.observe, recoverer, checkQuery)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) { writeError(w, r, errNotFound) })
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) { writeError(w, r, errMethod) })

	r.Get("/healthz", s.healthz)
	r.Get("/readyz", s.readyz)
	r.Method(http.MethodGet, "/metrics", metrics)
	r.Get("/openapi.json", s.openAPI)

	r.Route("/api/v1", func(r chi.Router) {
		r.Use(withDeadline(s.timeout), s.authenticate)

		// Complaints (R3).
		complaint := s.complaintResource(false)
		r.With(authorize(only(auth.Agent, auth.Manager, auth.EscalationOfficer))).Method(http.MethodPost, "/complaints", handlerFunc(s.createComplaint))
		r.With(authorize(only(auth.Manager, auth.EscalationOfficer, auth.HR))).Method(http.MethodGet, "/complaints", handlerFunc(s.listComplaints))
		r.With(authorize(Access{Roles: []auth.Role{auth.EscalationOfficer, auth.HR}, TeamRoles: []auth.Role{auth.Manager},
			OwnerRoles: auth.AllRoles, Resource: s.complaintResource(true)})).Method(http.MethodGet, "/complaints/{no}", handlerFunc(s.getComplaint))
		cmds := s.complaintCommands()
		assignee := Access{OwnerRoles: auth.AllRoles, Resource: complaint}
		for _, name := range []string{"contact", "plan", "resolve", "pause", "resume"} {
			r.With(authorize(assignee)).Method(http.MethodPost, "/complaints/{no}/"+name, cmds[name])
		}
		r.With(authorize(Access{Roles: []auth.Role{auth.EscalationOfficer}, TeamRoles: []auth.Role{auth.Manager}, Resource: complaint})).
			Method(http.MethodPost, "/complaints/{no}/reassign", cmds["reassign"])
		r.With(authorize(only(auth.EscalationOfficer))).Method(http.MethodPost, "/complaints/{no}/extend", cmds["extend"])
		customerSide := Access{TeamRoles: []auth.Role{auth.Manager}, OwnerRoles: []auth.Role{auth.Agent}, Resource: complaint}
		r.With(authorize(customerSide)).Method(http.MethodPost, "/complaints/{no}/reopen", cmds["reopen"])
		r.With(authorize(customerSide)).Method(http.MethodPost, "/complaints/{no}/survey", cmds["survey"])
		r.With(authorize(only(auth.EscalationOfficer, auth.Manager))).Method(http.MethodGet, "/escalations", handlerFunc(s.listEscalations))
		// Everyone, scoped by role inside (R7): the board's query.
		r.With(authorize(anyone)).Method(http.MethodGet, "/clocks", handlerFunc(s.listOpenClocks))
		r.With(authorize(Access{Roles: []auth.Role{auth.EscalationOfficer}, OwnerRoles: []auth.Role{auth.Manager}, Resource: s.escalationResource})).
			Method(http.MethodPost, "/escalations/{id}/ack", handlerFunc(s.ackEscalation))

		// Work orders and deductions (R4.2, R4.4).
		r.With(authorize(Access{TeamRoles: []auth.Role{auth.Manager}, OwnerRoles: []auth.Role{auth.Agent},
			Resource: subjectFromBody(s, "technician_id", func(b *workOrderRequest) string { return b.TechnicianID })})).
			Method(http.MethodPost, "/work-orders", handlerFunc(s.createWorkOrder))
		r.With(authorize(Access{TeamRoles: []auth.Role{auth.Manager},
			Resource: subjectFromBody(s, "employee_id", func(b *deductionRequest) string { return b.EmployeeID })})).
			Method(http.MethodPost, "/deductions", handlerFunc(s.createDeduction))
		employeesManager := Access{TeamRoles: []auth.Role{auth.Manager}, Resource: s.deductionResource}
		r.With(authorize(employeesManager)).Method(http.MethodPost, "/deductions/{id}/confirm", s.decideDeduction("confirmed"))
		r.With(authorize(employeesManager)).Method(http.MethodPost, "/deductions/{id}/cancel", s.decideDeduction("cancelled"))
		r.With(authorize(recordRows.access())).Method(http.MethodGet, "/deductions", handlerFunc(s.listDeductions))

		// Assessments and appeals (R4, R6).
		r.With(authorize(only(auth.HR))).Method(http.MethodPost, "/assessment-cycles", handlerFunc(s.startCycle))
		r.With(authorize(only(auth.HR, auth.Manager))).Method(http.MethodGet, "/assessment-cycles/{month}", handlerFunc(s.getCycle))
		r.With(authorize(only(auth.HR, auth.Manager, auth.Agent))).Method(http.MethodGet, "/assessments", handlerFunc(s.listAssessments))
		r.With(authorize(Access{OwnerRoles: auth.AllRoles, Resource: s.assessedResource(false, false)})).
			Method(http.MethodPost, "/assessments/{id}/appeals", handlerFunc(s.openAppeal))
		appealParty := s.assessedResource(true, false)
		r.With(authorize(Access{Roles: []auth.Role{auth.HR}, TeamRoles: []auth.Role{auth.Manager}, OwnerRoles: auth.AllRoles, Resource: appealParty})).
			Method(http.MethodGet, "/appeals/{id}", handlerFunc(s.getAppeal))
		appealCmds := s.appealCommands()
		r.With(authorize(Access{OwnerRoles: auth.AllRoles, Resource: appealParty})).
			Method(http.MethodPost, "/appeals/{id}/accept-explanation", appealCmds["accept-explanation"])
		r.With(authorize(Access{TeamRoles: []auth.Role{auth.Manager}, OwnerRoles: auth.AllRoles, Resource: appealParty})).
			Method(http.MethodPost, "/appeals/{id}/escalate", appealCmds["escalate"])
		// HR decides, or the skip-level manager (the department head, R6).
		r.With(authorize(Access{Roles: []auth.Role{auth.HR}, OwnerRoles: []auth.Role{auth.Manager}, Resource: s.assessedResource(true, true)})).
			Method(http.MethodPost, "/appeals/{id}/decision", appealCmds["decision"])
		r.With(authorize(recordRows.access())).Method(http.MethodGet, "/appeals", handlerFunc(s.listAppeals))
		r.With(authorize(only(auth.HR))).Method(http.MethodGet, "/reports/annual/{year}", handlerFunc(s.annualReport))

		// Reports (R7); whose rows each shows is declared in lists.go.
		r.With(authorize(performanceRows.access())).Method(http.MethodGet, "/reports/timeliness", handlerFunc(s.timelinessReport))
		r.With(authorize(performanceRows.access())).Method(http.MethodGet, "/reports/csi", handlerFunc(s.csiReport))
		r.With(authorize(oversightRows.access())).Method(http.MethodGet, "/reports/appeals", handlerFunc(s.appealsReport))
		r.With(authorize(oversightRows.access())).Method(http.MethodGet, "/reports/approvals", handlerFunc(s.approvalsReport))

		// Team ranking (R4.7), in ranking.go.
		s.rankingRoutes(r)

		// Rewards (R5).
		r.With(authorize(Access{Roles: []auth.Role{auth.HR}, TeamRoles: []auth.Role{auth.Manager},
			Resource: subjectFromBody(s, "nominee_id", func(b *createRewardRequest) string { return b.NomineeID })})).
			Method(http.MethodPost, "/rewards", handlerFunc(s.createReward))
		// hr, managers and the committee; anyone with ?mine=true (listRewards).
		r.With(authorize(anyone)).Method(http.MethodGet, "/rewards", handlerFunc(s.listRewards))
		r.With(authorize(Access{Roles: []auth.Role{auth.HR}, OwnerRoles: auth.AllRoles, Resource: s.rewardReaders})).
			Method(http.MethodGet, "/rewards/{no}", handlerFunc(s.getReward))
		rewardCmds := s.rewardCommands()
		approver := Access{OwnerRoles: auth.AllRoles, Resource: s.rewardActors} // who may act on the current step now
		for _, name := range []string{"approve", "reject", "return"} {
			r.With(authorize(approver)).Method(http.MethodPost, "/rewards/{no}/"+name, rewardCmds[name])
		}
		nominator := Access{OwnerRoles: auth.AllRoles, Resource: s.rewardNominator}
		r.With(authorize(nominator)).Method(http.MethodPost, "/rewards/{no}/resubmit", rewardCmds["resubmit"])
		r.With(authorize(nominator)).Method(http.MethodPost, "/rewards/{no}/withdraw", rewardCmds["withdraw"])
		r.With(authorize(only(auth.HR))).Method(http.MethodPost, "/rewards/{no}/payout", rewardCmds["payout"])

		// Calendar (R2).
		r.With(authorize(anyone)).Method(http.MethodGet, "/calendar", handlerFunc(s.listCalendar))
		r.With(authorize(anyone)).Method(http.MethodPost, "/calendar/deadline", handlerFunc(s.calendarDeadline))
		r.With(authorize(only(auth.Admin))).Method(http.MethodPut, "/calendar/overrides/{date}", handlerFunc(s.putCalendarOverride))
		r.With(authorize(only(auth.Admin))).Method(http.MethodDelete, "/calendar/overrides/{date}", handlerFunc(s.deleteCalendarOverride))

		// Administration (R1, issue 12): users, teams, tokens, and the audit.
		admin := r.With(authorize(only(auth.Admin)))
		admin.Method(http.MethodPost, "/admin/users", handlerFunc(s.createUser))
		admin.Method(http.MethodGet, "/admin/users", handlerFunc(s.listUsers))
		admin.Method(http.MethodGet, "/admin/users/{id}", handlerFunc(s.getUser))
		admin.Method(http.MethodPost, "/admin/users/{id}/deactivate", s.setUserActive(false))
		admin.Method(http.MethodPost, "/admin/users/{id}/reactivate", s.setUserActive(true))
		admin.Method(http.MethodPut, "/admin/users/{id}/roles", handlerFunc(s.setUserRoles))
		admin.Method(http.MethodPut, "/admin/users/{id}/team", handlerFunc(s.moveUser))
		admin.Method(http.MethodPost, "/admin/users/{id}/tokens", handlerFunc(s.issueToken))
		admin.Method(http.MethodGet, "/admin/users/{id}/tokens", handlerFunc(s.listTokens))
		admin.Method(http.MethodPost, "/admin/tokens/{token_id}/revoke", handlerFunc(s.revokeToken))
		admin.Method(http.MethodPut, "/admin/teams/{id}/supervisor", s.setTeamSupervisor())
		admin.Method(http.MethodPut, "/admin/departments/{id}/head", s.setDepartmentHead())
		admin.Method(http.MethodGet, "/admin/audit", handlerFunc(s.listAudit))
		// Versioned policies (issue 12): anyone may read the rules they work by.
		r.With(authorize(anyone)).Method(http.MethodGet, "/policies", handlerFunc(s.listPolicies))
		admin.Method(http.MethodPost, "/policies/{kind}", handlerFunc(s.createPolicy))
		// Recorded recalculation (R2, last rule): the admin and the escalation officers.
		recalc := r.With(authorize(only(auth.Admin, auth.EscalationOfficer)))
		recalc.Method(http.MethodPost, "/recalculations/preview", handlerFunc(s.previewRecalculation))
		recalc.Method(http.MethodPost, "/recalculations", handlerFunc(s.applyRecalculation))
		recalc.Method(http.MethodGet, "/recalculations", handlerFunc(s.listRecalculations))
		recalc.Method(http.MethodGet, "/recalculations/{id}", handlerFunc(s.getRecalculation))
	})
	return r
}
