"""An image whose format ferry guessed must not make it read other files:
a guest can write a qcow2 header naming a host file into its raw disk."""
import subprocess

from ferryhelpers import EXIT_FAILED, MiB, ferry_json, read_file, write_file


def qcow2_header_naming(tmp_path, secret):
    evil = tmp_path / "evil.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw",
                    "-b", str(secret), str(evil), str(MiB)], check=True)
    return evil.read_bytes()[:4096]


def test_guessed_image_with_a_backing_file_is_refused(tmp_path):
    secret = tmp_path / "host-secret"
    secret.write_bytes(b"host data".ljust(MiB, b"\0"))
    disk = tmp_path / "guest-disk.raw"  # what the guest wrote into it
    write_file(disk, qcow2_header_naming(tmp_path, secret).ljust(MiB, b"\0"))
    dst = tmp_path / "copy.raw"
    write_file(dst, bytes(MiB))
    res, _ = ferry_json("sync", disk, dst, expect=EXIT_FAILED)
    assert res["errno"] == 1, res  # EPERM
    assert "backing file" in res["error"] and str(secret) in res["error"]
    assert read_file(dst) == bytes(MiB)  # nothing copied, no host data


def test_guessed_image_without_other_files_is_still_read(tmp_path):
    """Probing stays for plain qcow2 images: the common case works."""
    src = tmp_path / "s.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(src),
                    str(MiB)], check=True)
    subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 0 64k",
                    str(src)], check=True, capture_output=True)
    dst = tmp_path / "d.raw"
    ferry_json("sync", src, dst)
    assert read_file(dst)[:65536] == b"\x5a" * 65536
