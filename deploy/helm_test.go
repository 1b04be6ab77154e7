package deploy_test

import (
	"bytes"
	"debug/buildinfo"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

const (
	chartDir    = "helm/aftersales"
	releaseName = "aftersales"
	namespace   = "aftersales"
	// shutdownDrain is how long server.Serve drains in-flight requests
	// after SIGTERM (server/listen.go).
	shutdownDrain = 10 * time.Second
	// defaultRequestTimeout is server.DefaultRequestTimeout, used when the
	// ConfigMap sets no REQUEST_TIMEOUT.
	defaultRequestTimeout = 10 * time.Second
)

// helm returns the path of the helm that `make test` installs into bin/, at
// the version the Makefile pins.
func helm(t *testing.T) string {
	t.Helper()
	root := repoRoot(t)
	path := filepath.Join(root, "bin", "helm")
	mk, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^HELM_VERSION\s*:?=\s*(\S+)`).FindSubmatch(mk)
	if m == nil {
		t.Fatal("Makefile pins no HELM_VERSION")
	}
	want := string(m[1])
	install := fmt.Sprintf("run `make test` (it installs it), or GOBIN=%s go install helm.sh/helm/v3/cmd/helm@%s", filepath.Dir(path), want)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("helm is missing at %s: %s", path, install)
	}
	// go install records the module version; a helm left from an older pin
	// would test the chart with another renderer.
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if info.Main.Path != "helm.sh/helm/v3" || info.Main.Version != want {
		t.Fatalf("%s is %s@%s, the Makefile pins %s: remove it and %s", path, info.Main.Path, info.Main.Version, want, install)
	}
	return path
}

// chartCase is one set of values the chart must lint and render with.
type chartCase struct {
	name string
	args []string // -f and --set arguments
	// existingSecret is the Secret the values name instead of letting the
	// chart create one ("" if the chart creates it).
	existingSecret string
}

// chartCases: the default values (plus the one value that has no safe
// default, the database), the production example, and Temporal over mTLS
// with a private CA, which only these values render.
var chartCases = []chartCase{
	{name: "default", args: []string{"--set", "secret.databaseURL=postgres://aftersales:secret@db:5432/aftersales"}},
	{name: "production", args: []string{"-f", "helm/values-production.yaml"}, existingSecret: "aftersales-env"},
	{name: "mtls", args: []string{
		"--set", "secret.databaseURL=postgres://aftersales:secret@db:5432/aftersales",
		"--set", "temporal.address=temporal.example.com:7233",
		"--set", "secret.notifyWebhookURL=https://hooks.example.com/aftersales",
		"--set", "secret.notifyWebhookSecret=whsec_etz9khxcYSf2wQgruMN0qjnzDod/HXhq5sZApxpzaCY=",
		"--set", "temporal.tls.clientCertSecret=temporal-client",
		"--set", "temporal.tls.serverCASecret=temporal-ca",
		"--set", "temporal.tls.serverName=temporal.example.com",
		"--set", "worker.autoscaling.enabled=true",
		"--set", "serviceAccount.create=false", "--set", "serviceAccount.name=aftersales-iam",
	}},
}

func TestChartLint(t *testing.T) {
	h := helm(t)
	for _, c := range chartCases {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"lint", "--strict", chartDir}, c.args...)
			if out, err := exec.Command(h, args...).CombinedOutput(); err != nil {
				t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
			}
		})
	}
}

// manifests is a rendered release, decoded strictly into the Kubernetes types.
type manifests struct {
	deployments map[string]*appsv1.Deployment
	jobs        map[string]*batchv1.Job
	services    map[string]*corev1.Service
	configMaps  map[string]*corev1.ConfigMap
	secrets     map[string]*corev1.Secret
	accounts    map[string]*corev1.ServiceAccount
	ingresses   map[string]*networkingv1.Ingress
	netpols     map[string]*networkingv1.NetworkPolicy
	pdbs        map[string]*policyv1.PodDisruptionBudget
	hpas        map[string]*autoscalingv2.HorizontalPodAutoscaler
	monitors    map[string]*serviceMonitor
	hookSecrets map[string]bool // Secrets created by a hook
	total       int
}

// serviceMonitor is the part of monitoring.coreos.com/v1 ServiceMonitor the
// chart writes (the operator's Go types would pull in its whole module);
// decoding is strict, so a field the chart misspells or the type lacks fails.
type serviceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Selector  metav1.LabelSelector `json:"selector"`
		Endpoints []struct {
			Port          string `json:"port"`
			Path          string `json:"path"`
			Interval      string `json:"interval"`
			ScrapeTimeout string `json:"scrapeTimeout"`
		} `json:"endpoints"`
	} `json:"spec"`
}

// render runs helm template and decodes every document strictly: a field
// the Kubernetes type does not have (a misspelling, a wrong nesting) fails.
func render(t *testing.T, h string, c chartCase) manifests {
	t.Helper()
	args := append([]string{"template", releaseName, chartDir, "--namespace", namespace}, c.args...)
	cmd := exec.Command(h, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	m := manifests{
		deployments: map[string]*appsv1.Deployment{}, jobs: map[string]*batchv1.Job{},
		services: map[string]*corev1.Service{}, configMaps: map[string]*corev1.ConfigMap{},
		secrets: map[string]*corev1.Secret{}, accounts: map[string]*corev1.ServiceAccount{},
		ingresses: map[string]*networkingv1.Ingress{}, netpols: map[string]*networkingv1.NetworkPolicy{},
		pdbs: map[string]*policyv1.PodDisruptionBudget{}, hpas: map[string]*autoscalingv2.HorizontalPodAutoscaler{},
		monitors: map[string]*serviceMonitor{}, hookSecrets: map[string]bool{},
	}
	for i, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(out), -1) {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			t.Fatalf("document %d: %v\n%s", i, err, doc)
		}
		if tm.Kind == "" {
			continue // only comments
		}
		key := tm.APIVersion + " " + tm.Kind
		var obj interface{ GetName() string }
		switch key {
		case "apps/v1 Deployment":
			obj = decode(t, doc, m.deployments)
		case "batch/v1 Job":
			obj = decode(t, doc, m.jobs)
		case "v1 Service":
			obj = decode(t, doc, m.services)
		case "v1 ConfigMap":
			obj = decode(t, doc, m.configMaps)
		case "v1 Secret":
			s := decode(t, doc, m.secrets)
			if s.Annotations["helm.sh/hook"] != "" {
				m.hookSecrets[s.Name] = true
			}
			obj = s
		case "v1 ServiceAccount":
			obj = decode(t, doc, m.accounts)
		case "networking.k8s.io/v1 Ingress":
			obj = decode(t, doc, m.ingresses)
		case "networking.k8s.io/v1 NetworkPolicy":
			obj = decode(t, doc, m.netpols)
		case "policy/v1 PodDisruptionBudget":
			obj = decode(t, doc, m.pdbs)
		case "autoscaling/v2 HorizontalPodAutoscaler":
			obj = decode(t, doc, m.hpas)
		case "monitoring.coreos.com/v1 ServiceMonitor":
			obj = decode(t, doc, m.monitors)
		default:
			t.Fatalf("document %d: %s is not a kind this test checks: add it\n%s", i, key, doc)
		}
		if obj.GetName() == "" {
			t.Errorf("document %d (%s) has no name", i, key)
		}
		m.total++
	}
	return m
}

// decode strictly unmarshals one YAML document into a new T, stored by name.
func decode[T any, PT interface {
	*T
	GetName() string
}](t *testing.T, doc string, into map[string]PT) PT {
	t.Helper()
	obj := PT(new(T))
	if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
		t.Fatalf("strict decode into %T: %v\n%s", obj, err, doc)
	}
	if _, dup := into[obj.GetName()]; dup {
		t.Fatalf("two %T named %s", obj, obj.GetName())
	}
	into[obj.GetName()] = obj
	return obj
}

func TestChartRendersValidManifests(t *testing.T) {
	h := helm(t)
	for _, c := range chartCases {
		t.Run(c.name, func(t *testing.T) {
			m := render(t, h, c)
			if m.total == 0 {
				t.Fatal("nothing rendered")
			}
			server := component(t, m.deployments, "server")
			worker := component(t, m.deployments, "worker")
			job := component(t, m.jobs, "migrate")
			cm := onlyOne(t, m.configMaps)

			checkConfigMap(t, cm)
			for _, d := range []*appsv1.Deployment{server, worker} {
				checkPod(t, d.Name, &d.Spec.Template.Spec, m, c)
				checkFilesMounted(t, d, cm)
				checkSelects(t, "Deployment "+d.Name, d.Spec.Selector, d.Spec.Template.Labels)
			}
			checkPod(t, job.Name, &job.Spec.Template.Spec, m, c)
			checkCommands(t, m)
			checkServer(t, server, cm)
			checkWorker(t, worker, cm, m)
			checkMigrate(t, job, m, c)
			checkServices(t, m)
			checkPDBsAndPolicies(t, m)

			if c.existingSecret != "" {
				for name := range m.secrets {
					if !m.hookSecrets[name] {
						t.Errorf("Secret %s rendered although the values name an existing secret", name)
					}
				}
			}
			switch c.name {
			case "production":
				if n := *server.Spec.Replicas; n != 3 {
					t.Errorf("production: %d servers, want 3", n)
				}
				hpa := onlyOne(t, m.hpas)
				if hpa.Spec.MinReplicas == nil || *hpa.Spec.MinReplicas != 3 {
					t.Errorf("production: HPA minReplicas %v, want 3 workers", hpa.Spec.MinReplicas)
				}
				ing := onlyOne(t, m.ingresses)
				if len(ing.Spec.TLS) == 0 {
					t.Error("production: the ingress has no TLS")
				}
				if len(m.monitors) != 2 {
					t.Errorf("production: %d ServiceMonitors, want 2 (server, worker)", len(m.monitors))
				}
			case "default":
				if len(m.monitors) != 0 || len(m.ingresses) != 0 || len(m.hpas) != 0 {
					t.Error("default: ServiceMonitors, ingress and HPA must be off by default")
				}
			}
		})
	}
}

// component finds the one object of a component (app.kubernetes.io/component).
func component[T interface{ GetLabels() map[string]string }](t *testing.T, objs map[string]T, name string) T {
	t.Helper()
	var found []T
	for _, o := range objs {
		if o.GetLabels()["app.kubernetes.io/component"] == name {
			found = append(found, o)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one %s, found %d", name, len(found))
	}
	return found[0]
}

func onlyOne[T any](t *testing.T, objs map[string]T) T {
	t.Helper()
	if len(objs) != 1 {
		var zero T
		t.Fatalf("want one %T, found %d", zero, len(objs))
	}
	for _, o := range objs {
		return o
	}
	panic("unreachable")
}

func checkSelects(t *testing.T, what string, sel *metav1.LabelSelector, podLabels map[string]string) {
	t.Helper()
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		t.Errorf("%s: selector: %v", what, err)
		return
	}
	if s.Empty() || !s.Matches(labels.Set(podLabels)) {
		t.Errorf("%s: selector %v does not select the pods labelled %v", what, s, podLabels)
	}
}

func checkConfigMap(t *testing.T, cm *corev1.ConfigMap) {
	t.Helper()
	for k, want := range map[string]string{"LOG_FORMAT": "json", "TIME_ZONE": "Asia/Shanghai"} {
		if cm.Data[k] != want {
			t.Errorf("ConfigMap %s = %q, want %q", k, cm.Data[k], want)
		}
	}
	for _, k := range []string{"TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_TASK_QUEUE", "WORKER_CACHE_SIZE"} {
		if cm.Data[k] == "" {
			t.Errorf("ConfigMap lacks %s", k)
		}
	}
	// The binaries default to loopback; in a pod nothing could reach them.
	for _, k := range []string{"HTTP_ADDR", "METRICS_ADDR"} {
		if host, _, err := net.SplitHostPort(cm.Data[k]); err != nil || host != "0.0.0.0" {
			t.Errorf("ConfigMap %s = %q, want 0.0.0.0:PORT", k, cm.Data[k])
		}
	}
	for _, k := range []string{"DATABASE_URL", "TEMPORAL_API_KEY", "NOTIFY_WEBHOOK_URL", "TEMPORAL_TLS_CLIENT_KEY_DATA"} {
		if _, ok := cm.Data[k]; ok {
			t.Errorf("ConfigMap holds the secret %s", k)
		}
	}
	// TEMPORAL_TLS=false would turn TLS off under an API key.
	if v, ok := cm.Data["TEMPORAL_TLS"]; ok && v != "true" {
		t.Errorf("ConfigMap TEMPORAL_TLS = %q: the chart only ever sets true", v)
	}
}

// checkPod asserts the security properties every pod has, and that what it
// reads (ConfigMaps, Secrets, volumes) exists.
func checkPod(t *testing.T, name string, p *corev1.PodSpec, m manifests, c chartCase) {
	t.Helper()
	sc := p.SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser == 0 {
		t.Errorf("%s: pod must run as a non-root uid (runAsNonRoot, runAsUser != 0)", name)
	}
	if sc == nil || sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s: pod seccomp profile must be RuntimeDefault", name)
	}
	if p.AutomountServiceAccountToken == nil || *p.AutomountServiceAccountToken {
		t.Errorf("%s: mounts a service account token it never uses", name)
	}
	if p.ServiceAccountName != "" && p.ServiceAccountName != "default" {
		if _, ok := m.accounts[p.ServiceAccountName]; !ok && !strings.Contains(strings.Join(c.args, " "), "serviceAccount.name="+p.ServiceAccountName) {
			t.Errorf("%s: service account %s is neither rendered nor named in the values", name, p.ServiceAccountName)
		}
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range p.Volumes {
		volumes[v.Name] = v
	}
	if len(p.Containers) == 0 {
		t.Fatalf("%s: no containers", name)
	}
	for _, ctr := range p.Containers {
		what := name + "/" + ctr.Name
		s := ctr.SecurityContext
		switch {
		case s == nil:
			t.Errorf("%s: no securityContext", what)
			continue
		case s.AllowPrivilegeEscalation == nil || *s.AllowPrivilegeEscalation:
			t.Errorf("%s: allowPrivilegeEscalation must be false", what)
		case s.ReadOnlyRootFilesystem == nil || !*s.ReadOnlyRootFilesystem:
			t.Errorf("%s: readOnlyRootFilesystem must be true", what)
		case s.Privileged != nil && *s.Privileged:
			t.Errorf("%s: privileged", what)
		case s.Capabilities == nil || !slices.Contains(s.Capabilities.Drop, "ALL") || len(s.Capabilities.Add) > 0:
			t.Errorf("%s: must drop ALL capabilities and add none", what)
		}
		if s.RunAsUser != nil && *s.RunAsUser == 0 {
			t.Errorf("%s: runs as root", what)
		}
		if ctr.Image == "" || len(ctr.Command) == 0 {
			t.Errorf("%s: no image or command", what)
		}
		if ctr.Resources.Requests.Memory().IsZero() || ctr.Resources.Limits.Memory().IsZero() {
			t.Errorf("%s: memory request and limit must be set", what)
		}
		for _, vm := range ctr.VolumeMounts {
			if _, ok := volumes[vm.Name]; !ok {
				t.Errorf("%s: mounts volume %s that the pod lacks", what, vm.Name)
			}
		}
		for _, ef := range ctr.EnvFrom {
			switch {
			case ef.ConfigMapRef != nil:
				if _, ok := m.configMaps[ef.ConfigMapRef.Name]; !ok {
					t.Errorf("%s: reads ConfigMap %s, not rendered", what, ef.ConfigMapRef.Name)
				}
			case ef.SecretRef != nil:
				checkSecretRef(t, what, ef.SecretRef.Name, "", m, c)
			}
		}
		for _, e := range ctr.Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				checkSecretRef(t, what, e.ValueFrom.SecretKeyRef.Name, e.ValueFrom.SecretKeyRef.Key, m, c)
			}
		}
	}
}

// checkFilesMounted: every file the ConfigMap points at (the Temporal TLS
// certificate, key and CA) is under one of the container's mounts.
func checkFilesMounted(t *testing.T, d *appsv1.Deployment, cm *corev1.ConfigMap) {
	t.Helper()
	ctr := container(t, d)
	for k, v := range cm.Data {
		if !strings.HasSuffix(k, "_PATH") {
			continue
		}
		if !slices.ContainsFunc(ctr.VolumeMounts, func(vm corev1.VolumeMount) bool {
			return strings.HasPrefix(v, strings.TrimSuffix(vm.MountPath, "/")+"/")
		}) {
			t.Errorf("%s: %s=%s is under none of its mounts", d.Name, k, v)
		}
	}
}

// checkCommands: each pod runs a binary the image's final stage puts where
// the chart looks for it.
func checkCommands(t *testing.T, m manifests) {
	t.Helper()
	stages, _ := dockerfile(t)
	final := stages[len(stages)-1]
	inImage := map[string]bool{}
	for _, cmd := range final.Commands {
		if c, ok := cmd.(*instructions.CopyCommand); ok {
			for _, src := range c.SourcePaths {
				inImage[path.Join(c.DestPath, path.Base(src))] = true
			}
		}
	}
	var pods []corev1.PodSpec
	for _, d := range m.deployments {
		pods = append(pods, d.Spec.Template.Spec)
	}
	for _, j := range m.jobs {
		pods = append(pods, j.Spec.Template.Spec)
	}
	for _, p := range pods {
		for _, ctr := range p.Containers {
			if len(ctr.Command) == 0 || !inImage[ctr.Command[0]] {
				t.Errorf("container %s runs %v; the image holds %v", ctr.Name, ctr.Command, inImage)
			}
		}
	}
}

// checkSecretRef: the Secret is rendered (with the key) or is the one the
// values say exists.
func checkSecretRef(t *testing.T, what, name, key string, m manifests, c chartCase) {
	t.Helper()
	if name == c.existingSecret {
		return
	}
	s, ok := m.secrets[name]
	if !ok {
		t.Errorf("%s: reads Secret %s, neither rendered nor the existing secret", what, name)
		return
	}
	if _, ok := s.StringData["DATABASE_URL"]; !ok {
		t.Errorf("%s: Secret %s has no DATABASE_URL", what, name)
	}
	if key != "" {
		if _, ok := s.StringData[key]; !ok {
			t.Errorf("%s: Secret %s has no key %s", what, name, key)
		}
	}
}

func container(t *testing.T, d *appsv1.Deployment) corev1.Container {
	t.Helper()
	if len(d.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("%s: want one container", d.Name)
	}
	return d.Spec.Template.Spec.Containers[0]
}

func containerPort(t *testing.T, ctr corev1.Container, name string) int32 {
	t.Helper()
	for _, p := range ctr.Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	t.Fatalf("container %s has no port %q", ctr.Name, name)
	return 0
}

func addrPort(t *testing.T, addr string) int32 {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("address %q: %v", addr, err)
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Fatalf("address %q: %v", addr, err)
	}
	return int32(n)
}

func checkServer(t *testing.T, d *appsv1.Deployment, cm *corev1.ConfigMap) {
	t.Helper()
	ctr := container(t, d)
	if port := containerPort(t, ctr, "http"); port != addrPort(t, cm.Data["HTTP_ADDR"]) {
		t.Errorf("server: container port %d, but HTTP_ADDR is %s", port, cm.Data["HTTP_ADDR"])
	}
	for what, p := range map[string]*corev1.Probe{"liveness /healthz": ctr.LivenessProbe, "readiness /readyz": ctr.ReadinessProbe} {
		path := "/" + strings.Fields(what)[1][1:]
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != path || p.HTTPGet.Port.String() != "http" {
			t.Errorf("server: want a %s probe on the http port, got %+v", what, p)
		}
	}
	// The grace period must outlast what the server does after SIGTERM: the
	// preStop sleep, then the drain of requests that may each run for the
	// request timeout (bounded by the 10 s drain).
	timeout := defaultRequestTimeout
	if v, ok := cm.Data["REQUEST_TIMEOUT"]; ok {
		var err error
		if timeout, err = time.ParseDuration(v); err != nil {
			t.Fatalf("REQUEST_TIMEOUT %q: %v", v, err)
		}
	}
	var preStop time.Duration
	if l := ctr.Lifecycle; l != nil && l.PreStop != nil {
		if l.PreStop.Sleep == nil {
			t.Errorf("server: preStop must be a sleep action (the image has no shell)")
		} else {
			preStop = time.Duration(l.PreStop.Sleep.Seconds) * time.Second
		}
	}
	need := preStop + timeout + shutdownDrain
	if grace := gracePeriod(d); grace <= need {
		t.Errorf("server: terminationGracePeriodSeconds %v must exceed preStop %v + REQUEST_TIMEOUT %v + drain %v", grace, preStop, timeout, shutdownDrain)
	}
	if ru := d.Spec.Strategy.RollingUpdate; ru == nil || ru.MaxUnavailable == nil || ru.MaxUnavailable.IntValue() != 0 {
		t.Errorf("server: a rollout must not take a server away before its replacement is ready (maxUnavailable 0)")
	}
}

// gracePeriod is the pod's termination grace period (Kubernetes' default
// 30 s when unset).
func gracePeriod(d *appsv1.Deployment) time.Duration {
	if g := d.Spec.Template.Spec.TerminationGracePeriodSeconds; g != nil {
		return time.Duration(*g) * time.Second
	}
	return 30 * time.Second
}

func checkWorker(t *testing.T, d *appsv1.Deployment, cm *corev1.ConfigMap, m manifests) {
	t.Helper()
	ctr := container(t, d)
	port := containerPort(t, ctr, "metrics")
	if port != addrPort(t, cm.Data["METRICS_ADDR"]) {
		t.Errorf("worker: metrics port %d, but METRICS_ADDR is %s", port, cm.Data["METRICS_ADDR"])
	}
	for what, p := range map[string]*corev1.Probe{"liveness": ctr.LivenessProbe, "readiness": ctr.ReadinessProbe} {
		if p == nil || p.TCPSocket == nil || p.TCPSocket.Port.String() != "metrics" {
			t.Errorf("worker: want a %s probe on the metrics listener, got %+v", what, p)
		}
	}
	// The worker's longest step after SIGTERM is the same 10 s order of
	// magnitude (stop polling, hand sticky workflows back).
	if grace := gracePeriod(d); grace <= defaultRequestTimeout+shutdownDrain {
		t.Errorf("worker: terminationGracePeriodSeconds %v, want more than %v", grace, defaultRequestTimeout+shutdownDrain)
	}
	hpas := 0
	for _, h := range m.hpas {
		hpas++
		if h.Spec.ScaleTargetRef.Kind != "Deployment" || h.Spec.ScaleTargetRef.Name != d.Name {
			t.Errorf("HPA %s scales %s/%s, not the worker", h.Name, h.Spec.ScaleTargetRef.Kind, h.Spec.ScaleTargetRef.Name)
		}
		if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas < 1 || h.Spec.MaxReplicas < *h.Spec.MinReplicas {
			t.Errorf("HPA %s: bad bounds", h.Name)
		}
	}
	// With an HPA the Deployment leaves replicas alone, or every upgrade
	// would reset the HPA's count.
	if hpas > 0 && d.Spec.Replicas != nil {
		t.Errorf("worker: replicas set although an HPA scales it")
	}
}

func checkMigrate(t *testing.T, j *batchv1.Job, m manifests, c chartCase) {
	t.Helper()
	hooks := strings.Split(j.Annotations["helm.sh/hook"], ",")
	if !slices.Contains(hooks, "pre-install") || !slices.Contains(hooks, "pre-upgrade") {
		t.Errorf("migrate Job: hooks %v, want pre-install and pre-upgrade", hooks)
	}
	p := j.Spec.Template.Spec
	if p.RestartPolicy != corev1.RestartPolicyNever && p.RestartPolicy != corev1.RestartPolicyOnFailure {
		t.Errorf("migrate Job: restartPolicy %q", p.RestartPolicy)
	}
	ctr := p.Containers[0]
	if filepath.Base(ctr.Command[0]) != "migrate" {
		t.Errorf("migrate Job runs %v", ctr.Command)
	}
	// A pre-install hook runs before the release's objects exist: whatever
	// it reads must be a hook itself or exist beforehand.
	if len(ctr.EnvFrom) > 0 {
		t.Errorf("migrate Job: envFrom %v would read the release's objects, absent on a first install", ctr.EnvFrom)
	}
	for _, e := range ctr.Env {
		if r := e.ValueFrom; r != nil && r.SecretKeyRef != nil && r.SecretKeyRef.Name != c.existingSecret && !m.hookSecrets[r.SecretKeyRef.Name] {
			t.Errorf("migrate Job: reads Secret %s, which is not a hook and not pre-existing", r.SecretKeyRef.Name)
		}
	}
	if sa := p.ServiceAccountName; sa != "" && m.accounts[sa] != nil {
		t.Errorf("migrate Job: uses the release's ServiceAccount %s, absent on a first install", sa)
	}
	for name := range m.hookSecrets {
		w, err := strconv.Atoi(m.secrets[name].Annotations["helm.sh/hook-weight"])
		jw, _ := strconv.Atoi(j.Annotations["helm.sh/hook-weight"])
		if err != nil || w >= jw {
			t.Errorf("hook Secret %s must have a lower hook weight than the Job", name)
		}
	}
}

func checkServices(t *testing.T, m manifests) {
	t.Helper()
	pods := map[string]map[string]string{} // deployment -> pod labels
	ports := map[string][]string{}         // deployment -> container port names
	for _, d := range m.deployments {
		pods[d.Name] = d.Spec.Template.Labels
		for _, p := range d.Spec.Template.Spec.Containers[0].Ports {
			ports[d.Name] = append(ports[d.Name], p.Name)
		}
	}
	// Every Service selects exactly one Deployment's pods, on ports they have.
	for _, s := range m.services {
		sel := labels.SelectorFromSet(s.Spec.Selector)
		var hits []string
		for name, l := range pods {
			if sel.Matches(labels.Set(l)) {
				hits = append(hits, name)
			}
		}
		if len(hits) != 1 {
			t.Errorf("Service %s selects %v, want one Deployment", s.Name, hits)
			continue
		}
		for _, p := range s.Spec.Ports {
			if !slices.Contains(ports[hits[0]], p.TargetPort.String()) {
				t.Errorf("Service %s targets port %s, which %s does not name", s.Name, p.TargetPort.String(), hits[0])
			}
		}
	}
	for _, ing := range m.ingresses {
		for _, r := range ing.Spec.Rules {
			for _, p := range r.HTTP.Paths {
				svc, ok := m.services[p.Backend.Service.Name]
				if !ok {
					t.Errorf("Ingress %s routes to Service %s, not rendered", ing.Name, p.Backend.Service.Name)
					continue
				}
				if !slices.ContainsFunc(svc.Spec.Ports, func(sp corev1.ServicePort) bool { return sp.Name == p.Backend.Service.Port.Name }) {
					t.Errorf("Ingress %s routes to port %q that Service %s lacks", ing.Name, p.Backend.Service.Port.Name, svc.Name)
				}
				// Metrics and probes are for the cluster, not the internet.
				if p.Path == "/metrics" || (p.PathType != nil && *p.PathType == networkingv1.PathTypePrefix && p.Path == "/") {
					t.Errorf("Ingress %s exposes %s (%v): /metrics must stay inside", ing.Name, p.Path, *p.PathType)
				}
			}
		}
	}
	// Every ServiceMonitor selects a Service with the port it scrapes.
	for _, sm := range m.monitors {
		if sm.APIVersion != "monitoring.coreos.com/v1" {
			t.Errorf("ServiceMonitor %s: apiVersion %s", sm.Name, sm.APIVersion)
		}
		sel, err := metav1.LabelSelectorAsSelector(&sm.Spec.Selector)
		if err != nil || sel.Empty() {
			t.Errorf("ServiceMonitor %s: bad selector", sm.Name)
			continue
		}
		for _, ep := range sm.Spec.Endpoints {
			found := false
			for _, s := range m.services {
				if sel.Matches(labels.Set(s.Labels)) && slices.ContainsFunc(s.Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == ep.Port }) {
					found = true
				}
			}
			if !found || ep.Path != "/metrics" {
				t.Errorf("ServiceMonitor %s: no selected Service has port %q (path %q)", sm.Name, ep.Port, ep.Path)
			}
			if _, err := time.ParseDuration(ep.Interval); err != nil {
				t.Errorf("ServiceMonitor %s: interval %q", sm.Name, ep.Interval)
			}
		}
	}
}

func checkPDBsAndPolicies(t *testing.T, m manifests) {
	t.Helper()
	for _, pdb := range m.pdbs {
		hits := 0
		for _, d := range m.deployments {
			sel, _ := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
			if !sel.Empty() && sel.Matches(labels.Set(d.Spec.Template.Labels)) {
				hits++
			}
		}
		if hits != 1 {
			t.Errorf("PDB %s covers %d Deployments, want 1", pdb.Name, hits)
		}
		if pdb.Spec.MinAvailable == nil && pdb.Spec.MaxUnavailable == nil {
			t.Errorf("PDB %s sets neither minAvailable nor maxUnavailable", pdb.Name)
		}
	}
	// Every pod (server, worker, migrate) is under a NetworkPolicy.
	podLabels := map[string]map[string]string{}
	for _, d := range m.deployments {
		podLabels["Deployment "+d.Name] = d.Spec.Template.Labels
	}
	for _, j := range m.jobs {
		podLabels["Job "+j.Name] = j.Spec.Template.Labels
	}
	if len(m.netpols) == 0 {
		return // networkPolicy.enabled=false
	}
	for what, l := range podLabels {
		covered := false
		for _, np := range m.netpols {
			sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
			if err == nil && !sel.Empty() && sel.Matches(labels.Set(l)) {
				covered = true
			}
		}
		if !covered {
			t.Errorf("%s: no NetworkPolicy selects its pods", what)
		}
	}
}

// TestChartRefusesUnsafeValues: the render-time checks and the values schema
// fail with a message that says what to set.
func TestChartRefusesUnsafeValues(t *testing.T) {
	h := helm(t)
	for name, c := range map[string]struct {
		args []string
		want string
	}{
		"no database": {nil, "secret.existingSecret"},
		"grace period too short": {[]string{"--set", "secret.existingSecret=x", "--set", "config.requestTimeoutSeconds=30"},
			"server.terminationGracePeriodSeconds (30) must exceed"},
		// values.schema.json refuses unknown keys: a misspelt setting would
		// otherwise be ignored without a word.
		"misspelt value": {[]string{"--set", "secret.existingSecret=x", "--set", "worker.autoscalling.enabled=true"},
			"additional properties 'autoscalling' not allowed"},
		// The service refuses to start with a webhook URL and no signing
		// secret; the chart says so before anything is deployed.
		"webhook without its secret": {[]string{"--set", "secret.databaseURL=postgres://a@db/a", "--set", "secret.notifyWebhookURL=https://hooks.example.com/x"},
			"secret.notifyWebhookURL needs secret.notifyWebhookSecret"},
	} {
		t.Run(name, func(t *testing.T) {
			args := append([]string{"template", releaseName, chartDir}, c.args...)
			out, err := exec.Command(h, args...).CombinedOutput()
			if err == nil || !strings.Contains(string(out), c.want) {
				t.Errorf("helm %s: err %v, want a failure saying %q:\n%s", strings.Join(args, " "), err, c.want, out)
			}
		})
	}
}
