// Command syncsettings rewrites the generated blocks of the deployment
// templates from shared/config.Settings, so that every JWTGATE_ setting the
// code reads is a parameter of infra/aws/template.yaml and of
// infra/azure/main.bicep and reaches the function's environment:
//
//	go -C infra/check run ./cmd/syncsettings
//
// The blocks sit between "BEGIN settings <part>" and "END settings <part>"
// comment lines; everything else in the files is left alone. infra/check's
// tests fail when the templates and the settings list disagree.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/jwtgate/jwtgate/infra/check/settings"
	"github.com/jwtgate/jwtgate/shared/config"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "syncsettings:", err)
		os.Exit(1)
	}
}

func run() error {
	root, err := filepath.Abs("../..")
	if err != nil {
		return err
	}
	blocks := map[string]map[string]string{
		"infra/aws/template.yaml": {
			"parameters":  settings.SAMParameters(config.Settings),
			"environment": settings.SAMEnvironment(config.Settings),
		},
		"infra/azure/main.bicep": {
			"parameters":   settings.BicepParameters(config.Settings),
			"app-settings": settings.BicepAppSettings(config.Settings),
		},
	}
	for file, parts := range blocks {
		path := filepath.Join(root, file)
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		text := string(data)
		for part, body := range parts {
			if text, err = settings.Replace(text, part, body); err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
		}
		if text != string(data) {
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				return err
			}
			fmt.Println("updated", file)
		}
	}
	return nil
}
