//go:build tools

// Package tools pins AxonOps Schema Registry (Confluent-compatible REST, Apache-2.0).
// `go install ...@v0.2.1` fails against the module proxy here (it refuses the module's
// version list used for the deprecation check), so infra/local/lib/registry.sh builds the
// command from this module instead:
//   go build -o <bin> github.com/axonops/axonops-schema-registry/cmd/schema-registry
package tools

import _ "github.com/axonops/axonops-schema-registry/cmd/schema-registry"
