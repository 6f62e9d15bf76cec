package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
)

// blockSize is the granularity of change tracking.
const blockSize = 64 << 10

// Whence values of lseek(2) that package os does not name.
const (
	seekData = 3
	seekHole = 4
)

// digest identifies a block's content; the zero digest means all zeros.
type digest [16]byte

// diskImage is the content of a disk at one point in time, block by block.
type diskImage struct {
	capacity int64
	blocks   []digest
}

func newDiskImage(capacity int64) *diskImage {
	return &diskImage{capacity: capacity, blocks: make([]digest, (capacity+blockSize-1)/blockSize)}
}

// block returns block i's digest; blocks beyond the image are zeros.
func (d *diskImage) block(i int64) digest {
	if d == nil || i >= int64(len(d.blocks)) {
		return digest{}
	}
	return d.blocks[i]
}

// newDiskUUID returns a backing uuid in vSphere's style (6000C29x-...).
func newDiskUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return fmt.Sprintf("6000C29%01x-%04x-%04x-%04x-%012x", b[0]&0xf, b[1:3], b[3:5], b[5:7], b[7:13])
}

// descriptorUUID turns 6000C29x-xxxx-... into the descriptor's "60 00 C2 ..." form.
func descriptorUUID(u string) string {
	h := strings.ReplaceAll(u, "-", "")
	var parts []string
	for i := 0; i+2 <= len(h); i += 2 {
		parts = append(parts, strings.ToLower(h[i:i+2]))
	}
	return strings.Join(parts, " ")
}

// writeDescriptor writes a VMDK text descriptor for a flat ("vmfs") disk
// whose single extent is the file flatName in the same directory.
func writeDescriptor(path, flatName string, capacity int64, uuid string) error {
	sectors := capacity / 512
	cylinders := sectors / (255 * 63)
	if cylinders < 1 {
		cylinders = 1
	}
	if cylinders > 65535 {
		cylinders = 65535
	}
	var cid [4]byte
	if _, err := rand.Read(cid[:]); err != nil {
		return err
	}
	text := fmt.Sprintf(`# Disk DescriptorFile
version=1
encoding="UTF-8"
CID=%x
parentCID=ffffffff
createType="vmfs"

# Extent description
RW %d VMFS "%s"

# The Disk Data Base
#DDB

ddb.adapterType = "lsilogic"
ddb.geometry.cylinders = "%d"
ddb.geometry.heads = "255"
ddb.geometry.sectors = "63"
ddb.thinProvisioned = "1"
ddb.uuid = "%s"
ddb.virtualHWVersion = "13"
`, cid, sectors, flatName, cylinders, descriptorUUID(uuid))
	return os.WriteFile(path, []byte(text), 0o644)
}

// initDisk makes the flat file exactly capacity bytes (sparse) and writes
// the descriptor unless it already has content.
func initDisk(descPath, flatPath string, capacity int64, uuid string) error {
	f, err := os.OpenFile(flatPath, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	err = f.Truncate(capacity)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if st, err := os.Stat(descPath); err == nil && st.Size() > 0 {
		return nil
	}
	return writeDescriptor(descPath, filepath.Base(flatPath), capacity, uuid)
}

// flatName maps a descriptor name to its extent's name, as the simulator does.
func flatName(desc string) string {
	return strings.Replace(desc, ".vmdk", "-flat.vmdk", 1)
}

// localPath resolves "[ds] dir/file" to a path on this machine.
func localPath(dsPath string) (string, error) {
	var p object.DatastorePath
	if !p.FromString(dsPath) {
		return "", fmt.Errorf("bad datastore path %q", dsPath)
	}
	for _, e := range simulator.Map.All("Datastore") {
		if ds, ok := e.(*simulator.Datastore); ok && ds.Name == p.Datastore {
			return filepath.Join(ds.Info.GetDatastoreInfo().Url, filepath.FromSlash(p.Path)), nil
		}
	}
	return "", fmt.Errorf("no datastore %q", p.Datastore)
}

// freezeCopy copies the first capacity bytes of src (missing or short
// means zeros) to a new sparse file dst, visiting only src's data extents
// and writing only blocks that are not all zeros, and returns the digests
// of the copied content.
func freezeCopy(src, dst string, capacity int64) (img *diskImage, err error) {
	img = newDiskImage(capacity)
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			_ = os.Remove(dst)
		}
	}()
	if err = out.Truncate(capacity); err != nil {
		return nil, err
	}

	in, err := os.Open(src)
	if errors.Is(err, os.ErrNotExist) {
		return img, nil
	}
	if err != nil {
		return nil, err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	if size > capacity {
		size = capacity
	}

	buf := make([]byte, blockSize)
	zero := make([]byte, blockSize)
	for off := int64(0); off < size; {
		data, err := in.Seek(off, seekData)
		if errors.Is(err, syscall.ENXIO) {
			break // only a hole is left
		}
		hole := size
		if err != nil {
			data = off // no SEEK_DATA here: read everything
		} else if h, err := in.Seek(data, seekHole); err == nil && h < size {
			hole = h
		}
		if data >= size {
			break
		}
		b := data / blockSize * blockSize
		if b < off {
			b = off
		}
		for ; b < hole; b += blockSize {
			n := int64(blockSize)
			if capacity-b < n {
				n = capacity - b
			}
			block := buf[:n]
			copy(block, zero)
			if _, err := in.ReadAt(block[:min64(n, size-b)], b); err != nil && err != io.EOF {
				return nil, err
			}
			if bytes.Equal(block, zero[:n]) {
				continue
			}
			img.blocks[b/blockSize] = blockDigest(block)
			if _, err := out.WriteAt(block, b); err != nil {
				return nil, err
			}
		}
		off = b
	}
	return img, nil
}

func blockDigest(b []byte) digest {
	sum := sha256.Sum256(b)
	var d digest
	copy(d[:], sum[:])
	if d == (digest{}) {
		d[0] = 1 // keep the zero digest for all-zero blocks
	}
	return d
}

func min64(a, b int64) int64 {
	if a < b {
		return a
	}
	return b
}
