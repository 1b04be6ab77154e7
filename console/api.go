package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/acme/aftersales/auth"
)

// API is the JSON API, called in-process (server.Server): the console
// reads and acts only through it, so the API's Access rules, validation
// and queries are the console's too, written once.
type API interface {
	Call(ctx context.Context, p auth.Principal, method, target string, header http.Header, body []byte) (int, http.Header, []byte)
	Allowed(ctx context.Context, p auth.Principal, method, target string) bool
}

// problem is an API error answer, shown to the person as the server wrote
// it (api.md's error body).
type problem struct {
	Status     int
	RetryAfter string
	Code       string            `json:"code"`
	Message    string            `json:"message"`
	Fields     map[string]string `json:"fields"`
}

func (p *problem) Error() string { return fmt.Sprintf("%d %s: %s", p.Status, p.Code, p.Message) }

// Text is the message with its field problems, for a person.
func (p *problem) Text() string {
	msg := p.Message
	if msg == "" {
		msg = http.StatusText(p.Status)
	}
	if len(p.Fields) == 0 {
		return upperFirst(msg) + "."
	}
	names := make([]string, 0, len(p.Fields))
	for f := range p.Fields {
		names = append(names, f)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, f := range names {
		parts = append(parts, strings.ReplaceAll(f, "_", " ")+": "+p.Fields[f])
	}
	return upperFirst(msg) + ": " + strings.Join(parts, "; ") + "."
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// problemOf reads an API error answer.
func problemOf(status int, header http.Header, body []byte) *problem {
	var doc struct {
		Error problem `json:"error"`
	}
	_ = json.Unmarshal(body, &doc)
	p := doc.Error
	p.Status, p.RetryAfter = status, header.Get("Retry-After")
	return &p
}

// get reads target as the signed-in person into out.
func (c *Console) get(ctx context.Context, target string, out any) error {
	me, _ := auth.FromContext(ctx)
	status, header, body := c.api.Call(ctx, me, http.MethodGet, target, nil, nil)
	if status != http.StatusOK {
		return problemOf(status, header, body)
	}
	return json.Unmarshal(body, out)
}

// allowed: may the signed-in person send method target now (R1, R7)?
func (c *Console) allowed(ctx context.Context, method, target string) bool {
	me, _ := auth.FromContext(ctx)
	return c.api.Allowed(ctx, me, method, target)
}

// list is every API list's body.
type list[T any] struct {
	Items []T     `json:"items"`
	Next  *string `json:"next"`
}

// asProblem: err is an API refusal.
func asProblem(err error, p **problem) bool { return errors.As(err, p) }
