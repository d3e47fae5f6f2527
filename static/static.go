// Package static holds the CSS and images, embedded in the binary.
package static

import "embed"

// FS is served under /static/.
//
//go:embed css img
var FS embed.FS
