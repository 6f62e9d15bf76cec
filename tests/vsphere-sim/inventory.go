package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/simulator/esx"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/types"
)

const datastoreName = "LocalDS_0"

// buildInventory creates the VPX model without datastores or VMs (the
// model would put LocalDS_0 in a fresh temporary directory), then mounts
// LocalDS_0 from dir on every host and creates the VMs the way the model's
// addMachine does (same names, pools, devices, power state), each with a
// disk of o.diskMiB backed by a flat VMDK. The CBT handler is registered
// before the VMs exist so that it sees them appear.
func buildInventory(ctx context.Context, o *options, dir string) (*simulator.Model, *cbt, error) {
	m := simulator.VPX()
	m.Cluster = o.clusters
	m.ClusterHost = o.hosts
	m.Host = o.standalone
	m.Datastore = 0
	m.Machine = 0
	if err := m.Create(); err != nil {
		return nil, nil, err
	}

	cbt := newCBT(o.cbtPage)
	simulator.Map.AddHandler(cbt)

	c, err := vim25.NewClient(ctx, m.Service)
	if err != nil {
		return nil, nil, err
	}
	finder := find.NewFinder(c, false)
	dc, err := finder.Datacenter(ctx, "DC0")
	if err != nil {
		return nil, nil, err
	}
	finder.SetDatacenter(dc)
	folders, err := dc.Folders(ctx)
	if err != nil {
		return nil, nil, err
	}

	hosts, err := finder.HostSystemList(ctx, "/DC0/host/*/*")
	if err != nil {
		return nil, nil, err
	}
	for _, host := range hosts {
		dss, err := host.ConfigManager().DatastoreSystem(ctx)
		if err != nil {
			return nil, nil, err
		}
		if _, err := dss.CreateLocalDatastore(ctx, datastoreName, dir); err != nil {
			return nil, nil, fmt.Errorf("mounting %s on %s: %v", datastoreName, host.Name(), err)
		}
	}

	// The model backs every NIC with the first distributed port group.
	var nicBacking types.BaseVirtualDeviceBackingInfo = esx.EthernetCard.Backing
	if m.Portgroup > 0 {
		pg, err := finder.Network(ctx, "/DC0/network/DC0_DVPG0")
		if err != nil {
			return nil, nil, err
		}
		if nicBacking, err = pg.EthernetCardBackingInfo(ctx); err != nil {
			return nil, nil, err
		}
	}

	var created []types.ManagedObjectReference
	addVMs := func(prefix string, host *object.HostSystem, pool *object.ResourcePool) error {
		for i := 0; i < o.vms; i++ {
			ref, err := createVM(ctx, c, folders, fmt.Sprintf("%s_VM%d", prefix, i), dir, o.diskMiB, o.memoryMiB, nicBacking, host, pool)
			if err != nil {
				return err
			}
			created = append(created, ref)
		}
		return nil
	}

	// Same order as the model: standalone hosts first, then clusters.
	for n := 0; n < o.standalone; n++ {
		name := fmt.Sprintf("DC0_H%d", n)
		host, err := finder.HostSystem(ctx, "/DC0/host/"+name+"/"+name)
		if err != nil {
			return nil, nil, err
		}
		pool, err := host.ResourcePool(ctx)
		if err != nil {
			return nil, nil, err
		}
		if err := addVMs(name, host, pool); err != nil {
			return nil, nil, err
		}
	}
	for n := 0; n < o.clusters; n++ {
		name := fmt.Sprintf("DC0_C%d", n)
		cluster, err := finder.ClusterComputeResource(ctx, "/DC0/host/"+name)
		if err != nil {
			return nil, nil, err
		}
		pool, err := cluster.ResourcePool(ctx)
		if err != nil {
			return nil, nil, err
		}
		if err := addVMs(name+"_RP0", nil, pool); err != nil {
			return nil, nil, err
		}
	}

	// Every VM supports change tracking unless named by -no-cbt.
	byName := map[string]*simulator.VirtualMachine{}
	for _, ref := range created {
		vm := simulator.Map.Get(ref).(*simulator.VirtualMachine)
		vm.Capability.ChangeTrackingSupported = types.NewBool(true)
		byName[vm.Name] = vm
	}
	for _, name := range o.noCBT {
		vm, ok := byName[name]
		if !ok {
			return nil, nil, fmt.Errorf("-no-cbt %s: no such VM", name)
		}
		vm.Capability.ChangeTrackingSupported = types.NewBool(false)
		cbt.refuse(vm.Self)
	}
	return m, cbt, nil
}

// createVM mirrors the model's addMachine, with a disk of diskMiB whose
// data lives in <dir>/<name>/disk1-flat.vmdk.
func createVM(ctx context.Context, c *vim25.Client, folders *object.DatacenterFolders, name, dir string,
	diskMiB, memoryMiB int64, nicBacking types.BaseVirtualDeviceBackingInfo,
	host *object.HostSystem, pool *object.ResourcePool) (types.ManagedObjectReference, error) {
	var none types.ManagedObjectReference
	config := types.VirtualMachineConfigSpec{
		Name:    name,
		GuestId: string(types.VirtualMachineGuestOsIdentifierOtherGuest),
		Files:   &types.VirtualMachineFileInfo{VmPathName: "[" + datastoreName + "]"},
	}
	if memoryMiB > 0 { // a guest that boots at the destination needs it
		config.MemoryMB = memoryMiB
	}

	var devices object.VirtualDeviceList
	scsi, err := devices.CreateSCSIController("pvscsi")
	if err != nil {
		return none, err
	}
	ide, err := devices.CreateIDEController()
	if err != nil {
		return none, err
	}
	cdrom, err := devices.CreateCdrom(ide.(*types.VirtualIDEController))
	if err != nil {
		return none, err
	}
	disk := devices.CreateDisk(scsi.(types.BaseVirtualController), types.ManagedObjectReference{},
		"["+datastoreName+"] "+name+"/disk1.vmdk")
	disk.Key = 2000 // as vSphere numbers a VM's first disk; the model's is random
	disk.CapacityInKB = diskMiB << 10
	disk.CapacityInBytes = diskMiB << 20
	backing := disk.Backing.(*types.VirtualDiskFlatVer2BackingInfo)
	backing.Uuid = newDiskUUID()
	nic := esx.EthernetCard // a copy per VM, unlike the model
	nic.Backing = nicBacking

	devices = append(devices, scsi, cdrom, disk, &nic)
	if config.DeviceChange, err = devices.ConfigSpec(types.VirtualDeviceConfigSpecOperationAdd); err != nil {
		return none, err
	}

	task, err := folders.VmFolder.CreateVM(ctx, config, pool, host)
	if err != nil {
		return none, err
	}
	info, err := task.WaitForResult(ctx, nil)
	if err != nil {
		return none, fmt.Errorf("creating %s: %v", name, err)
	}
	ref := info.Result.(types.ManagedObjectReference)

	// The simulator created empty disk1.vmdk and disk1-flat.vmdk.
	vmdir := filepath.Join(dir, name)
	if err := initDisk(filepath.Join(vmdir, "disk1.vmdk"), filepath.Join(vmdir, "disk1-flat.vmdk"),
		disk.CapacityInBytes, backing.Uuid); err != nil {
		return none, err
	}
	keep.guard(filepath.Join(vmdir, "disk1.vmdk"))
	keep.guard(filepath.Join(vmdir, "disk1-flat.vmdk"))

	task, err = object.NewVirtualMachine(c, ref).PowerOn(ctx)
	if err != nil {
		return none, err
	}
	if err := task.Wait(ctx); err != nil {
		return none, fmt.Errorf("powering on %s: %v", name, err)
	}
	return ref, nil
}
