// vsphere-sim runs VMware's vSphere simulator (govmomi's simulator package,
// VPX model) as a test fixture for ferry's VMware client, with frozen
// snapshot disks and changed-block tracking (QueryChangedDiskAreas) added.
// See README.md.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/vmware/govmomi/simulator"
)

type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

type options struct {
	listen      string
	datastore   string
	clusters    int
	hosts       int
	standalone  int
	vms         int
	diskMiB     int64
	memoryMiB   int64
	username    string
	password    string
	idleTimeout time.Duration
	noCBT       listFlag
	cbtPage     int
}

func parseFlags() *options {
	o := new(options)
	flag.StringVar(&o.listen, "listen", "127.0.0.1:0", "loopback `ADDR:PORT` to serve https on")
	flag.StringVar(&o.datastore, "datastore", "", "`DIR` holding datastore LocalDS_0 (created if missing, must be empty)")
	flag.IntVar(&o.clusters, "clusters", 1, "clusters in DC0")
	flag.IntVar(&o.hosts, "hosts", 3, "hosts per cluster")
	flag.IntVar(&o.standalone, "standalone-hosts", 1, "standalone hosts in DC0")
	flag.IntVar(&o.vms, "vms", 2, "VMs per standalone host and per cluster resource pool")
	flag.Int64Var(&o.diskMiB, "disk-mib", 64, "capacity of each VM's disk in MiB")
	flag.Int64Var(&o.memoryMiB, "memory-mib", 0, "each VM's memory in MiB (0: the simulator's default)")
	flag.StringVar(&o.username, "username", "user", "the only user name Login accepts")
	flag.StringVar(&o.password, "password", "pass", "the only password Login accepts")
	flag.DurationVar(&o.idleTimeout, "session-idle-timeout", 0, "expire sessions idle this long (0: never)")
	flag.Var(&o.noCBT, "no-cbt", "`VMNAME`s (repeatable, or comma separated) that do not support change tracking")
	flag.IntVar(&o.cbtPage, "cbt-page", 4, "at most this many areas per QueryChangedDiskAreas reply")
	flag.Parse()
	return o
}

func (o *options) check() error {
	if flag.NArg() != 0 {
		return fmt.Errorf("unexpected argument %q", flag.Arg(0))
	}
	if o.datastore == "" {
		return fmt.Errorf("-datastore DIR is required")
	}
	host, _, err := net.SplitHostPort(o.listen)
	if err != nil {
		return fmt.Errorf("-listen %q: %v", o.listen, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("-listen %q: only loopback addresses are allowed", o.listen)
	}
	switch {
	case o.clusters < 0 || o.hosts < 0 || o.standalone < 0 || o.vms < 0:
		return fmt.Errorf("counts must not be negative")
	case o.clusters > 0 && o.hosts == 0:
		return fmt.Errorf("-hosts must be at least 1 when there are clusters")
	case o.clusters+o.standalone == 0:
		return fmt.Errorf("need at least one host")
	case o.diskMiB <= 0:
		return fmt.Errorf("-disk-mib must be positive")
	case o.cbtPage <= 0:
		return fmt.Errorf("-cbt-page must be positive")
	case o.username == "" || o.password == "":
		return fmt.Errorf("-username and -password must not be empty")
	case o.idleTimeout < 0:
		return fmt.Errorf("-session-idle-timeout must not be negative")
	}
	return nil
}

// prepareDatastore creates DIR if missing, refuses a non-empty one (the
// simulator would rename clashing VM folders) and returns its absolute path.
func prepareDatastore(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	if len(entries) != 0 {
		return "", fmt.Errorf("-datastore %s is not empty", dir)
	}
	return dir, nil
}

type ready struct {
	URL        string `json:"url"`
	Thumbprint string `json:"thumbprint"`
	Datastore  string `json:"datastore"`
	Username   string `json:"username"`
	Pid        int    `json:"pid"`
}

func main() {
	log.SetPrefix("vsphere-sim: ")
	log.SetFlags(0)
	o := parseFlags()
	if err := o.check(); err != nil {
		log.Fatal(err)
	}
	dir, err := prepareDatastore(o.datastore)
	if err != nil {
		log.Fatal(err)
	}
	if err := keep.init(dir); err != nil {
		log.Fatal(err)
	}

	simulator.SessionIdleTimeout = o.idleTimeout

	ctx := context.Background()
	model, cbt, err := buildInventory(ctx, o, dir)
	if err != nil {
		log.Fatalf("building the inventory: %v", err)
	}

	srv, err := serve(model, cbt, o)
	if err != nil {
		log.Fatal(err)
	}

	line, _ := json.Marshal(ready{
		URL:        srv.url,
		Thumbprint: srv.thumbprint,
		Datastore:  dir,
		Username:   o.username,
		Pid:        os.Getpid(),
	})
	if _, err := fmt.Fprintf(os.Stdout, "%s\n", line); err != nil {
		log.Fatal(err)
	}
	_ = os.Stdout.Sync()

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	select {
	case <-sig:
	case err := <-srv.done:
		log.Fatalf("server stopped: %v", err)
	}
	srv.close()
	os.Exit(0)
}
