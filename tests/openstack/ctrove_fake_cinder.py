"""Cinder's fake backend with extend, for the cloud tests' OpenStack.

The shared OpenStack's Cinder runs cinder.tests.fake_driver's
FakeLoggingVolumeDriver (this kernel has no device-mapper, so LVM is out):
create, attach, detach and delete work through the real API, scheduler and
volume service, but its FakeBrickLVM has no extend_volume, so every extend
ends in error_extending. This subclass adds the one missing call, as fake as
the rest of that backend (sizes are Cinder's bookkeeping, no block device
exists), so that an extend runs Cinder's real path: the API's 3.42 in-use
check, the volume manager, and the volume-extended event it sends to Nova.
scripts/openstack_test_setup.sh restarts cinder-volume with it.
"""
from cinder.tests.fake_driver import FakeLoggingVolumeDriver
from cinder.volume import volume_utils


class ExtendableFakeDriver(FakeLoggingVolumeDriver):
    @volume_utils.trace_method
    def extend_volume(self, volume, new_size):
        """Nothing to grow: the fake backend has no blocks."""
