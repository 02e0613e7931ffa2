//go:build tools

// Package tools pins vegeta (MIT), the open-loop HTTP load generator of bench/api/http.ts: it sends
// requests at a constant rate on its own schedule, whatever the answers' latency. bench/api/http.ts
// builds it through infra/local/lib/gobuild.sh:
//   go build -o <bin> github.com/tsenart/vegeta/v12
package tools

import _ "github.com/tsenart/vegeta/v12"
