//go:build tools

// Package tools pins the etcd commands that the Select-N cluster builder compiles.
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
)
