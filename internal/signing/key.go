package signing

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// DefaultKeyFileName is the name of the key file that LoadOrGenerateKey keeps in the data
// directory when the configuration names no key file.
const DefaultKeyFileName = "signing.key"

// algorithm is the only signing algorithm Matrix defines.
const algorithm = "ed25519"

// keyVersion is the grammar of the part of a key ID after "ed25519:"; the key server
// API allows only these characters.
var keyVersion = regexp.MustCompile(`^[a-zA-Z0-9_]+$`)

// ErrBadKeyFile is wrapped by the errors of ParseKeyFile and LoadKey when the file's
// content is not a usable signing key.
var ErrBadKeyFile = errors.New("malformed signing key file")

// Key is one ed25519 signing key of the homeserver.
type Key struct {
	// ID is the key ID, the algorithm and a version: "ed25519:a_Bcd1".
	ID string
	// Private is the private key; its 32-byte seed is what a key file holds.
	Private ed25519.PrivateKey
}

// Public returns the key's public half, which the server publishes.
func (k Key) Public() ed25519.PublicKey {
	return k.Private.Public().(ed25519.PublicKey)
}

// GenerateKey returns a new random key with a random version of eight characters.
func GenerateKey() (Key, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return Key{}, fmt.Errorf("generate an ed25519 key: %w", err)
	}

	// rand.Text uses the base32 alphabet, which fits the key version grammar.
	return Key{ID: algorithm + ":" + rand.Text()[:8], Private: priv}, nil
}

// KeyFromSeed returns the key with the given ID whose private key derives from the
// 32-byte seed; it fails when the ID or the seed is malformed.
func KeyFromSeed(id string, seed []byte) (Key, error) {
	alg, version, _ := strings.Cut(id, ":")
	if alg != algorithm || !keyVersion.MatchString(version) {
		return Key{}, fmt.Errorf("key ID %q is not ed25519:<letters, digits, _>", id)
	}
	if len(seed) != ed25519.SeedSize {
		return Key{}, fmt.Errorf("key %s: the seed has %d bytes, not %d", id, len(seed),
			ed25519.SeedSize)
	}
	return Key{ID: id, Private: ed25519.NewKeyFromSeed(seed)}, nil
}

// ParseKeyFile reads keys in Synapse's signing key format: one key per line as
// "ed25519 <version> <seed in unpadded base64>". Blank lines and lines starting with '#'
// are skipped. It fails, wrapping ErrBadKeyFile, on a malformed line or when the file
// holds no key.
func ParseKeyFile(data []byte) ([]Key, error) {
	var keys []Key
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}

		fields := strings.Fields(text)
		if len(fields) != 3 {
			return nil, fmt.Errorf("%w: line %d has %d fields, not 3", ErrBadKeyFile, line,
				len(fields))
		}
		seed, err := decodeBase64(fields[2])
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: the seed is not base64: %w", ErrBadKeyFile,
				line, err)
		}
		key, err := KeyFromSeed(fields[0]+":"+fields[1], seed)
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %w", ErrBadKeyFile, line, err)
		}
		keys = append(keys, key)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadKeyFile, err)
	}

	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no key in the file", ErrBadKeyFile)
	}
	return keys, nil
}

// FormatKeyFile writes key in the format ParseKeyFile reads, ending with a newline.
func FormatKeyFile(key Key) []byte {
	alg, version, _ := strings.Cut(key.ID, ":")
	seed := base64.RawStdEncoding.EncodeToString(key.Private.Seed())
	return []byte(alg + " " + version + " " + seed + "\n")
}

// LoadKey reads the key file at path and returns its first key, the one Synapse signs
// with; further keys in the file are ignored. It fails when the file cannot be read or
// does not parse.
func LoadKey(path string) (Key, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Key{}, fmt.Errorf("read signing key file: %w", err)
	}
	keys, err := ParseKeyFile(data)
	if err != nil {
		return Key{}, fmt.Errorf("signing key file %s: %w", path, err)
	}
	return keys[0], nil
}

// LoadOrGenerateKey returns the key in the file at path. When there is no such file it
// generates a key and writes it there, readable by the owner only (0600), creating the
// directory if needed; created then reports true. The file appears complete or not at
// all, and a file written by a concurrent start wins over this one's key.
func LoadOrGenerateKey(path string) (key Key, created bool, err error) {
	key, err = LoadKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, false, err
	}

	key, err = GenerateKey()
	if err != nil {
		return Key{}, false, err
	}
	if err := writeNewFile(path, FormatKeyFile(key)); errors.Is(err, fs.ErrExist) {
		key, err = LoadKey(path)
		return key, false, err
	} else if err != nil {
		return Key{}, false, fmt.Errorf("write new signing key to %s: %w", path, err)
	}
	return key, true, nil
}

// writeNewFile writes data to a temporary file next to path and links it to path, which
// fails with fs.ErrExist rather than replace a file that is already there.
func writeNewFile(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}

	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())

	// CreateTemp already uses 0600; Chmod states it for file systems that differ.
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}

	return os.Link(tmp.Name(), path)
}

// decodeBase64 decodes standard base64 with or without padding, as the spec asks
// receivers to accept.
func decodeBase64(s string) ([]byte, error) {
	return base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
}

// encodeBase64 encodes b as unpadded base64, the form Matrix uses for keys and
// signatures.
func encodeBase64(b []byte) string {
	return base64.RawStdEncoding.EncodeToString(b)
}
