// Command tlog-verify checks a TAI log with golang.org/x/mod's sumdb/tlog and sumdb/note, a verifier we did not
// write: every checkpoint given must be signed by the pinned key and have a root that the log's hash tiles
// prove for its size (tlog.TileHashReader checks each tile it reads against the tree); consecutive checkpoints
// must be consistent (tlog.ProveTree/CheckTree); with -entries, every entry of the largest checkpoint must
// hash (tlog.RecordHash) to the leaf the tiles prove.
//
//	tlog-verify -vkey KEY -log DIR|URL [-entries] CHECKPOINT_FILE...
//
// Prints one JSON line of counts and exits 0, or prints FAIL: … and exits 1.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// tileHeight is C2SP tlog-tiles' fixed height: 256 hashes a tile.
const tileHeight = 8

type checkpoint struct {
	file string
	tree tlog.Tree
}

func main() {
	vkey := flag.String("vkey", "", "verifier key (name+hex8+base64)")
	base := flag.String("log", "", "log folder or http(s) URL holding tile/…")
	entries := flag.Bool("entries", false, "also check every entry of the largest checkpoint against its leaf hash")
	flag.Parse()
	if *vkey == "" || *base == "" || flag.NArg() == 0 {
		fail("usage: tlog-verify -vkey KEY -log DIR|URL [-entries] CHECKPOINT_FILE...")
	}
	verifier, err := note.NewVerifier(*vkey)
	check(err, "verifier key")
	src := source{base: *base, cache: map[string][]byte{}}
	var cps []checkpoint
	for _, file := range flag.Args() {
		cps = append(cps, openCheckpoint(file, verifier))
	}
	sort.Slice(cps, func(i, j int) bool { return cps[i].tree.N < cps[j].tree.N })
	for _, cp := range cps {
		root, err := tlog.TreeHash(cp.tree.N, tlog.TileHashReader(cp.tree, src))
		check(err, fmt.Sprintf("%s (size %d): tiles", cp.file, cp.tree.N))
		if root != cp.tree.Hash {
			fail(fmt.Sprintf("%s: root %s is not the root of size %d (%s)", cp.file, cp.tree.Hash, cp.tree.N, root))
		}
	}
	proofs := 0
	for i := 1; i < len(cps); i++ {
		a, b := cps[i-1], cps[i]
		if a.tree.N == b.tree.N {
			if a.tree.Hash != b.tree.Hash {
				fail(fmt.Sprintf("split view: %s and %s both have size %d with different roots", a.file, b.file, a.tree.N))
			}
			continue
		}
		proof, err := tlog.ProveTree(b.tree.N, a.tree.N, tlog.TileHashReader(b.tree, src))
		check(err, fmt.Sprintf("consistency proof %d→%d", a.tree.N, b.tree.N))
		check(tlog.CheckTree(proof, b.tree.N, b.tree.Hash, a.tree.N, a.tree.Hash), fmt.Sprintf("%s is not a prefix of %s", a.file, b.file))
		proofs++
	}
	checked := int64(0)
	if *entries {
		checked = checkEntries(cps[len(cps)-1], src)
	}
	out, _ := json.Marshal(map[string]int64{"checkpoints": int64(len(cps)), "consistencyProofs": int64(proofs), "entries": checked, "size": cps[len(cps)-1].tree.N})
	fmt.Println(string(out))
}

// openCheckpoint verifies a C2SP signed checkpoint: origin, size and base64 root lines, signed by the key.
func openCheckpoint(file string, verifier note.Verifier) checkpoint {
	msg, err := os.ReadFile(file)
	check(err, file)
	n, err := note.Open(msg, note.VerifierList(verifier))
	check(err, file+": signature")
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 || lines[0] != verifier.Name() {
		fail(fmt.Sprintf("%s: not a checkpoint of origin %s", file, verifier.Name()))
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	check(err, file+": size")
	raw, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(raw) != tlog.HashSize {
		fail(file + ": root is not a base64 SHA-256 hash")
	}
	var root tlog.Hash
	copy(root[:], raw)
	return checkpoint{file: file, tree: tlog.Tree{N: size, Hash: root}}
}

// checkEntries hashes every entry of the entry bundles and compares it with the leaf hash the tiles prove.
func checkEntries(cp checkpoint, src source) int64 {
	reader := tlog.TileHashReader(cp.tree, src)
	for start := int64(0); start < cp.tree.N; start += 1 << tileHeight {
		width := min(cp.tree.N-start, 1<<tileHeight)
		bundle := src.read(c2spPath("entries", start>>tileHeight, int(width)))
		records := splitBundle(bundle, width, start)
		indexes := make([]int64, width)
		for i := range indexes {
			indexes[i] = tlog.StoredHashIndex(0, start+int64(i))
		}
		leaves, err := reader.ReadHashes(indexes)
		check(err, fmt.Sprintf("leaf hashes %d…", start))
		for i, rec := range records {
			if tlog.RecordHash(rec) != leaves[i] {
				fail(fmt.Sprintf("entry %d does not hash to its leaf in the tiles", start+int64(i)))
			}
		}
	}
	return cp.tree.N
}

// splitBundle reads a C2SP entry bundle: each entry a 2-byte big-endian length and its bytes.
func splitBundle(b []byte, width int64, start int64) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		if len(b) < 2 || len(b) < 2+int(binary.BigEndian.Uint16(b)) {
			fail(fmt.Sprintf("entry bundle at %d is truncated", start))
		}
		n := int(binary.BigEndian.Uint16(b))
		out = append(out, b[2:2+n])
		b = b[2+n:]
	}
	if int64(len(out)) != width {
		fail(fmt.Sprintf("entry bundle at %d holds %d entries, want %d", start, len(out), width))
	}
	return out
}

// source reads tlog-tiles files from a folder or over HTTP, mapping x/mod's tile paths (tile/H/L/N) to C2SP's
// (tile/L/N: the height is always 8 and not in the path).
type source struct {
	base  string
	cache map[string][]byte
}

func (s source) Height() int { return tileHeight }

func (s source) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		if t.H != tileHeight || t.L < 0 {
			return nil, fmt.Errorf("unexpected tile %v", t)
		}
		out[i] = s.read(c2spPath(strconv.Itoa(t.L), t.N, t.W))
	}
	return out, nil
}

func (s source) SaveTiles([]tlog.Tile, [][]byte) {}

func c2spPath(level string, n int64, width int) string {
	t := tlog.Tile{H: tileHeight, L: 0, N: n, W: width}
	p := strings.TrimPrefix(t.Path(), "tile/8/0/")
	return "tile/" + level + "/" + p
}

func (s source) read(path string) []byte {
	if b, ok := s.cache[path]; ok {
		return b
	}
	var b []byte
	var err error
	if strings.HasPrefix(s.base, "http://") || strings.HasPrefix(s.base, "https://") {
		b, err = get(strings.TrimSuffix(s.base, "/") + "/" + path)
	} else {
		b, err = os.ReadFile(filepath.Join(s.base, path))
	}
	check(err, path)
	s.cache[path] = b
	return b
}

func get(url string) ([]byte, error) {
	res, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s %s", url, res.Status, bytes.TrimSpace(body))
	}
	return body, err
}

func check(err error, what string) {
	if err != nil {
		fail(fmt.Sprintf("%s: %v", what, err))
	}
}

func fail(msg string) {
	fmt.Println("FAIL: " + msg)
	os.Exit(1)
}
