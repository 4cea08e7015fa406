package app

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/gwanje/gwanje/internal/seal"
)

// MasterKeyEnv is the environment variable that, when set, holds the
// footage master keys (the key file's text) instead of a file.
const MasterKeyEnv = "GWANJE_MASTER_KEY"

// LoadKeys is the one way gwanje loads the footage master keys: from
// MasterKeyEnv if set, else from the key file at path. With create, a
// missing key file is created (never when the environment variable is
// set), with a warning to back it up.
func LoadKeys(path string, create bool, log *slog.Logger) (*seal.Keyring, error) {
	if v := os.Getenv(MasterKeyEnv); v != "" {
		return seal.ParseKeyring("environment variable "+MasterKeyEnv, []byte(v))
	}
	k, err := seal.LoadKeyFile(path)
	if err == nil || !create || !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	k, err = seal.CreateKeyFile(path)
	if err == nil && log != nil {
		log.Warn("created a new footage master key: back it up apart from the footage, or every recording is lost with it",
			"file", path, "key_id", k.Active())
	}
	return k, err
}

// readSecret reads a camera password from the environment or a file.
func readSecret(envName, file string) (string, error) {
	switch {
	case envName != "":
		v := os.Getenv(envName)
		if v == "" {
			return "", fmt.Errorf("environment variable %s is empty", envName)
		}
		return v, nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", err
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	return "", nil
}
