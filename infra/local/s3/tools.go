//go:build tools

// Package tools pins Versity S3 Gateway (versitygw, Apache-2.0), used with its posix
// backend as the local S3. infra/local/lib/s3.sh builds it:
//   go build -o <bin> github.com/versity/versitygw/cmd/versitygw
package tools

import _ "github.com/versity/versitygw/cmd/versitygw"
