package signing

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

func TestParseKeyFile(t *testing.T) {
	spec := specKey(t)

	tests := []struct {
		name    string
		file    string
		wantIDs []string
		wantErr bool
	}{
		{"synapse line", "ed25519 1 " + specSeed + "\n", []string{"ed25519:1"}, false},
		{"padded seed", "ed25519 1 " + specSeed + "=\n", []string{"ed25519:1"}, false},
		{"two keys, comments, blank lines, CRLF",
			"# made by hand\r\n\r\ned25519 a_Bc1 " + specSeed + "\r\ned25519 old " +
				specSeed + "\r\n",
			[]string{"ed25519:a_Bc1", "ed25519:old"}, false},
		{"empty", "\n# nothing\n", nil, true},
		{"two fields", "ed25519 " + specSeed + "\n", nil, true},
		{"other algorithm", "curve25519 1 " + specSeed + "\n", nil, true},
		{"bad version", "ed25519 a-b " + specSeed + "\n", nil, true},
		{"short seed", "ed25519 1 AAAA\n", nil, true},
		{"not base64", "ed25519 1 !!!!\n", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, err := ParseKeyFile([]byte(tt.file))
			if tt.wantErr {
				if !errors.Is(err, ErrBadKeyFile) {
					t.Fatalf("ParseKeyFile = %v, %v; want ErrBadKeyFile", keys, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}

			var ids []string
			for _, k := range keys {
				ids = append(ids, k.ID)
				if !bytes.Equal(k.Public(), spec.Public()) {
					t.Errorf("key %s has another public key than the spec's seed", k.ID)
				}
			}
			if !slices.Equal(ids, tt.wantIDs) {
				t.Errorf("key IDs %v, want %v", ids, tt.wantIDs)
			}
		})
	}
}

func TestFormatKeyFileRoundTrip(t *testing.T) {
	// The spec's seed sets unused low bits in its last character; written back in the
	// canonical encoding its last character is 0 rather than 1.
	key := specKey(t)
	want := "ed25519 1 YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA0\n"
	if got := string(FormatKeyFile(key)); got != want {
		t.Errorf("FormatKeyFile = %q, want %q", got, want)
	}

	gen, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := ParseKeyFile(FormatKeyFile(gen))
	if err != nil {
		t.Fatalf("parse a generated key's file: %v", err)
	}
	if keys[0].ID != gen.ID || !bytes.Equal(keys[0].Private, gen.Private) {
		t.Errorf("round trip gave %s, want %s", keys[0].ID, gen.ID)
	}
}

func TestLoadOrGenerateKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", DefaultKeyFileName)

	first, created, err := LoadOrGenerateKey(path)
	if err != nil || !created {
		t.Fatalf("first start: created=%v err=%v", created, err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode %o, want 600", perm)
	}

	second, created, err := LoadOrGenerateKey(path)
	if err != nil || created {
		t.Fatalf("second start: created=%v err=%v", created, err)
	}
	if second.ID != first.ID || !bytes.Equal(second.Private, first.Private) {
		t.Error("the second start got another key than the first wrote")
	}

	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("the data directory holds %d entries, want only the key file", len(entries))
	}
}

// TestLoadOrGenerateKeyConcurrent starts several generators at once: all must end with
// the one key that reached the file.
func TestLoadOrGenerateKeyConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), DefaultKeyFileName)

	const n = 8
	keys := make([]Key, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			k, _, err := LoadOrGenerateKey(path)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		})
	}
	wg.Wait()

	onDisk, err := LoadKey(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range keys {
		if k.ID != onDisk.ID {
			t.Errorf("generator %d holds %s, the file %s", i, k.ID, onDisk.ID)
		}
	}
}

func TestLoadKeyErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadKey(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}

	bad := filepath.Join(dir, "bad.key")
	if err := os.WriteFile(bad, []byte("ed25519 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKey(bad); !errors.Is(err, ErrBadKeyFile) {
		t.Errorf("malformed file: %v", err)
	}
	if _, _, err := LoadOrGenerateKey(bad); !errors.Is(err, ErrBadKeyFile) {
		t.Errorf("LoadOrGenerateKey must not replace a malformed file: %v", err)
	}
}
