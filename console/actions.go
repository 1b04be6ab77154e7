package console

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/acme/aftersales/auth"
)

// Every form of the console posts to /console/do/<API path>: the fields,
// named as in api.md, become the command's JSON body and the API carries
// it out (Access, validation, the workflow's own validator). The answer is
// the API's: on success a status line and a "done" event that closes the
// form and refreshes the page's live part (the new state); on refusal the
// server's message with its field problems, in place, the form kept.
// Without JavaScript the browser follows a redirect back, or gets a page
// with the message.

// Form fields that are not part of the command.
const (
	csrfField = "csrf"
	keyField  = "idempotency_key" // the form's one command: a double submit applies once
	doneField = "done"            // what the status line says on success
)

// numberFields are the API fields that are JSON numbers; a value that is
// not a number is sent as text, for the API to name the field.
var numberFields = map[string]bool{
	"corrected_score": true,                                                              // an appeal's decision
	"attitude":        true, "speed": true, "quality": true, "parts": true, "cost": true, // a survey's ratings
}

// localInstant is the datetime-local input's format: a wall time in the
// calendar's zone (R2), sent to the API with its offset.
const localInstant = "2006-01-02T15:04"

// commandBody turns a form into the API's JSON body. A dotted name is a
// nested field ("ratings.speed"); an empty field is left out.
func (c *Console) commandBody(form url.Values) ([]byte, error) {
	body := map[string]any{}
	for name, values := range form {
		if name == csrfField || name == keyField || name == doneField || len(values) == 0 || values[0] == "" {
			continue
		}
		obj, field := body, name
		if parent, child, ok := strings.Cut(name, "."); ok {
			inner, _ := body[parent].(map[string]any)
			if inner == nil {
				inner = map[string]any{}
				body[parent] = inner
			}
			obj, field = inner, child
		}
		obj[field] = c.jsonValue(field, values[0])
	}
	return json.Marshal(body)
}

// jsonValue types one form value for the API; a value that does not parse
// is sent as text, for the API to name the field.
func (c *Console) jsonValue(field, v string) any {
	switch {
	case numberFields[field]:
		return jsonNumber(v)
	case strings.HasSuffix(field, "_at"):
		return c.instant(v)
	}
	return v
}

// instant sends a datetime-local value as an RFC 3339 instant in the
// calendar's zone, anything else as text for the API to name.
func (c *Console) instant(v string) any {
	if t, err := time.ParseInLocation(localInstant, v, c.loc); err == nil {
		return t.Format(time.RFC3339)
	}
	return v
}

// jsonNumber sends a number as one, anything else as text for the API to name.
func jsonNumber(v string) any {
	if n, err := strconv.ParseFloat(v, 64); err == nil {
		return json.Number(strconv.FormatFloat(n, 'f', -1, 64))
	}
	return v
}

// do is POST /console/do/*.
func (c *Console) do(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		c.answer(w, r, &problem{Status: http.StatusBadRequest, Message: "the form could not be read"})
		return
	}
	target := "/api/v1/" + chi.URLParam(r, "*")
	body, err := c.commandBody(r.PostForm)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	header := http.Header{}
	if k := r.PostFormValue(keyField); k != "" {
		header.Set("Idempotency-Key", k)
	}
	me, _ := auth.FromContext(r.Context())
	status, h, resp := c.api.Call(r.Context(), me, http.MethodPost, target, header, body)
	c.sent(w, r, status, h, resp)
}

// sent answers a form with the API's answer to its command: a refusal in
// place (or as a page without JavaScript); success as the status line that
// closes the form and refreshes the page (or a redirect back).
func (c *Console) sent(w http.ResponseWriter, r *http.Request, status int, h http.Header, resp []byte) {
	if status >= 300 {
		c.answer(w, r, problemOf(status, h, resp))
		return
	}
	done := r.PostFormValue(doneField)
	if done == "" {
		done = "Done."
	}
	if r.Header.Get("HX-Request") == "" {
		http.Redirect(w, r, backTo(r), http.StatusSeeOther)
		return
	}
	// The refusal goes beside the form (hx-target); success to the page's
	// status line, the form closing.
	w.Header().Set("HX-Trigger", "done")
	w.Header().Set("HX-Retarget", "#status")
	c.render(w, r, http.StatusOK, "", "status", statusLine{Kind: "ok", Text: done})
}

// answer shows a refused command: in place for htmx, else as a page.
func (c *Console) answer(w http.ResponseWriter, r *http.Request, p *problem) {
	if p.RetryAfter != "" {
		w.Header().Set("Retry-After", p.RetryAfter)
	}
	line := statusLine{Kind: "error", Text: p.Text(), Title: problemTitle(p.Status)}
	if r.Header.Get("HX-Request") == "" {
		line.Back = backTo(r)
		c.render(w, r, p.Status, "", "refused", line)
		return
	}
	c.render(w, r, p.Status, "", "status", line)
}

type statusLine struct {
	Kind, Text, Back, Title string
}

// backTo is the console page the form was on (its same-origin Referer), or
// the person's home.
func backTo(r *http.Request) string {
	if u, err := url.Parse(r.Referer()); err == nil && u.Host == r.Host && strings.HasPrefix(u.Path, "/console/") {
		return u.RequestURI()
	}
	return "/console"
}
