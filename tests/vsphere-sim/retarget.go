package main

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// maxBody bounds the SOAP requests the wrapper reads into memory.
const maxBody = 64 << 20

// retarget sits in front of the simulator's handlers. A SOAP call on /sdk
// that is QueryChangedDiskAreas on a VM, or ReconfigVM_Task enabling change
// tracking on a -no-cbt VM, gets its _this rewritten from
// VirtualMachine:vm-N to VsimChangeTracking:vm-N, the per-VM object that
// implements it. Every other request passes through untouched; after a
// ReconfigVM_Task that disables change tracking, the VM's changeIds are
// forgotten, as vSphere deletes the disks' change tracking files.
type retarget struct {
	next http.Handler
	cbt  *cbt
}

var (
	qcdaName     = []byte("QueryChangedDiskAreas")
	reconfigName = []byte("ReconfigVM_Task")
	snapshotName = []byte("CreateSnapshot_Task")
	createName   = []byte("CreateVirtualDisk_Task")
)

func (h *retarget) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && r.URL.Path == simulator.Map.Path {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		_ = r.Body.Close()
		if err != nil || len(body) > maxBody {
			http.Error(w, "request body unreadable or too large", http.StatusBadRequest)
			return
		}
		var after func()
		if bytes.Contains(body, qcdaName) || bytes.Contains(body, reconfigName) ||
			bytes.Contains(body, snapshotName) || bytes.Contains(body, createName) {
			body, after = h.rewrite(body)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		if after != nil {
			// The simulator runs the task before it replies; hold the
			// reply until after() has seen the task's effect.
			rec := httptest.NewRecorder()
			h.next.ServeHTTP(rec, r)
			after()
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
			return
		}
	}
	h.next.ServeHTTP(w, r)
}

// rewrite returns the request to pass on and what to do after it.
func (h *retarget) rewrite(body []byte) ([]byte, func()) {
	method, err := simulator.UnmarshalBody(types.TypeFunc(), body)
	if err == nil {
		if req, ok := method.Body.(*types.CreateVirtualDisk_Task); ok {
			return body, func() { describeNewDisk(req) }
		}
	}
	if err != nil || method.This.Type != "VirtualMachine" {
		return body, nil // let the simulator answer
	}
	switch req := method.Body.(type) {
	case *types.CreateSnapshot_Task:
		if req.Memory {
			return body, func() { saveMemory(req.This, req.Name) }
		}
		return body, nil
	case *types.QueryChangedDiskAreas:
	case *types.ReconfigVM_Task:
		enable := req.Spec.ChangeTrackingEnabled
		if enable == nil {
			return body, nil
		}
		if !*enable {
			return body, func() { h.cbt.resetIfDisabled(req.This) }
		}
		if !h.cbt.refuses(req.This) {
			return body, nil
		}
	default:
		return body, nil
	}
	tracker := types.ManagedObjectReference{Type: cbtType, Value: method.This.Value}
	if simulator.Map.Get(tracker) == nil {
		return body, nil // no such VM: the simulator says so
	}
	if out, ok := replaceThis(body, tracker); ok {
		return out, nil
	}
	return body, nil
}

// replaceThis rewrites the first _this element of a SOAP request to name
// ref, keeping its prefix and any namespace declarations.
func replaceThis(body []byte, ref types.ManagedObjectReference) ([]byte, bool) {
	d := xml.NewDecoder(bytes.NewReader(body))
	for {
		begin := d.InputOffset()
		tok, err := d.RawToken()
		if err != nil {
			return nil, false
		}
		start, ok := tok.(xml.StartElement)
		if !ok || start.Name.Local != "_this" {
			continue
		}
		for depth := 1; depth > 0; {
			tok, err := d.RawToken()
			if err != nil {
				return nil, false
			}
			switch tok.(type) {
			case xml.StartElement:
				depth++
			case xml.EndElement:
				depth--
			}
		}
		end := d.InputOffset()

		name := start.Name.Local
		if start.Name.Space != "" {
			name = start.Name.Space + ":" + name
		}
		var b bytes.Buffer
		b.Write(body[:begin])
		b.WriteString("<" + name)
		for _, a := range start.Attr {
			if a.Name.Space == "" && a.Name.Local == "type" {
				continue
			}
			attr := a.Name.Local
			if a.Name.Space != "" {
				attr = a.Name.Space + ":" + attr
			}
			b.WriteString(" " + attr + `="`)
			_ = xml.EscapeText(&b, []byte(a.Value))
			b.WriteString(`"`)
		}
		b.WriteString(` type="`)
		_ = xml.EscapeText(&b, []byte(ref.Type))
		b.WriteString(`">`)
		_ = xml.EscapeText(&b, []byte(ref.Value))
		b.WriteString("</" + name + ">")
		b.Write(body[end:])
		return b.Bytes(), true
	}
}

// saveMemory gives vm's new snapshot `name` what a snapshot with RAM has
// on vSphere (the simulator saves none): a memory file in the VM's
// layoutEx, named by the snapshot's memoryKey, beside its other files.
func saveMemory(ref types.ManagedObjectReference, name string) {
	vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine)
	if !ok || vm.Snapshot == nil {
		return
	}
	simulator.Map.WithLock(vm, func() {
		snap := findSnapshot(vm.Snapshot.RootSnapshotList, name)
		if snap == nil || vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn {
			return
		}
		key := int32(0)
		for _, f := range vm.LayoutEx.File {
			if f.Key >= key {
				key = f.Key + 1
			}
		}
		dir := path.Dir(vm.Config.Files.VmPathName)
		vm.LayoutEx.File = append(vm.LayoutEx.File, types.VirtualMachineFileLayoutExFileInfo{
			Key:  key,
			Name: fmt.Sprintf("%s/%s-%s.vmem", dir, vm.Name, snap.Value),
			Type: string(types.VirtualMachineFileLayoutExFileTypeSnapshotMemory),
		})
		for i := range vm.LayoutEx.Snapshot {
			if vm.LayoutEx.Snapshot[i].Key == *snap {
				vm.LayoutEx.Snapshot[i].MemoryKey = key
			}
		}
	})
}

func findSnapshot(l []types.VirtualMachineSnapshotTree, name string) *types.ManagedObjectReference {
	for i := range l {
		if l[i].Name == name {
			return &l[i].Snapshot
		}
		if s := findSnapshot(l[i].ChildSnapshotList, name); s != nil {
			return s
		}
	}
	return nil
}

// describeNewDisk gives a disk CreateVirtualDisk made (an empty file, in
// the simulator) what vSphere gives it: a descriptor and its flat extent
// of the asked capacity, readable over the datastore's HTTPS interface.
func describeNewDisk(req *types.CreateVirtualDisk_Task) {
	spec, ok := req.Spec.(*types.FileBackedVirtualDiskSpec)
	if !ok {
		return
	}
	desc, err := localPath(req.Name)
	if err != nil {
		return
	}
	if st, err := os.Stat(desc); err != nil || st.Size() > 0 {
		return // not made, or described already
	}
	_ = initDisk(desc, flatName(desc), spec.CapacityKb*1024, newDiskUUID())
}
