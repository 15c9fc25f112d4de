// Package atomicfile writes files so that a reader never sees a partial one: the data goes to a
// temporary file in the destination's directory, which is synced, made readable by all (0644)
// and renamed over the destination; the directory is then synced so the rename survives a crash.
//
// It is the one implementation behind onnx.WriteFileAtomic and imaging.WriteFileAtomic. Errors
// are returned unwrapped (the *os.PathError of the step that failed); callers prefix them with
// their own package name and the path.
package atomicfile
