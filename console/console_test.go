package console

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/acme/aftersales/auth"
)

type noTokens struct{}

func (noTokens) Authenticate(context.Context, string) (auth.Principal, error) {
	return auth.Principal{}, auth.ErrUnauthenticated
}

// Every template parses, and each page's set has its "page".
func TestTemplatesParse(t *testing.T) {
	c, err := New(Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Tokens: noTokens{},
		Sessions: auth.NewSessionStore(nil), Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.pages) == 0 {
		t.Fatal("no pages")
	}
	for name, p := range c.pages {
		if p.Lookup("page") == nil || p.Lookup("layout") == nil {
			t.Errorf("page %s lacks its page or the layout", name)
		}
	}
}
