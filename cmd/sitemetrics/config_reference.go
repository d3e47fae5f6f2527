package main

import (
	"fmt"
	"strings"
)

// configReference renders every setting as the Markdown table the README
// carries; a test keeps the two identical.
func configReference() string {
	var b strings.Builder
	b.WriteString("| file key | environment | flag | default | meaning |\n|---|---|---|---|---|\n")
	b.WriteString("| | `SITEMETRICS_CONFIG` | `--config` | | TOML or YAML configuration file. |\n")
	for _, s := range settings() {
		def := s.def
		if def != "" {
			def = "`" + def + "`"
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | `--%s` | %s | %s |\n", s.key, s.env(), s.flag(), def, strings.ReplaceAll(s.usage, "|", "\\|"))
	}
	return b.String()
}
