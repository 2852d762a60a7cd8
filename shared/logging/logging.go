// Package logging builds the structured logger (log/slog JSON, one object a
// line) that every adapter writes its decision lines to, at the level the
// operator chose: JWTGATE_LOG_LEVEL, raised on AWS Lambda to the platform's
// advanced logging controls (AWS_LAMBDA_LOG_LEVEL), whose filter would drop
// the lines below it anyway.
//
// Decision lines are written at a level that follows their outcome (see
// core.LogDecision): allow at info, a refusal at warn, "keys unavailable" at
// error. So `warn` keeps refusals and faults only, the cheapest setting that
// still explains every refused call.
package logging

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// EnvLevel is the setting that chooses the level (default info).
const EnvLevel = "JWTGATE_LOG_LEVEL"

// EnvLambdaLevel and EnvLambdaFormat are set by AWS Lambda when a function
// uses advanced logging controls. Only the level changes what jwtgate
// writes: the format is always JSON (Lambda filters by level only in JSON
// format, and a structured line is what the decision log is for).
const (
	EnvLambdaLevel  = "AWS_LAMBDA_LOG_LEVEL"
	EnvLambdaFormat = "AWS_LAMBDA_LOG_FORMAT"
)

// ParseLevel reads one of debug, info, warn or error (any case).
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return slog.LevelDebug, nil
	case "", "info":
		return slog.LevelInfo, nil
	case "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return slog.LevelInfo, fmt.Errorf("%s: %q is not a log level (debug, info, warn or error)", EnvLevel, s)
}

// lambdaLevel maps AWS_LAMBDA_LOG_LEVEL (TRACE, DEBUG, INFO, WARN, ERROR,
// FATAL) to slog's levels; ok is false when the variable is unset.
func lambdaLevel(s string) (slog.Level, bool, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "":
		return 0, false, nil
	case "TRACE", "DEBUG":
		return slog.LevelDebug, true, nil
	case "INFO":
		return slog.LevelInfo, true, nil
	case "WARN":
		return slog.LevelWarn, true, nil
	case "ERROR", "FATAL":
		return slog.LevelError, true, nil
	}
	return 0, false, fmt.Errorf("%s: %q is not a Lambda log level (TRACE, DEBUG, INFO, WARN, ERROR or FATAL)", EnvLambdaLevel, s)
}

// Level is the effective level: JWTGATE_LOG_LEVEL (default info), raised to
// AWS_LAMBDA_LOG_LEVEL where that is stricter. An unknown value is an
// error naming the variable.
func Level(getenv func(string) string) (slog.Level, error) {
	level, err := ParseLevel(getenv(EnvLevel))
	if err != nil {
		return level, err
	}
	platform, ok, err := lambdaLevel(getenv(EnvLambdaLevel))
	if err != nil {
		return level, err
	}
	if ok && platform > level {
		level = platform
	}
	return level, nil
}

// MetricsLevel is the "level" an Embedded Metric Format line must carry so
// that Lambda's log-level filter keeps it: Lambda treats a line without a
// level as INFO and drops it when AWS_LAMBDA_LOG_LEVEL is stricter, which
// would lose metrics. It is "" (no level member, as before) unless the
// platform level is above INFO; metrics stay complete at every level.
func MetricsLevel(getenv func(string) string) string {
	platform, ok, err := lambdaLevel(getenv(EnvLambdaLevel))
	if err != nil || !ok || platform <= slog.LevelInfo {
		return ""
	}
	return strings.ToUpper(strings.TrimSpace(getenv(EnvLambdaLevel)))
}

// New returns a JSON logger writing to w at level (its handler is a
// Handler: slog's JSONHandler with a fast path for the decision line).
func New(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(NewHandler(w, level))
}

// FromEnv is New at the level Level reads from getenv. On an error it still
// returns a usable logger (at info), so the caller can log the error before
// it stops.
func FromEnv(w io.Writer, getenv func(string) string) (*slog.Logger, error) {
	level, err := Level(getenv)
	if err != nil {
		return New(w, slog.LevelInfo), err
	}
	return New(w, level), nil
}
