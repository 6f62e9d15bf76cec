#!/bin/bash
# Smoke test of vsphere-sim with curl and raw SOAP, loopback only.
# Usage: smoke.sh [PATH_TO_vsphere-sim]   (default: build it into a temp dir)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
pid=
cleanup() {
	if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

sim=${1:-}
if [ -z "$sim" ]; then
	"$here/build.sh" "$work/vsphere-sim" "$work/gocache"
	sim=$work/vsphere-sim
fi

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok - $*"; }

MiB=$((1 << 20))
K64=65536

# start_sim DATASTORE_DIR ARGS... : sets pid, URL, DS
start_sim() {
	local ds=$1 line= i; shift
	: >"$work/ready"
	"$sim" -datastore "$ds" "$@" >"$work/ready" 2>>"$work/sim.stderr" &
	pid=$!
	for i in $(seq 600); do
		line=$(head -n1 "$work/ready")
		[ -z "$line" ] || break
		kill -0 "$pid" 2>/dev/null || fail "vsphere-sim died: $(cat "$work/sim.stderr")"
		sleep 0.1
	done
	[ -n "$line" ] || fail "no ready line"
	echo "ready: $line"
	URL=$(sed -n 's/.*"url":"\([^"]*\)".*/\1/p' <<<"$line")
	DS=$(sed -n 's/.*"datastore":"\([^"]*\)".*/\1/p' <<<"$line")
	local tp; tp=$(sed -n 's/.*"thumbprint":"\([^"]*\)".*/\1/p' <<<"$line")
	[[ $URL == https://127.0.0.1:*/sdk ]] || fail "url $URL"
	[[ $tp =~ ^([0-9A-F]{2}:){19}[0-9A-F]{2}$ ]] || fail "thumbprint $tp"
	[ "$DS" = "$ds" ] || fail "datastore $DS"
	[[ $line == *"\"pid\":$pid}"* ]] || fail "pid in $line"
	rm -f "$work/cookies"
}

stop_sim() {
	kill -TERM "$pid"
	local rc=0; wait "$pid" || rc=$?
	pid=
	[ "$rc" = 0 ] || fail "exit status $rc after SIGTERM"
}

# soap BODY: prints the response; HTTP_CODE gets the status.
soap() {
	local out
	out=$(printf '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>%s</soapenv:Body></soapenv:Envelope>' "$1" |
		curl -sSk -b "$work/cookies" -c "$work/cookies" -w '\n%{http_code}' \
			-H 'Content-Type: text/xml; charset=utf-8' -H 'SOAPAction: "urn:vim25/6.5"' \
			--data-binary @- "$URL")
	HTTP_CODE=${out##*$'\n'}
	RESPONSE=${out%$'\n'*}
}

# expect TEXT...: the last response contains each TEXT
expect() {
	local t
	for t in "$@"; do
		[[ $RESPONSE == *"$t"* ]] || fail "expected '$t' in: $RESPONSE"
	done
}

login() {
	soap "<Login xmlns=\"urn:vim25\"><_this type=\"SessionManager\">SessionManager</_this><userName>$1</userName><password>$2</password></Login>"
}

find_vm() {
	soap "<FindByInventoryPath xmlns=\"urn:vim25\"><_this type=\"SearchIndex\">SearchIndex</_this><inventoryPath>DC0/vm/$1</inventoryPath></FindByInventoryPath>"
	sed -n 's/.*<returnval type="VirtualMachine">\([^<]*\)<.*/\1/p' <<<"$RESPONSE"
}

# props TYPE MOREF PATH...
props() {
	local t=$1 obj=$2 paths="" p; shift 2
	for p in "$@"; do paths+="<pathSet>$p</pathSet>"; done
	soap "<RetrievePropertiesEx xmlns=\"urn:vim25\"><_this type=\"PropertyCollector\">propertyCollector</_this><specSet><propSet><type>$t</type>$paths</propSet><objectSet><obj type=\"$t\">$obj</obj></objectSet></specSet><options/></RetrievePropertiesEx>"
}

# task_of: the moref of the Task the last response returned; wait_task
# checks its final state and sets RESPONSE to its info.
task_of() { sed -n 's/.*<returnval type="Task">\([^<]*\)<.*/\1/p' <<<"$RESPONSE"; }
wait_task() {
	local task=$1 want=$2 i
	for i in $(seq 50); do
		props Task "$task" info
		[[ $RESPONSE == *"<state>running</state>"* || $RESPONSE == *"<state>queued</state>"* ]] || break
		sleep 0.1
	done
	expect "<state>$want</state>"
}

reconfig_cbt() { # VM true|false EXPECTED_STATE
	soap "<ReconfigVM_Task xmlns=\"urn:vim25\"><_this type=\"VirtualMachine\">$1</_this><spec><changeTrackingEnabled>$2</changeTrackingEnabled></spec></ReconfigVM_Task>"
	[ "$HTTP_CODE" = 200 ] || fail "ReconfigVM_Task: $RESPONSE"
	wait_task "$(task_of)" "$3"
}

snapshot() { # VM NAME: prints the new snapshot's moref
	soap "<CreateSnapshot_Task xmlns=\"urn:vim25\"><_this type=\"VirtualMachine\">$1</_this><name>$2</name><memory>false</memory><quiesce>false</quiesce></CreateSnapshot_Task>"
	[ "$HTTP_CODE" = 200 ] || fail "CreateSnapshot_Task: $RESPONSE"
	wait_task "$(task_of)" success
	sed -n 's/.*<result[^>]*>\(snapshot-[0-9]*\)<.*/\1/p' <<<"$RESPONSE"
}

# disk_backing SNAPSHOT: sets FILE and CHANGEID of its disk 2000
disk_backing() {
	props VirtualMachineSnapshot "$1" config.hardware.device
	local disk=${RESPONSE#*<key>2000</key>}
	disk=${disk%%</VirtualDevice>*}
	FILE=$(sed -n 's/.*<fileName>\([^<]*\)<.*/\1/p' <<<"$disk")
	CHANGEID=$(sed -n 's/.*<changeId>\([^<]*\)<.*/\1/p' <<<"$disk")
}

# qcda VM SNAPSHOT KEY START CHANGEID
qcda() {
	soap "<QueryChangedDiskAreas xmlns=\"urn:vim25\"><_this type=\"VirtualMachine\">$1</_this><snapshot type=\"VirtualMachineSnapshot\">$2</snapshot><deviceKey>$3</deviceKey><startOffset>$4</startOffset><changeId>$5</changeId></QueryChangedDiskAreas>"
}

# changed VM SNAPSHOT CHANGEID CAPACITY: loops QueryChangedDiskAreas over
# the whole disk, prints "START LENGTH" per area; CALLS counts the calls.
changed() {
	local start=0 s l body
	CALLS=0
	while [ "$start" -lt "$4" ]; do
		qcda "$1" "$2" 2000 "$start" "$3"
		[ "$HTTP_CODE" = 200 ] || fail "QueryChangedDiskAreas at $start: $RESPONSE"
		CALLS=$((CALLS + 1))
		body=${RESPONSE#*<returnval>}
		s=$(sed -n 's/^<startOffset>\([0-9]*\)<.*/\1/p' <<<"$body")
		l=$(sed -n 's/^<startOffset>[0-9]*<\/startOffset><length>\([0-9]*\)<.*/\1/p' <<<"$body")
		[ "$s" = "$start" ] || fail "startOffset $s, asked $start"
		[ "$l" -gt 0 ] || fail "zero length at $start"
		grep -o '<changedArea><start>[0-9]*</start><length>[0-9]*</length></changedArea>' <<<"$body" |
			sed 's/<changedArea><start>\([0-9]*\)<\/start><length>\([0-9]*\)<.*/\1 \2/' || true
		start=$((s + l))
	done
	[ "$start" = "$4" ] || fail "areas end at $start, not $4"
}

# write_random FILE OFFSET LENGTH: random non-zero bytes
write_random() {
	head -c "$3" /dev/urandom | tr '\000' '\001' |
		dd of="$1" bs=1M iflag=fullblock oflag=seek_bytes seek="$2" conv=notrunc status=none
}

# flip_byte FILE OFFSET: inverts one byte, so that its block surely changes
flip_byte() {
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "\\$(printf %03o $((255 - b)))" |
		dd of="$1" bs=1 oflag=seek_bytes seek="$2" conv=notrunc status=none
}

############################################################################
ds=$work/ds
start_sim "$ds" -cbt-page 2 -no-cbt DC0_H0_VM1 -disk-mib 64
cap=$((64 * MiB))

soap '<RetrieveServiceContent xmlns="urn:vim25"><_this type="ServiceInstance">ServiceInstance</_this></RetrieveServiceContent>'
expect '<rootFolder type="Folder">group-d1</rootFolder>'
ok "RetrieveServiceContent"

login user wrong
[ "$HTTP_CODE" = 500 ] || fail "bad password: HTTP $HTTP_CODE"
expect 'xsi:type="InvalidLogin"'
login someone pass
expect 'xsi:type="InvalidLogin"'
login user pass
[ "$HTTP_CODE" = 200 ] || fail "login: $RESPONSE"
expect '<userName>user</userName>'
ok "Login refuses bad credentials, accepts user/pass"

for f in DC0_H0_VM0 DC0_H0_VM1 DC0_C0_RP0_VM0 DC0_C0_RP0_VM1; do
	[ -f "$ds/$f/disk1.vmdk" ] && [ "$(stat -c %s "$ds/$f/disk1-flat.vmdk")" = "$cap" ] || fail "disk files of $f"
	grep -q 'RW 131072 VMFS "disk1-flat.vmdk"' "$ds/$f/disk1.vmdk" || fail "descriptor of $f"
done
ok "every VM has disk1.vmdk and a sparse $cap-byte disk1-flat.vmdk"

vm=$(find_vm DC0_C0_RP0_VM0)
other=$(find_vm DC0_C0_RP0_VM1)
nocbt=$(find_vm DC0_H0_VM1)
[ -n "$vm" ] && [ -n "$other" ] && [ -n "$nocbt" ] || fail "FindByInventoryPath"
props VirtualMachine "$vm" capability.changeTrackingSupported config.hardware.device
expect '<key>2000</key>' '<fileName>[LocalDS_0] DC0_C0_RP0_VM0/disk1.vmdk</fileName>' \
	'<capacityInBytes>67108864</capacityInBytes>' 'type="xsd:boolean">true</val>'
ok "$vm: disk 2000 on [LocalDS_0] DC0_C0_RP0_VM0/disk1.vmdk, changeTrackingSupported"

# A snapshot without change tracking: frozen, no changeId, queries refused.
s0=$(snapshot "$vm" s0)
disk_backing "$s0"
[ "$FILE" = "[LocalDS_0] DC0_C0_RP0_VM0/disk1-snap-$s0.vmdk" ] || fail "s0 file $FILE"
[ -z "$CHANGEID" ] || fail "s0 has changeId $CHANGEID without CBT"
qcda "$vm" "$s0" 2000 0 '*'
expect 'xsi:type="FileFault"' 'change tracking is not enabled'
ok "CBT off: snapshot frozen without changeId, QueryChangedDiskAreas is a FileFault"

reconfig_cbt "$vm" true success
props VirtualMachine "$vm" config.changeTrackingEnabled
expect 'type="xsd:boolean">true</val>'
ok "ReconfigVM_Task enables change tracking"

live=$ds/DC0_C0_RP0_VM0/disk1-flat.vmdk
write_random "$live" $((1 * MiB)) 100000          # blocks 16-17
write_random "$live" $((10 * MiB + 4096)) 10      # block 160
write_random "$live" $((30 * MiB)) $K64           # block 480
s1=$(snapshot "$vm" s1)
disk_backing "$s1"
[ "$FILE" = "[LocalDS_0] DC0_C0_RP0_VM0/disk1-snap-$s1.vmdk" ] || fail "s1 file $FILE"
[[ $CHANGEID =~ ^52( [0-9a-f]{2}){7}-[0-9a-f]{2}( [0-9a-f]{2}){7}/[0-9]+$ ]] || fail "s1 changeId '$CHANGEID'"
c1=$CHANGEID
frozen1=$ds/DC0_C0_RP0_VM0/disk1-snap-$s1-flat.vmdk
cmp "$live" "$frozen1" || fail "s1 frozen copy differs from the live disk"
[ "$(stat -c %s "$frozen1")" = "$cap" ] || fail "frozen size"
[ "$(du -k "$frozen1" | cut -f1)" -lt 1024 ] || fail "frozen copy is not sparse"
grep -q "VMFS \"disk1-snap-$s1-flat.vmdk\"" "$ds/DC0_C0_RP0_VM0/disk1-snap-$s1.vmdk" || fail "frozen descriptor"
props VirtualMachine "$vm" config.hardware.device
expect '<fileName>[LocalDS_0] DC0_C0_RP0_VM0/disk1.vmdk</fileName>'
ok "snapshot $s1: $FILE, changeId $c1, sparse frozen copy; the VM's own device untouched"

changed "$vm" "$s1" '*' "$cap" >"$work/areas"; got=$(cat "$work/areas")
want="$((16 * K64)) $((2 * K64))
$((160 * K64)) $K64
$((480 * K64)) $K64"
[ "$got" = "$want" ] || fail "'*' areas: $got"
ok "'*' returns the allocated areas (paged, 2 per call)"

cp --sparse=always "$frozen1" "$work/s1.copy"
flip_byte "$live" $((1 * MiB + 70000))             # block 17
flip_byte "$live" $((5 * MiB))                     # block 80
flip_byte "$live" $((cap - 1))                     # block 1023
s2=$(snapshot "$vm" s2)
disk_backing "$s2"
c2=$CHANGEID
[ "${c2%/*}" = "${c1%/*}" ] && [ "$c2" != "$c1" ] || fail "changeIds $c1 then $c2"
cmp "$frozen1" "$work/s1.copy" || fail "s1 frozen content changed"
changed "$vm" "$s2" "$c1" "$cap" >"$work/areas"; got=$(cat "$work/areas")
want="$((17 * K64)) $K64
$((80 * K64)) $K64
$((1023 * K64)) $K64"
[ "$got" = "$want" ] || fail "areas since $c1: $got"
[ "$CALLS" = 2 ] || fail "$CALLS calls for 3 areas with -cbt-page 2"
ok "changes since s1 are exactly the written 64 KiB blocks, 2 calls"

qcda "$vm" "$s2" 2000 0 "$c2"
expect "<startOffset>0</startOffset><length>$cap</length></returnval>"
ok "no changes since the snapshot's own changeId"

dspath="/folder/DC0_C0_RP0_VM0/disk1-snap-$s1-flat.vmdk?dcPath=DC0&dsName=LocalDS_0"
curl -sSk -b "$work/cookies" -r $((1 * MiB))-$((1 * MiB + 99999)) -o "$work/range" "${URL%/sdk}$dspath"
dd if="$frozen1" bs=$K64 skip=16 count=2 status=none | head -c 100000 | cmp - "$work/range" || fail "ranged GET"
ok "ranged GET of the frozen flat file over https"

soap "<RemoveSnapshot_Task xmlns=\"urn:vim25\"><_this type=\"VirtualMachineSnapshot\">$s1</_this><removeChildren>false</removeChildren></RemoveSnapshot_Task>"
wait_task "$(task_of)" success
[ ! -e "$frozen1" ] && [ ! -e "$ds/DC0_C0_RP0_VM0/disk1-snap-$s1.vmdk" ] || fail "s1's frozen files remain"
changed "$vm" "$s2" "$c1" "$cap" >"$work/areas"; got=$(cat "$work/areas")
[ "$got" = "$want" ] || fail "areas since $c1 after removing s1: $got"
ok "removing $s1 deletes its files; its changeId stays valid"

qcda "$vm" "$s2" 2000 0 "${c1%/*}/999"
expect 'xsi:type="InvalidArgument"' '<invalidProperty>changeId</invalidProperty>'
qcda "$vm" "$s2" 2000 0 "52 00 00 00 00 00 00 00-00 00 00 00 00 00 00 00/1"
expect '<invalidProperty>changeId</invalidProperty>'
reconfig_cbt "$other" true success
o1=$(snapshot "$other" o1)
disk_backing "$o1"
qcda "$vm" "$s2" 2000 0 "$CHANGEID"
expect '<invalidProperty>changeId</invalidProperty>' 'another disk'
qcda "$vm" "$o1" 2000 0 '*'
expect '<invalidProperty>snapshot</invalidProperty>'
qcda "$vm" "$s2" 2001 0 '*'
expect '<invalidProperty>deviceKey</invalidProperty>'
qcda "$vm" "$s2" 2000 $((cap + 512)) '*'
expect '<invalidProperty>startOffset</invalidProperty>'
ok "unknown or foreign changeId, foreign snapshot, bad deviceKey, offset past the end: InvalidArgument"

props VirtualMachine "$nocbt" capability.changeTrackingSupported
expect 'type="xsd:boolean">false</val>'
reconfig_cbt "$nocbt" true error
expect 'NotSupported' 'Change tracking is not supported'
props VirtualMachine "$nocbt" config.changeTrackingEnabled
[[ $RESPONSE != *'xsd:boolean">true<'* ]] || fail "-no-cbt VM got CBT enabled"
reconfig_cbt "$nocbt" false success
ok "-no-cbt VM: changeTrackingSupported false, enabling CBT fails with NotSupported"

reconfig_cbt "$vm" false success
qcda "$vm" "$s2" 2000 0 "$c1"
expect 'xsi:type="FileFault"'
ok "CBT disabled again: FileFault"

reconfig_cbt "$vm" true success
qcda "$vm" "$s2" 2000 0 "$c1"
expect '<invalidProperty>changeId</invalidProperty>'
s3=$(snapshot "$vm" s3)
disk_backing "$s3"
[ -n "$CHANGEID" ] && [ "${CHANGEID%/*}" != "${c1%/*}" ] || fail "changeId after a CBT reset: $CHANGEID"
changed "$vm" "$s3" '*' "$cap" >"$work/areas"
[ "$(wc -l <"$work/areas")" = 5 ] || fail "'*' after reset: $(cat "$work/areas")"
ok "disabling CBT forgets the VM's changeIds; re-enabled, a new change uuid"

soap "<Logout xmlns=\"urn:vim25\"><_this type=\"SessionManager\">SessionManager</_this></Logout>"
qcda "$vm" "$s2" 2000 0 '*'
expect 'NotAuthenticated'
ok "QueryChangedDiskAreas needs a session"

stop_sim
ok "SIGTERM: exit 0"

# Session idle timeout and custom credentials.
start_sim "$work/ds2" -session-idle-timeout 1s -username alice -password secret -vms 1 -clusters 0
login user pass
expect 'xsi:type="InvalidLogin"'
login alice secret
[ "$HTTP_CODE" = 200 ] || fail "alice: $RESPONSE"
[ -f "$work/ds2/DC0_H0_VM0/disk1-flat.vmdk" ] && [ ! -e "$work/ds2/DC0_H0_VM1" ] || fail "-vms 1 -clusters 0"
sleep 2.5
soap '<FindByInventoryPath xmlns="urn:vim25"><_this type="SearchIndex">SearchIndex</_this><inventoryPath>DC0/vm/DC0_H0_VM0</inventoryPath></FindByInventoryPath>'
expect 'NotAuthenticated'
stop_sim
ok "-username/-password, -session-idle-timeout"

echo "all passed"
