//go:build !jwtgate_lean

package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"go.yaml.in/yaml/v3"
)

// decodeYAML decodes a YAML policy into p strictly (known fields, one
// document). A panic in the YAML decoder becomes an error.
func decodeYAML(data []byte, p *policyFile) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("YAML: cannot parse (%v)", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(p); err != nil {
		if err == io.EOF {
			return errors.New("empty policy")
		}
		return fmt.Errorf("YAML: %v", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		return errors.New("YAML: only one document is allowed")
	}
	return nil
}

// UnmarshalYAML takes a nested mapping (kept as JSON) or a string.
func (j *jsonValue) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		s := n.Value
		j.str = &s
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: expected a mapping or a string", n.Line)
	}
	var v map[string]any
	if err := n.Decode(&v); err != nil {
		return err
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("line %d: %v", n.Line, err)
	}
	j.raw = raw
	return nil
}
