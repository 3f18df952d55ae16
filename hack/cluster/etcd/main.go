// Command etcd is etcd's own server main (the root of go.etcd.io/etcd/v3 does
// exactly this), built here so that etcd comes from the same module graph as
// kube-apiserver: go.etcd.io/etcd/server/v3 at the version pinned in ../go.mod.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
