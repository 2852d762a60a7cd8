package authorizer

import (
	"encoding/json"
	"time"
)

// MetricsNamespace is the CloudWatch namespace of the metric lines.
const MetricsNamespace = "jwtgate"

// emfLine is one CloudWatch Embedded Metric Format record (a JSON line that
// CloudWatch Logs turns into metrics without any SDK or API call):
// Decisions (count) and Latency (ms) by Outcome and by Shape, and the key
// fetches and fetch errors since the previous line, without dimensions. A
// non-empty level is added as the "level" member (a plain property to
// CloudWatch, a filter key to Lambda's advanced logging controls).
func emfLine(now time.Time, level, outcome, shape string, latency time.Duration, fetches, fetchErrors int64) []byte {
	type metric struct {
		Name string `json:"Name"`
		Unit string `json:"Unit"`
	}
	type directive struct {
		Namespace  string     `json:"Namespace"`
		Dimensions [][]string `json:"Dimensions"`
		Metrics    []metric   `json:"Metrics"`
	}
	rec := map[string]any{
		"_aws": map[string]any{
			"Timestamp": now.UnixMilli(),
			"CloudWatchMetrics": []directive{
				{
					Namespace:  MetricsNamespace,
					Dimensions: [][]string{{"Outcome"}, {"Shape"}},
					Metrics:    []metric{{"Decisions", "Count"}, {"Latency", "Milliseconds"}},
				},
				{
					Namespace:  MetricsNamespace,
					Dimensions: [][]string{{}},
					Metrics:    []metric{{"KeyFetches", "Count"}, {"KeyFetchErrors", "Count"}},
				},
			},
		},
		"Outcome":        outcome,
		"Shape":          shape,
		"Decisions":      1,
		"Latency":        float64(latency.Microseconds()) / 1000,
		"KeyFetches":     fetches,
		"KeyFetchErrors": fetchErrors,
	}
	if level != "" {
		rec["level"] = level
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return nil
	}
	return append(b, '\n')
}
