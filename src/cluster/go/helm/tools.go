//go:build tools

// Package tools pins the helm commands that the Select-N cluster builder compiles.
package tools

import (
	_ "helm.sh/helm/v3/cmd/helm"
)
