package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/acme/aftersales/auth"
	"github.com/acme/aftersales/db"
	"github.com/acme/aftersales/input"
)

// Administration of users, teams, departments and tokens (R1: the admin
// manages users; issue 12). Every write runs in one transaction with its
// admin_audit rows (one per changed field, old and new value), so a change
// is never kept without its record, nor the record without the change.
//
// Nothing here caches a principal: the token and session lookups read the
// principals view on every request (auth.TokenStore, auth.SessionStore), so
// a deactivation or a revocation is refused on the very next call, on
// every server.

const maxReasonLen = 500

// adminUser is a user as the admin API shows them.
type adminUser struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	TeamID    string    `json:"team_id"` // "" for none
	Roles     []string  `json:"roles"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
}

// adminToken is a token without its secret; Token carries the secret only
// in the answer that issued it.
type adminToken struct {
	ID        string     `json:"id"`
	UserID    string     `json:"user_id"`
	Label     string     `json:"label"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at"`
	RevokedAt *time.Time `json:"revoked_at"`
	// State is active, expired or revoked, as of the answer.
	State string `json:"state"`
	Token string `json:"token,omitempty"`
}

type auditEntry struct {
	ID       int64     `json:"id"`
	ActorID  string    `json:"actor_id"`
	At       time.Time `json:"at"`
	Entity   string    `json:"entity"`
	EntityID string    `json:"entity_id"`
	Field    string    `json:"field"`
	OldValue *string   `json:"old_value"`
	NewValue *string   `json:"new_value"`
	Reason   *string   `json:"reason"`
}

var auditEntities = []string{"user", "team", "department", "token", "policy"}

// auditor writes the audit rows of one admin transaction.
type auditor struct {
	ctx    context.Context
	q      *db.Queries
	actor  string
	reason *string
}

// change records field of entity id going from old to new; nil is "none".
func (a auditor) change(entity, id, field string, old, new *string) error {
	return a.q.InsertAdminAudit(a.ctx, db.InsertAdminAuditParams{
		ActorID: a.actor, Entity: entity, EntityID: id, Field: field, OldValue: old, NewValue: new, Reason: a.reason,
	})
}

// adminTx runs fn in one transaction with an auditor for the caller.
func (s *Server) adminTx(r *http.Request, reason string, fn func(q *db.Queries, a auditor) error) error {
	var why *string
	if reason != "" {
		why = &reason
	}
	return pgx.BeginFunc(r.Context(), s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		return fn(q, auditor{ctx: r.Context(), q: q, actor: principal(r).UserID, reason: why})
	})
}

func ptr(s string) *string { return &s }

// text of an optional value for the audit ("" is none).
func optText(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func rolesText(rs []string) string { return strings.Join(rs, ",") }

func userOf(id, name, team string, active bool, created time.Time, roles []string) adminUser {
	if roles == nil {
		roles = []string{}
	}
	return adminUser{ID: id, Name: name, TeamID: team, Roles: roles, Active: active, CreatedAt: created}
}

func tokenOf(id, user, label string, created time.Time, expires, revoked *time.Time, now time.Time) adminToken {
	state := "active"
	switch {
	case revoked != nil:
		state = "revoked"
	case expires != nil && !now.Before(*expires):
		state = "expired"
	}
	return adminToken{ID: id, UserID: user, Label: label, CreatedAt: created, ExpiresAt: expires, RevokedAt: revoked, State: state}
}

func notFound(what string) *apiError {
	return &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "no such " + what}
}

func conflict(msg string) *apiError {
	return &apiError{Status: http.StatusConflict, Code: "invalid_state", Message: msg}
}

// missing maps "no such row" to a 404 naming what.
func missing(err error, what string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return notFound(what)
	}
	return err
}

// checkRoles validates a role list: known roles, no duplicates, at least one.
// It returns them sorted, as the principals view lists them.
func checkRoles(errs fieldErrors, rs []string) []string {
	if len(rs) == 0 {
		errs.add("roles", "at least one role is required (deactivate a user instead of taking every role)")
		return nil
	}
	out := slices.Clone(rs)
	slices.Sort(out)
	for i, r := range out {
		if !slices.Contains(auth.AllRoles, auth.Role(r)) {
			errs.add("roles", fmt.Sprintf("unknown role %q: want agent, manager, hr, escalation_officer, committee or admin", r))
			return nil
		}
		if i > 0 && out[i-1] == r {
			errs.add("roles", fmt.Sprintf("role %q is listed twice", r))
			return nil
		}
	}
	return out
}

// idField checks an id in a body (a user or team id) by input.ID.
func idField(errs fieldErrors, name, v string, required bool) string {
	if v == "" && !required {
		return ""
	}
	if p := input.ID(v); p != "" {
		errs.add(name, p)
	}
	return v
}

// teamField checks that a team id names a team (400 on the field if not).
func (s *Server) teamField(ctx context.Context, errs fieldErrors, name, id string) {
	if id == "" || errs[name] != "" {
		return
	}
	ok, err := s.q.AdminTeamExists(ctx, id)
	switch {
	case err != nil:
		errs.down()
	case !ok:
		errs.add(name, "no such team")
	}
}

type createUserRequest struct {
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	TeamID string   `json:"team_id"`
	Roles  []string `json:"roles"`
	Reason string   `json:"reason"`
}

// POST /api/v1/admin/users: 201 and the user; the same body again is 200
// and the user (api.md: creating is idempotent on the business key); the
// same id with anything else is 409.
func (s *Server) createUser(w http.ResponseWriter, r *http.Request) error {
	var req createUserRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	errs := fieldErrors{}
	idField(errs, "id", req.ID, true)
	req.Name = lineField(errs, "name", req.Name, 200, true)
	idField(errs, "team_id", req.TeamID, false)
	roles := checkRoles(errs, req.Roles)
	req.Reason = optionalText(errs, "reason", req.Reason, maxReasonLen)
	s.teamField(r.Context(), errs, "team_id", req.TeamID)
	if err := errs.err(); err != nil {
		return err
	}
	status := http.StatusCreated
	var out adminUser
	err := s.adminTx(r, req.Reason, func(q *db.Queries, a auditor) error {
		if old, err := q.AdminUserForUpdate(r.Context(), req.ID); err == nil {
			if old.Name != req.Name || old.TeamID != req.TeamID || !slices.Equal(old.Roles, roles) {
				return &apiError{Status: http.StatusConflict, Code: "user_exists", Message: "user " + req.ID + " exists with other values"}
			}
			status, out = http.StatusOK, userOf(old.ID, old.Name, old.TeamID, old.Active, old.CreatedAt, old.Roles)
			return nil
		} else if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if err := q.AdminInsertUser(r.Context(), db.AdminInsertUserParams{ID: req.ID, Name: req.Name, TeamID: optText(req.TeamID)}); err != nil {
			return err
		}
		for _, role := range roles {
			if err := q.AddUserRole(r.Context(), db.AddUserRoleParams{UserID: req.ID, Role: role}); err != nil {
				return err
			}
		}
		for _, c := range []struct{ field, v string }{{"created", "true"}, {"name", req.Name}, {"team_id", req.TeamID}, {"roles", rolesText(roles)}, {"active", "true"}} {
			if err := a.change("user", req.ID, c.field, nil, optText(c.v)); err != nil {
				return err
			}
		}
		u, err := q.AdminGetUser(r.Context(), req.ID)
		out = userOf(u.ID, u.Name, u.TeamID, u.Active, u.CreatedAt, u.Roles)
		return err
	})
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" { // a concurrent create of the same id won
		return &apiError{Status: http.StatusConflict, Code: "user_exists", Message: "user " + req.ID + " was created concurrently"}
	}
	if err != nil {
		return err
	}
	writeJSON(w, status, out)
	return nil
}

// GET /api/v1/admin/users/{id}
func (s *Server) getUser(w http.ResponseWriter, r *http.Request) error {
	u, err := s.q.AdminGetUser(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		return missing(err, "user")
	}
	writeJSON(w, http.StatusOK, userOf(u.ID, u.Name, u.TeamID, u.Active, u.CreatedAt, u.Roles))
	return nil
}

// GET /api/v1/admin/users?team_id=&role=&active=: by id.
func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	errs := fieldErrors{}
	pg := parsePage(q, errs)
	p := db.AdminListUsersParams{RowLimit: int32(pg.limit + 1)}
	if v := q.Get("team_id"); v != "" {
		p.TeamID = &v
	}
	if v := q.Get("role"); v != "" {
		if !slices.Contains(auth.AllRoles, auth.Role(v)) {
			errs.add("role", "must be agent, manager, hr, escalation_officer, committee or admin")
		}
		p.Role = &v
	}
	switch v := q.Get("active"); v {
	case "":
	case "true", "false":
		p.Active = pgtype.Bool{Bool: v == "true", Valid: true}
	default:
		errs.add("active", "must be true or false")
	}
	var after string
	if pg.decodeCursor(&after, errs) {
		p.AfterID = &after
	}
	if err := errs.err(); err != nil {
		return err
	}
	rows, err := s.q.AdminListUsers(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, paginate(rows, pg.limit,
		func(u db.AdminListUsersRow) any { return u.ID },
		func(u db.AdminListUsersRow) adminUser {
			return userOf(u.ID, u.Name, u.TeamID, u.Active, u.CreatedAt, u.Roles)
		}))
	return nil
}

type reasonRequest struct {
	Reason string `json:"reason"`
}

// decodeOptional decodes a body that may be absent (a command with only an
// optional reason may be posted without one).
func decodeOptional(w http.ResponseWriter, r *http.Request, dst any) error {
	body, err := readBody(w, r)
	if err != nil || len(strings.TrimSpace(string(body))) == 0 {
		return err
	}
	return decodeBody(body, dst)
}

// userCommand runs change on the locked user {id} in an audited
// transaction and answers with the user's new state.
func (s *Server) userCommand(w http.ResponseWriter, r *http.Request, reason string,
	change func(q *db.Queries, a auditor, u db.AdminUserForUpdateRow) error) error {
	id := chi.URLParam(r, "id")
	var out adminUser
	err := s.adminTx(r, reason, func(q *db.Queries, a auditor) error {
		u, err := q.AdminUserForUpdate(r.Context(), id)
		if err != nil {
			return missing(err, "user")
		}
		if err := change(q, a, u); err != nil {
			return err
		}
		n, err := q.AdminGetUser(r.Context(), id)
		out = userOf(n.ID, n.Name, n.TeamID, n.Active, n.CreatedAt, n.Roles)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// POST /api/v1/admin/users/{id}/deactivate and /reactivate. An admin may
// not deactivate themselves: that could leave nobody to undo it.
func (s *Server) setUserActive(active bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var req reasonRequest
		if err := decodeOptional(w, r, &req); err != nil {
			return err
		}
		errs := fieldErrors{}
		req.Reason = optionalText(errs, "reason", req.Reason, maxReasonLen)
		if err := errs.err(); err != nil {
			return err
		}
		return s.userCommand(w, r, req.Reason, func(q *db.Queries, a auditor, u db.AdminUserForUpdateRow) error {
			switch {
			case u.Active == active && active:
				return conflict("user " + u.ID + " is already active")
			case u.Active == active:
				return conflict("user " + u.ID + " is already deactivated")
			case !active && u.ID == principal(r).UserID:
				return conflict("you cannot deactivate yourself")
			}
			if err := q.AdminSetUserActive(r.Context(), db.AdminSetUserActiveParams{Active: active, ID: u.ID}); err != nil {
				return err
			}
			if !active {
				if _, err := q.AdminEndUserSessions(r.Context(), u.ID); err != nil {
					return err
				}
			}
			return a.change("user", u.ID, "active", ptr(fmt.Sprint(u.Active)), ptr(fmt.Sprint(active)))
		})
	}
}

type setRolesRequest struct {
	Roles  []string `json:"roles"`
	Reason string   `json:"reason"`
}

// PUT /api/v1/admin/users/{id}/roles: the user's whole role set.
func (s *Server) setUserRoles(w http.ResponseWriter, r *http.Request) error {
	var req setRolesRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	errs := fieldErrors{}
	roles := checkRoles(errs, req.Roles)
	req.Reason = optionalText(errs, "reason", req.Reason, maxReasonLen)
	if err := errs.err(); err != nil {
		return err
	}
	return s.userCommand(w, r, req.Reason, func(q *db.Queries, a auditor, u db.AdminUserForUpdateRow) error {
		if slices.Equal(u.Roles, roles) {
			return nil // nothing changes, nothing to record
		}
		if u.ID == principal(r).UserID && !slices.Contains(roles, string(auth.Admin)) {
			return conflict("you cannot take the admin role from yourself")
		}
		if err := q.AdminDeleteUserRoles(r.Context(), u.ID); err != nil {
			return err
		}
		for _, role := range roles {
			if err := q.AddUserRole(r.Context(), db.AddUserRoleParams{UserID: u.ID, Role: role}); err != nil {
				return err
			}
		}
		return a.change("user", u.ID, "roles", optText(rolesText(u.Roles)), ptr(rolesText(roles)))
	})
}

type moveUserRequest struct {
	TeamID *string `json:"team_id"`
	Reason string  `json:"reason"`
}

// PUT /api/v1/admin/users/{id}/team: team_id "" takes the user off any
// team. Running complaints keep their assignee; what a move means for
// counting is R4.0's (the team at each instant).
func (s *Server) moveUser(w http.ResponseWriter, r *http.Request) error {
	var req moveUserRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	errs := fieldErrors{}
	if req.TeamID == nil {
		errs.add("team_id", `required: a team id, or "" for no team`)
	} else {
		idField(errs, "team_id", *req.TeamID, false)
		s.teamField(r.Context(), errs, "team_id", *req.TeamID)
	}
	req.Reason = optionalText(errs, "reason", req.Reason, maxReasonLen)
	if err := errs.err(); err != nil {
		return err
	}
	return s.userCommand(w, r, req.Reason, func(q *db.Queries, a auditor, u db.AdminUserForUpdateRow) error {
		if u.TeamID == *req.TeamID {
			return nil
		}
		if err := q.AdminSetUserTeam(r.Context(), db.AdminSetUserTeamParams{TeamID: optText(*req.TeamID), ID: u.ID}); err != nil {
			return err
		}
		return a.change("user", u.ID, "team_id", optText(u.TeamID), optText(*req.TeamID))
	})
}

type leaderRequest struct {
	UserID *string `json:"user_id"`
	Reason string  `json:"reason"`
}

// leaderField checks the user_id of a supervisor or head: "" clears it;
// otherwise an active user holding the manager role (R1: supervisors and
// heads are managers).
func (s *Server) leaderField(ctx context.Context, errs fieldErrors, req leaderRequest) {
	if req.UserID == nil {
		errs.add("user_id", `required: a user id, or "" for none`)
		return
	}
	if *req.UserID == "" {
		return
	}
	if idField(errs, "user_id", *req.UserID, true); errs["user_id"] != "" {
		return
	}
	u, err := s.q.AdminGetUser(ctx, *req.UserID)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		errs.add("user_id", "no such user")
	case err != nil:
		errs.down()
	case !u.Active:
		errs.add("user_id", "the user is deactivated")
	case !slices.Contains(u.Roles, string(auth.Manager)):
		errs.add("user_id", "must hold the manager role")
	}
}

type teamBody struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	DepartmentID string `json:"department_id"`
	ManagerID    string `json:"manager_id"` // the supervisor, "" for none
}

// setLeader is the one way an organisation's leader changes (R1): a
// team's supervisor (PUT /api/v1/admin/teams/{id}/supervisor) or a
// department's head (PUT /api/v1/admin/departments/{id}/head). lock reads
// the row under lock, giving its current leader and the answer for the
// new one; store writes the new leader. Unchanged is no write and no audit.
func (s *Server) setLeader(entity, field string,
	lock func(ctx context.Context, q *db.Queries, id, leader string) (current string, answer any, err error),
	store func(ctx context.Context, q *db.Queries, id string, leader *string) error) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var req leaderRequest
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
		errs := fieldErrors{}
		s.leaderField(r.Context(), errs, req)
		req.Reason = optionalText(errs, "reason", req.Reason, maxReasonLen)
		if err := errs.err(); err != nil {
			return err
		}
		ctx, id, leader := r.Context(), chi.URLParam(r, "id"), *req.UserID
		var out any
		err := s.adminTx(r, req.Reason, func(q *db.Queries, a auditor) error {
			current, answer, err := lock(ctx, q, id, leader)
			if err != nil {
				return missing(err, entity)
			}
			out = answer
			if current == leader {
				return nil
			}
			if err := store(ctx, q, id, optText(leader)); err != nil {
				return err
			}
			return a.change(entity, id, field, optText(current), optText(leader))
		})
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
}

func (s *Server) setTeamSupervisor() handlerFunc {
	return s.setLeader("team", "manager_id",
		func(ctx context.Context, q *db.Queries, id, leader string) (string, any, error) {
			t, err := q.AdminTeamForUpdate(ctx, id)
			return t.ManagerID, teamBody{ID: t.ID, Name: t.Name, DepartmentID: t.DepartmentID, ManagerID: leader}, err
		},
		func(ctx context.Context, q *db.Queries, id string, leader *string) error {
			return q.AdminSetTeamManager(ctx, db.AdminSetTeamManagerParams{ManagerID: leader, ID: id})
		})
}

type departmentBody struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	HeadID string `json:"head_id"` // "" for none
}

func (s *Server) setDepartmentHead() handlerFunc {
	return s.setLeader("department", "head_id",
		func(ctx context.Context, q *db.Queries, id, leader string) (string, any, error) {
			d, err := q.AdminDepartmentForUpdate(ctx, id)
			return d.HeadID, departmentBody{ID: d.ID, Name: d.Name, HeadID: leader}, err
		},
		func(ctx context.Context, q *db.Queries, id string, leader *string) error {
			return q.AdminSetDepartmentHead(ctx, db.AdminSetDepartmentHeadParams{HeadID: leader, ID: id})
		})
}

type issueTokenRequest struct {
	Label     string `json:"label"`
	ExpiresAt string `json:"expires_at"`
	Reason    string `json:"reason"`
}

// POST /api/v1/admin/users/{id}/tokens: 201 with the token's secret, shown
// this once (only its SHA-256 is kept).
func (s *Server) issueToken(w http.ResponseWriter, r *http.Request) error {
	var req issueTokenRequest
	if err := decodeOptional(w, r, &req); err != nil {
		return err
	}
	errs := fieldErrors{}
	req.Label = lineField(errs, "label", req.Label, 100, false)
	req.Reason = optionalText(errs, "reason", req.Reason, maxReasonLen)
	var expires *time.Time
	if req.ExpiresAt != "" {
		t, err := time.Parse(time.RFC3339, req.ExpiresAt)
		switch {
		case err != nil:
			errs.add("expires_at", "must be an RFC 3339 instant with offset, e.g. 2027-01-31T18:00:00+08:00")
		case !t.After(time.Now()):
			errs.add("expires_at", "must be in the future")
		case t.After(time.Now().AddDate(5, 0, 0)):
			errs.add("expires_at", "must be within five years")
		default:
			expires = &t
		}
	}
	if err := errs.err(); err != nil {
		return err
	}
	id, token, sum, err := auth.NewToken()
	if err != nil {
		return err
	}
	var out adminToken
	err = s.adminTx(r, req.Reason, func(q *db.Queries, a auditor) error {
		// Locked, so a concurrent deactivation cannot slip between the
		// check and the insert.
		u, err := q.AdminUserForUpdate(r.Context(), chi.URLParam(r, "id"))
		if err != nil {
			return missing(err, "user")
		}
		if !u.Active {
			return conflict("user " + u.ID + " is deactivated: reactivate them first")
		}
		if err := q.AdminInsertToken(r.Context(), db.AdminInsertTokenParams{
			ID: id, UserID: u.ID, SecretSha256: sum, Label: req.Label, ExpiresAt: expires,
		}); err != nil {
			return err
		}
		if err := a.change("token", id, "user_id", nil, ptr(u.ID)); err != nil {
			return err
		}
		if expires != nil {
			if err := a.change("token", id, "expires_at", nil, ptr(expires.UTC().Format(time.RFC3339))); err != nil {
				return err
			}
		}
		now := time.Now()
		out = tokenOf(id, u.ID, req.Label, now, expires, nil, now)
		return nil
	})
	if err != nil {
		return err
	}
	out.Token = token
	w.Header().Set("Cache-Control", "no-store") // the secret must not be cached anywhere
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// GET /api/v1/admin/users/{id}/tokens: never the secrets.
func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	errs := fieldErrors{}
	pg := parsePage(r.URL.Query(), errs)
	p := db.AdminListTokensParams{UserID: chi.URLParam(r, "id"), RowLimit: int32(pg.limit + 1)}
	var after string
	if pg.decodeCursor(&after, errs) {
		p.AfterID = &after
	}
	if err := errs.err(); err != nil {
		return err
	}
	if _, err := s.q.AdminGetUser(r.Context(), p.UserID); err != nil {
		return missing(err, "user")
	}
	rows, err := s.q.AdminListTokens(r.Context(), p)
	if err != nil {
		return err
	}
	now := time.Now()
	writeJSON(w, http.StatusOK, paginate(rows, pg.limit,
		func(t db.AdminListTokensRow) any { return t.ID },
		func(t db.AdminListTokensRow) adminToken {
			return tokenOf(t.ID, t.UserID, t.Label, t.CreatedAt, t.ExpiresAt, t.RevokedAt, now)
		}))
	return nil
}

// POST /api/v1/admin/tokens/{token_id}/revoke: refused from the next
// request on (and any console session signed in with it ends).
func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	id := chi.URLParam(r, "token_id")
	if !auth.IsTokenID(id) {
		// Token ids are base64url and may start with - or _, which
		// input.ID refuses: checked here, before any query.
		return badRequest(map[string]string{"token_id": "must be a token id (base64url)"})
	}
	var req reasonRequest
	if err := decodeOptional(w, r, &req); err != nil {
		return err
	}
	errs := fieldErrors{}
	req.Reason = optionalText(errs, "reason", req.Reason, maxReasonLen)
	if err := errs.err(); err != nil {
		return err
	}
	var out adminToken
	err := s.adminTx(r, req.Reason, func(q *db.Queries, a auditor) error {
		t, err := q.AdminTokenForUpdate(r.Context(), id)
		if err != nil {
			return missing(err, "token")
		}
		if t.RevokedAt != nil {
			return conflict("token " + id + " is already revoked")
		}
		n, err := q.AdminRevokeToken(r.Context(), id)
		if err != nil {
			return err
		}
		// Its console sessions are refused by the lookup already; deleted,
		// they are gone for good.
		if _, err := q.AdminEndTokenSessions(r.Context(), &id); err != nil {
			return err
		}
		out = tokenOf(n.ID, n.UserID, n.Label, n.CreatedAt, n.ExpiresAt, n.RevokedAt, time.Now())
		return a.change("token", id, "revoked_at", nil, ptr(n.RevokedAt.UTC().Format(time.RFC3339Nano)))
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type auditCursor struct {
	At time.Time `json:"a"`
	ID int64     `json:"i"`
}

// GET /api/v1/admin/audit?actor_id=&entity=&entity_id=&since=&until=:
// newest first.
func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	errs := fieldErrors{}
	pg := parsePage(q, errs)
	p := db.ListAdminAuditParams{RowLimit: int32(pg.limit + 1)}
	if v := q.Get("actor_id"); v != "" {
		p.ActorID = &v
	}
	if v := q.Get("entity"); v != "" {
		if !slices.Contains(auditEntities, v) {
			errs.add("entity", "must be user, team, department or token")
		}
		p.Entity = &v
	}
	if v := q.Get("entity_id"); v != "" {
		p.EntityID = &v
	}
	for name, dst := range map[string]**time.Time{"since": &p.Since, "until": &p.Until} {
		if v := q.Get(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				errs.add(name, "must be an RFC 3339 instant with offset")
				continue
			}
			*dst = &t
		}
	}
	var cur auditCursor
	if pg.decodeCursor(&cur, errs) {
		p.BeforeAt, p.BeforeID = &cur.At, pgtype.Int8{Int64: cur.ID, Valid: true}
	}
	if err := errs.err(); err != nil {
		return err
	}
	rows, err := s.q.ListAdminAudit(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, paginate(rows, pg.limit,
		func(a db.AdminAudit) any { return auditCursor{At: a.At, ID: a.ID} },
		func(a db.AdminAudit) auditEntry {
			return auditEntry{ID: a.ID, ActorID: a.ActorID, At: shownTime(a.At, s.loc), Entity: a.Entity, EntityID: a.EntityID,
				Field: a.Field, OldValue: a.OldValue, NewValue: a.NewValue, Reason: a.Reason}
		}))
	return nil
}
