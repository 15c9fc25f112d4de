// Package idx reads and writes IDX files, the format of the MNIST and Fashion-MNIST
// distributions (Y. LeCun et al., "THE MNIST DATABASE of handwritten digits", the section
// "FILE FORMATS FOR THE MNIST DATABASE").
//
// # Format
//
// An IDX file is a big-endian header followed by the data in row-major (C) order:
//
//	bytes 0-1  zero
//	byte  2    element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
//	byte  3    number of dimensions, 1..MaxDims
//	then       one big-endian uint32 per dimension
//	then       prod(dims) elements, big-endian
//
// Files may be gzip-compressed (as distributed: "train-images-idx3-ubyte.gz"); Read detects
// the gzip magic and decompresses transparently.
//
// # Errors
//
// IDX files are untrusted input. Read checks the magic, the element type, the number of
// dimensions, that the product of the dimensions neither overflows nor exceeds
// Options.MaxBytes (before anything of that size is allocated), and that the data holds
// exactly that many elements: a truncated file and a file with trailing bytes are errors
// that say how many bytes were expected and found. Memory grows with the bytes actually read,
// so a header that lies about its size cannot make Read allocate more than the file holds.
// Errors start with "idx: ".
package idx
