package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"

	"github.com/jwtgate/jwtgate/functions/azure/customhandler"
	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/keys"
	"github.com/jwtgate/jwtgate/shared/logging"
)

// configReport is what `config --json` prints.
type configReport struct {
	Source     string             `json:"source"`
	Settings   []config.Effective `json:"settings"`
	KeySources []keys.SourceInfo  `json:"key_sources"`
}

// cmdConfig prints the effective configuration after every layer (policy
// file or APIM policy, environment, defaults), where each value came from,
// and which key source serves which issuer. Secrets show as their length.
func cmdConfig(_ context.Context, args []string, stdout, stderr io.Writer) int {
	d := defaultPaths("events")
	fs := flag.NewFlagSet("config", flag.ContinueOnError)
	fs.SetOutput(stderr)
	envFile := fs.String("env-file", d.envPath, "JWTGATE_* settings (KEY=VALUE lines)")
	ownConfig := fs.Bool("own-config", false, "take JWTGATE_* from this process's environment instead of --env-file")
	jsonOut := fs.Bool("json", false, "print one JSON object")
	if err := fs.Parse(args); err != nil {
		return exitSetup
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "config: unexpected arguments %q\n", fs.Args())
		return exitSetup
	}
	_, getenv, err := configSource(*ownConfig, *envFile)
	if err != nil {
		fmt.Fprintln(stderr, "config:", err)
		return exitSetup
	}
	cfg, prov, err := config.FromEnvWithProvenance(getenv)
	if err == nil {
		err = checkAdapterSettings(getenv)
	}
	if err != nil {
		fmt.Fprintln(stderr, "config:", err)
		return exitSetup
	}
	// The key store makes no network call until asked for a key: Sources
	// shows the configuration, not fetched state.
	store, err := keys.NewStore(cfg, keys.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		fmt.Fprintln(stderr, "config:", err)
		return exitSetup
	}
	env := "environment"
	if !*ownConfig {
		env = "env file " + *envFile
	}
	rep := configReport{Source: env, Settings: cfg.Describe(prov, getenv), KeySources: store.Sources()}
	for i := range rep.Settings {
		for j, from := range rep.Settings[i].From {
			if from == rep.Settings[i].Setting {
				rep.Settings[i].From[j] = env
			}
		}
	}
	if *jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintln(stderr, "config:", err)
			return exitSetup
		}
		return exitOK
	}
	printConfig(stdout, rep)
	return exitOK
}

func printConfig(w io.Writer, rep configReport) {
	fmt.Fprintf(w, "effective configuration (%s; a later place overrides an earlier one, key settings add up)\n\n", rep.Source)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SETTING\tVALUE\tFROM")
	for _, s := range rep.Settings {
		v := s.Value
		if v == "" {
			v = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Setting, v, strings.Join(s.From, ", then "))
	}
	_ = tw.Flush()
	fmt.Fprintln(w, "\nkey sources:")
	for _, k := range rep.KeySources {
		serves := "issuers " + strings.Join(quoted(k.Issuers), ", ")
		switch {
		case k.AnyIssuer:
			serves = "any issuer that no discovery source serves"
		case len(k.Issuers) == 0:
			serves = "no issuer"
		}
		held := fmt.Sprintf("%d keys", k.Keys)
		if k.Kind != "static" {
			held = "fetched on first use"
			if k.Seed {
				held += fmt.Sprintf("; %d seed keys until then", k.Keys)
			}
		}
		name := k.Kind + " " + k.Name
		if k.Kind == "static" {
			name = k.Name
		}
		fmt.Fprintf(w, "  %s\n    serves %s (%s)\n", name, serves, held)
	}
}

func quoted(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// checkAdapterSettings refuses what the bootstrap or the handler would
// refuse at start-up among the settings they read themselves rather than
// through config.Config: the log level (with Lambda's AWS_LAMBDA_LOG_LEVEL)
// and the forwarded-header convention.
func checkAdapterSettings(getenv func(string) string) error {
	if _, err := logging.Level(getenv); err != nil {
		return err
	}
	if _, err := customhandler.ParseForwardedHeaders(getenv("JWTGATE_FORWARDED_HEADERS")); err != nil {
		return fmt.Errorf("JWTGATE_FORWARDED_HEADERS: %w", err)
	}
	return nil
}
