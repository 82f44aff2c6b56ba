package datasets

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/aelab/aelab/graph/vec"
)

// IDX magic numbers: two zero bytes, the element type (0x08: unsigned byte) and the number
// of dimensions.
const (
	imagesMagic = 0x00000803
	labelsMagic = 0x00000801
)

const (
	// maxFileBytes bounds what a (possibly gzipped) IDX file may expand to, so a corrupted or
	// hostile file cannot exhaust memory.
	maxFileBytes = 1 << 30
	// maxImageSide bounds the rows and columns an IDX header may declare.
	maxImageSide = 4096
	// NumClasses is the number of label classes aelab works with (digits 0-9).
	NumClasses = 10
)

// FormatError reports an IDX file that cannot be read: which file and what is wrong.
type FormatError struct {
	File    string // the file's path
	Problem string // what is wrong, in words
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("datasets: %s: %s", e.File, e.Problem)
}

func formatErr(file, format string, args ...any) error {
	return &FormatError{File: file, Problem: fmt.Sprintf(format, args...)}
}

// readFile returns the uncompressed bytes of an IDX file, gzipped or not (recognised by
// content, not by name).
func readFile(path string) ([]byte, error) {
	raw, err := readRaw(path)
	if err != nil {
		return nil, err
	}
	return decompress(path, raw)
}

// readRaw returns the bytes of a file as stored, up to a bound.
func readRaw(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("datasets: read %s: %w", path, err)
	}
	return raw, nil
}

func decompress(path string, raw []byte) ([]byte, error) {
	if len(raw) < 2 || raw[0] != 0x1f || raw[1] != 0x8b {
		if len(raw) > maxFileBytes {
			return nil, formatErr(path, "larger than %d bytes", maxFileBytes)
		}
		return raw, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, formatErr(path, "corrupted gzip header: %v", err)
	}
	data, err := io.ReadAll(io.LimitReader(zr, maxFileBytes+1))
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, formatErr(path, "truncated gzip stream")
		}
		return nil, formatErr(path, "corrupted gzip stream: %v", err)
	}
	if len(data) > maxFileBytes {
		return nil, formatErr(path, "expands to more than %d bytes", maxFileBytes)
	}
	return data, nil
}

// header checks the magic number and returns the dimensions and the payload after them.
func header(path string, data []byte, magic uint32, ndims int) ([]int, []byte, error) {
	what := map[uint32]string{imagesMagic: "images", labelsMagic: "labels"}[magic]
	if len(data) < 4 {
		return nil, nil, formatErr(path, "truncated: %d bytes, too short for an IDX header", len(data))
	}
	if got := binary.BigEndian.Uint32(data); got != magic {
		return nil, nil, formatErr(path, "wrong magic number 0x%08x, want 0x%08x (IDX %s)", got, magic, what)
	}
	end := 4 + 4*ndims
	if len(data) < end {
		return nil, nil, formatErr(path, "truncated: the IDX header needs %d bytes, the file has %d", end, len(data))
	}
	dims := make([]int, ndims)
	for i := range dims {
		dims[i] = int(binary.BigEndian.Uint32(data[4+4*i:]))
	}
	return dims, data[end:], nil
}

// payload checks that body holds exactly want bytes.
func payload(path string, body []byte, want int, what string) error {
	switch {
	case len(body) < want:
		return formatErr(path, "truncated: the header promises %s (%d bytes), the file has %d", what, want, len(body))
	case len(body) > want:
		return formatErr(path, "corrupted: %d unexpected bytes after %s", len(body)-want, what)
	}
	return nil
}

// ReadImages reads an IDX image file (gzipped or plain) and scales its pixels to [0,1].
func ReadImages(path string) (*Images, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	return parseImages(path, data)
}

func parseImages(path string, data []byte) (*Images, error) {
	dims, body, err := header(path, data, imagesMagic, 3)
	if err != nil {
		return nil, err
	}
	n, rows, cols := dims[0], dims[1], dims[2]
	if rows == 0 || cols == 0 || rows > maxImageSide || cols > maxImageSide {
		return nil, formatErr(path, "implausible image size %d×%d", rows, cols)
	}
	if n == 0 {
		return nil, formatErr(path, "the header declares no images")
	}
	if n > maxFileBytes/(rows*cols) {
		return nil, formatErr(path, "the header declares %d images of %d×%d, more than aelab reads", n, rows, cols)
	}
	if err := payload(path, body, n*rows*cols, fmt.Sprintf("%d images of %d×%d", n, rows, cols)); err != nil {
		return nil, err
	}
	pixels := make([]float32, len(body))
	vec.Pixels(pixels, body) // float32(b) / 255, as the CPU's gather of bytes gives it back
	return &Images{Rows: rows, Cols: cols, Pixels: pixels}, nil
}

// ReadLabels reads an IDX label file (gzipped or plain); every label must be a class 0-9.
func ReadLabels(path string) ([]uint8, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	return parseLabels(path, data)
}

func parseLabels(path string, data []byte) ([]uint8, error) {
	dims, body, err := header(path, data, labelsMagic, 1)
	if err != nil {
		return nil, err
	}
	n := dims[0]
	if n == 0 {
		return nil, formatErr(path, "the header declares no labels")
	}
	if err := payload(path, body, n, fmt.Sprintf("%d labels", n)); err != nil {
		return nil, err
	}
	for i, l := range body {
		if l >= NumClasses {
			return nil, formatErr(path, "label %d at index %d is outside 0-%d", l, i, NumClasses-1)
		}
	}
	return bytes.Clone(body), nil
}

// parsePair parses an image file and its label file (when it has content) and checks that
// their counts agree.
func parsePair(images, labels idxFile) (*Images, error) {
	im, err := parseImages(images.path, images.data)
	if err != nil || labels.path == "" {
		return im, err
	}
	l, err := parseLabels(labels.path, labels.data)
	if err != nil {
		return nil, err
	}
	if len(l) != im.Len() {
		return nil, fmt.Errorf("datasets: %s has %d images but %s has %d labels",
			filepath.Base(images.path), im.Len(), filepath.Base(labels.path), len(l))
	}
	im.Labels = l
	return im, nil
}

// WriteImages writes images as an uncompressed IDX image file, each pixel in [0,1] rounded to
// a byte (values outside are clamped), so other tools can read what aelab makes.
func WriteImages(w io.Writer, images *Images) error {
	var head [16]byte
	binary.BigEndian.PutUint32(head[0:], imagesMagic)
	binary.BigEndian.PutUint32(head[4:], uint32(images.Len()))
	binary.BigEndian.PutUint32(head[8:], uint32(images.Rows))
	binary.BigEndian.PutUint32(head[12:], uint32(images.Cols))
	body := make([]byte, len(images.Pixels))
	for i, v := range images.Pixels {
		body[i] = byte(math.Round(float64(min(max(v, 0), 1)) * 255))
	}
	if _, err := w.Write(head[:]); err != nil {
		return fmt.Errorf("datasets: write IDX: %w", err)
	}
	if _, err := w.Write(body); err != nil {
		return fmt.Errorf("datasets: write IDX: %w", err)
	}
	return nil
}
