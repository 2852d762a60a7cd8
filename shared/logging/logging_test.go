package logging

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLevelFollowsTheSettingAndLambdasControls(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		want    slog.Level
		wantErr string
	}{
		{"default is info", nil, slog.LevelInfo, ""},
		{"warn", map[string]string{EnvLevel: "warn"}, slog.LevelWarn, ""},
		{"any case", map[string]string{EnvLevel: "DEBUG"}, slog.LevelDebug, ""},
		{"error", map[string]string{EnvLevel: "error"}, slog.LevelError, ""},
		{"unknown level names the setting", map[string]string{EnvLevel: "verbose"}, 0, EnvLevel},
		{"lambda level stricter wins", map[string]string{EnvLevel: "info", EnvLambdaLevel: "WARN"}, slog.LevelWarn, ""},
		{"lambda level alone", map[string]string{EnvLambdaLevel: "ERROR"}, slog.LevelError, ""},
		{"lambda FATAL maps to error", map[string]string{EnvLambdaLevel: "FATAL"}, slog.LevelError, ""},
		{"lambda TRACE does not lower ours", map[string]string{EnvLevel: "warn", EnvLambdaLevel: "TRACE"}, slog.LevelWarn, ""},
		{"lambda DEBUG with our debug", map[string]string{EnvLevel: "debug", EnvLambdaLevel: "DEBUG"}, slog.LevelDebug, ""},
		{"unknown lambda level names it", map[string]string{EnvLambdaLevel: "LOUD"}, 0, EnvLambdaLevel},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Level(env(tc.env))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Level = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestMetricsLevelOnlyWhenLambdaWouldDropUnlevelledLines(t *testing.T) {
	for _, tc := range []struct {
		lambda, want string
	}{
		{"", ""}, {"INFO", ""}, {"DEBUG", ""}, {"TRACE", ""}, {"WARN", "WARN"}, {"error", "ERROR"}, {"FATAL", "FATAL"}, {"nonsense", ""},
	} {
		if got := MetricsLevel(env(map[string]string{EnvLambdaLevel: tc.lambda})); got != tc.want {
			t.Errorf("MetricsLevel(%q) = %q, want %q", tc.lambda, got, tc.want)
		}
	}
}

func TestFromEnvFiltersByLevelAndStillLogsOnError(t *testing.T) {
	var buf bytes.Buffer
	l, err := FromEnv(&buf, env(map[string]string{EnvLevel: "warn"}))
	if err != nil {
		t.Fatal(err)
	}
	l.Info("dropped")
	l.Warn("kept")
	if out := buf.String(); strings.Contains(out, "dropped") || !strings.Contains(out, `"msg":"kept"`) {
		t.Fatalf("output at warn: %s", out)
	}
	buf.Reset()
	l, err = FromEnv(&buf, env(map[string]string{EnvLevel: "loud"}))
	if err == nil {
		t.Fatal("no error for an unknown level")
	}
	l.Error("config error")
	if !l.Enabled(context.Background(), slog.LevelInfo) || !strings.Contains(buf.String(), "config error") {
		t.Fatalf("the fallback logger must log at info: %s", buf.String())
	}
}
