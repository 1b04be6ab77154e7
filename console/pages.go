package console

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/go-chi/chi/v5"

	"github.com/acme/aftersales/auth"
)

// loader builds a page's data for the signed-in person; an API refusal
// (*problem) becomes the page's answer (403, 404, 503 ...).
type loader func(r *http.Request, d directory) (any, error)

// page serves one view: the whole page, or, for htmx (a live reload or a
// filter), only its live part ("live").
func (c *Console) page(name, title string, load loader) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		d, err := c.directory(r.Context())
		if err != nil {
			c.fail(w, r, err)
			return
		}
		data, err := load(r, d)
		f := c.frame(r, title)
		var p *problem
		switch {
		case errors.As(err, &p):
			if p.RetryAfter != "" {
				w.Header().Set("Retry-After", p.RetryAfter)
			}
			f.Title = problemTitle(p.Status)
			f.Page = p
			c.render(w, r, p.Status, "problem", "layout", f)
			return
		case err != nil:
			c.fail(w, r, err)
			return
		}
		f.Page = data
		if isHTMX(r) {
			c.render(w, r, http.StatusOK, name, "live", f)
			return
		}
		c.render(w, r, http.StatusOK, name, "layout", f)
	}
}

func problemTitle(status int) string {
	switch status {
	case http.StatusForbidden:
		return "Not yours to see"
	case http.StatusNotFound:
		return "Not found"
	case http.StatusServiceUnavailable:
		return "Unavailable just now"
	case http.StatusBadRequest, http.StatusConflict:
		return "Not done"
	default:
		return http.StatusText(status)
	}
}

func (c *Console) frame(r *http.Request, title string) frame {
	sess, _ := sessionFrom(r.Context())
	p := sess.Principal
	f := frame{Title: title, Lang: "en", CSRF: sess.CSRF, Self: r.URL.RequestURI(), Zone: c.zone(), Nav: navFor(p, r.URL.Path)}
	f.Me.Name, f.Me.RoleLabel = p.Name, roleLabel(p)
	return f
}

// routes of the signed-in pages.
func (c *Console) pageRoutes(r chi.Router) {
	r.Get("/console/board", c.page("board", "Officers' board", c.boardData))
	r.Get("/console/complaints/{no}", c.page("complaint", "Complaint", c.complaintData))
	r.Get("/console/team", c.page("team", "My teams", c.teamData))
	r.Get("/console/approvals", c.page("approvals", "Approvals", c.approvalsData))
	r.Get("/console/hr", c.page("hr", "HR desk", c.hrData))
	r.Get("/console/me", c.page("me", "My work", c.meData))
	r.Get("/console/appeals/{id}", c.page("appeal", "Appeal", c.appealData))
	r.Get("/console/rewards/{no}", c.page("reward", "Reward", c.rewardData))
	r.Get("/console/reports", c.page("reports", "Reports", c.reportsData))
	r.Get("/console/ranking", c.page("ranking", "Team ranking", c.rankingData))
	r.Post("/console/ranking/{op}", c.rankingDo)
	r.Get("/console/admin", c.page("admin", "Administration", c.adminData))
	r.Post("/console/admin/{op}", c.adminDo)
	r.Get("/console/policies", c.page("policies", "Policies and recalculation", c.policiesData))
	r.Post("/console/policies/{op}", c.policiesDo)
	r.Post("/console/do/*", c.do)
	// Any other console address: a 404 page, not the API's JSON.
	r.Get("/console/*", c.page("problem", "", func(*http.Request, directory) (any, error) {
		return nil, &problem{Status: http.StatusNotFound, Message: "there is no such page in the console"}
	}))
}

// me is the signed-in person.
func me(r *http.Request) auth.Principal {
	p, _ := auth.FromContext(r.Context())
	return p
}

// apiPath is an /api/v1 path with escaped segments.
func apiPath(segments ...string) string {
	out := "/api/v1"
	for _, s := range segments {
		out += "/" + url.PathEscape(s)
	}
	return out
}
