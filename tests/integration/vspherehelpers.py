"""VMware's vSphere simulator (govmomi's, through the project's launcher in
tests/vsphere-sim) for ferry's VMware tests: started in a private temp
dir on 127.0.0.1 with TLS, stopped by PID when the test ends."""

import json
import os
import signal
import subprocess
import tempfile

from ferryhelpers import BUILD, FERRY

SIM = os.path.join(BUILD, "tests", "vsphere-sim", "vsphere-sim")
PASSWORD = "s3cret-Pa55"


class Sim:
    def __init__(self, tmp_path, *args, disk_mib=16):
        assert os.access(SIM, os.X_OK), (
            f"vSphere simulator not built at {SIM}: `make build` builds it "
            f"with Debian's golang-go and golang-github-vmware-govmomi-dev")
        self.dir = tempfile.mkdtemp(prefix="vs", dir="/tmp")
        self.datastore = os.path.join(self.dir, "ds")
        self.pwfile = os.path.join(self.dir, "pw")
        with open(self.pwfile, "w") as f:
            f.write(PASSWORD + "\n")
        self.log = open(os.path.join(str(tmp_path), "sim.log"), "w")
        self.proc = subprocess.Popen(
            [SIM, "-datastore", self.datastore, "-password", PASSWORD,
             "-disk-mib", str(disk_mib), *args],
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        assert line, "the simulator printed nothing (see sim.log)"
        self.info = json.loads(line)
        self.port = int(self.info["url"].split(":")[2].split("/")[0])
        self.thumbprint = self.info["thumbprint"]
        self.host = f"127.0.0.1:{self.port}"

    def uri(self, thumbprint=None, user="user", extra=""):
        t = thumbprint or self.thumbprint
        return f"vmware://{user}@{self.host}?thumbprint={t}{extra}"

    def flat(self, vm, name="disk1"):
        return os.path.join(self.datastore, vm, f"{name}-flat.vmdk")

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        subprocess.run(["rm", "-rf", self.dir])


def guest_write(path, offset, data):
    """What a guest's write does to the VM's disk."""
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(data)


def soap(sim, method, this_type, this, args="", cookie=None):
    """One raw SOAP call to the simulator, with the server pinned by its
    thumbprint like ferry does: (HTTP status, body, session cookie)."""
    import hashlib
    import http.client
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # pinned below instead
    conn = http.client.HTTPSConnection("127.0.0.1", sim.port, context=ctx,
                                       timeout=30)
    conn.connect()
    der = conn.sock.getpeercert(binary_form=True)
    seen = ":".join(f"{b:02X}" for b in hashlib.sha1(der).digest())
    assert seen == sim.thumbprint
    body = ('<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
            'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
            f'<soapenv:Body><{method} xmlns="urn:vim25"><_this type='
            f'"{this_type}">{this}</_this>{args}</{method}></soapenv:Body>'
            '</soapenv:Envelope>')
    headers = {"Content-Type": "text/xml", "SOAPAction": "urn:vim25/6.5"}
    if cookie:
        headers["Cookie"] = cookie
    conn.request("POST", "/sdk", body, headers)
    r = conn.getresponse()
    data = r.read().decode()
    set_cookie = r.getheader("Set-Cookie") or ""
    conn.close()
    return r.status, data, set_cookie.split(";")[0] or cookie


def login(sim):
    """A session cookie of a raw login."""
    st, body, cookie = soap(
        sim, "Login", "SessionManager", "SessionManager",
        f"<userName>user</userName><password>{PASSWORD}</password>")
    assert st == 200, body
    return cookie


def ferry(sim, *args, expect=0, password_file=True, timeout=300):
    """Runs ferry against the simulator (its password from a file)."""
    argv = [FERRY, *map(str, args)]
    if password_file:
        argv += ["--password-file", sim.pwfile]
    cp = subprocess.run(argv, capture_output=True, text=True,
                        timeout=timeout)
    assert cp.returncode == expect, (args, cp.returncode, cp.stdout,
                                     cp.stderr)
    # the password never shows, whatever happened
    assert PASSWORD not in cp.stdout + cp.stderr
    return cp
