//go:build tools

// Package tools pins oras.land/oras as a dependency of this module; build-tools.sh builds its CLI
// (oras.land/oras/cmd/oras).
package tools

import _ "oras.land/oras/cmd/oras"
