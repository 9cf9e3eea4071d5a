#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# test-caps.py - what the IOMMU gives a device, the IOVAs it allows, drivers that manage DMA (sim)
import atexit
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, main, wait_for, with_world  # noqa: E402

DEV_PRI = "0000:00:02.0"
DEVICE = "/org/iommud1/device/"
ATS_NOT_SUPPORTED, DIRTY_TRACKING = 8, 1

# IOMMU instances of the sim's own (docs/topology.md): dmar7 gives 2 PASID
# bits and tracks dirty pages, dmar8 has no PASIDs, dmar9 reaches only 1 GiB;
# a group with a DMA-API driver beside a VFIO variant driver.
TOPOLOGY = json.dumps({
    "iommus": [
        {"name": "dmar7", "max_pasid_log2": 2, "capabilities": DIRTY_TRACKING},
        {"name": "dmar8", "max_pasid_log2": 0},
        {"name": "dmar9", "address_bits": 30},
    ],
    "devices": [
        {"name": "0000:07:00.0", "group": 7, "iommu": "dmar7", "pasid": True, "max_pasids": 65536,
         "pri": True, "ats": True},
        {"name": "0000:08:00.0", "group": 8, "iommu": "dmar8", "pasid": True, "max_pasids": 256},
        {"name": "0000:09:00.0", "group": 9, "iommu": "dmar7", "driver": "e1000e"},
        {"name": "0000:09:00.1", "group": 9, "iommu": "dmar7", "driver": "mlx5_vfio_pci"},
        {"name": "0000:0a:00.0", "group": 10, "iommu": "dmar9", "pasid": True, "max_pasids": 256},
    ]})
TOPOLOGY_DIR = tempfile.mkdtemp(prefix="iommud-caps-")
TOPOLOGY_FILE = os.path.join(TOPOLOGY_DIR, "topology.json")
ON_TOPOLOGY = with_world(daemon_args=[f"--topology={TOPOLOGY_FILE}"])


def device_path(name):
    return DEVICE + "".join(c if c.isalnum() and not (i == 0 and c.isdigit()) else "_%02x" % ord(c)
                            for i, c in enumerate(name))


def dev_prop(w, name, prop):
    return w.prop(prop, path=device_path(name), iface="org.iommud1.Device")


def claimed(w, group):
    """A client holding group; the caller terminates it."""
    sess = w.spawn_ctl("claim", str(group), "--detach-drivers", "+", "hold")
    wait_for(f"group {group} claimed", lambda: w.groups().get(group) == "user")
    return sess


@ON_TOPOLOGY
def test_device_objects_show_what_their_iommu_gives_after_a_claim(w):
    check(dev_prop(w, "0000:07:00.0", "MaxPasids") == 65536, "before a claim: the device's own")
    check(dev_prop(w, "0000:07:00.0", "IommuInfoKnown") == "false", "nothing asked yet")
    sess = claimed(w, 7)
    try:
        check(dev_prop(w, "0000:07:00.0", "MaxPasids") == 4, "min(2^16, 2^2)")
        check(dev_prop(w, "0000:07:00.0", "IommuInfoKnown") == "true", "asked at the claim")
        check(dev_prop(w, "0000:07:00.0", "IommuPasidWidth") == 2, "dmar7's PASID width")
        check(dev_prop(w, "0000:07:00.0", "IommuCapabilities") == DIRTY_TRACKING,
              "dirty tracking; ATS usable (the device has it)")
    finally:
        sess.terminate()
        sess.wait()
    check(dev_prop(w, "0000:07:00.0", "MaxPasids") == 4, "the IOMMU does not change after the release")


@ON_TOPOLOGY
def test_a_pasid_device_on_an_iommu_without_pasids_takes_a_space_at_its_rid_only(w):
    r = w.ctl("claim", "8", "+", "bind", "0000:08:00.0", check_rc=1)
    check("gives it no PASIDs" in r.err, f"the message says why: {r.err}")
    check(dev_prop(w, "0000:08:00.0", "IommuCapabilities") == ATS_NOT_SUPPORTED, "no ATS on the device")
    r = w.ctl("claim", "8", "+", "share", "64K", "+", "space", "+", "map", "@space", "@region", "0",
              "0x100000", "64K", "+", "attach", "@space", "0000:08:00.0")
    check("PASID 0" in r.out, r.out)
    r = w.ctl("claim", "8", "+", "pasid", "+", "space", "+", "attach", "@space", "0000:08:00.0", "@pasid",
              check_rc=1)
    check("gives it no PASIDs" in r.err, r.err)


def map_client(w, *args):
    return w.run([os.path.join(w.build, "tests/integration/map-client"), *args]).out


def test_a_space_mapping_in_the_msi_window_is_refused_naming_the_range(w):
    out = map_client(w, "1", DEV_PRI, "0xfee00000", "am")
    check("attach ok" in out, out)
    check("map org.iommud1.Error.InvalidArgument: IOVA 0xfee00000+0x10000" in out and
          "0xfee00000-0xfeefffff is the MSI window" in out, f"refused by name, the range named: {out}")
    check("mappings 0" in out, f"nothing was mapped: {out}")
    check("ranges 0x0-0xfedfffff 0xfef00000-0xffffffffffff\n" in out,
          f"the MSI window reserved, the 48-bit aperture: {out}")
    out = map_client(w, "1", DEV_PRI, "0xfef00000", "am")
    check("map ok" in out and "mappings 1" in out, f"right after the window is fine: {out}")
    r = w.ctl("claim", "1", "+", "share", "64K", "+", "space", "+", "attach", "@space", DEV_PRI,
              "+", "map", "@space", "@region", "0", "0xfee00000", "64K", check_rc=1)
    check("0xfee00000-0xfeefffff is the MSI window" in r.err, f"iommuctl shows it: {r.err}")


def test_attaching_a_space_that_maps_the_msi_window_is_refused_naming_it(w):
    """A fresh space allows every IOVA (as a fresh IOAS does); attaching at a
    RID reserves the MSI window, which the mapping there makes impossible."""
    out = map_client(w, "1", DEV_PRI, "0xfee00000", "ma")
    check("map ok" in out, out)
    check("attach org.iommud1.Error.InvalidArgument:" in out and "0xfee00000-0xfeefffff" in out and
          "reserves for 0000:00:02.0" in out, f"refused by name, the range named: {out}")
    check("ranges 0x0-0xffffffffffff\n" in out, f"the aperture stays, as the kernel's HWPT does: {out}")
    r = w.ctl("claim", "1", "+", "pasid", "+", "share", "64K", "+", "space", "+", "map", "@space", "@region",
              "0", "0xfee00000", "64K", "+", "attach", "@space", DEV_PRI, "@pasid")
    check("attached" in r.out, "a PASID attachment reserves nothing (the kernel's rule)")


@ON_TOPOLOGY
def test_iovas_beyond_the_iommus_aperture_are_refused_naming_the_range(w):
    """dmar9 reaches 1 GiB: once a device behind it is attached, a space or
    an SVA domain maps nothing above. SVA maps shared memory at the client's
    own addresses, so memory there cannot be used for SVA on that device."""
    r = w.ctl("claim", "10", "+", "space", "+", "attach", "@space", "0000:0a:00.0", "+", "share", "64K",
              "+", "map", "@space", "@region", "0", "0x40000000", "64K", check_rc=1)
    check("beyond the IOMMU's aperture" in r.err and "0x40000000-0xffffffffffffffff" in r.err, r.err)
    r = w.ctl("claim", "10", "+", "bind", "0000:0a:00.0", "+", "share", "64K", "--at", "0x40000000",
              check_rc=1)
    check("0x40000000-0xffffffffffffffff" in r.err and "your own addresses" in r.err, r.err)
    r = w.ctl("claim", "10", "+", "share", "64K", "--at", "0x40000000", "+", "bind", "0000:0a:00.0",
              check_rc=1)
    check("beyond the aperture of IOMMU dmar9" in r.err and "your own addresses" in r.err, r.err)
    r = w.ctl("claim", "10", "+", "share", "64K", "--at", "0x10000000", "+", "bind", "0000:0a:00.0")
    check("bound 0000:0a:00.0" in r.out, "below 1 GiB it binds")


@ON_TOPOLOGY
def test_detach_kernel_drivers_leaves_a_vfio_variant_driver_bound(w):
    check(w.groups()[9] == "dma-api", "e1000e uses the DMA API")
    sess = claimed(w, 9)
    try:
        check(dev_prop(w, "0000:09:00.0", "Driver") == "", "e1000e was unbound")
        check(dev_prop(w, "0000:09:00.1", "Driver") == "mlx5_vfio_pci", "the VFIO variant driver stays")
    finally:
        sess.terminate()
        sess.wait()


if __name__ == "__main__":
    atexit.register(shutil.rmtree, TOPOLOGY_DIR, True)
    os.chmod(TOPOLOGY_DIR, 0o755)
    with open(TOPOLOGY_FILE, "w") as f:
        f.write(TOPOLOGY)
    os.chmod(TOPOLOGY_FILE, 0o644)
    main([(n, f) for n, f in sorted(globals().items()) if n.startswith("test_")])
