package config

import (
	"fmt"
	"net"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// composeFile is what the tests read of docker-compose.yml.
type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Build       any               `yaml:"build"`
		Command     []string          `yaml:"command"`
		Ports       []any             `yaml:"ports"`
		Environment map[string]string `yaml:"environment"`
		DependsOn   map[string]any    `yaml:"depends_on"`
		Volumes     []string          `yaml:"volumes"`
		Healthcheck struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
	} `yaml:"services"`
}

// tzurotServices are the services running the tzurot image, by name, with
// the command each runs.
var tzurotServices = map[string][]string{
	"migrate": {"migrate", "up"},
	"setup":   {"temporal", "setup"},
	"worker":  {"worker"},
	"bot":     {"bot"},
}

func readCompose(t *testing.T) composeFile {
	t.Helper()
	b, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var doc composeFile
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("docker-compose.yml does not parse: %v", err)
	}
	return doc
}

// composeDefaultDiffers lists the variables whose ${X:-default} in
// docker-compose.yml is meant to differ from the declared default, and why.
var composeDefaultDiffers = map[string]string{
	"MIGRATION_BACKUP_DIR": "a path inside the container",
}

// docker-compose.yml passes every declared variable to each tzurot service
// (so a .env line reaches it), sets no variable tzurot does not read, gives
// the declared defaults, and has no default for a secret.
func TestComposePassesTheDeclaredVariables(t *testing.T) {
	doc := readCompose(t)
	declared := map[string]Variable{}
	for _, v := range Declared() {
		declared[v.Name] = v
	}
	fallback := regexp.MustCompile(`^\$\{([A-Z0-9_]+):-([^}]*)\}$`)
	for name := range tzurotServices {
		env := doc.Services[name].Environment
		for _, v := range Declared() {
			if _, ok := env[v.Name]; !ok {
				t.Errorf("service %s does not pass %s", name, v.Name)
			}
		}
		for k, val := range env {
			v, ok := declared[k]
			if !ok {
				t.Errorf("service %s sets %s, which internal/config does not declare: a typo, or a variable nothing reads", name, k)
				continue
			}
			m := fallback.FindStringSubmatch(val)
			switch {
			case v.Secret && v.Name != "DATABASE_URL" && !regexp.MustCompile(`^\$\{`+k+`:(\?[^}]+|-)\}$`).MatchString(val):
				t.Errorf("service %s: secret %s is %q, want ${%s:?…} or ${%s:-}", name, k, val, k, k)
			case m != nil && m[1] != k:
				t.Errorf("service %s: %s reads ${%s}, want ${%s:-…}", name, k, m[1], k)
			case m != nil && m[2] != v.Default && composeDefaultDiffers[k] == "":
				t.Errorf("service %s: %s defaults to %q, internal/config to %q: make them equal", name, k, m[2], v.Default)
			}
		}
	}
}

// docker-compose.yml cannot run on the CI machines (no Docker engine), so this
// keeps it consistent with `tzurot dev` and the configuration instead.
func TestComposeMatchesTheDevStack(t *testing.T) {
	doc := readCompose(t)
	for name, cmd := range tzurotServices {
		s, ok := doc.Services[name]
		if !ok {
			t.Errorf("service %s missing", name)
			continue
		}
		if s.Build == nil || !slices.Equal(s.Command, cmd) {
			t.Errorf("service %s: build %v command %v, want the tzurot image running %v", name, s.Build, s.Command, cmd)
		}
	}
	// Nothing is published beyond this machine, and only what a user needs:
	// the Temporal frontend (the CLI, `tzurot migrate data`), its Web UI,
	// and Prometheus's UI.
	// The workers reach PostgreSQL inside the compose network.
	published := map[string][]string{}
	for name, s := range doc.Services {
		for _, p := range s.Ports {
			host, ok := loopbackPort(p)
			if !ok {
				t.Errorf("service %s publishes %v beyond loopback: write it 127.0.0.1:HOST:CONTAINER", name, p)
				continue
			}
			published[name] = append(published[name], host)
		}
	}
	if pg := doc.Services["postgres"]; pg.Image != "postgres:15" || len(pg.Ports) != 0 {
		t.Errorf("postgres service = %+v, want postgres:15 and no published port", pg)
	}
	tmp := doc.Services["temporal"]
	if got := published["temporal"]; !slices.Equal(got, []string{"7233:7233", "8233:8233"}) ||
		!slices.Contains(tmp.Command, "start-dev") {
		t.Errorf("temporal service = %+v publishing %v, want a dev server with frontend 7233 and UI 8233 on loopback", tmp, got)
	}
	if got := published["prometheus"]; !slices.Equal(got, []string{"9090:9090"}) {
		t.Errorf("prometheus publishes %v, want its UI 9090:9090 on loopback", got)
	}
	for name := range published {
		if name != "temporal" && name != "prometheus" {
			t.Errorf("service %s publishes %v; no user needs it", name, published[name])
		}
	}

	// No default password: every secret is required from .env (${X:?…}) or
	// empty unless given (${X:-}), never a value written here.
	secretName := regexp.MustCompile(`(^|_)(PASSWORD|TOKEN|SECRET|KEY)(_|$)`)
	for name, s := range doc.Services {
		for k, v := range s.Environment {
			if !secretName.MatchString(k) {
				continue
			}
			if !regexp.MustCompile(`^\$\{` + regexp.QuoteMeta(k) + `:(\?[^}]+|-)\}$`).MatchString(v) {
				t.Errorf("service %s: %s is %q, want ${%s:?…} or ${%s:-}: no secret has a default here", name, k, v, k, k)
			}
		}
	}
	if pw := doc.Services["postgres"].Environment["POSTGRES_PASSWORD"]; !strings.HasPrefix(pw, "${POSTGRES_PASSWORD:?") {
		t.Errorf("POSTGRES_PASSWORD is %q, want it required from .env", pw)
	}
	for _, svc := range []string{"migrate", "worker", "bot"} {
		// The URL holds ${…} until compose fills it in, so it is read by hand.
		dbURL := doc.Services[svc].Environment["DATABASE_URL"]
		_, rest, _ := strings.Cut(dbURL, "://")
		userinfo := rest[:max(strings.LastIndex(rest, "@"), 0)]
		if _, pw, _ := strings.Cut(userinfo, ":"); !strings.HasPrefix(pw, "${POSTGRES_PASSWORD:?") || !strings.HasSuffix(pw, "}") {
			t.Errorf("%s DATABASE_URL %q: password %q, want ${POSTGRES_PASSWORD:?…}", svc, dbURL, pw)
		}
	}
	if env := doc.Services["worker"].Environment; env["TEMPORAL_ADDRESS"] != "temporal:7233" ||
		env["TEMPORAL_TASK_QUEUE"] != "tzurot" {
		t.Errorf("worker reaches Temporal at %q on queue %q", env["TEMPORAL_ADDRESS"], env["TEMPORAL_TASK_QUEUE"])
	}
}

// dependsOn is the condition under which service waits for dep in
// docker-compose.yml ("service_started" for the short list syntax), or "".
func dependsOn(t *testing.T, doc composeFile, service, dep string) string {
	t.Helper()
	d, ok := doc.Services[service].DependsOn[dep]
	if !ok {
		return ""
	}
	if m, ok := d.(map[string]any); ok {
		if c, ok := m["condition"].(string); ok {
			return c
		}
	}
	return "service_started"
}

// On a fresh stack `tzurot temporal setup` runs once, as `tzurot dev` runs
// it, before the worker and the bot: without it the search attributes of
// README's list filters are not registered and the retention schedules
// (RETENTION_DAYS) never exist.
func TestComposeRunsTemporalSetup(t *testing.T) {
	doc := readCompose(t)
	s, ok := doc.Services["setup"]
	if !ok {
		t.Fatal("docker-compose.yml has no setup service running `tzurot temporal setup`")
	}
	if s.Build == nil || !slices.Equal(s.Command, []string{"temporal", "setup"}) {
		t.Errorf("setup: build %v command %v, want the tzurot image running temporal setup", s.Build, s.Command)
	}
	// Setup itself waits for the frontend to answer (temporalsetup.DialWait,
	// TestSetupWaitsForTemporal), so starting it with the server suffices.
	if got := dependsOn(t, doc, "setup", "temporal"); got != "service_started" && got != "service_healthy" {
		t.Errorf("setup waits for temporal %q, want it started", got)
	}
	for _, svc := range []string{"worker", "bot"} {
		if got := dependsOn(t, doc, svc, "setup"); got != "service_completed_successfully" {
			t.Errorf("%s waits for setup %q, want service_completed_successfully", svc, got)
		}
	}
	// What setup reads: the connection (as the worker), the payload codec's
	// key, and RETENTION_DAYS for the conversation purge schedule.
	env := s.Environment
	for _, k := range []string{"TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_API_KEY", "TEMPORAL_TLS",
		"TEMPORAL_PROFILE", "APP_MASTER_KEY", "RETENTION_DAYS"} {
		if env[k] != doc.Services["worker"].Environment[k] {
			t.Errorf("setup %s = %q, worker's %q: setup must prepare the namespace the worker uses", k, env[k], doc.Services["worker"].Environment[k])
		}
	}
	if !strings.HasPrefix(env["RETENTION_DAYS"], "${RETENTION_DAYS") {
		t.Errorf("setup RETENTION_DAYS = %q, want it from .env", env["RETENTION_DAYS"])
	}
}

// loopbackPort reads a published port in either compose syntax — short
// "[HOST_IP:]HOST:CONTAINER[/PROTO]" or long {host_ip, published, target} —
// and returns "HOST:CONTAINER" when it is bound to a loopback address only
// (https://docs.docker.com/reference/compose-file/services/#ports). A port
// without an address is published on every interface.
func loopbackPort(p any) (string, bool) {
	switch p := p.(type) {
	case string:
		spec, _, _ := strings.Cut(p, "/")
		i := strings.LastIndex(spec, ":")
		if i < 0 {
			return "", false
		}
		rest, container := spec[:i], spec[i+1:]
		j := strings.LastIndex(rest, ":")
		if j < 0 {
			return "", false // HOST:CONTAINER: every interface
		}
		ip, host := strings.Trim(rest[:j], "[]"), rest[j+1:]
		if a := net.ParseIP(ip); a == nil || !a.IsLoopback() {
			return "", false
		}
		return host + ":" + container, true
	case map[string]any:
		ip, _ := p["host_ip"].(string)
		if a := net.ParseIP(ip); a == nil || !a.IsLoopback() {
			return "", false
		}
		return fmt.Sprint(p["published"]) + ":" + fmt.Sprint(p["target"]), true
	}
	return "", false
}

func TestLoopbackPort(t *testing.T) {
	cases := []struct {
		spec any
		want string
		ok   bool
	}{
		{"127.0.0.1:8233:8233", "8233:8233", true},
		{"[::1]:7233:7233", "7233:7233", true},
		{"127.0.0.1:5432:5432/tcp", "5432:5432", true},
		{"8233:8233", "", false},
		{"8233", "", false},
		{"0.0.0.0:8233:8233", "", false},
		{"192.168.1.4:8233:8233", "", false},
		{"[::]:8233:8233", "", false},
		{map[string]any{"host_ip": "127.0.0.1", "published": 8233, "target": 8233}, "8233:8233", true},
		{map[string]any{"published": 8233, "target": 8233}, "", false},
	}
	for _, tc := range cases {
		got, ok := loopbackPort(tc.spec)
		if got != tc.want || ok != tc.ok {
			t.Errorf("loopbackPort(%v) = %q, %v; want %q, %v", tc.spec, got, ok, tc.want, tc.ok)
		}
	}
}

// The worker and the bot serve /metrics and /readyz on METRICS_ADDR; their
// healthchecks ask that port with the image's own binary (distroless has no
// HTTP client), and deploy/prometheus.yml, mounted into the prometheus
// service, scrapes that port of each replica (DNS service discovery, so
// `--scale worker=3` gives three targets): one port, written three times,
// kept equal here.
func TestComposeServesMetricsWhereItIsChecked(t *testing.T) {
	doc := readCompose(t)
	dockerfile, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	binary := regexp.MustCompile(`(?m)^COPY --from=build \S+ (\S+)$`).FindStringSubmatch(string(dockerfile))
	if binary == nil {
		t.Fatal("Dockerfile: no COPY of the tzurot binary into the final image")
	}
	b, err := os.ReadFile("../../deploy/prometheus.yml")
	if err != nil {
		t.Fatal(err)
	}
	var prom struct {
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
			DNSSDConfigs []struct {
				Names []string `yaml:"names"`
				Type  string   `yaml:"type"`
				Port  int      `yaml:"port"`
			} `yaml:"dns_sd_configs"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal(b, &prom); err != nil {
		t.Fatalf("deploy/prometheus.yml does not parse: %v", err)
	}
	// discovered[service] are the ports Prometheus scrapes on every A record
	// of the service's name: every replica after --scale.
	discovered := map[string][]string{}
	for _, sc := range prom.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			for _, target := range st.Targets {
				if host, _, _ := net.SplitHostPort(target); doc.Services[host].Build != nil {
					t.Errorf("job %s scrapes %s as one static target: Docker's DNS gives it one replica at random; use dns_sd_configs (type A)", sc.JobName, target)
				}
			}
		}
		for _, sd := range sc.DNSSDConfigs {
			if sd.Type != "A" {
				t.Errorf("job %s: dns_sd_configs type %q, want A (Docker's DNS serves no SRV records)", sc.JobName, sd.Type)
				continue
			}
			for _, n := range sd.Names {
				discovered[n] = append(discovered[n], fmt.Sprint(sd.Port))
			}
		}
	}
	for _, svc := range []string{"worker", "bot"} {
		s := doc.Services[svc]
		addr := s.Environment["METRICS_ADDR"]
		_, port, err := net.SplitHostPort(addr)
		if err != nil || port == "" {
			t.Errorf("%s: METRICS_ADDR %q, want host:port", svc, addr)
			continue
		}
		want := []string{"CMD", binary[1], "healthcheck", "http://127.0.0.1:" + port + "/readyz"}
		if !slices.Equal(s.Healthcheck.Test, want) {
			t.Errorf("%s healthcheck = %q, want %q", svc, s.Healthcheck.Test, want)
		}
		if !slices.Equal(discovered[svc], []string{port}) {
			t.Errorf("deploy/prometheus.yml discovers %s on ports %v, want every replica's %s (METRICS_ADDR)", svc, discovered[svc], port)
		}
	}
	if p := doc.Services["prometheus"]; !slices.Contains(p.Volumes, "./deploy/prometheus.yml:/etc/prometheus/prometheus.yml:ro") {
		t.Errorf("prometheus service mounts %v, want deploy/prometheus.yml as its configuration", p.Volumes)
	}
}
