package main

import (
	"fmt"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// vmTracker is the per-VM managed object that receives the VM's
// QueryChangedDiskAreas calls (and, for -no-cbt VMs, ReconfigVM_Task calls
// that enable change tracking) once retarget.go has pointed _this at it.
// The simulator dispatches to its methods by reflection.
type vmTracker struct {
	Self types.ManagedObjectReference
	VM   types.ManagedObjectReference
	cbt  *cbt
}

func (t *vmTracker) Reference() types.ManagedObjectReference { return t.Self }

func invalidArgument(property, msg string) *soap.Fault {
	return simulator.Fault(msg, &types.InvalidArgument{InvalidProperty: property})
}

// QueryChangedDiskAreas has vSphere's signature and documented semantics;
// see README.md.
func (t *vmTracker) QueryChangedDiskAreas(req *types.QueryChangedDiskAreas) soap.HasFault {
	body := new(methods.QueryChangedDiskAreasBody)
	info, fault := t.query(req)
	if fault != nil {
		body.Fault_ = fault
	} else {
		body.Res = &types.QueryChangedDiskAreasResponse{Returnval: *info}
	}
	return body
}

func (t *vmTracker) query(req *types.QueryChangedDiskAreas) (*types.DiskChangeInfo, *soap.Fault) {
	vm, ok := simulator.Map.Get(t.VM).(*simulator.VirtualMachine)
	if !ok {
		return nil, simulator.Fault("", &types.ManagedObjectNotFound{Obj: t.VM})
	}
	var tracking bool
	var name string
	simulator.Map.WithLock(vm, func() {
		tracking = vm.Config.ChangeTrackingEnabled != nil && *vm.Config.ChangeTrackingEnabled
		name = vm.Name
	})
	if req.Snapshot == nil {
		return nil, invalidArgument("snapshot", "vsphere-sim requires a snapshot")
	}
	if simulator.Map.Get(*req.Snapshot) == nil {
		return nil, simulator.Fault("managed object not found: "+req.Snapshot.Type+":"+req.Snapshot.Value,
			&types.ManagedObjectNotFound{Obj: *req.Snapshot})
	}

	t.cbt.mu.Lock()
	defer t.cbt.mu.Unlock()
	snap := t.cbt.snaps[*req.Snapshot]
	if snap == nil || snap.vm != t.VM {
		return nil, invalidArgument("snapshot", fmt.Sprintf("%s is not a snapshot of %s", req.Snapshot.Value, t.VM.Value))
	}
	disk := snap.disks[req.DeviceKey]
	if disk == nil {
		return nil, invalidArgument("deviceKey", fmt.Sprintf("snapshot %s has no disk with key %d", req.Snapshot.Value, req.DeviceKey))
	}
	if !tracking {
		msg := fmt.Sprintf("Error caused by file %s: change tracking is not enabled on %s", disk.fileName, name)
		return nil, simulator.Fault(msg, &types.FileFault{File: disk.fileName})
	}
	if disk.changeID == "" {
		msg := fmt.Sprintf("Error caused by file %s: change tracking was not enabled when snapshot %s was taken",
			disk.fileName, req.Snapshot.Value)
		return nil, simulator.Fault(msg, &types.FileFault{File: disk.fileName})
	}
	capacity := disk.image.capacity
	if req.StartOffset < 0 || req.StartOffset > capacity {
		return nil, invalidArgument("startOffset", fmt.Sprintf("startOffset %d is outside the disk (%d bytes)", req.StartOffset, capacity))
	}
	var base *diskImage // nil: all zeros, for "*"
	if req.ChangeId != "*" {
		rec := t.cbt.changes[req.ChangeId]
		if rec == nil {
			return nil, invalidArgument("changeId", fmt.Sprintf("unknown changeId %q", req.ChangeId))
		}
		if rec.disk != (diskID{t.VM.Value, req.DeviceKey}) {
			return nil, invalidArgument("changeId", fmt.Sprintf("changeId %q belongs to another disk", req.ChangeId))
		}
		base = rec.image
	}
	return changedAreas(base, disk.image, req.StartOffset, t.cbt.page), nil
}

// changedAreas returns the blocks of cur that differ from base from start
// on, adjacent blocks merged, at most page areas. Length covers up to the
// end of the last area returned, or to the end of the disk when no
// further area exists.
func changedAreas(base, cur *diskImage, start int64, page int) *types.DiskChangeInfo {
	info := &types.DiskChangeInfo{StartOffset: start, Length: cur.capacity - start}
	var areas []types.DiskChangeExtent
	for b := start / blockSize; b*blockSize < cur.capacity; b++ {
		if cur.block(b) == base.block(b) {
			continue
		}
		from := b * blockSize
		if from < start {
			from = start
		}
		to := min64((b+1)*blockSize, cur.capacity)
		if n := len(areas); n > 0 && areas[n-1].Start+areas[n-1].Length == from {
			areas[n-1].Length = to - areas[n-1].Start
			continue
		}
		if len(areas) == page {
			// Another area exists: stop at the end of the last one.
			last := areas[page-1]
			info.Length = last.Start + last.Length - start
			break
		}
		areas = append(areas, types.DiskChangeExtent{Start: from, Length: to - from})
	}
	info.ChangedArea = areas
	return info
}

// ReconfigVMTask receives, for -no-cbt VMs only, ReconfigVM_Task calls
// that enable change tracking: the task fails with NotSupported and the
// VM's config is left alone.
func (t *vmTracker) ReconfigVMTask(ctx *simulator.Context, req *types.ReconfigVM_Task) soap.HasFault {
	vm, ok := simulator.Map.Get(t.VM).(*simulator.VirtualMachine)
	if !ok {
		return &methods.ReconfigVM_TaskBody{Fault_: simulator.Fault("", &types.ManagedObjectNotFound{Obj: t.VM})}
	}
	var name string
	simulator.Map.WithLock(vm, func() { name = vm.Name })
	msg := fmt.Sprintf("Change tracking is not supported on virtual machine %s", name)
	fault := &types.NotSupported{}
	fault.FaultMessage = []types.LocalizableMessage{{Key: "vsphere-sim.cbt.unsupported", Message: msg}}
	task := simulator.CreateTask(vm, "reconfigVm", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
		return nil, fault
	})
	ref := task.Run()
	// Task.Run sets the localized message to the fault's Go type name.
	simulator.Map.Update(task, []types.PropertyChange{
		{Name: "info.error", Val: types.LocalizedMethodFault{Fault: fault, LocalizedMessage: msg}},
	})
	return &methods.ReconfigVM_TaskBody{Res: &types.ReconfigVM_TaskResponse{Returnval: ref}}
}
