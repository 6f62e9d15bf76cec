package main

import (
	"crypto/rand"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// cbtType is the managed object type of the per-VM objects that answer
// QueryChangedDiskAreas (and refused ReconfigVM_Task calls) in the VM's
// stead; their moref value is the VM's (see retarget.go).
const cbtType = "VsimChangeTracking"

type diskID struct {
	vm  string // VM moref value
	key int32  // device key
}

// changeRecord is what a changeId stands for: a disk's content when the
// changeId was minted.
type changeRecord struct {
	disk  diskID
	image *diskImage
}

type frozenDisk struct {
	changeID string // "" when change tracking was off at the snapshot
	fileName string // datastore path of the frozen descriptor
	image    *diskImage
	files    []string // local frozen files, removed with the snapshot
}

type snapRecord struct {
	vm    types.ManagedObjectReference
	disks map[int32]*frozenDisk
}

type diskSeq struct {
	uuid string
	seq  int
}

// cbt is the Registry handler that freezes disks at CreateSnapshot and
// keeps the changed-block tracking state.
type cbt struct {
	page int

	mu      sync.Mutex
	refused map[types.ManagedObjectReference]bool // -no-cbt VMs
	seqs    map[diskID]*diskSeq
	changes map[string]*changeRecord // changeId -> content
	snaps   map[types.ManagedObjectReference]*snapRecord
}

func newCBT(page int) *cbt {
	return &cbt{
		page:    page,
		refused: map[types.ManagedObjectReference]bool{},
		seqs:    map[diskID]*diskSeq{},
		changes: map[string]*changeRecord{},
		snaps:   map[types.ManagedObjectReference]*snapRecord{},
	}
}

func (c *cbt) refuse(vm types.ManagedObjectReference) {
	c.mu.Lock()
	c.refused[vm] = true
	c.mu.Unlock()
}

func (c *cbt) refuses(vm types.ManagedObjectReference) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.refused[vm]
}

// Reference names the handler in the Registry's handler table.
func (c *cbt) Reference() types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: cbtType + "Handler", Value: "vsphere-sim"}
}

// PutObject runs inside Registry.Put, after the object is in the map and
// without the registry lock. For a snapshot it runs inside
// CreateSnapshot_Task, which holds the VM's lock and has already copied
// the VM's config into the snapshot.
func (c *cbt) PutObject(obj mo.Reference) {
	switch o := obj.(type) {
	case *simulator.VirtualMachine:
		// A new VM, not reachable by clients yet.
		o.Capability.ChangeTrackingSupported = types.NewBool(true)
		simulator.Map.Put(&vmTracker{
			Self: types.ManagedObjectReference{Type: cbtType, Value: o.Self.Value},
			VM:   o.Self,
			cbt:  c,
		})
	case *simulator.VirtualMachineSnapshot:
		c.freeze(o)
	}
}

func (c *cbt) UpdateObject(mo.Reference, []types.PropertyChange) {}

// RemoveObject drops a snapshot's frozen files but keeps its changeIds:
// vSphere keeps change tracking state with the live disk.
func (c *cbt) RemoveObject(ref types.ManagedObjectReference) {
	switch ref.Type {
	case "VirtualMachineSnapshot":
		c.mu.Lock()
		rec := c.snaps[ref]
		delete(c.snaps, ref)
		c.mu.Unlock()
		if rec != nil {
			for _, d := range rec.disks {
				for _, f := range d.files {
					keep.release(f)
					_ = os.Remove(f)
				}
			}
		}
		keep.restore()
	case "VirtualMachine":
		simulator.Map.Remove(types.ManagedObjectReference{Type: cbtType, Value: ref.Value})
	}
}

// resetIfDisabled forgets the changeIds of vm's disks if change tracking
// is now off on it: vSphere deletes the disks' ctk files then, and a disk
// tracked again gets a new change uuid. Snapshots keep their frozen files.
func (c *cbt) resetIfDisabled(ref types.ManagedObjectReference) {
	vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine)
	if !ok {
		return
	}
	var tracking bool
	simulator.Map.WithLock(vm, func() {
		tracking = vm.Config.ChangeTrackingEnabled != nil && *vm.Config.ChangeTrackingEnabled
	})
	if tracking {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for disk := range c.seqs {
		if disk.vm == ref.Value {
			delete(c.seqs, disk)
		}
	}
	for id, rec := range c.changes {
		if rec.disk.vm == ref.Value {
			delete(c.changes, id)
		}
	}
}

// newChangeUUID returns a uuid in the form of a vSphere changeId's prefix.
func newChangeUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	b[0] = 0x52
	h := make([]string, 16)
	for i := range b {
		h[i] = fmt.Sprintf("%02x", b[i])
	}
	return strings.Join(h[:8], " ") + "-" + strings.Join(h[8:], " ")
}

// mint records image as the content of disk and returns a new changeId.
// Called with c.mu held.
func (c *cbt) mint(disk diskID, image *diskImage) string {
	s := c.seqs[disk]
	if s == nil {
		s = &diskSeq{uuid: newChangeUUID()}
		c.seqs[disk] = s
	}
	s.seq++
	id := fmt.Sprintf("%s/%d", s.uuid, s.seq)
	c.changes[id] = &changeRecord{disk: disk, image: image}
	return id
}

// freeze copies each flat disk of the snapshot's VM to frozen files named
// after the snapshot and points the snapshot's device list at copies of
// the disks whose backing names those files and carries a new changeId.
func (c *cbt) freeze(s *simulator.VirtualMachineSnapshot) {
	if s.Config.Hardware.Device == nil {
		return
	}
	tracking := s.Config.ChangeTrackingEnabled != nil && *s.Config.ChangeTrackingEnabled
	rec := &snapRecord{vm: s.Vm, disks: map[int32]*frozenDisk{}}
	devices := make([]types.BaseVirtualDevice, len(s.Config.Hardware.Device))
	copy(devices, s.Config.Hardware.Device)

	for i, dev := range devices {
		disk, ok := dev.(*types.VirtualDisk)
		if !ok {
			continue
		}
		backing, ok := disk.Backing.(*types.VirtualDiskFlatVer2BackingInfo)
		if !ok {
			log.Printf("%s: disk %d: backing %T is not frozen", s.Self.Value, disk.Key, disk.Backing)
			continue
		}
		capacity := disk.CapacityInBytes
		if capacity == 0 {
			capacity = disk.CapacityInKB * 1024
		}
		frozenName := strings.TrimSuffix(backing.FileName, ".vmdk") + "-snap-" + s.Self.Value + ".vmdk"
		liveDesc, err := localPath(backing.FileName)
		if err == nil {
			var desc string
			if desc, err = localPath(frozenName); err == nil {
				fd := &frozenDisk{fileName: frozenName}
				fd.image, err = freezeCopy(flatName(liveDesc), flatName(desc), capacity)
				if err == nil {
					fd.files = []string{flatName(desc), desc}
					err = writeDescriptor(desc, filepath.Base(flatName(desc)), capacity, backing.Uuid)
				}
				if err == nil {
					keep.guard(flatName(desc))
					keep.guard(desc)
				}
				if err == nil {
					c.mu.Lock()
					if tracking {
						fd.changeID = c.mint(diskID{s.Vm.Value, disk.Key}, fd.image)
					}
					c.mu.Unlock()
					rec.disks[disk.Key] = fd
				}
			}
		}
		if err != nil {
			log.Printf("%s: disk %d (%s): not frozen: %v", s.Self.Value, disk.Key, backing.FileName, err)
			continue
		}

		frozenBacking := *backing
		frozenBacking.FileName = frozenName
		frozenBacking.ChangeId = rec.disks[disk.Key].changeID
		frozenBacking.Parent = nil
		frozenDev := *disk
		frozenDev.Backing = &frozenBacking
		devices[i] = &frozenDev
	}

	s.Config.Hardware.Device = devices
	c.mu.Lock()
	c.snaps[s.Self] = rec
	c.mu.Unlock()
}
