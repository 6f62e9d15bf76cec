package main

import (
	"log"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// keeper guards disk files against govmomi 0.24's snapshot removal. That
// removal deletes the files whose LayoutEx keys the snapshot recorded when
// it was made, but RefreshStorageInfo re-keys LayoutEx.File as files come
// and go, so a later RemoveSnapshot_Task can delete a live flat disk or
// another snapshot's frozen copy (seen: disk1-flat.vmdk gone after the
// second of three snapshots was removed). vSphere never deletes a disk
// that way, so the launcher keeps a hard link of each disk file in a
// directory no VM lists and puts back any file deleted behind its back.
type keeper struct {
	mu    sync.Mutex
	dir   string            // <datastore>/.vsim-keep
	files map[string]string // guarded path -> its link under dir
}

var keep = &keeper{files: map[string]string{}}

func (k *keeper) init(datastore string) error {
	k.dir = filepath.Join(datastore, ".vsim-keep")
	return os.MkdirAll(k.dir, 0o700)
}

// guard keeps a link to path, which must exist.
func (k *keeper) guard(path string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	link := filepath.Join(k.dir, strings.ReplaceAll(strings.TrimPrefix(path, "/"), "/", "%"))
	_ = os.Remove(link)
	if err := os.Link(path, link); err != nil {
		log.Printf("keeper: %v", err)
		return
	}
	k.files[path] = link
}

// release stops guarding path (before the launcher deletes it itself).
func (k *keeper) release(path string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if link, ok := k.files[path]; ok {
		_ = os.Remove(link)
		delete(k.files, path)
	}
}

// restore puts back every guarded file that was deleted.
func (k *keeper) restore() {
	k.mu.Lock()
	defer k.mu.Unlock()
	for path, link := range k.files {
		if _, err := os.Lstat(path); os.IsNotExist(err) {
			if err := os.Link(link, path); err != nil {
				log.Printf("keeper: restoring %s: %v", path, err)
			} else {
				log.Printf("keeper: restored %s, deleted by the simulator's snapshot removal", path)
			}
		}
	}
}
