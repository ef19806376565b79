package main

import (
	"os"
	"slices"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/tzurot/tzurot/internal/config"
)

// docker-compose.yml cannot run on the CI machines (no Docker engine), so this
// keeps it consistent with `tzurot dev` and the configuration instead.
func TestComposeMatchesTheDevStack(t *testing.T) {
	b, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Build       any               `yaml:"build"`
			Command     []string          `yaml:"command"`
			Ports       []string          `yaml:"ports"`
			Environment map[string]string `yaml:"environment"`
			DependsOn   map[string]any    `yaml:"depends_on"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("docker-compose.yml does not parse: %v", err)
	}
	want := map[string][]string{ // service → command of the tzurot binary
		"migrate": {"migrate", "up"},
		"worker":  {"worker"},
		"bot":     {"bot"},
	}
	for name, cmd := range want {
		s, ok := doc.Services[name]
		if !ok {
			t.Errorf("service %s missing", name)
			continue
		}
		if s.Build == nil || !slices.Equal(s.Command, cmd) {
			t.Errorf("service %s: build %v command %v, want the tzurot image running %v", name, s.Build, s.Command, cmd)
		}
		for _, v := range config.Variables() {
			if _, ok := s.Environment[v]; !ok {
				t.Errorf("service %s does not pass %s", name, v)
			}
		}
	}
	if pg := doc.Services["postgres"]; pg.Image != "postgres:15" || !slices.Contains(pg.Ports, "5432:5432") {
		t.Errorf("postgres service = %+v, want postgres:15 on 5432", pg)
	}
	tmp := doc.Services["temporal"]
	if !slices.Contains(tmp.Ports, "7233:7233") || !slices.Contains(tmp.Ports, "8233:8233") ||
		!slices.Contains(tmp.Command, "start-dev") {
		t.Errorf("temporal service = %+v, want a dev server with frontend 7233 and UI 8233", tmp)
	}
	if env := doc.Services["worker"].Environment; env["TEMPORAL_ADDRESS"] != "temporal:7233" ||
		env["TEMPORAL_TASK_QUEUE"] != "tzurot" {
		t.Errorf("worker reaches Temporal at %q on queue %q", env["TEMPORAL_ADDRESS"], env["TEMPORAL_TASK_QUEUE"])
	}
}
