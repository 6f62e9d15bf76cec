package main

// Run with: GO111MODULE=off GOPATH=/usr/share/gocode go test .

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vmware/govmomi/vim25/types"
)

func image(capacity int64, changed ...int64) *diskImage {
	d := newDiskImage(capacity)
	for _, b := range changed {
		d.blocks[b] = digest{1, byte(b)}
	}
	return d
}

func TestChangedAreasPaging(t *testing.T) {
	const capacity = 100 * blockSize
	cur := image(capacity, 3, 4, 5, 10, 50, 99)
	var got []types.DiskChangeExtent
	calls := 0
	for start := int64(0); start < capacity; calls++ {
		info := changedAreas(nil, cur, start, 2)
		if info.StartOffset != start || info.Length <= 0 {
			t.Fatalf("reply %+v for start %d", info, start)
		}
		got = append(got, info.ChangedArea...)
		start += info.Length
	}
	want := []types.DiskChangeExtent{
		{Start: 3 * blockSize, Length: 3 * blockSize},
		{Start: 10 * blockSize, Length: blockSize},
		{Start: 50 * blockSize, Length: blockSize},
		{Start: 99 * blockSize, Length: blockSize},
	}
	if !reflect.DeepEqual(got, want) || calls != 2 {
		t.Fatalf("got %+v in %d calls", got, calls)
	}
}

func TestChangedAreasSinceBase(t *testing.T) {
	base := image(10*blockSize+512, 1, 2, 10)
	cur := image(10*blockSize+512, 1, 2, 10)
	cur.blocks[2][5] = 9 // block 2 rewritten
	cur.blocks[10] = digest{}
	info := changedAreas(base, cur, blockSize+7, 8)
	want := []types.DiskChangeExtent{
		{Start: 2 * blockSize, Length: blockSize},
		{Start: 10 * blockSize, Length: 512}, // the short last block
	}
	if !reflect.DeepEqual(info.ChangedArea, want) || info.Length != cur.capacity-(blockSize+7) {
		t.Fatalf("got %+v", info)
	}
}

func TestReplaceThis(t *testing.T) {
	ref := types.ManagedObjectReference{Type: cbtType, Value: "vm-1"}
	for _, this := range []string{
		`<_this type="VirtualMachine">vm-1</_this>`,
		`<v:_this xmlns:v="urn:vim25" xsi:type="v:ManagedObjectReference" type="VirtualMachine">vm-1</v:_this>`,
	} {
		body := `<Envelope><Body><QueryChangedDiskAreas>` + this + `<deviceKey>2000</deviceKey></QueryChangedDiskAreas></Body></Envelope>`
		out, ok := replaceThis([]byte(body), ref)
		if !ok || !strings.Contains(string(out), `type="`+cbtType+`">vm-1</`) ||
			!strings.Contains(string(out), `_this><deviceKey>2000</deviceKey>`) {
			t.Fatalf("%s -> %s", body, out)
		}
	}
}

func TestFreezeCopy(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	const capacity = 8*blockSize + 4096
	f, err := os.Create(src)
	if err != nil {
		t.Fatal(err)
	}
	_ = f.Truncate(capacity)
	_, _ = f.WriteAt([]byte{1}, 3*blockSize+5)
	_, _ = f.WriteAt([]byte{2}, 8*blockSize+100)
	_, _ = f.WriteAt(make([]byte, blockSize), 5*blockSize) // written zeros
	f.Close()
	img, err := freezeCopy(src, dst, capacity)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(src)
	b, _ := os.ReadFile(dst)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("copy differs")
	}
	for i, d := range img.blocks {
		if (d != digest{}) != (i == 3 || i == 8) {
			t.Fatalf("block %d digest %x", i, d)
		}
	}
}
