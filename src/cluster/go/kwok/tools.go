//go:build tools

// Package tools pins the kwok commands that the Select-N cluster builder compiles.
package tools

import (
	_ "sigs.k8s.io/kwok/cmd/kwok"
)
