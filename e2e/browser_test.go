package e2e

import (
	"context"
	_ "embed"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// The console's browser tests drive a real headless Chromium (Debian's
// chromium, which .ci/run installs) with chromedp. Each saves screenshots
// of its pages to screenshots/ (git-ignored) for a reviewer, and runs
// axe-core on every page it opens.

//go:embed testdata/axe/axe.min.js
var axeSource string

// screenshotDir is where the tests leave their screenshots.
const screenshotDir = "../screenshots"

// browser is one headless Chromium signed in to a stack's console.
type browser struct {
	t   *testing.T
	s   *stack
	ctx context.Context
}

// newBrowser starts Chromium for the test (1280 x 900).
func (s *stack) newBrowser() *browser {
	s.t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		s.t.Fatal("the console's browser tests need Chromium: apt-get install chromium (.ci/run does)")
	}
	// The flags engineering.md gives for root on these machines: no
	// sandbox, and nothing that calls out to the closed network.
	opts := func() []chromedp.ExecAllocatorOption {
		return []chromedp.ExecAllocatorOption{
			chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
			chromedp.NoDefaultBrowserCheck, chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
			chromedp.UserDataDir(s.t.TempDir()), chromedp.WindowSize(1280, 900),
		}
	}
	// A Chromium started beside another on two busy cores has been seen
	// to exit before it listened ("chrome failed to start"): that is the
	// machine, not the console, so a start is tried up to three times.
	var startErr error
	for attempt := 1; attempt <= 3; attempt++ {
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts()...)
		ctx, cancel := chromedp.NewContext(alloc)
		// The first call starts the browser, under a context without a
		// timeout (a timeout there would stop the browser); axe-core is
		// injected by the test, not served: let it past the CSP.
		if _, startErr = chromedp.Call(ctx, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: true}); startErr == nil {
			s.t.Cleanup(func() { cancel(); cancelAlloc() })
			return &browser{t: s.t, s: s, ctx: ctx}
		}
		cancel()
		cancelAlloc()
		s.t.Logf("Chromium start %d of 3: %v", attempt, startErr)
	}
	s.t.Fatal(startErr)
	return nil
}

// get runs one action that answers a value, within stepTimeout.
func get[T any](b *browser, a chromedp.Action[T]) (T, error) {
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	return chromedp.Run(ctx, a)
}

// stepTimeout bounds each browser step, so a test that waits for what
// never comes fails in seconds.
const stepTimeout = 20 * time.Second

func (b *browser) run(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	for i, step := range steps {
		if err := chromedp.Do(ctx, step); err != nil {
			b.shot("failed")
			b.t.Fatalf("step %d: %v", i+1, err)
		}
	}
}

// signIn pastes user's token on the sign-in page.
func (b *browser) signIn(user string) {
	b.t.Helper()
	b.run(chromedp.Navigate(b.s.url+"/"), chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SendKeys(chromedp.CSS("#token"), b.s.tokens[user]), chromedp.Submit(chromedp.CSS("#token")),
		chromedp.WaitVisible(chromedp.CSS("header.top")))
}

func (b *browser) signOut() {
	b.t.Helper()
	b.run(chromedp.Click(chromedp.CSS(`header.top form button`)), chromedp.WaitVisible(chromedp.CSS("#token")))
}

// open loads a console page and waits for it.
func (b *browser) open(path string) {
	b.t.Helper()
	b.run(chromedp.Navigate(b.s.url+path), chromedp.WaitReady(chromedp.CSS("#main")))
}

func (b *browser) path() string {
	b.t.Helper()
	loc, err := get(b, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	u, _ := url.Parse(loc)
	return u.Path
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	s, err := get(b, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		b.t.Fatal(err)
	}
	return s
}

// eval evaluates a JavaScript expression (promises awaited).
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	v, err := get(b, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// waitText waits until the element's text contains want.
func (b *browser) waitText(sel, want string) {
	b.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got, err := get(b, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q) || {}).textContent || ""`, sel)))
		if err == nil && strings.Contains(got, want) {
			return
		}
		if time.Now().After(deadline) {
			html, herr := get(b, chromedp.Evaluate[string](`document.body.innerHTML.slice(0, 3000)`))
			b.t.Logf("page: %s %v", html, herr)
			b.shot("timeout")
			b.t.Fatalf("%s: text %q does not contain %q (%v)", sel, got, want, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// axe runs axe-core on the page: no serious or critical violation.
func (b *browser) axe() {
	b.t.Helper()
	if _, err := get(b, chromedp.Evaluate[int](axeSource+";0")); err != nil {
		b.t.Fatal(err)
	}
	violations := eval[[]string](b, `axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations
		.filter(v => v.impact === "serious" || v.impact === "critical")
		.map(v => v.impact + " " + v.id + ": " + v.help + " at " + v.nodes.map(n => n.target.join(" ")).join(", ")))`)
	for _, v := range violations {
		b.t.Errorf("axe on %s: %s", b.path(), v)
	}
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// shot saves a full-page screenshot as screenshots/<test>-<name>.png.
func (b *browser) shot(name string) {
	b.t.Helper()
	png, err := get(b, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	file := filepath.Join(screenshotDir, unsafeName.ReplaceAllString(b.t.Name()+"-"+name, "_")+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// consoleClient is a plain HTTP client signed in to the console, for what
// a browser would not do (a form without its CSRF token) and for status
// codes.
type consoleClient struct {
	t    *testing.T
	url  string
	http *http.Client
	csrf string
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (s *stack) consoleClient(user string) *consoleClient {
	s.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &consoleClient{t: s.t, url: s.url, http: &http.Client{Jar: jar}}
	_, body := c.get("/")
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		s.t.Fatalf("no CSRF field on the sign-in page: %s", body)
	}
	res, err := c.http.PostForm(s.url+"/console/signin", url.Values{"csrf": {m[1]}, "token": {s.tokens[user]}})
	if err != nil {
		s.t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if m = csrfField.FindStringSubmatch(string(page)); m == nil {
		s.t.Fatalf("sign-in as %s: %d %s", user, res.StatusCode, page)
	}
	c.csrf = m[1]
	return c
}

func (c *consoleClient) get(path string) (int, string) {
	c.t.Helper()
	res, err := c.http.Get(c.url + path)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func (c *consoleClient) post(path string, form url.Values) (int, string) {
	c.t.Helper()
	res, err := c.http.PostForm(c.url+path, form)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// Steps on visible elements by CSS selector.
func click(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible)
}

func typeInto(sel, text string) chromedp.Action[chromedp.Void] {
	return chromedp.SendKeys(chromedp.CSS(sel), text, chromedp.NodeVisible)
}

func setValue(sel, v string) chromedp.Action[chromedp.Void] {
	return chromedp.SetValue(chromedp.CSS(sel), v, chromedp.NodeVisible)
}

func submit(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Submit(chromedp.CSS(sel), chromedp.NodeVisible)
}

func viewport(w, h int64) chromedp.Action[chromedp.Void] { return chromedp.EmulateViewport(w, h) }
