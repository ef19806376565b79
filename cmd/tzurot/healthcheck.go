package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tzurot/tzurot/internal/config"
)

// healthcheckCmd is `tzurot healthcheck [URL]`: the container image has no
// HTTP client of its own (distroless), so docker-compose's healthchecks
// run this. It asks URL, by default /readyz on METRICS_ADDR's port on
// loopback, and succeeds only on 200.
func healthcheckCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "healthcheck [URL]",
		Short: "exit 0 when URL (default http://127.0.0.1:<METRICS_ADDR port>/readyz) answers 200: for container healthchecks",
		Args:  positional(0, 1),
		RunE: func(c *cobra.Command, args []string) error {
			url := ""
			if len(args) == 1 {
				url = args[0]
			} else {
				cfg, err := config.Load()
				if err != nil {
					return err
				}
				if url, err = readyzURL(cfg.MetricsAddr); err != nil {
					return err
				}
			}
			return healthcheck(c.Context(), url, c.OutOrStdout())
		},
	}
}

// readyzURL is /readyz on loopback at addr's port.
func readyzURL(addr string) (string, error) {
	if addr == "" {
		return "", fmt.Errorf("METRICS_ADDR is not set, so nothing serves /readyz: set it (e.g. :9464) or give the URL")
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("METRICS_ADDR %q is not host:port", addr)
	}
	return "http://" + net.JoinHostPort("127.0.0.1", port) + "/readyz", nil
}

// healthcheck GETs url within 5 s and copies its body to out; anything but
// 200 is an error naming the status and the body's first line.
func healthcheck(ctx context.Context, url string, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %q is not a URL", url)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		line, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
		return fmt.Errorf("healthcheck %s: %s: %s", url, resp.Status, line)
	}
	_, err = out.Write(body)
	return err
}
