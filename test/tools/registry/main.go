// The distribution registry with only what the tests use: filesystem and in-memory storage, htpasswd and token auth.
// (Upstream's cmd/registry also links the Azure, GCS and S3 drivers, which triple the build.)
// `registry htpasswd <user> <password>` prints an htpasswd line (bcrypt, the only hash the registry accepts), so the
// tests need no htpasswd tool.
package main

import (
	"fmt"
	"os"

	"github.com/distribution/distribution/v3/registry"
	_ "github.com/distribution/distribution/v3/registry/auth/htpasswd"
	_ "github.com/distribution/distribution/v3/registry/auth/token"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
	"golang.org/x/crypto/bcrypt"
)

func main() {
	if len(os.Args) == 4 && os.Args[1] == "htpasswd" {
		hash, err := bcrypt.GenerateFromPassword([]byte(os.Args[3]), bcrypt.MinCost)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Printf("%s:%s\n", os.Args[2], hash)
		return
	}
	if err := registry.RootCmd.Execute(); err != nil {
		os.Exit(1)
	}
}
