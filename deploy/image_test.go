// Package deploy_test checks the deployment material without a Docker engine
// or a cluster: the image's Dockerfile and build context (this file) and the
// Helm chart's rendered manifests (helm_test.go).
package deploy_test

import (
	"debug/buildinfo"
	"debug/elf"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
	"golang.org/x/mod/modfile"
	"golang.org/x/mod/semver"
)

// binaries are the production entry points the one image holds.
var binaries = []string{"server", "worker", "migrate"}

// buildFlags are the flags the Dockerfile's build must use and that
// TestImageBinariesBuild builds with.
var buildFlags = []string{"-trimpath", "-tags", "timetzdata"}

// repoRoot is the module root (tests run in deploy/).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found above deploy/: %v", err)
	}
	return root
}

// dockerfile parses the repository's Dockerfile into its stages and the ARGs
// declared before the first FROM.
func dockerfile(t *testing.T) ([]instructions.Stage, map[string]string) {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot(t), "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := parser.Parse(f)
	if err != nil {
		t.Fatalf("Dockerfile does not parse: %v", err)
	}
	for _, w := range res.Warnings {
		t.Errorf("Dockerfile: %s", w.Short)
	}
	stages, metaArgs, err := instructions.Parse(res.AST, nil)
	if err != nil {
		t.Fatalf("Dockerfile instructions: %v", err)
	}
	args := map[string]string{}
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			if kv.Value != nil {
				args[kv.Key] = *kv.Value
			}
		}
	}
	return stages, args
}

// expand replaces ${NAME} and $NAME with the meta ARGs' defaults.
func expand(s string, args map[string]string) string {
	return os.Expand(s, func(k string) string { return args[k] })
}

func TestDockerfile(t *testing.T) {
	stages, args := dockerfile(t)
	if len(stages) < 2 {
		t.Fatalf("want a build stage and a runtime stage, got %d stages", len(stages))
	}
	build, final := stages[0], stages[len(stages)-1]

	// The build image's Go must be at least go.mod's: the build runs with
	// GOTOOLCHAIN=local and would fail (not download) otherwise.
	gomod, err := os.ReadFile(filepath.Join(repoRoot(t), "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	mf, err := modfile.ParseLax("go.mod", gomod, nil)
	if err != nil {
		t.Fatal(err)
	}
	goVersion := args["GO_VERSION"]
	if !semver.IsValid("v"+goVersion) || semver.Compare("v"+goVersion, "v"+mf.Go.Version) < 0 {
		t.Errorf("ARG GO_VERSION=%q: want a Go version at least go.mod's %s", goVersion, mf.Go.Version)
	}
	if base := expand(build.BaseName, args); !strings.HasPrefix(base, "golang:") {
		t.Errorf("build stage FROM %s: want the golang image", base)
	}

	// The build: static (CGO_ENABLED=0), -trimpath, embedded zone data, the
	// three entry points.
	var env []string
	var goBuild string
	for _, cmd := range build.Commands {
		switch c := cmd.(type) {
		case *instructions.EnvCommand:
			for _, kv := range c.Env {
				env = append(env, kv.Key+"="+kv.Value)
			}
		case *instructions.RunCommand:
			if line := strings.Join(c.CmdLine, " "); strings.Contains(line, "go build") {
				goBuild = line
			}
		}
	}
	if !slices.Contains(env, "CGO_ENABLED=0") && !strings.Contains(goBuild, "CGO_ENABLED=0") {
		t.Errorf("build stage: CGO_ENABLED=0 is set neither by ENV nor on the go build line")
	}
	if !slices.Contains(env, "GOTOOLCHAIN=local") {
		t.Errorf("build stage: want ENV GOTOOLCHAIN=local (the Go version is the image's)")
	}
	if goBuild == "" {
		t.Fatalf("build stage: no RUN ... go build")
	}
	for _, want := range append(slices.Clone(buildFlags), "./cmd/server", "./cmd/worker", "./cmd/migrate") {
		if !strings.Contains(goBuild, want) {
			t.Errorf("build stage's go build lacks %q: %s", want, goBuild)
		}
	}

	// The runtime: distroless static (CA certificates, zoneinfo, no shell)
	// or scratch, a numeric non-root user, the three binaries from the build.
	base := expand(final.BaseName, args)
	if !strings.HasPrefix(base, "gcr.io/distroless/static") && base != "scratch" {
		t.Errorf("final stage FROM %s: want gcr.io/distroless/static* or scratch", base)
	}
	var user string
	copied := map[string]bool{}
	for _, cmd := range final.Commands {
		switch c := cmd.(type) {
		case *instructions.UserCommand:
			user = c.User
		case *instructions.CopyCommand:
			if c.From != build.Name {
				continue
			}
			for _, src := range c.SourcePaths {
				copied[filepath.Base(src)] = true
			}
		}
	}
	uid, gid, _ := strings.Cut(user, ":")
	if n, err := strconv.Atoi(uid); err != nil || n == 0 {
		t.Errorf("final stage USER %q: want a numeric non-zero uid (runAsNonRoot can verify only a number)", user)
	}
	if gid != "" {
		if n, err := strconv.Atoi(gid); err != nil || n == 0 {
			t.Errorf("final stage USER %q: want a numeric non-zero gid", user)
		}
	}
	for _, b := range binaries {
		if !copied[b] {
			t.Errorf("final stage does not COPY --from=%s the %s binary", build.Name, b)
		}
	}
}

// TestImageBinariesBuild builds the three binaries as the Dockerfile does,
// from a copy of exactly the files .dockerignore sends as the build context,
// and checks they are static, trimmed and carry the zone database.
func TestImageBinariesBuild(t *testing.T) {
	root := repoRoot(t)
	ctxDir := t.TempDir()
	copyBuildContext(t, root, ctxDir)

	out := t.TempDir()
	args := append([]string{"build"}, buildFlags...)
	args = append(args, "-o", out+string(filepath.Separator))
	for _, b := range binaries {
		args = append(args, "./cmd/"+b)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = ctxDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOTOOLCHAIN=local", "GOFLAGS=-mod=readonly")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s in the build context .dockerignore leaves: %v\n%s", strings.Join(args, " "), err, b)
	}

	for _, b := range binaries {
		path := filepath.Join(out, b)
		info, err := buildinfo.ReadFile(path)
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		settings := map[string]string{}
		for _, s := range info.Settings {
			settings[s.Key] = s.Value
		}
		for k, want := range map[string]string{"CGO_ENABLED": "0", "-trimpath": "true", "-tags": "timetzdata"} {
			if settings[k] != want {
				t.Errorf("%s: build setting %s = %q, want %q", b, k, settings[k], want)
			}
		}
		// Static: no program interpreter and no shared libraries, so it
		// runs on distroless/static or scratch.
		f, err := elf.Open(path)
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("%s: has an ELF interpreter: not a static binary", b)
			}
		}
		if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
			t.Errorf("%s: links shared libraries %v", b, libs)
		}
		f.Close()
	}
}

// copyBuildContext copies from root to dst the files a docker build would
// send, applying .dockerignore with Docker's own pattern matcher.
func copyBuildContext(t *testing.T, root, dst string) {
	t.Helper()
	f, err := os.Open(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	patterns, err := ignorefile.ReadAll(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatalf(".dockerignore: %v", err)
	}
	n := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil || rel == "." {
			return err
		}
		excluded, err := pm.MatchesOrParentMatches(filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		if excluded {
			// A directory may be re-included by a later "!" pattern only
			// if the file names one; ours has none, so skip it whole.
			if d.IsDir() && !pm.Exclusions() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		n++
		return copyFile(path, target)
	})
	if err != nil {
		t.Fatalf("copying the build context: %v", err)
	}
	if n == 0 {
		t.Fatal("the build context is empty")
	}
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
